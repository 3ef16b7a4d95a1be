"""Warehouse access: connect, run a SQL file with bound parameters, transactions, chunks.

Every connection that runs project SQL goes through `connect` (or `prepare` on a
connection someone else opened): it (re)loads the staging and intermediate macros from
sql/ as TEMP macros, so a read-only reader never runs macros a pipeline run persisted
with older code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path

import duckdb

from .sessions import TradingCalendar, trading_calendar

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MACRO_LAYERS = ("staging", "intermediate")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")

# Settings of every writing connection. DuckDB checkpoints when its WAL passes 16 MB, i.e.
# after nearly every day's load, rewriting the table's last, partly filled row groups each
# time; checkpointing at 1 GB (or when the connection closes) loads 10 sessions at 50k
# clients in 3.4-3.9 s instead of 6.0-7.0 s. Committed data stays durable in the WAL.
WRITE_CONFIG = {"checkpoint_threshold": "1GB"}


class OldLayoutError(RuntimeError):
    """A warehouse file written by an earlier table layout."""


@cache
def sql_text(name: str) -> str:
    """SQL of one file under sql/, e.g. 'marts/client_daily'."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object]):
    """Execute with the named parameters the statement uses (DuckDB rejects unused ones)."""
    used = dict.fromkeys(_PARAM.findall(sql))
    missing = [p for p in used if p not in params]
    if missing:
        raise KeyError(f"SQL parameters without a value: {missing}")
    return con.execute(sql, {p: params[p] for p in used})


@contextmanager
def running_lookup(con: duckdb.DuckDBPyConnection, params) -> Iterator[None]:
    """For the block, the macro int_running_lookup(d) as a constant IN list of the sessions
    whose mart.client_running rows the client-analysis SQL of $start .. $end looks up
    (int_running_lookup_dates); after it, the macro's file definition again, which fails when
    asked: SQL that needs the list never reads another range's.

    Why constants: DuckDB prunes a table scan by a constant filter, but not by a join or an
    IN (select ...) when the rows are the transaction's own, and a run's steps share one
    transaction: the run's sessions of client_running were scanned whole, on one thread. On a
    backfill's 20-session chunk at 50k clients whose rows the run wrote (docs/performance.md):
    int_client_value 3.85 -> 2.58 s, client_loyalty 1.40 -> 1.12 s (a list passed as a
    parameter, e.g. list_contains($dates, d), is not pushed down: 3.66 s)."""
    dates = run_sql(con, "select as_of_date from int_running_lookup_dates($start, $end, $annual_sessions) order by 1",
                    params).fetchall()
    listed = ", ".join(f"date '{d.isoformat()}'" for (d,) in dates) or "null"
    con.execute(f"create or replace temp macro int_running_lookup(d) as d in ({listed})")
    with afterwards(con, [sql_text("intermediate/int_running_lookup")]):
        yield


@contextmanager
def afterwards(con: duckdb.DuckDBPyConnection, statements: list[str]) -> Iterator[None]:
    """Execute `statements` (dropping a block's temp objects) after the block. When the block
    raises, its error is the one that propagates: a failed statement aborts DuckDB's open
    transaction, which then refuses any other ("Current transaction is aborted") and would
    bury the cause, and the rollback that follows undoes the block's temp tables and macros."""
    try:
        yield
    except BaseException:
        with suppress(duckdb.Error):
            for statement in statements:
                con.execute(statement)
        raise
    for statement in statements:
        con.execute(statement)


def run_file(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, object]):
    """run_sql of the file sql/<name>.sql."""
    return run_sql(con, sql_text(name), params)


