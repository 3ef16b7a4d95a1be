"""Run as a subprocess by test_operations: start a write and SIGKILL ourselves inside it.

usage: python -m tests.pipelines.crash_during_write WAREHOUSE EXTRACTS DAY (ingest|mart|running) N
The N-th statement of the transaction is the last one to run before the kill.
ingest: core.ingest.ingest_day; mart: the client_windows writer (one session);
running: the client_running writer (one session).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path

import duckdb

from core.build import rebuild
from core.config import Settings
from core.db import prepare
from core.ingest import ingest_day
from core.sessions import trading_calendar

WRITERS = {"mart": "client_windows", "running": "client_running"}


class KillAfter:
    """A connection that dies (SIGKILL, no cleanup) after n statements inside a transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, n: int):
        self.con, self.n, self.in_tx = con, n, False

    def execute(self, sql, *args):
        result = self.con.execute(sql, *args)
        self.in_tx = self.in_tx or sql.strip() == "begin"
        if self.in_tx and sql.strip() != "begin":
            self.n -= 1
            if self.n == 0:
                os.kill(os.getpid(), signal.SIGKILL)
        return result

    def __getattr__(self, name):
        return getattr(self.con, name)


def main(warehouse: str, extracts: str, day: str, what: str, n: str) -> None:
    raw = duckdb.connect(warehouse)
    prepare(raw)  # tables and macros, before any statement is counted
    con = KillAfter(raw, int(n))
    d = dt.date.fromisoformat(day)
    if what == "ingest":
        ingest_day(con, Path(extracts), d, trading_calendar())
    else:
        rebuild(con, WRITERS[what], [d], Settings())


if __name__ == "__main__":
    main(*sys.argv[1:])
