"""branch_period and the broker/team rankings against independent arithmetic."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from .builders import BROKERS, build_warehouse, cash, client, trade, write_day
from .conftest import EXAMPLE, query


def period_start(d: dt.date, kind: str) -> dt.date:
    return {
        "week": d - dt.timedelta(days=d.weekday()),
        "month": d.replace(day=1),
        "quarter": d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1),
        "half": d.replace(month=1 if d.month <= 6 else 7, day=1),
        "year": d.replace(month=1, day=1),
    }[kind]


@pytest.mark.parametrize("kind", ["week", "month", "quarter", "half", "year"])
def test_branch_period_sums_stocks_and_changes(example_warehouse, kind):
    daily = pl.read_parquet(EXAMPLE / "expected" / "branch_daily.parquet").with_columns(
        pl.col("as_of_date").cast(pl.Date)).sort("as_of_date")
    got = query(example_warehouse, "select * from mart.branch_period where period_type = $k order by period_start",
                {"k": kind})
    periods = {}
    for r in daily.iter_rows(named=True):
        periods.setdefault(period_start(r["as_of_date"], kind), []).append(r)
    assert got["period_start"].to_list() == sorted(periods)
    by_start = {r["period_start"]: r for r in got.iter_rows(named=True)}
    for start, rows in periods.items():
        g = by_start[start]
        assert g["period_end"] == rows[-1]["as_of_date"]  # the current period runs to its last session
        assert g["revenue"] == pytest.approx(sum(r["revenue"] for r in rows))
        assert g["trade_amount"] == pytest.approx(sum(r["trade_amount"] for r in rows))
        assert g["total_assets"] == pytest.approx(rows[-1]["total_assets"])  # a stock: last session
        assert g["avg_total_assets"] == pytest.approx(sum(r["total_assets"] for r in rows) / len(rows))
        assert g["market_share"] == pytest.approx(
            sum(r["trade_amount"] for r in rows) / (2 * sum(r["market_turnover"] for r in rows)))
    # change against the previous period of the same type, when it is in the warehouse
    starts = sorted(periods)
    for prev, cur in zip(starts, starts[1:]):
        if kind == "week" and (cur - prev).days != 7:
            continue
        expected = by_start[cur]["revenue"] / by_start[prev]["revenue"] - 1
        assert by_start[cur]["revenue_chg"] == pytest.approx(expected)
    assert by_start[starts[0]]["revenue_chg"] is None  # no previous period loaded


def test_week_of_the_holiday_and_quarter_boundary(example_warehouse):
    got = query(example_warehouse, "select period_type, period_start, period_end, sessions "
                "from mart.branch_period where period_start = '2024-10-07' or "
                "(period_type = 'quarter' and period_start = '2024-07-01')")
    rows = {(r[0], r[1]): (r[2], r[3]) for r in got.iter_rows()}
    # National Day week: Tue 10-08 .. Fri 10-11; Q3 ends on 09-30 with 9 loaded sessions
    assert rows[("week", dt.date(2024, 10, 7))] == (dt.date(2024, 10, 11), 4)
    assert rows[("quarter", dt.date(2024, 7, 1))] == (dt.date(2024, 9, 30), 9)


def test_rank_ties_break_by_id_and_prev_rank_follows(tmp_path):
    """B1 and B2 earn exactly the same in week 1 (tie: B1 first); in week 2 B2 trades and leads."""
    brokers = BROKERS + [dict(BROKERS[0], broker_id="B2", broker_name="王经理", team_id="T2", team_name="二组")]
    week1 = [dt.date(2024, 9, 23), dt.date(2024, 9, 24)]
    week2 = [dt.date(2024, 9, 30)]
    for d in week1 + week2:
        trades = [trade(f"t{d:%d}", "Y", d, "B", "600000", 100, 10.0, 6.0, 1.0)] if d in week2 else []
        write_day(tmp_path / "x", d, [client("X", broker_id="B1"), client("Y", broker_id="B2")],
                  [cash("X", 50_000.0), cash("Y", 50_000.0 if d in week1 else 48_994.0)], trades=trades,
                  quotes=[dict(market="SH", security_code="600000", security_name="浦发", close=10.0,
                               prev_close=10.0)] if d in week2 else [],
                  positions=[dict(client_id="Y", market="SH", security_code="600000", quantity=100,
                                  cost_amount=1006.0)] if d in week2 else [],
                  brokers=brokers)
    con = build_warehouse(tmp_path / "x", tmp_path / "w.duckdb")
    ranks = con.execute("select period_start, broker_id, rank, prev_rank from mart.broker_ranking "
                        "where period_type = 'week' order by period_start, rank").fetchall()
    assert ranks == [
        (dt.date(2024, 9, 23), "B1", 1, None), (dt.date(2024, 9, 23), "B2", 2, None),
        (dt.date(2024, 9, 30), "B2", 1, 2), (dt.date(2024, 9, 30), "B1", 2, 1),
    ]
    teams = con.execute("select team_id, rank, prev_rank from mart.team_ranking where period_type = 'week' "
                        "and period_start = '2024-09-30' order by rank").fetchall()
    assert teams == [("T2", 1, 2), ("T1", 2, 1)]
