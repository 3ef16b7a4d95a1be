"""The warehouse built from the spec's worked example holds exactly the expected marts.

Expected tables come from an independent implementation (tests/fixtures/spec_example).
"""

from __future__ import annotations

import random
import shutil

import numpy as np
import polars as pl
import pytest

from core import tables
from core.build import rebuild
from core.config import IndicatorConfig, Settings
from core.db import connect
from core.ingest import ingest_day, session_folders
from core.sessions import trading_calendar

from ..conftest import EXAMPLE, query, shared_dir

KEYS = {
    "client_daily": ["as_of_date", "client_id"],
    "client_indicators": ["as_of_date", "client_id"],
    "security_trapped": ["as_of_date", "market", "security_code"],
    "branch_daily": ["as_of_date"],
}
# a cent on money, 1e-6 relative on everything, and 1e-9 absolute: floating noise of a
# true zero (the expected tables sum doubles: a window P&L of 0 comes out as 2e-13)
MONEY_TOL, REL_TOL, NOISE = 0.01, 1e-6, 1e-9


def compare(expected: pl.DataFrame, got: pl.DataFrame, keys: list[str]) -> list[str]:
    """Every expected row and cell must be in `got`; returns a list of differences."""
    expected = expected.with_columns(pl.col("as_of_date").cast(pl.Date))
    problems = []
    missing_cols = set(expected.columns) - set(got.columns)
    if missing_cols:
        return [f"missing columns {sorted(missing_cols)}"]
    joined = expected.join(got.select(expected.columns), on=keys, how="full",
                           suffix="_got", coalesce=True)
    if joined.height != expected.height or got.height != expected.height:
        problems.append(f"rows: expected {expected.height}, got {got.height}, joined {joined.height}")
    for col in expected.columns:
        if col in keys:
            continue
        a, b = joined[col], joined[f"{col}_got"]
        if a.dtype.is_numeric() and b.dtype.is_numeric():
            x, y = a.cast(pl.Float64).to_numpy(), b.cast(pl.Float64).to_numpy()
            both_null = np.isnan(x) & np.isnan(y)
            close = np.abs(x - y) <= np.maximum(MONEY_TOL * (np.abs(x) > 1), np.maximum(REL_TOL * np.abs(x), NOISE))
            bad = ~(both_null | np.nan_to_num(close, nan=False).astype(bool))
        else:
            bad = ~((a.is_null() & b.is_null()) | (a == b).fill_null(False)).to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            problems.append(f"{col}: {int(bad.sum())} cells differ, e.g. "
                            f"{[joined[k][i] for k in keys]} expected {a[i]} got {b[i]}")
    return problems


@pytest.mark.parametrize("table", list(KEYS))
def test_mart_matches_independent_implementation(example_warehouse, table):
    expected = pl.read_parquet(EXAMPLE / "expected" / f"{table}.parquet")
    got = query(example_warehouse, f"select * from mart.{table}")
    assert compare(expected, got, KEYS[table]) == []


def test_compare_detects_a_wrong_cell():
    """The comparison itself can fail: one cent off in one cell is reported."""
    expected = pl.read_parquet(EXAMPLE / "expected" / "client_daily.parquet")
    wrong = expected.with_columns(
        pl.when(pl.int_range(pl.len()) == 5).then(pl.col("revenue") + 0.02)
        .otherwise(pl.col("revenue")).alias("revenue")
    ).with_columns(pl.col("as_of_date").cast(pl.Date))
    problems = compare(expected, wrong, KEYS["client_daily"])
    assert len(problems) == 1 and problems[0].startswith("revenue: 1 cells differ")


# The writers that replace a session's rows of their tables (client_running, which extends
# running totals from the session before, runs before each of its readers instead).
SESSION_WRITERS = [w.name for w in tables.WRITERS if w.group != "models" and w.name != "raw_extracts"
                   and all(t.replace == tables.BY_SESSION for t in tables.writer_tables(w.name))]
RUNNING = "client_running"


def reads_running(writer: str) -> bool:
    return any(tables.BY_NAME[r.table].writer == RUNNING for t in tables.writer_tables(writer) for r in t.reads)


