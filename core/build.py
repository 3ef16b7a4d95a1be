"""Writers of the registry (core/tables.py) and the direct path that runs them all.

A writer writes its tables for a list of sessions, in order, in chunks; each chunk is one
DuckDB transaction, or part of the run's one transaction (core.db.hold). Dagster's assets (pipelines/assets.py) call the same writers; tests
and bench call `build` to get the same warehouse without Dagster.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import tables
from .checks import Outcome, run_checks
from .config import Settings
from .db import (afterwards, atomic, chunks, connect, is_empty, run_file, run_ranges, run_sql, running_lookup,
                 sql_text, transaction)
from .plan import plan
from .sessions import trading_calendar

CHUNK_SESSIONS = 20  # sessions per transaction of the SQL writers (also what bench/ replays)
# Sessions per client_running statement: its sums join each client's rows of the chunk up to
# each row (n(n+1)/2 per client), its peaks read lookback + n - 1 sessions. 20 sessions at
# 50k clients: 4.2 s in chunks of 5, 4.4 s of 10 (60 sessions read per session: 5.4 s of 5).
RUNNING_CHUNK = 5
# The parameters client_running's values depend on, in mart.client_running_params' order.
RUNNING_PARAMS = ("lookback", "churn_asset_share", "churn_outflow_share", "eligible_assets")

_DELETE = {
    tables.BY_SESSION: "delete from {table} where as_of_date between $start and $end",
    tables.BY_PERIOD: """delete from {table} where (period_type, period_start) in (
        select period_type, period_start from stg_session_periods()
        where session_date between $start and $end)""",
    tables.BY_MONTH: """delete from {table}
        where month_start between date_trunc('month', $start)::date and date_trunc('month', $end)::date""",
}


@dataclass
class Job:
    """What a writer needs besides the connection and the sessions."""

    writer: tables.Writer
    settings: Settings
    extracts: Path | None = None
    log: logging.Logger | logging.LoggerAdapter = field(default_factory=lambda: logging.getLogger("crm"))

    @property
    def params(self) -> dict[str, object]:
        """The SQL's bound parameters: the indicators' and the analysis' settings."""
        return {**self.settings.indicators.params(), **self.settings.analysis.model_dump()}


@dataclass
class Written:
    """Rows written per table, and per table what the writer reports (Dagster metadata)."""

    rows: dict[str, int]
    metadata: dict[str, dict[str, object]] = field(default_factory=dict)
    stale: list[dt.date] = field(default_factory=list)  # later sessions the run made stale (publish)


Builder = Callable[[duckdb.DuckDBPyConnection, list[dt.date], Job], Written]


def builder(writer: tables.Writer) -> Builder:
    """The function named by the registry (imported here: models/ sit above the core)."""
    module, name = writer.builder.split(":")
    return getattr(importlib.import_module(module), name)


def insert(con: duckdb.DuckDBPyConnection, table: str, model: str, params) -> int:
    """Insert the output of sql/<model>.sql into `table`; rows inserted."""
    return run_sql(con, f"insert into {table} by name {sql_text(model)}", params).fetchone()[0]


def replace(con: duckdb.DuckDBPyConnection, table: tables.Table, params) -> int:
    """Delete the range's rows of `table` by its replacement rule and insert its SQL's output."""
    run_sql(con, _DELETE[table.replace].format(table=table.name), params)
    return insert(con, table.name, table.sql, params)


