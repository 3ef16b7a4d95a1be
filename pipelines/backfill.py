"""`crm backfill`: a real Dagster asset backfill over a session range, run by a daemon.

The backfill is recorded in the warehouse's instance (it shows in `crm ui`'s Backfills tab);
every asset has BackfillPolicy.single_run, so Dagster turns the range into one run per
group of assets. The backfill carries its warehouse, extracts and settings as run config
(`definitions.resources_config`, applied by Dagster to every run it launches) and tags, so
whichever daemon launches its runs writes the right files, whatever CRM_* variables that
daemon was started with.

Without a daemon heartbeating on the instance (`crm ui` runs one) we start
`dagster-daemon run` for the duration, also when the daemon we counted on stops beating
while we wait; the wait is bounded (`timeout`).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

from core.config import Settings
from core.sessions import trading_calendar

from .resources import ROOT
from .runner import (CONFIG_TAG, EXTRACTS_TAG, WAREHOUSE_TAG, NewFiles, error_cause, fail_orphaned_runs,
                     instance_dir, project_instance)

DONE = {BulkActionStatus.COMPLETED, BulkActionStatus.FAILED, BulkActionStatus.CANCELED,
        BulkActionStatus.COMPLETED_SUCCESS, BulkActionStatus.COMPLETED_FAILED}
SUCCESS = {BulkActionStatus.COMPLETED, BulkActionStatus.COMPLETED_SUCCESS}
# A running daemon writes a heartbeat every 30 s (Dagster's DEFAULT_HEARTBEAT_INTERVAL_SECONDS);
# none for this long means no daemon serves the instance.
HEARTBEAT_FRESH_SECONDS = 60
DEFAULT_TIMEOUT = 4 * 3600.0
POLL_SECONDS = 2.0
RAW_WRITER = "raw_extracts"


class BackfillError(RuntimeError):
    """The backfill could not be waited for (timeout, the daemon we started died)."""


@dataclass(frozen=True)
class Outcome:
    backfill_id: str
    sessions: int
    status: BulkActionStatus | None  # None: queued, not waited for
    cause: str | None = None  # the first failure's cause, in one line
    daemon_started_after: float | None = None  # seconds into the wait we started a daemon, if we did

    @property
    def started_daemon(self) -> bool:
        return self.daemon_started_after is not None

    @property
    def succeeded(self) -> bool:
        return self.status in SUCCESS


def create_backfill(instance: dg.DagsterInstance, start: dt.date, end: dt.date, selection: str | None,
                    warehouse: Path | None = None, extracts: Path | None = None,
                    settings: Settings | None = None, config: Path | None = None,
                    target: tuple | None = None) -> tuple[str, int]:
    """Record the backfill; returns its id and the number of sessions. With `warehouse` and
    `extracts`, the backfill's runs carry them (and `settings`) as run config and tags.
    `target`: what `_target` returned for the same arguments."""
    days, keys, defs = target or _target(start, end, selection, warehouse, extracts, settings)
    run_config, tags = None, {"crm/launched_by": "crm backfill"}
    if warehouse is not None and extracts is not None:
        from .definitions import resources_config

        settings = settings or Settings.load(config)
        run_config = resources_config(warehouse, extracts, settings)
        tags.update({WAREHOUSE_TAG: str(warehouse), EXTRACTS_TAG: str(extracts),
                     CONFIG_TAG: str(config) if config else "defaults"})
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=uuid.uuid4().hex[:8], asset_graph=defs.resolve_asset_graph(),
        partition_names=[d.isoformat() for d in days], asset_selection=keys,
        backfill_timestamp=time.time(), tags=tags,
        dynamic_partitions_store=instance, all_partitions=False,
        title=f"crm backfill {days[0]}..{days[-1]}", description=selection, run_config=run_config,
    )
    instance.add_backfill(backfill)
    return backfill.backfill_id, len(days)


def _target(start: dt.date, end: dt.date, selection: str | None, warehouse: Path | None = None,
            extracts: Path | None = None, settings: Settings | None = None):
    """The sessions and asset keys of a backfill, and the definitions they come from."""
    from . import definitions

    days = trading_calendar().between(start, end)
    if not days:
        raise ValueError(f"no XSHG session between {start} and {end}")
    defs = definitions.defs
    if warehouse is not None or settings is not None:  # the windows of the backfill's settings
        defs = definitions.build_definitions(settings, warehouse=warehouse, extracts=extracts)
    graph = defs.resolve_asset_graph()
    chosen = dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()
    keys = sorted(chosen.resolve(graph))
    if not keys:
        raise ValueError(f"the selection {selection!r} matches no asset")
    return days, keys, defs


def check_extracts(extracts: Path, days: list[dt.date]) -> None:
    """The extracts a backfill loading raw sessions needs: the folder, with at least one
    session folder in the range (as `crm run` requires)."""
    from core.ingest import session_folders

    if not extracts.is_dir():
        raise ValueError(f"extracts folder {extracts} does not exist")
    found = set(session_folders(extracts, trading_calendar()))
    if not found & set(days):
        raise ValueError(f"no session folders in {extracts} for {days[0]}..{days[-1]}")


def daemon_running(instance: dg.DagsterInstance, fresh: float = HEARTBEAT_FRESH_SECONDS) -> bool:
    beats = instance.get_daemon_heartbeats()
    return any(time.time() - b.timestamp < fresh for b in beats.values())


def daemon_env(warehouse: Path, extracts: Path, config: Path | None) -> dict[str, str]:
    """The environment of a daemon or `dagster dev` serving this warehouse's instance."""
    env = {**os.environ, "DAGSTER_HOME": str(instance_dir(warehouse)), "CRM_WAREHOUSE": str(warehouse),
           "CRM_EXTRACTS": str(extracts), "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}
    env.pop("CRM_CONFIG", None)
    if config:
        env["CRM_CONFIG"] = str(config)
    return env


def start_daemon(env: dict[str, str]) -> subprocess.Popen:
    """`dagster-daemon run` on the instance of env's DAGSTER_HOME, logging to daemon.log there.
    It runs from the repo root, so it loads the code location of pyproject.toml
    ([tool.dagster]: `branch_crm`), the one `dagster dev` and `crm ui` load."""
    with open(Path(env["DAGSTER_HOME"]) / "daemon.log", "ab") as log:
        return subprocess.Popen([str(Path(sys.executable).parent / "dagster-daemon"), "run"],
                                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def stop_daemon(instance: dg.DagsterInstance, daemon: subprocess.Popen, ids_before: set) -> None:
    """Stop the daemon we started and forget its heartbeats (unless another daemon's are
    there), so that the next `crm backfill` starts one at once instead of waiting for them
    to go stale."""
    daemon.terminate()
    try:
        daemon.wait(60)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait(10)
    ids = {b.daemon_id for b in instance.get_daemon_heartbeats().values()}
    if len(ids) == 1 and not ids & ids_before:
        instance.wipe_daemon_heartbeats()


def wait_for(instance: dg.DagsterInstance, backfill_id: str, env: dict[str, str],
             on_tick: Callable[[str, int], None] | None = None, timeout: float = DEFAULT_TIMEOUT,
             fresh: float = HEARTBEAT_FRESH_SECONDS) -> tuple[BulkActionStatus, float | None]:
    """Wait until the backfill and its runs are done; returns its status and, if we started
    a daemon, how many seconds into the wait. If no daemon heartbeats on the instance (now
    or at any later check: the one we counted on may stop) we start one with `env`. After
    `timeout` seconds the backfill is cancelled and BackfillError says where it stood."""
    daemon, ids_before, started_after = None, set(), None
    t0 = time.time()
    try:
        while True:
            if daemon is None and not daemon_running(instance, fresh):
                ids_before = {b.daemon_id for b in instance.get_daemon_heartbeats().values()}
                daemon, started_after = start_daemon(env), time.time() - t0
            elif daemon is not None and daemon.poll() is not None:
                raise BackfillError(f"the dagster-daemon we started exited with status {daemon.returncode}; "
                                    f"see {Path(env['DAGSTER_HOME']) / 'daemon.log'}")
            backfill = instance.get_backfill(backfill_id)
            runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
            running = [r for r in runs if not r.dagster_run.is_finished]
            if on_tick:
                on_tick(backfill.status.value, len(runs))
            if backfill.status in DONE and not running:
                return backfill.status, started_after
            if time.time() - t0 > timeout:
                if backfill.status not in DONE:
                    instance.update_backfill(backfill.with_status(BulkActionStatus.CANCELING))
                raise BackfillError(
                    f"backfill {backfill_id} not done after {timeout:.0f}s ({backfill.status.value}, "
                    f"{len(runs)} run(s), {len(running)} unfinished"
                    f"{'' if daemon else ', served by a daemon we did not start'}): cancelled")
            time.sleep(POLL_SECONDS)
    finally:
        if daemon is not None:
            stop_daemon(instance, daemon, ids_before)


def _first_line(error) -> str:
    """What our code raised (runner.error_cause: without Dagster's wrapper), on one line."""
    return " ".join(error_cause(error).split())


def first_failure(instance: dg.DagsterInstance, backfill_id: str) -> str | None:
    """The cause of a failed backfill in one line: in its first failed run, the first failed
    step's error (or the blocking check that failed, with its first offending row), else the
    run's failure; else the backfill's own error."""
    runs = sorted(instance.get_run_records(dg.RunsFilter(tags={"dagster/backfill": backfill_id},
                                                         statuses=[dg.DagsterRunStatus.FAILURE])),
                  key=lambda r: r.create_timestamp)
    if runs:
        return run_failure(instance, runs[0].dagster_run)
    backfill = instance.get_backfill(backfill_id)
    if backfill is not None and backfill.error is not None:
        return f"backfill {backfill_id}: {_first_line(backfill.error)}"
    return None


def run_failure(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    """Why a run failed, in one line, prefixed by its id and session range."""
    where = f"run {run.run_id[:8]}"
    if run.tags.get("dagster/asset_partition_range_start"):
        where += (f" ({run.tags['dagster/asset_partition_range_start']}.."
                  f"{run.tags.get('dagster/asset_partition_range_end')})")

    def events(kind):
        return [r.event_log_entry.dagster_event for r in instance.get_records_for_run(run.run_id, of_type=kind).records]

    checks = [e.event_specific_data for e in events(dg.DagsterEventType.ASSET_CHECK_EVALUATION)
              if not e.event_specific_data.passed]
    steps = [e for e in events(dg.DagsterEventType.STEP_FAILURE) if e.event_specific_data.error is not None]
    if steps:
        line = _first_line(steps[0].event_specific_data.error)
        if not checks or checks[0].check_name in line:  # the error already names the check
            return f"{where} step {steps[0].step_key}: {line}"
    if checks:
        sample = checks[0].metadata.get("sample")
        return (f"{where}: check {checks[0].check_name} on {checks[0].asset_key.to_user_string()} failed"
                + (f", first: {_first_row(sample.value)}" if sample else ""))
    for e in events(dg.DagsterEventType.RUN_FAILURE):
        error = getattr(e.event_specific_data, "error", None)
        return f"{where}: {_first_line(error) if error else e.message}"
    return f"{where}: {run.status.value}"


def _first_row(markdown: str) -> str:
    """`col=value, ...` of the first row of a check's markdown sample table."""
    lines = [line.strip().strip("|") for line in markdown.splitlines() if line.strip().startswith("|")]
    if len(lines) < 3:
        return markdown.strip()
    cols = [c.strip() for c in lines[0].split("|")]
    vals = [v.strip() for v in lines[2].split("|")]
    return ", ".join(f"{c}={v}" for c, v in zip(cols, vals))


def run_backfill(start: dt.date, end: dt.date, selection: str | None, warehouse: Path, extracts: Path,
                 wait: bool = True, on_tick: Callable[[str, int], None] | None = None,
                 settings: Settings | None = None, config: Path | None = None,
                 timeout: float = DEFAULT_TIMEOUT, fresh: float = HEARTBEAT_FRESH_SECONDS) -> Outcome:
    """Create the backfill on the warehouse's instance and (by default) wait for it.

    Everything is checked before the instance is opened (the range, the selection, the
    extracts when raw sessions are loaded); a command that fails, or whose backfill fails,
    leaving empty the warehouse it created takes it back, with its instance folder
    (runner.NewFiles)."""
    warehouse, extracts = Path(warehouse).resolve(), Path(extracts).resolve()
    config = config or os.environ.get("CRM_CONFIG") or None
    config = Path(config).resolve() if config else None
    new = NewFiles(warehouse)
    instance, ok = None, False
    try:
        settings = settings or Settings.load(config)
        target = _target(start, end, selection, warehouse, extracts, settings)
        days, keys, _ = target
        if set(keys) & raw_keys():
            check_extracts(extracts, days)
        instance = project_instance(warehouse)
        fail_orphaned_runs(instance)
        backfill_id, n = create_backfill(instance, start, end, selection, warehouse, extracts, settings, config,
                                         target)
        if not wait:
            ok = True
            return Outcome(backfill_id, n, None)
        status, started = wait_for(instance, backfill_id, daemon_env(warehouse, extracts, config),
                                   on_tick, timeout, fresh)
        ok = status in SUCCESS
        return Outcome(backfill_id, n, status, None if ok else first_failure(instance, backfill_id), started)
    finally:
        if instance is not None:
            instance.dispose()
        if not ok:
            new.discard()


def raw_keys() -> set[dg.AssetKey]:
    """The assets of the raw writer (selecting any of them loads extracts)."""
    from core import tables

    return {dg.AssetKey(list(t.key)) for t in tables.TABLES if t.writer == RAW_WRITER}
