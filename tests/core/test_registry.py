"""The table registry (core/tables.py) is the one description of the warehouse: the schema
creates exactly its tables, each has one writer, and Dagster's asset graph has exactly its
cross-writer dependencies with the session windows the configuration gives."""

from __future__ import annotations

import datetime as dt
import re

import dagster as dg
import duckdb
import pytest

from core import tables
from core.build import builder
from core.config import IndicatorConfig, Settings
from core.db import SQL_DIR, prepare
from core.sessions import trading_calendar

SCHEMAS = ("raw", "quality", "mart", "model")
D = dt.date(2024, 6, 19)
SESSIONS = tuple(trading_calendar().sessions)


@pytest.fixture(scope="module")
def fresh():
    con = prepare(duckdb.connect())
    yield con
    con.close()


def names(con, catalog: str) -> set[str]:
    rows = con.execute(f"select schema_name, {catalog[:-1]}_name from duckdb_{catalog}() "
                       f"where schema_name in {SCHEMAS} and not internal and not temporary").fetchall()
    return {f"{s}.{t}" for s, t in rows}


# ---- the schema and the registry -------------------------------------------------------

def test_the_schema_creates_exactly_the_registered_tables(fresh):
    assert names(fresh, "tables") == {t.name for t in tables.TABLES}
    assert "ref.sessions" not in tables.BY_NAME  # the calendar: loaded by ensure_schema, no writer


def test_the_schema_creates_exactly_the_registered_views_over_registered_tables(fresh):
    assert names(fresh, "views") == set(tables.VIEWS)
    for view, over in tables.VIEWS.items():
        assert set(over) <= set(tables.BY_NAME), view
        sql = fresh.execute("select sql from duckdb_views() where schema_name || '.' || view_name = ?",
                            [view]).fetchone()[0]
        named = set(re.findall(r"\b(?:raw|quality|mart|model)\.[a-z_]+\b", sql)) - {view}
        assert named == set(over), view


def test_every_table_has_one_existing_writer_and_every_writer_writes():
    writers = [w.name for w in tables.WRITERS]
    assert len(writers) == len(set(writers))
    assert len(tables.TABLES) == len(tables.BY_NAME)  # a table is registered (so written) once
    for t in tables.TABLES:
        assert writers.count(t.writer) == 1, t.name
    for w in tables.WRITERS:
        assert tables.writer_tables(w.name), w.name
        assert callable(builder(w)), w.builder


def test_reads_and_sql_files_exist():
    for t in tables.TABLES:
        for r in t.reads:
            assert r.table in tables.BY_NAME, (t.name, r.table)
            tables.offsets(r, Settings(), SESSIONS)  # every window resolves
        if t.sql:
            assert (SQL_DIR / f"{t.sql}.sql").is_file(), t.sql


def sql_reads(text: str, seen: set[str]) -> set[str]:
    """Tables and views a SQL text names, through the macros it calls."""
    out = set(re.findall(r"\b(?:raw|quality|mart|model)\.[a-z_]+\b", text))
    for macro in re.findall(r"\b((?:stg|int)_[a-z_]+)\(", text):
        if macro not in seen:
            seen.add(macro)
            for layer in ("staging", "intermediate"):
                if (SQL_DIR / layer / f"{macro}.sql").is_file():
                    out |= sql_reads((SQL_DIR / layer / f"{macro}.sql").read_text(encoding="utf-8"), seen)
    return out


def expand(names_: set[str]) -> set[str]:
    return {t for n in names_ for t in (expand(set(tables.VIEWS[n])) if n in tables.VIEWS else {n})}


def test_the_report_reads_what_its_sql_reads():
    read = set()
    for f in sorted((SQL_DIR / "reports").glob("*.sql")):
        read |= expand(sql_reads(f.read_text(encoding="utf-8"), set()))
    assert read == set(tables.REPORT_READS)


# ---- Dagster's graph ---------------------------------------------------------------------

def cross_writer_windows(writer: str, settings: Settings) -> dict[str, tuple[int, int]]:
    """Upstream table -> widest (back, forward) of the writer's reads of other writers' tables.

    Every table of a writer gets these deps in Dagster: a multi-asset runs only when all its
    specs are targeted alike (pipelines/assets.py)."""
    out: dict[str, tuple[int, int]] = {}
    for r in (r for t in tables.writer_tables(writer) for r in t.reads):
        if tables.BY_NAME[r.table].writer == writer:
            continue
        back, forward = tables.offsets(r, settings, SESSIONS)
        b0, f0 = out.get(r.table, (0, 0))
        out[r.table] = (max(back, b0), max(forward, f0))
    return out


def around(day: dt.date, back: int, forward: int) -> list[str]:
    """The sessions from `back` sessions before `day` to `forward` after it, in the calendar."""
    i = SESSIONS.index(day)
    return [d.isoformat() for d in SESSIONS[max(0, i - back):min(len(SESSIONS), i + forward + 1)]]


def key(name: str) -> dg.AssetKey:
    return dg.AssetKey(list(tables.BY_NAME[name].key))


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    """Partitions from the calendar's first session (no extracts): FIRST reaches it."""
    from pipelines.definitions import build_definitions

    return build_definitions(Settings(), extracts=tmp_path_factory.mktemp("none")).resolve_asset_graph()


def test_dagster_parents_are_the_cross_writer_reads(graph):
    for t in tables.TABLES:
        expected = {key(u) for u in cross_writer_windows(t.writer, Settings())}
        assert set(graph.get(key(t.name)).parent_keys) == expected, t.name


def parent_keys(graph, child: str, parent: str, day: dt.date = D) -> list[str]:
    result = graph.get_parent_partition_keys_for_child(day.isoformat(), key(parent), key(child))
    return sorted(result.partitions_subset.get_partition_keys())


def test_dagster_partition_windows_are_the_registry_windows(graph):
    checked = 0
    for t in tables.TABLES:
        for upstream, (back, forward) in cross_writer_windows(t.writer, Settings()).items():
            assert parent_keys(graph, t.name, upstream) == around(D, back, forward), (t.name, upstream)
            checked += 1
    assert checked > 40


def test_windows_come_from_the_configuration(graph, tmp_path):
    """client_windows reads client_running over max(window, lookback) sessions: 60 by default,
    30 with lookback = 30."""
    from pipelines.definitions import build_definitions

    assert parent_keys(graph, "mart.client_windows", "mart.client_running") == around(D, 60, 0)
    short = build_definitions(Settings(indicators=IndicatorConfig(lookback=30)), extracts=tmp_path).resolve_asset_graph()
    assert parent_keys(short, "mart.client_windows", "mart.client_running") == around(D, 30, 0)
    assert parent_keys(short, "mart.client_windows", "mart.client_daily") == [D.isoformat()]
