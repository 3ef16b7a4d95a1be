"""Materialize the pipeline for a range of sessions through Dagster, on the warehouse's instance.

Every warehouse has its own Dagster instance: the folder beside the file, `<name>.dagster/`
(`data/demo/warehouse.duckdb` -> `data/demo/warehouse.dagster/`), created on first use with
the dagster.yaml below and its run, event and schedule storage inside (Dagster's defaults
under DAGSTER_HOME). So the runs, materializations and failures an instance shows are those
of its warehouse only.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import sqlalchemy
from dagster._utils.error import SerializableErrorInfo

from core.config import Settings
from core.db import is_empty, run_ranges
from core.sessions import trading_calendar

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
PID_TAG, HOST_TAG = "crm/pid", "crm/host"
WAREHOUSE_TAG, EXTRACTS_TAG, CONFIG_TAG = "crm/warehouse", "crm/extracts", "crm/config"

# The instance of one warehouse (the repo's dagster.yaml holds the same, plus the storage of
# data/warehouse.duckdb's instance for a plain `dagster dev` from the repo root).
INSTANCE_YAML = """\
# Dagster instance of one warehouse: the .duckdb file beside this folder (written by crm on
# first use, pipelines/runner.py). Run, event and schedule storage and compute logs are
# SQLite files and folders here (DAGSTER_HOME = this folder). `crm ui` opens it.

# Two runs never write the DuckDB file at once: every writing asset is in pool "duckdb".
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 1

# The daemon (crm ui, crm backfill) fails runs whose worker died and frees their slot;
# runs of `crm run` are in-process, and crm itself fails its own orphans (runner.py).
run_monitoring:
  enabled: true

telemetry:
  enabled: false
"""


class RunFailed(RuntimeError):
    """A Dagster run failed; the message is its first failure's cause in one line, `sessions`
    the run's sessions (nothing of them was committed), `details` every failed step's error
    with its traceback (for a log file, never for the user's last line)."""

    def __init__(self, cause: str, sessions: tuple[dt.date, dt.date], details: str = "", run_id: str = ""):
        super().__init__(cause)
        self.sessions, self.details, self.run_id = sessions, details, run_id


def error_cause(error: SerializableErrorInfo) -> str:
    """The innermost error of a step failure, without its class path: Dagster wraps what
    our code raised in DagsterExecutionStepExecutionError ("Error occurred while executing op")."""
    while error.cause is not None:
        error = error.cause
    kind, _, text = error.message.strip().partition(": ")
    return text if kind.endswith(error.cls_name) and text else error.message.strip()


@contextmanager
def run_lock(warehouse: Path) -> Iterator[None]:
    """One `crm` run at a time per warehouse, for the whole run. A run holds the DuckDB file
    from its first step to its end (one transaction), while the pool `duckdb` only limits
    steps: without this a second `crm run` would take the pool slot between two steps of
    the first and wait on the file lock. Daemon runs are serialised by max_concurrent_runs."""
    path = instance_dir(warehouse) / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        yield


def instance_dir(warehouse: str | Path) -> Path:
    """The Dagster instance folder of a warehouse file: beside it, `<name>.dagster/`."""
    return Path(warehouse).resolve().with_suffix(".dagster")


def project_instance(warehouse: str | Path, attempts: int = 5) -> dg.DagsterInstance:
    """The warehouse's Dagster instance (`instance_dir`), its folder and dagster.yaml created
    on first use. DAGSTER_HOME is not read: the warehouse names its instance.

    Two crm processes starting on a brand-new storage folder race to create its SQLite
    tables ("table ... already exists") and to stamp their schema version (UNIQUE constraint
    failed: alembic_version); the loser retries once the winner is done.
    """
    home = instance_dir(warehouse)
    # Dagster's switch for single-run ranges: one "materialization planned" event per asset
    # and run instead of one per partition (measured with 19 assets x 60 sessions: 1,140 SQLite writes,
    # 14 s of a 60-session run). Its trade-off: partitions of a failed run show as missing,
    # not failed; the run shows the failure. Inherited by the daemons `crm backfill` and `crm ui` start.
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    ensure_instance_dir(home)
    for attempt in range(1, attempts):
        try:
            return _open_instance(home)
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.IntegrityError):
            time.sleep(0.5 * attempt)
    return _open_instance(home)


def ensure_instance_dir(home: Path) -> Path:
    """The folder and its dagster.yaml (written atomically: concurrent first uses agree)."""
    home.mkdir(parents=True, exist_ok=True)
    yaml = home / "dagster.yaml"
    if not yaml.exists():
        tmp = home / f".dagster.yaml.{os.getpid()}"
        tmp.write_text(INSTANCE_YAML, encoding="utf-8")
        os.replace(tmp, yaml)
    return home


