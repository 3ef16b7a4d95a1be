"""`crm backfill` records a Dagster asset backfill of the sessions of a range (holidays
skipped) for the selected assets; an empty range or selection is refused. Its runs carry the
warehouse, extracts and settings to whichever daemon launches them; it never waits on a
stale heartbeat nor forever; a failure says its first cause in one line."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from dagster._daemon.types import DaemonHeartbeat
from typer.testing import CliRunner

from core.config import IndicatorConfig, Settings
from pipelines import backfill as bf
from pipelines.backfill import create_backfill
from pipelines.runner import QUIET, RANGE_END, RANGE_START, WAREHOUSE_TAG, instance_dir, project_instance

from ..conftest import EXAMPLE, ROOT


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


# ---- waiting, failures, daemons -----------------------------------------------------------

EXTRACTS = EXAMPLE / "extracts"
STRICT = Settings(indicators=IndicatorConfig(max_reject_share=0.1))  # 2024-09-19: 4 of 15 trades rejected
RAW = "group:raw"  # the raw writer only: one run, no downstream windows


def trades_by_day(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {d.isoformat(): n for d, n in con.execute(
            "select as_of_date, count(*) from raw.trades group by 1 order by 1").fetchall()}


def test_the_first_failure_cause_is_one_line(tmp_path):
    """The failed check with its first offending row; a step's own error without Dagster's
    wrapper; the first failed run of the backfill."""
    from pipelines.definitions import build_definitions

    wh = tmp_path / "w.duckdb"
    gap = tmp_path / "extracts"  # 2024-09-19 missing
    for day in ("2024-09-18", "2024-09-19", "2024-09-20"):
        shutil.copytree(EXTRACTS / day, gap / day)
    shutil.rmtree(gap / "2024-09-19")
    with project_instance(wh) as instance:
        for backfill_id, settings, extracts, day in [("strict", STRICT, EXTRACTS, "2024-09-19"),
                                                     ("missing", Settings(), gap, "2024-09-19")]:
            job = build_definitions(settings, warehouse=wh, extracts=extracts).resolve_job_def("daily")
            for _ in range(2):  # the first failed run is the one reported
                job.execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET,
                                       tags={RANGE_START: day, RANGE_END: day, "dagster/backfill": backfill_id})
        first = sorted(instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": "strict"})),
                       key=lambda r: instance.get_run_record_by_id(r.run_id).create_timestamp)[0]
        strict = bf.first_failure(instance, "strict")
        assert strict.startswith(f"run {first.run_id[:8]} (2024-09-19..2024-09-19) step raw_extracts: ")
        assert "raw_reject_share" in strict and "trades.csv" in strict
        missing = bf.first_failure(instance, "missing")
        assert missing.endswith("step raw_extracts: 2024-09-19/clients.csv: extract folder for 2024-09-19 is missing")
        assert "\n" not in strict + missing
        assert bf.first_failure(instance, "none") is None


def test_crm_backfill_prints_the_cause_and_exits_1(monkeypatch, tmp_path):
    failed = bf.Outcome("abcd1234", 2, BulkActionStatus.COMPLETED_FAILED, "run 1234abcd (2024-09-19..2024-09-19) "
                        "step raw_extracts: CheckFailed: check raw_reject_share ...")
    monkeypatch.setattr(bf, "run_backfill", lambda *a, **k: failed)
    from cli.app import app

    result = CliRunner().invoke(app, ["backfill", "--start", "2024-09-18", "--end", "2024-09-19",
                                      "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 1
    assert "COMPLETED_FAILED" in result.output
    assert "error: run 1234abcd (2024-09-19..2024-09-19) step raw_extracts: CheckFailed: check raw_reject_share" \
        in " ".join(result.output.split())


def heartbeat(instance: dg.DagsterInstance, at: float, daemon_id: str = "elsewhere") -> None:
    instance.add_daemon_heartbeat(DaemonHeartbeat(at, "BACKFILL", daemon_id, None))


def test_the_wait_is_bounded(tmp_path):
    """A daemon that heartbeats but never launches: after `timeout` a clear error, and the
    backfill is cancelled rather than left for some later daemon."""
    wh = tmp_path / "w.duckdb"
    with project_instance(wh) as instance:
        backfill_id, _ = bf.create_backfill(instance, dt.date(2024, 9, 18), dt.date(2024, 9, 18), RAW, wh, EXTRACTS)
        heartbeat(instance, time.time())
        t0 = time.time()
        with pytest.raises(bf.BackfillError, match=rf"backfill {backfill_id} not done after 2s \(REQUESTED, 0 run"):
            bf.wait_for(instance, backfill_id, bf.daemon_env(wh, EXTRACTS, None), timeout=2, fresh=3600)
        assert time.time() - t0 < 10
        assert instance.get_backfill(backfill_id).status == BulkActionStatus.CANCELING
    assert not wh.exists()


def test_a_stale_heartbeat_does_not_keep_the_backfill_waiting(tmp_path):
    """A daemon stopped a moment ago left a fresh heartbeat: we wait on it only until it goes
    stale, then start our own daemon, which runs the backfill; stopping it forgets its
    heartbeats, so the next crm backfill does not wait on them."""
    wh = tmp_path / "w.duckdb"
    with project_instance(wh) as instance:
        backfill_id, _ = bf.create_backfill(instance, dt.date(2024, 9, 18), dt.date(2024, 9, 19), RAW, wh, EXTRACTS)
        heartbeat(instance, time.time())
        status, started_after = bf.wait_for(instance, backfill_id, bf.daemon_env(wh, EXTRACTS, None),
                                            timeout=300, fresh=4)
        assert status == BulkActionStatus.COMPLETED_SUCCESS
        assert started_after is not None and started_after >= 3  # not at once: the heartbeat was fresh
        assert instance.get_daemon_heartbeats() == {}
    assert trades_by_day(wh) == {"2024-09-18": 10, "2024-09-19": 11}


def test_the_backfill_carries_its_paths_to_a_daemon_started_elsewhere(tmp_path):
    """A daemon serving the warehouse's instance but started with other CRM_* variables and
    default settings runs two backfills on their own warehouse, extracts and settings: the
    one with strict settings fails the raw check (its first failure's cause names the check
    and the offending file; under the daemon's settings it would pass), the other loads both
    sessions into the right file; the daemon's own warehouse is never created."""
    wh = tmp_path / "right" / "w.duckdb"
    decoy = tmp_path / "decoy" / "w.duckdb"
    strict = bf.run_backfill(dt.date(2024, 9, 19), dt.date(2024, 9, 19), RAW, wh, EXTRACTS, wait=False,
                             settings=STRICT)
    plain = bf.run_backfill(dt.date(2024, 9, 18), dt.date(2024, 9, 19), RAW, wh, EXTRACTS, wait=False)
    assert strict.status is None and plain.status is None  # queued
    env = {**os.environ, "DAGSTER_HOME": str(instance_dir(wh)), "CRM_WAREHOUSE": str(decoy),
           "CRM_EXTRACTS": str(tmp_path / "nowhere")}
    env.pop("CRM_CONFIG", None)
    log = open(tmp_path / "daemon.log", "wb")
    daemon = subprocess.Popen([str(Path(sys.executable).parent / "dagster-daemon"), "run"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        with project_instance(wh) as instance:
            deadline = time.time() + 180
            while not bf.daemon_running(instance):
                assert daemon.poll() is None and time.time() < deadline, (tmp_path / "daemon.log").read_text()[-3000:]
                time.sleep(0.5)
            outcomes = {}
            for queued in (strict, plain):
                outcomes[queued.backfill_id] = bf.wait_for(instance, queued.backfill_id,
                                                           bf.daemon_env(wh, EXTRACTS, None), timeout=300)
            assert outcomes[strict.backfill_id] == (BulkActionStatus.COMPLETED_FAILED, None)  # None: not our daemon
            cause = bf.first_failure(instance, strict.backfill_id)
            assert "raw_reject_share" in cause and "trades.csv" in cause, cause
            assert outcomes[plain.backfill_id] == (BulkActionStatus.COMPLETED_SUCCESS, None), \
                bf.first_failure(instance, plain.backfill_id)
            runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": plain.backfill_id}))
            assert len(runs) == 1 and runs[0].tags[WAREHOUSE_TAG] == str(wh)
            assert runs[0].run_config["resources"]["duckdb"]["config"]["database"] == str(wh)
    finally:
        daemon.terminate()
        daemon.wait(60)
        log.close()
    assert trades_by_day(wh) == {"2024-09-18": 10, "2024-09-19": 11}
    assert not decoy.exists() and not (tmp_path / "nowhere").exists()