def test_day_by_day_in_shuffled_order_gives_the_same_marts(tmp_path):
    """Each mart rebuilt one session at a time, sessions shuffled (upstream marts first, as
    Dagster orders assets), reproduces the expected tables: no hidden order dependence."""
    assert {"client_daily", "client_windows", "security_trapped", "branch_daily"} <= set(SESSION_WRITERS)
    cal, root = trading_calendar(), EXAMPLE / "extracts"
    days = session_folders(root, cal)
    shuffled = random.Random(42).sample(days, len(days))
    with connect(tmp_path / "w.duckdb") as con:
        for d in shuffled:
            ingest_day(con, root, d, cal)
        for writer in SESSION_WRITERS:
            for d in random.Random(writer).sample(days, len(days)):
                if reads_running(writer):  # the day's running totals, as the day's partition does
                    rebuild(con, RUNNING, [d])
                rebuild(con, writer, [d])
        for table in KEYS:
            expected = pl.read_parquet(EXAMPLE / "expected" / f"{table}.parquet")
            assert compare(expected, con.execute(f"select * from mart.{table}").pl(), KEYS[table]) == []


@pytest.fixture(scope="session")
def in_order_warehouse(tmp_path_factory):
    """The example loaded and its daily marts built session by session, as the daily job does."""
    def build(folder):
        cal, root = trading_calendar(), EXAMPLE / "extracts"
        with connect(folder / "w.duckdb") as con:
            for d in session_folders(root, cal):
                ingest_day(con, root, d, cal)
                for writer in ("client_daily", RUNNING, "client_windows"):
                    rebuild(con, writer, [d], Settings())

    return shared_dir(tmp_path_factory, "example_in_order", build) / "w.duckdb"


@pytest.fixture
def example_in_order(in_order_warehouse, tmp_path):
    """A copy of in_order_warehouse to change: (connection, sessions, settings)."""
    path = tmp_path / "w.duckdb"
    shutil.copy(in_order_warehouse, path)
    with connect(path) as con:
        yield con, session_folders(EXAMPLE / "extracts", trading_calendar()), Settings()


def test_a_reloaded_day_reaches_the_later_windows(example_in_order):
    """mart.client_running caches client_daily's running totals: rebuilding a day's client_daily
    and the running totals from that day on makes a later day's windows count the new rows,
    exactly as a build from no running totals at all does."""
    con, days, settings = example_in_order
    day, last = days[-5], days[-1]
    client = con.execute("select min(client_id) from raw.cash where as_of_date = ?", [day]).fetchone()[0]

    def indicators():
        return con.execute("select * from mart.client_indicators where as_of_date = ? order by client_id",
                           [last]).pl()

    before = indicators()
    con.execute("update raw.cash set cash_balance = cash_balance + 1e6 where as_of_date = ? and client_id = ?",
                [day, client])
    rebuild(con, "client_daily", [day], settings)
    rebuild(con, RUNNING, trading_calendar().between(day, last), settings)  # drops day.., extends to last
    rebuild(con, "client_windows", [last], settings)
    after = indicators()
    con.execute("delete from mart.client_running")
    rebuild(con, RUNNING, [last], settings)
    rebuild(con, "client_windows", [last], settings)
    assert compare(indicators(), after, KEYS["client_indicators"]) == []
    # one more million on one of the window's present days
    row_before, row_after = (f.filter(pl.col("client_id") == client).row(0, named=True) for f in (before, after))
    assert row_after["avg_assets"] - row_before["avg_assets"] == pytest.approx(1e6 / row_before["present_days"])


@pytest.mark.parametrize("lookback", [3, 5, 7])
def test_running_totals_follow_the_lookback_they_were_computed_with(example_in_order, lookback):
    """Another lookback rebuilds mart.client_running: every row's peak is then the max of the
    client's total_assets over that many sessions (shorter and longer than a statement's 5)."""
    con, days, _ = example_in_order
    rebuild(con, RUNNING, [days[-1]], Settings(indicators=IndicatorConfig(lookback=lookback)))
    got = con.execute("select client_id, idx, peak_assets from mart.client_running").pl()
    daily = con.execute("select d.client_id, s.session_idx as day_idx, d.total_assets from mart.client_daily as d "
                        "join ref.sessions as s on s.session_date = d.as_of_date").pl()
    expected = (got.select("client_id", "idx").join(daily, on="client_id")
                .filter(pl.col("day_idx").is_between(pl.col("idx") - lookback + 1, pl.col("idx")))
                .group_by("client_id", "idx").agg(peak_assets=pl.col("total_assets").max()))
    both = got.join(expected, on=["client_id", "idx"], how="left", suffix="_expected")
    assert both.height == got.height > 25
    assert both.filter(pl.col("peak_assets").ne_missing(pl.col("peak_assets_expected"))).height == 0
