"""`crm backfill`: a real Dagster asset backfill over a session range, run by the daemon.

The backfill is recorded in the instance (it shows in the UI's Backfills tab); every
asset has BackfillPolicy.single_run, so Dagster turns the range into one run. Without
a running daemon (`dagster dev` starts one) we start `dagster-daemon run` for the
duration of the backfill.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

from core.sessions import trading_calendar

from .resources import ROOT
from .runner import project_instance

DONE = {BulkActionStatus.COMPLETED, BulkActionStatus.FAILED, BulkActionStatus.CANCELED,
        BulkActionStatus.COMPLETED_SUCCESS, BulkActionStatus.COMPLETED_FAILED}
HEARTBEAT_FRESH_SECONDS = 60


def create_backfill(instance: dg.DagsterInstance, start: dt.date, end: dt.date,
                    selection: str | None) -> tuple[str, int]:
    """Record the backfill; returns its id and the number of sessions."""
    from .definitions import defs

    days = trading_calendar().between(start, end)
    if not days:
        raise ValueError(f"no XSHG session between {start} and {end}")
    graph = defs.resolve_asset_graph()
    chosen = dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()
    keys = sorted(chosen.resolve(graph))
    if not keys:
        raise ValueError(f"the selection {selection!r} matches no asset")
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=uuid.uuid4().hex[:8], asset_graph=graph,
        partition_names=[d.isoformat() for d in days], asset_selection=keys,
        backfill_timestamp=time.time(), tags={"crm/launched_by": "crm backfill"},
        dynamic_partitions_store=instance, all_partitions=False,
        title=f"crm backfill {days[0]}..{days[-1]}", description=selection, run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill.backfill_id, len(days)


def daemon_running(instance: dg.DagsterInstance) -> bool:
    beats = instance.get_daemon_heartbeats()
    return any(time.time() - b.timestamp < HEARTBEAT_FRESH_SECONDS for b in beats.values())


def wait_for(instance: dg.DagsterInstance, backfill_id: str, warehouse: Path, extracts: Path,
             on_tick: Callable[[str, int], None] | None = None, timeout: float = 3600) -> BulkActionStatus:
    """Wait until the backfill and its runs are done, starting a daemon if none runs."""
    daemon = None
    if not daemon_running(instance):
        env = {**os.environ, "CRM_WAREHOUSE": str(warehouse), "CRM_EXTRACTS": str(extracts)}
        log_dir = Path("data") / "dagster"  # relative to DAGSTER_HOME, like dagster.yaml's storage
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / "daemon.log", "ab")
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-m", "pipelines.definitions",
             "-d", str(ROOT)], env=env, stdout=log, stderr=log)
    try:
        t0 = time.time()
        while time.time() - t0 < timeout:
            status = instance.get_backfill(backfill_id).status
            runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
            running = [r for r in runs if not r.dagster_run.is_finished]
            if on_tick:
                on_tick(status.value, len(runs))
            if status in DONE and not running:
                return status
            time.sleep(1)
        raise TimeoutError(f"backfill {backfill_id} not done after {timeout:.0f}s")
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait(30)


def run_backfill(start: dt.date, end: dt.date, selection: str | None, warehouse: Path, extracts: Path,
                 wait: bool = True, on_tick: Callable[[str, int], None] | None = None):
    """Create the backfill and (by default) wait for it; returns (id, sessions, status)."""
    os.environ["CRM_WAREHOUSE"], os.environ["CRM_EXTRACTS"] = str(warehouse), str(extracts)
    instance = project_instance()
    backfill_id, n = create_backfill(instance, start, end, selection)
    status = wait_for(instance, backfill_id, warehouse, extracts, on_tick) if wait else None
    return backfill_id, n, status

