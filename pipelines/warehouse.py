"""The DuckDB warehouse: schema, SQL models from sql/, and all-or-nothing day writes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from .partitions import chunks
from .sessions import TradingCalendar

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")

# Tables rebuilt by the model of the same name: mart.<name> from sql/marts/<name>.sql.
DAILY_MARTS = ("client_daily", "client_indicators", "security_trapped", "branch_daily")
PERIOD_MARTS = ("branch_period",)
MARTS = DAILY_MARTS + PERIOD_MARTS
# Rebuilt together by rebuild_rankings, from one pass over the clients' periods.
RANKING_MARTS = ("broker_ranking", "team_ranking")
# Models reading mart.client_running, which extend it to their last session first.
RUNNING_READERS = ("mart.client_indicators", "mart.client_features")
# The parameters client_running's values depend on, in mart.client_running_params' order.
RUNNING_PARAMS = ("lookback", "churn_asset_share", "churn_outflow_share", "eligible_assets")
# Sessions per client_running statement: its sums join each client's rows of the chunk up to
# each row (n(n+1)/2 per client), its peaks read lookback + n - 1 sessions. 20 sessions at
# 50k clients: 4.2 s in chunks of 5, 4.4 s of 10 (60 sessions read per session: 5.4 s of 5).
RUNNING_CHUNK = 5
# Other models: table -> SQL file, all keyed by as_of_date.
QUALITY_MODELS = {"quality.warnings": "quality/stale_quotes"}

# Settings of every writing connection. DuckDB checkpoints when its WAL passes 16 MB, i.e.
# after nearly every day's load, rewriting the table's last, partly filled row groups each
# time; checkpointing at 1 GB (or when the connection closes) loads 10 sessions at 50k
# clients in 3.4-3.9 s instead of 6.0-7.0 s. Committed data stays durable in the WAL.
WRITE_CONFIG = {"checkpoint_threshold": "1GB"}

BY_DAY = "delete from {table} where as_of_date between $start and $end"
_BY_PERIOD = """delete from {table} where (period_type, period_start) in (
    select period_type, period_start from stg_session_periods()
    where session_date between $start and $end)"""
_BY_MONTH = """delete from {table}
    where month_start between date_trunc('month', $start)::date and date_trunc('month', $end)::date"""


def sql_text(name: str) -> str:
    """SQL of one model, e.g. 'marts/client_daily'."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object]):
    """Execute with the named parameters the statement uses (DuckDB rejects unused ones)."""
    used = dict.fromkeys(_PARAM.findall(sql))
    missing = [p for p in used if p not in params]
    if missing:
        raise KeyError(f"SQL parameters without a value: {missing}")
    return con.execute(sql, {p: params[p] for p in used})


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit if the block succeeds, else roll back: all or nothing."""
    con.execute("begin")
    try:
        yield
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def ensure_schema(con: duckdb.DuckDBPyConnection, calendar: TradingCalendar) -> None:
    """Create tables, load the session calendar, (re)define staging/intermediate macros."""
    for ddl in sorted((SQL_DIR / "schema").glob("*.sql")):
        con.execute(ddl.read_text(encoding="utf-8"))
    sessions = calendar.sessions
    rows = [
        (d, i, sessions[i - 1] if i else None, sessions[i + 1] if i + 1 < len(sessions) else None)
        for i, d in enumerate(sessions)
    ]
    con.execute("begin")
    con.execute("delete from ref.sessions")
    con.executemany("insert into ref.sessions values (?, ?, ?, ?)", rows)
    con.execute("commit")
    for layer in ("staging", "intermediate"):
        for f in sorted((SQL_DIR / layer).glob("*.sql")):
            con.execute(f.read_text(encoding="utf-8"))


def rebuild_mart(con: duckdb.DuckDBPyConnection, mart: str, start: dt.date, end: dt.date,
                 params: Mapping[str, object]) -> int:
    """Replace the rows of mart.<mart> for [start, end] (days, or periods touching them)."""
    delete = _BY_PERIOD if mart in PERIOD_MARTS else BY_DAY
    return replace_rows(con, f"mart.{mart}", f"marts/{mart}", delete, start, end, params)


def extend_running(con: duckdb.DuckDBPyConnection, end: dt.date, params: Mapping[str, object]) -> int:
    """Bring mart.client_running up to `end`, continuing from its last session (rebuilding
    it when its churn test was computed with other parameters). Rows inserted."""
    used = {k: params[k] for k in RUNNING_PARAMS}
    stored = con.execute(f"select {', '.join(RUNNING_PARAMS)} from mart.client_running_params").fetchall()
    if stored != [tuple(used.values())]:
        con.execute("delete from mart.client_running")
        con.execute("delete from mart.client_running_params")
        con.execute(f"insert into mart.client_running_params values ({', '.join('?' * len(used))})",
                    list(used.values()))
    after = con.execute("select max(as_of_date) from mart.client_running").fetchone()[0] or dt.date.min
    todo = [d for (d,) in con.execute(
        "select session_date from ref.sessions where session_date > ? and session_date <= ?"
        " and session_date >= (select min(as_of_date) from mart.client_daily) order by 1", [after, end]).fetchall()]
    rows = 0
    for chunk in chunks(todo, RUNNING_CHUNK):  # each chunk continues the previous one's last rows
        rows += _insert(con, "mart.client_running", "marts/client_running", {**params, "after": after, "end": chunk[-1]})
        after = chunk[-1]
    return rows


def rebuild_quality(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
                    params: Mapping[str, object]) -> int:
    """Recompute the data warnings of [start, end]."""
    return sum(replace_rows(con, table, model, BY_DAY, start, end, params)
               for table, model in QUALITY_MODELS.items())


def rebuild_rankings(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
                     params: Mapping[str, object]) -> dict[str, int]:
    """Replace broker_ranking and team_ranking for the periods touching [start, end], in one
    transaction: mart.client_month for the range's months (and earlier months of the year
    that miss loaded sessions), then both rankings from one pass. Rows inserted per mart."""
    bound = {**params, "start": start, "end": end}
    with transaction(con):
        since = run_sql(con, sql_text("marts/client_month_from"), bound).fetchone()[0]
        run_sql(con, _BY_MONTH.format(table="mart.client_month"), {**bound, "start": since})
        _insert(con, "mart.client_month", "marts/client_month", {**bound, "start": since})
        written = (*RANKING_MARTS, "ranking_periods")
        for mart in written:  # before computing: prev_rank falls back on the stored rows
            run_sql(con, _BY_PERIOD.format(table=f"mart.{mart}"), bound)
        run_sql(con, f"create temp table rankings as {sql_text('marts/rankings')}", bound)
        rows = {mart: _insert(con, f"mart.{mart}", f"marts/{mart}", bound) for mart in written}
        con.execute("drop table rankings")
    return {mart: rows[mart] for mart in RANKING_MARTS}


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, model: str, delete: str,
                 start: dt.date, end: dt.date, params: Mapping[str, object]) -> int:
    """Delete the range's rows and insert the model's output, in one transaction."""
    bound = {**params, "start": start, "end": end}
    with transaction(con):
        if table == "mart.client_daily":  # running totals from `start` on counted the old rows
            con.execute("delete from mart.client_running where as_of_date >= ?", [start])
        elif table in RUNNING_READERS:
            extend_running(con, end, params)
        run_sql(con, delete.format(table=table), bound)
        return _insert(con, table, model, bound)


def _insert(con: duckdb.DuckDBPyConnection, table: str, model: str, bound: Mapping[str, object]) -> int:
    return run_sql(con, f"insert into {table} by name {sql_text(model)}", bound).fetchone()[0]
