"""`crm backfill` records a Dagster asset backfill of the sessions of a range (holidays
skipped) for the selected assets; an empty range or selection is refused."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus

from pipelines.backfill import create_backfill


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def test_a_backfill_targets_the_sessions_of_the_range(instance):
    backfill_id, sessions = create_backfill(instance, dt.date(2024, 9, 27), dt.date(2024, 10, 9),
                                            "key:mart/client_daily")
    assert sessions == 4
    backfill = instance.get_backfill(backfill_id)
    assert backfill.status == BulkActionStatus.REQUESTED
    assert backfill.asset_selection == [dg.AssetKey(["mart", "client_daily"])]
    target = backfill.asset_backfill_data.target_subset
    assert {k: sorted(target.get_partitions_subset(k).get_partition_keys()) for k in target.asset_keys} == {
        dg.AssetKey(["mart", "client_daily"]): ["2024-09-27", "2024-09-30", "2024-10-08", "2024-10-09"]}


def test_a_backfill_without_session_or_asset_is_refused(instance):
    with pytest.raises(ValueError, match="no XSHG session between 2024-10-01 and 2024-10-07"):
        create_backfill(instance, dt.date(2024, 10, 1), dt.date(2024, 10, 7), None)
    with pytest.raises(ValueError, match="matches no asset"):
        create_backfill(instance, dt.date(2024, 9, 27), dt.date(2024, 9, 30), "key:mart/nothing")
    assert instance.get_backfills() == []
