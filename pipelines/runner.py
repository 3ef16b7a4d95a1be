"""Materialize the pipeline for a range of sessions through Dagster, on the project instance."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import sqlalchemy

from core.config import Settings
from core.sessions import trading_calendar

from .resources import ROOT

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
PID_TAG, HOST_TAG = "crm/pid", "crm/host"


class RunFailed(RuntimeError):
    """A Dagster run failed; the message is the first step error."""


def project_instance(attempts: int = 5) -> dg.DagsterInstance:
    """The instance of dagster.yaml at the repo root (storage under data/dagster).

    Two crm processes starting on a brand-new storage folder race to create its SQLite
    tables ("table ... already exists") and to stamp their schema version (UNIQUE constraint
    failed: alembic_version); the loser retries once the winner is done.
    """
    os.environ.setdefault("DAGSTER_HOME", str(ROOT))
    # Dagster's switch for single-run ranges: one "materialization planned" event per asset
    # and run instead of one per partition (measured with 19 assets x 60 sessions: 1,140 SQLite writes,
    # 14 s of a 60-session run). Its trade-off: partitions of a failed run show as missing,
    # not failed; the run shows the failure. Inherited by the daemon `crm backfill` starts.
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    os.chdir(os.environ["DAGSTER_HOME"])  # dagster.yaml's storage path is relative to it
    for attempt in range(1, attempts):
        try:
            return _open_instance()
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.IntegrityError):
            time.sleep(0.5 * attempt)
    return _open_instance()


def _open_instance() -> dg.DagsterInstance:
    instance = dg.DagsterInstance.get()
    instance.event_log_storage.get_concurrency_keys()  # creates the pool tables too
    return instance


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the runs whose crm process died (SIGKILL, reboot) and free their pool slot.

    A killed in-process run stays STARTED and keeps its "duckdb" pool slot, so every
    later run would wait for it forever.
    """
    orphans = []
    active = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]
    for record in instance.get_run_records(dg.RunsFilter(statuses=active)):
        run = record.dagster_run
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if pid and host == socket.gethostname() and not _alive(int(pid)):
            instance.report_run_failed(run, f"its crm process {pid} died; marked failed by a later crm run")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            orphans.append(run.run_id)
    return orphans


def run_sessions(warehouse: Path, extracts: Path, start: dt.date, end: dt.date,
                 runs_of: int = 60, on_chunk: Callable[[list[dt.date]], None] | None = None,
                 settings: Settings | None = None) -> list[dt.date]:
    """Run the daily job over [start, end] as single-run ranges of `runs_of` sessions, in order."""
    from .definitions import build_definitions

    warehouse, extracts = warehouse.resolve(), extracts.resolve()
    defs = build_definitions(settings, warehouse=warehouse, extracts=extracts)
    job = defs.resolve_job_def("daily")
    instance = project_instance()
    fail_orphaned_runs(instance)
    days = trading_calendar().between(start, end)
    for i in range(0, len(days), runs_of):
        chunk = days[i:i + runs_of]
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET,
            tags={RANGE_START: chunk[0].isoformat(), RANGE_END: chunk[-1].isoformat(),
                  PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()},
        )
        if not result.success:
            errors = [e.event_specific_data.error for e in result.all_events
                      if e.is_step_failure and e.event_specific_data.error]
            message = errors[0].message.strip() if errors else "run failed"
            raise RunFailed(f"sessions {chunk[0]}..{chunk[-1]}: {message}")
        if on_chunk:
            on_chunk(chunk)
    return days