def chunk_bounds(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """(first, last) session of each chunk of CHUNK_SESSIONS."""
    return [(c[0], c[-1]) for c in chunks(days, CHUNK_SESSIONS)]


def period_chunks(con: duckdb.DuckDBPyConnection, days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """(start, end) per chunk of a period table's writer: the last chunk runs to the last
    session with client_daily rows, so that rebuilding an earlier range recomputes every
    later period from all loaded sessions instead of cutting them back to the range."""
    bounds = chunk_bounds(days)
    loaded = con.execute("select max(as_of_date) from mart.client_daily").fetchone()[0]
    if loaded is not None and loaded > bounds[-1][1]:
        bounds[-1] = (bounds[-1][0], loaded)
    return bounds


def build_sql(con: duckdb.DuckDBPyConnection, days: list[dt.date], job: Job) -> Written:
    """A writer whose tables are each one SQL file, replaced per chunk of sessions (period
    tables: see period_chunks)."""
    targets = tables.writer_tables(job.writer.name)
    rows = dict.fromkeys((t.name for t in targets), 0)
    periods = any(t.replace == tables.BY_PERIOD for t in targets)
    for start, end in period_chunks(con, days) if periods else chunk_bounds(days):
        bound = {**job.params, "start": start, "end": end}
        with transaction(con):
            for t in targets:
                rows[t.name] += replace(con, t, bound)
    return Written(rows)


# The client-analysis writer's per-chunk temp tables, each computed once for the marts
# that read it: table -> the macro it holds (sql/intermediate/).
ANALYSIS_TEMPS = {
    # a client's revenue and assets over its month, quarter and year to D: value_by_tier,
    # value_concentration
    "client_value": "int_client_value($start, $end)",
    # the positions valued, with board and industry: client_profile, client_habits (valuing
    # them in each cost as much again)
    "client_positions": "int_client_positions($start, $end, $trap_threshold)",
    # the clients back after a gap: client_changes (a table's row count lets DuckDB hash these
    # few rows rather than the client_windows history they are joined with)
    "client_gaps": "int_client_gaps($start, $end)",
}


@contextmanager
def analysis_temps(con: duckdb.DuckDBPyConnection, params) -> Iterator[None]:
    """The temp tables of ANALYSIS_TEMPS for the sessions $start .. $end of `params`, dropped
    after the block, and the macro int_running_lookup (core.db.running_lookup): what a
    client-analysis table's SQL reads besides the warehouse."""
    with running_lookup(con, params):
        for temp, macro in ANALYSIS_TEMPS.items():
            run_sql(con, f"create or replace temp table {temp} as select * from {macro}", params)
        with afterwards(con, [f"drop table if exists {temp}" for temp in ANALYSIS_TEMPS]):
            yield


def build_analysis(con: duckdb.DuckDBPyConnection, days: list[dt.date], job: Job) -> Written:
    """build_sql for the client-analysis tables, with each chunk's shared inputs computed
    once into the temp tables of ANALYSIS_TEMPS."""
    targets = tables.writer_tables(job.writer.name)
    rows = dict.fromkeys((t.name for t in targets), 0)
    for start, end in chunk_bounds(days):
        bound = {**job.params, "start": start, "end": end}
        with transaction(con), analysis_temps(con, bound):
            for t in targets:
                rows[t.name] += replace(con, t, bound)
    return Written(rows)


def extend_running(con: duckdb.DuckDBPyConnection, days: list[dt.date], job: Job) -> Written:
    """mart.client_running from the range's first session to its last (or the last session
    with client_daily rows): rows from the first on are dropped (they counted the old
    client_daily rows), then the totals continue from the latest stored session, a few
    sessions per statement. All of it is rebuilt when the churn test's parameters changed."""
    params = job.params
    used = [params[k] for k in RUNNING_PARAMS]
    rows = 0
    with transaction(con):
        stored = con.execute(f"select {', '.join(RUNNING_PARAMS)} from mart.client_running_params").fetchall()
        if stored != [tuple(used)]:
            con.execute("delete from mart.client_running")
            con.execute("delete from mart.client_running_params")
            con.execute(f"insert into mart.client_running_params values ({', '.join('?' * len(used))})", used)
        con.execute("delete from mart.client_running where as_of_date >= ?", [days[0]])
    after = con.execute("select max(as_of_date) from mart.client_running").fetchone()[0] or dt.date.min
    todo = [d for (d,) in con.execute(
        "select session_date from ref.sessions where session_date > ? and session_date <= ?"
        " and session_date between (select min(as_of_date) from mart.client_daily)"
        " and (select max(as_of_date) from mart.client_daily) order by 1",
        [after, days[-1]]).fetchall()]
    for commit in chunks(todo, CHUNK_SESSIONS):
        with transaction(con):
            for chunk in chunks(commit, RUNNING_CHUNK):  # each continues the previous one's last rows
                rows += insert(con, "mart.client_running", "marts/client_running",
                               {**params, "after": after, "end": chunk[-1]})
                after = chunk[-1]
    return Written({"mart.client_running": rows, "mart.client_running_params": 0})


def rebuild_rankings(con: duckdb.DuckDBPyConnection, days: list[dt.date], job: Job) -> Written:
    """Per chunk (period_chunks), in one transaction: mart.client_month for the chunk's
    months (and earlier months of the year that miss loaded sessions), then broker_ranking,
    team_ranking and ranking_periods for the periods touching the chunk, from one pass
    (temp table `rankings`, which their SQL files split)."""
    ranked = [t for t in tables.writer_tables(job.writer.name) if t.replace == tables.BY_PERIOD]
    rows = dict.fromkeys((t.name for t in tables.writer_tables(job.writer.name)), 0)
    month = tables.BY_NAME["mart.client_month"]
    for start, end in period_chunks(con, days):
        bound = {**job.params, "start": start, "end": end}
        with transaction(con):
            since = run_sql(con, "select month_start from int_client_month_from($start, $end)", bound).fetchone()[0]
            rows[month.name] += replace(con, month, {**bound, "start": since})
            for t in ranked:  # before computing: prev_rank falls back on the stored rows
                run_sql(con, _DELETE[t.replace].format(table=t.name), bound)
            run_sql(con, "create temp table rankings as "
                         "select * from int_ranking($start, $end, $effective_assets, $period_types)", bound)
            for t in ranked:
                rows[t.name] += insert(con, t.name, t.sql, bound)
            con.execute("drop table rankings")
    return Written(rows)


def publish(con: duckdb.DuckDBPyConnection, days: list[dt.date], job: Job) -> Written:
    """quality.published for the range, after every other writer. When a session of the
    range was computed from other input than when it was last published (new, corrected,
    other settings or code), the later sessions that read it (the registry's closure,
    core.plan) are unpublished: the next `crm run` rebuilds them, and Dagster shows them
    missing (pipelines/assets.py). A `crm run` rebuilds them in the same command anyway."""
    changed = [d for (d,) in con.execute("""
        select l.as_of_date
        from (select as_of_date, any_value(fingerprint) as fingerprint from quality.loads
              where as_of_date between ? and ? group by as_of_date) l
        left join quality.published p using (as_of_date)
        where p.fingerprint is distinct from l.fingerprint order by 1""", [days[0], days[-1]]).fetchall()]
    last = con.execute("select max(as_of_date) from quality.published").fetchone()[0]
    stale = []
    if changed and last is not None and last > days[-1]:
        sessions = tuple(trading_calendar().sessions)
        stale = [d for d in plan(changed, last, job.settings, sessions).rebuild if d > days[-1]]
        con.execute("delete from quality.published where as_of_date in (select unnest(?))", [stale])
    written = build_sql(con, days, job)
    written.stale = stale
    return written


# sql/quality/warning_counts.sql's kinds, as the CLI words them (singular, plural)
WARNING_WORDS = {
    "rejected_rows": ("rejected row", "rejected rows"),
    "nulled_values": ("invalid optional value nulled", "invalid optional values nulled"),
    "stale_quotes": ("security valued at an earlier close", "securities valued at an earlier close"),
    "cash_unreconciled": ("client with unreconciled cash", "clients with unreconciled cash"),
    "interest_credits": ("credit taken as interest", "credits taken as interest"),
}


def warnings_line(warehouse: Path, start: dt.date, end: dt.date) -> str | None:
    """The data warnings of the sessions start..end in one phrase ('3 rejected rows, 1 client
    with unreconciled cash'), None when there is none: the last line of a run that succeeded."""
    with connect(warehouse, read_only=True) as con:
        counts = run_file(con, "quality/warning_counts", {"start": start, "end": end}).fetchall()
    parts = [f"{n:,} {WARNING_WORDS[kind][n != 1]}" for kind, n in counts if n]
    return ", ".join(parts) or None


class CheckFailed(RuntimeError):
    """A blocking check found offending rows; the message is Outcome.line()."""

    def __init__(self, outcome: Outcome):
        self.outcome = outcome
        super().__init__(outcome.line())


def build_writer(con: duckdb.DuckDBPyConnection, days: list[dt.date], job: Job) -> tuple[Written, list[Outcome]]:
    """One writer over `days`, then the checks of its tables over the same sessions."""
    written = builder(job.writer)(con, days, job)
    outcomes = run_checks(con, tables.writer_tables(job.writer.name),
                          {**job.params, "start": days[0], "end": days[-1]})
    return written, outcomes


def rebuild(con: duckdb.DuckDBPyConnection, writer: str, days: list[dt.date], settings: Settings | None = None,
            extracts: Path | None = None) -> Written:
    """One writer over `days` on an open connection, without its checks."""
    job = Job(tables.writer(writer), settings or Settings(), extracts)
    return builder(job.writer)(con, days, job)


def build(warehouse: Path, days: list[dt.date], settings: Settings | None = None,
          extracts: Path | None = None, writers: list[str] | None = None, raise_on_failure: bool = True,
          on_writer: Callable[[str, Written, list[Outcome]], None] | None = None) -> None:
    """The direct path: every writer of the registry (or those named) over `days`, in
    registry order, in one transaction like a Dagster run (two into an empty warehouse:
    run_ranges); a failed check raises and rolls its run back."""
    settings = settings or Settings()
    with connect(warehouse) as con:
        for run in run_ranges(days, len(days), is_empty(con)):
            with atomic(con):
                build_run(con, run, settings, extracts, writers, raise_on_failure, on_writer)


def build_run(con: duckdb.DuckDBPyConnection, days: list[dt.date], settings: Settings, extracts: Path | None,
              writers: list[str] | None, raise_on_failure: bool,
              on_writer: Callable[[str, Written, list[Outcome]], None] | None) -> None:
    """The writers of one run of `build`, on a connection inside its transaction."""
    for w in tables.WRITERS:
        if writers is not None and w.name not in writers:
            continue
        if w.name == "raw_extracts" and extracts is None:
            continue
        written, outcomes = build_writer(con, days, Job(w, settings, extracts))
        if on_writer:
            on_writer(w.name, written, outcomes)
        failed = [o for o in outcomes if not o.passed]
        if failed and raise_on_failure:
            raise CheckFailed(failed[0])
