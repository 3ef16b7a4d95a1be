"""Dagster's SQLite event log without a disk flush per event, and with batches stored at once.

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

Second, the events of a batch are stored together. Dagster marks the per-partition
materializations of one asset's output (and the planned events of a run) as a batch, and with
DAGSTER_EVENT_BATCH_SIZE set it hands each batch to the storage's `store_event_batch`; the
SQLite storage inherits the base class's, which stores the events one by one, opening both
files for each. `store_event_batch` below writes a batch's asset events in one transaction per
file: the same rows (the event, its copy in index.db, its tags, the asset's latest event) as
`SqliteEventLogStorage.store_event` writes for each, the asset events in their order. Other
events of a batch (asset check plans) go first, through `store_event` as before. A step that
dies mid-batch loses that batch's events, and its run fails anyway.

Installed when `pipelines` is imported: every process that runs the pipeline (crm, the
run workers of `crm ui` and `crm backfill`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence

from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result
from sqlalchemy import event
from sqlalchemy.engine import Engine

# Read by Dagster when it stores each event: any size above a step's partitions x assets
# keeps one output's materializations in one batch (the batch also ends with the output).
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "100000")


@event.listens_for(Engine, "connect")
def _event_log_without_flush(dbapi_connection, _record) -> None:
    """Every SQLite connection SQLAlchemy opens; only the event log's files are changed."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    path = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
    if path and os.path.basename(os.path.dirname(path)) == "runs" and path.endswith(".db"):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def _store_event_batch(self: SqliteEventLogStorage, events: Sequence[EventLogEntry]) -> None:
    """SqliteEventLogStorage.store_event for each of the batch's asset events, in one
    transaction per file (Dagster's own: a transaction per event and file)."""
    by_run: dict[str, list[EventLogEntry]] = {}
    for e in events:
        if e.is_dagster_event and e.dagster_event_type in ASSET_EVENTS:
            by_run.setdefault(e.run_id, []).append(e)
        else:
            self.store_event(e)
    for run_id, batch in by_run.items():
        inserts = [self.prepare_insert_event(e) for e in batch]
        with self.run_connection(run_id) as conn:
            for insert in inserts:
                conn.execute(insert)
        with self.index_transaction() as conn:
            ids = []
            for insert in inserts:
                with db_result(conn, insert) as result:
                    ids.append(result.inserted_primary_key[0])
            self._store_asset_event_tags(conn, batch, ids)
            for e, event_id in zip(batch, ids):
                self._store_asset_event(conn, e, event_id)


SqliteEventLogStorage.store_event_batch = _store_event_batch