def fetch_dicts(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, object]) -> list[dict]:
    """Rows of sql/<name>.sql as dicts."""
    cur = run_file(con, name, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


# Connections (by id) inside a run-wide transaction (`hold`): their `transaction` blocks
# join it, since DuckDB has no nested transactions or savepoints.
_HELD: set[int] = set()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit if the block succeeds, else roll back: all or nothing. On a held connection
    the block is part of the run-wide transaction, which commits or rolls back at its end."""
    if id(con) in _HELD:
        yield
        return
    con.execute("begin")
    try:
        yield
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def hold(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Open a run-wide transaction: every writer of a run writes in it and `release` commits
    or rolls back all of them, so a session's raw load, marts and checks take effect together."""
    con.execute("begin")
    _HELD.add(id(con))
    return con


def release(con: duckdb.DuckDBPyConnection, commit: bool) -> None:
    """End the run-wide transaction of `hold`: commit, or roll back every writer's rows."""
    _HELD.discard(id(con))
    con.execute("commit" if commit else "rollback")


@contextmanager
def atomic(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """`hold` for a block: commit if it succeeds, else roll back (the direct path's run)."""
    hold(con)
    try:
        yield con
    except BaseException:
        release(con, commit=False)
        raise
    release(con, commit=True)


def chunks(days: list[dt.date], size: int) -> list[list[dt.date]]:
    """Consecutive runs of at most `size` sessions: what a writer commits per transaction."""
    return [days[i:i + size] for i in range(0, len(days), size)]


def is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    """No committed row in mart.client_daily (or no such table yet): a new warehouse."""
    exists = con.execute("select count(*) from duckdb_tables() where schema_name = 'mart' "
                         "and table_name = 'client_daily'").fetchone()[0]
    return not exists or con.execute("select count(*) = 0 from mart.client_daily").fetchone()[0]


def run_ranges(days: list[dt.date], size: int, empty: bool) -> list[list[dt.date]]:
    """The sessions of each run (one transaction each), at most `size`; into an empty
    warehouse the first session runs alone. DuckDB estimates a table's rows from its
    committed rows only, so in a transaction that fills tables without a committed row
    every join reading them back builds its hash table on the whole, unfiltered table
    (60 sessions at 50k clients in one run: 302 s, against 18x s with the first alone)."""
    if empty and len(days) > 1:
        return [days[:1], *chunks(days[1:], size)]
    return chunks(days, size)


@cache
def macro_files() -> tuple[str, ...]:
    """The macro files (one macro each, named like its file), every one after the macros
    it calls: DuckDB binds a macro to what exists when it is created."""
    files = {f.stem: f"{layer}/{f.stem}" for layer in MACRO_LAYERS for f in sorted((SQL_DIR / layer).glob("*.sql"))}
    calls = {m: {o for o in files if o != m and re.search(rf"\b{o}\(", sql_text(path))} for m, path in files.items()}
    ordered: list[str] = []

    def visit(m: str) -> None:
        if m not in ordered:
            for o in sorted(calls[m]):
                visit(o)
            ordered.append(m)

    for m in files:
        visit(m)
    return tuple(files[m] for m in ordered)


def load_macros(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)define the staging and intermediate macros of sql/ on this connection (TEMP)."""
    for path in macro_files():
        con.execute(sql_text(path))


def prepare(con: duckdb.DuckDBPyConnection, writable: bool = True) -> duckdb.DuckDBPyConnection:
    """Make a connection ready for project SQL: tables (when it may write), then the macros,
    which DuckDB binds to the tables they read when they are created."""
    if writable:
        ensure_schema(con, trading_calendar())
    load_macros(con)
    return con


@contextmanager
def connect(path: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse file, its tables created (unless read-only), macros loaded."""
    con = duckdb.connect(str(path), read_only=read_only, config={} if read_only else WRITE_CONFIG)
    try:
        yield prepare(con, writable=not read_only)
    finally:
        con.close()


def check_layout(con: duckdb.DuckDBPyConnection) -> None:
    """Refuse a warehouse of the earlier table layout (mart.client_indicators as a table)."""
    old = con.execute("select 1 from duckdb_tables() where schema_name = 'mart' "
                      "and table_name = 'client_indicators'").fetchone()
    if old:
        raise OldLayoutError(
            "this warehouse was built by an earlier table layout (mart.client_indicators is a table); "
            "rebuild it: delete the file and run `crm run` over its extracts")


def ensure_schema(con: duckdb.DuckDBPyConnection, calendar: TradingCalendar) -> None:
    """Create the tables and views of sql/schema/ and load the session calendar."""
    check_layout(con)
    for ddl in sorted((SQL_DIR / "schema").glob("*.sql")):
        con.execute(ddl.read_text(encoding="utf-8"))
    sessions = calendar.sessions
    rows = [
        (d, i, sessions[i - 1] if i else None, sessions[i + 1] if i + 1 < len(sessions) else None)
        for i, d in enumerate(sessions)
    ]
    stored = con.execute("select count(*), min(session_date), max(session_date) from ref.sessions").fetchone()
    if stored != (len(rows), sessions[0], sessions[-1]):
        with transaction(con):
            con.execute("delete from ref.sessions")
            con.executemany("insert into ref.sessions values (?, ?, ?, ?)", rows)
