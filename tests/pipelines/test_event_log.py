"""pipelines/event_log.py: the event log's files skip the disk flush, nothing else does."""

from __future__ import annotations

import sqlalchemy as sa

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
