"""pipelines/event_log.py: the event log's files skip the disk flush, nothing else does; a
batch of events is stored as Dagster stores them one by one."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

import pipelines  # noqa: F401  (installs the listener, as every pipeline process does)


def _synchronous(path) -> int:
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    with engine.connect() as con:
        return con.exec_driver_sql("PRAGMA synchronous").scalar()


def test_event_log_files_are_opened_without_flush(tmp_path):
    runs = tmp_path / "history" / "runs"
    runs.mkdir(parents=True)
    assert _synchronous(runs / "index.db") == 0  # OFF
    assert _synchronous(runs / "0c9e3f.db") == 0


def test_run_and_schedule_storage_keep_sqlite_default(tmp_path):
    (tmp_path / "history").mkdir()
    (tmp_path / "schedules").mkdir()
    assert _synchronous(tmp_path / "history" / "runs.db") == 2  # FULL, SQLite's default
    assert _synchronous(tmp_path / "schedules" / "schedules.db") == 2


# ---- batches -----------------------------------------------------------------------------------

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-06")
KEYS = [dg.AssetKey(["t", "a"]), dg.AssetKey(["t", "b"])]


@dg.multi_asset(specs=[dg.AssetSpec(k) for k in KEYS], partitions_def=DAYS,
                backfill_policy=dg.BackfillPolicy.single_run(),
                check_specs=[dg.AssetCheckSpec("rows", asset=KEYS[0])])
def two_tables():
    for i, key in enumerate(KEYS):
        yield dg.MaterializeResult(asset_key=key, metadata={"rows": 10 + i}, data_version=dg.DataVersion(f"v{i}"))
    yield dg.AssetCheckResult(asset_key=KEYS[0], check_name="rows", passed=True)


def _stored(instance: dg.DagsterInstance) -> list:
    """What Dagster reads back per asset: each materialization (partition, metadata, tags),
    the partitions materialized, the asset's latest event."""
    out = []
    for key in KEYS:
        records = instance.fetch_materializations(key, limit=100).records
        out.append(sorted((r.partition_key, r.asset_materialization.metadata["rows"].value,
                           tuple(sorted((k, v) for k, v in r.asset_materialization.tags.items()
                                        if k.startswith("dagster/data_version"))))
                          for r in records))
        out.append(sorted(instance.get_materialized_partitions(key)))
        latest = instance.get_asset_records([key])[0].asset_entry.last_materialization
        out.append(latest.dagster_event.partition)
        out.append(sorted(sorted(tags.items()) for tags in instance.get_event_tags_for_asset(key)))
    return out


# the storage's own methods (pipelines' batch writer installed), which the runs below count calls to
STORE_BATCH, STORE = SqliteEventLogStorage.store_event_batch, SqliteEventLogStorage.store_event


def _run(home, monkeypatch, batch_size: str) -> tuple[list, int, int]:
    """Materialize both assets over the five days in one run; (what is stored, batches written,
    materializations stored one by one)."""
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", batch_size)
    batches, single = [], []
    monkeypatch.setattr(SqliteEventLogStorage, "store_event_batch",
                        lambda self, events: (batches.append(len(events)), STORE_BATCH(self, events))[1])
    monkeypatch.setattr(SqliteEventLogStorage, "store_event",
                        lambda self, e: (single.append(e.dagster_event_type), STORE(self, e))[1])
    home.mkdir()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.materialize([two_tables], instance=instance,
                                tags={"dagster/asset_partition_range_start": "2024-01-01",
                                      "dagster/asset_partition_range_end": "2024-01-05"})
        assert result.success
        return _stored(instance), len(batches), single.count(dg.DagsterEventType.ASSET_MATERIALIZATION)


def test_batched_events_store_what_one_by_one_stores(tmp_path, monkeypatch):
    """Each asset's five partition materializations come as one batch and are stored in one
    transaction per file: Dagster then reads back the same materializations, partitions,
    latest event and data-version tags as from its own event-by-event writes."""
    one_by_one, no_batches, singles = _run(tmp_path / "single", monkeypatch, "0")
    batched, batches, batched_singles = _run(tmp_path / "batched", monkeypatch, "100000")
    assert (no_batches, singles) == (0, 10)
    assert batches >= 2 and batched_singles == 0  # the two outputs' materializations, each a batch
    assert batched == one_by_one
    assert one_by_one[1] == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    assert one_by_one[3] and one_by_one[0][0][2]  # data versions are among the tags compared
