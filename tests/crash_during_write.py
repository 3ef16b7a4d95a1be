"""Run as a subprocess by test_operations: start a write and SIGKILL ourselves inside it.

usage: python -m tests.crash_during_write WAREHOUSE EXTRACTS DAY (ingest|mart) N
The N-th statement of the transaction is the last one to run before the kill.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path

import duckdb

from pipelines.config import IndicatorConfig
from pipelines.ingest import ingest_day
from pipelines.sessions import trading_calendar
from pipelines.warehouse import rebuild_mart


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
    con = KillAfter(duckdb.connect(warehouse), int(n))
    d = dt.date.fromisoformat(day)
    if what == "ingest":
        ingest_day(con, Path(extracts), d, trading_calendar())
    else:
        rebuild_mart(con, "client_indicators", d, d, IndicatorConfig().params())


if __name__ == "__main__":
    main(*sys.argv[1:])