def _open_instance(home: Path) -> dg.DagsterInstance:
    instance = dg.DagsterInstance.from_config(str(home))
    instance.event_log_storage.get_concurrency_keys()  # creates the pool tables too
    return instance


class NewFiles:
    """What a command creates for a warehouse that did not exist yet (its file, its instance
    folder, missing parent folders), so that a failed command can take them back (`discard`):
    a failed command leaves no empty warehouse and no instance of a warehouse that is not there."""

    def __init__(self, warehouse: Path):
        self.warehouse = Path(warehouse).resolve()
        self.home = instance_dir(self.warehouse)
        self.new_warehouse = not self.warehouse.exists()
        self.new_home = not self.home.exists()
        self.new_parents = [p for p in self.warehouse.parents if not p.exists()]

    def discard(self) -> bool:
        """Remove the warehouse if this command created it and no session was ever loaded into
        it (nor is any process using it), then the instance folder and parent folders this
        command created. Returns whether the warehouse is gone."""
        if not self.new_warehouse:
            return False
        if self.warehouse.exists():
            try:  # a read-write connection fails while another process holds the file
                con = duckdb.connect(str(self.warehouse))
            except duckdb.Error:
                return False
            try:
                loaded = con.execute("select count(*) from quality.loads").fetchone()[0]
            except duckdb.CatalogException:
                loaded = 0
            finally:
                con.close()
            if loaded:
                return False
            for path in (self.warehouse, self.warehouse.with_name(self.warehouse.name + ".wal")):
                path.unlink(missing_ok=True)
        if self.new_home:
            shutil.rmtree(self.home, ignore_errors=True)
        for parent in self.new_parents:  # nearest first
            try:
                parent.rmdir()
            except OSError:
                break
        return True


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


def _is_empty(warehouse: Path) -> bool:
    """core.db.is_empty of the file (True if there is none yet)."""
    if not warehouse.exists():
        return True
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return is_empty(con)


def run_sessions(warehouse: Path, extracts: Path, start: dt.date, end: dt.date,
                 runs_of: int = 60, on_chunk: Callable[[list[dt.date]], None] | None = None,
                 settings: Settings | None = None, discard_new: bool = False, verbose: bool = False) -> list[dt.date]:
    """Run the daily job over [start, end] as single-run ranges of `runs_of` sessions, in order
    (into an empty warehouse the first session alone: core.db.run_ranges), on the warehouse's
    instance. With `discard_new` (the CLI), a failure that leaves empty the warehouse this
    call created takes it back with its instance folder (NewFiles).
    `verbose`: Dagster's own log lines (INFO and up) on stderr; else warnings only."""
    warehouse, extracts = Path(warehouse).resolve(), Path(extracts).resolve()
    new = NewFiles(warehouse)
    try:
        with project_instance(warehouse) as instance:
            return _run_sessions(instance, warehouse, extracts, start, end, runs_of, on_chunk, settings, verbose)
    except BaseException:
        if discard_new:
            new.discard()
        raise


def _run_sessions(instance: dg.DagsterInstance, warehouse: Path, extracts: Path, start: dt.date, end: dt.date,
                  runs_of: int, on_chunk: Callable[[list[dt.date]], None] | None,
                  settings: Settings | None, verbose: bool) -> list[dt.date]:
    from .definitions import build_definitions, resources_config

    settings = settings or Settings.load()
    defs = build_definitions(settings, warehouse=warehouse, extracts=extracts)
    job = defs.resolve_job_def("daily")
    # the run names its files and settings, as a backfill's runs do (re-executed from the UI,
    # it writes the same warehouse whatever the UI's CRM_* variables)
    run_config = {**({} if verbose else QUIET), **resources_config(warehouse, extracts, settings)}
    fail_orphaned_runs(instance)
    days = trading_calendar().between(start, end)
    with run_lock(warehouse):
        empty = _is_empty(warehouse)
    for chunk in run_ranges(days, runs_of, empty):
        with run_lock(warehouse):
            result = job.execute_in_process(
                instance=instance, raise_on_error=False, run_config=run_config,
                tags={RANGE_START: chunk[0].isoformat(), RANGE_END: chunk[-1].isoformat(),
                      PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(),
                      WAREHOUSE_TAG: str(warehouse), EXTRACTS_TAG: str(extracts)},
            )
        if not result.success:
            errors = [e.event_specific_data.error for e in result.all_events
                      if e.is_step_failure and e.event_specific_data.error]
            details = "\n".join(e.to_string() for e in errors)
            raise RunFailed(error_cause(errors[0]) if errors else "run failed", (chunk[0], chunk[-1]),
                            details, result.run_id)
        if on_chunk:
            on_chunk(chunk)
    return days
