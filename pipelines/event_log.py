"""Dagster's SQLite event log without a disk flush per event.

Dagster stores one ASSET_MATERIALIZATION per asset spec and partition: a run of the
registry's 45 tables over 60 sessions stores 2,700 of them. The SQLite event log writes each
into two files of the instance's history/runs/ folder, the run's own log (<run id>.db) and
the cross-run index (index.db), opening, committing and closing each file for every event
(NullPool). Closing the last connection to a WAL database checkpoints it, and at SQLite's
default synchronous=FULL the commit and the checkpoint wait for the disk: ~5 ms of the
~12 ms an event costs on the bench machine, more when the disk is busy. synchronous=NORMAL
does not help here: it drops the commit's flush, not the checkpoint's.

So the event log's files (history/runs/*.db) are opened with synchronous=OFF: the same
events land in the same files, without waiting for the disk. A crash of the process loses
nothing. A crash of the machine (kernel, power) within seconds of a run's writes may lose
the last events or damage an event log file; then `crm ui` and crm runs fail on that
warehouse's instance until its `<name>.dagster/history/runs/` folder is moved aside (the
run history and materializations shown by Dagster go with it). The warehouse is not at
risk: DuckDB writes and flushes it on its own, and crm decides what to rerun from the
warehouse (quality.published), never from Dagster's history. Dagster's run and schedule
storage (history/runs.db, schedules/) keep SQLite's default.

Installed when `pipelines` is imported: every process that runs the pipeline (crm, the
run workers of `crm ui` and `crm backfill`).
"""

from __future__ import annotations

import os
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _event_log_without_flush(dbapi_connection, _record) -> None:
    """Every SQLite connection SQLAlchemy opens; only the event log's files are changed."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    path = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
    if path and os.path.basename(os.path.dirname(path)) == "runs" and path.endswith(".db"):
        dbapi_connection.execute("PRAGMA synchronous=OFF")
