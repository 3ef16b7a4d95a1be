"""branch_period and the broker/team rankings against independent arithmetic."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from core.build import rebuild
from core.config import IndicatorConfig
from core.db import run_sql

from ..builders import BROKERS, build_warehouse, cash, client, position, quote, trade, write_day
from ..conftest import EXAMPLE, query


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


def test_like_for_like_changes_and_coverage(example_warehouse):
    """Beyond the spec's *_chg: the week of Mon 10-28 (10-28, 10-29 loaded) against the first
    two sessions of the week before; October (16 sessions to 10-29) against September's
    first 16 exchange sessions (09-02 .. 09-25), of which only 09-18 .. 09-25 are loaded:
    no change. Expected values from the example's branch_daily by hand."""
    daily = pl.read_parquet(EXAMPLE / "expected" / "branch_daily.parquet").with_columns(
        pl.col("as_of_date").cast(pl.Date))

    def revenue(a, b):
        return daily.filter(pl.col("as_of_date").is_between(a, b))["revenue"].sum()

    got = query(example_warehouse, "select * from mart.branch_period")
    row = {(r["period_type"], r["period_start"]): r for r in got.iter_rows(named=True)}
    week = row[("week", dt.date(2024, 10, 28))]
    assert (week["sessions"], week["calendar_sessions"], week["lfl_sessions"], week["lfl_calendar_sessions"]) == (2, 2, 2, 2)
    assert week["revenue_lfl_chg"] == pytest.approx(
        revenue(dt.date(2024, 10, 28), dt.date(2024, 10, 29)) / revenue(dt.date(2024, 10, 21), dt.date(2024, 10, 22)) - 1)
    assert week["revenue_chg"] == pytest.approx(
        revenue(dt.date(2024, 10, 28), dt.date(2024, 10, 29)) / revenue(dt.date(2024, 10, 21), dt.date(2024, 10, 25)) - 1)
    october = row[("month", dt.date(2024, 10, 1))]
    assert (october["sessions"], october["calendar_sessions"]) == (16, 16)
    assert (october["lfl_sessions"], october["lfl_calendar_sessions"]) == (6, 16)  # 09-18 .. 09-25 of 09-02 .. 09-25
    assert october["revenue_lfl_chg"] is None and october["revenue_chg"] is not None
    september = row[("month", dt.date(2024, 9, 1))]
    assert september["first_session"] == dt.date(2024, 9, 18) and september["calendar_sessions"] == 19
    assert september["revenue_lfl_chg"] is None  # itself partial (9 of its 19 exchange sessions)


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


# The old definition of a period's per-client row, written out: one GROUP BY over the
# period's client-days (no stored months), the broker of the latest clients row.
BY_HAND = """
with
daily as (
    select c.*, i.churn_event, i.profitability
    from mart.client_daily as c
    left join mart.client_indicators as i using (as_of_date, client_id)
    where c.as_of_date between $p0 and $day
),
snapshot as (
    select client_id, arg_max(broker_id, as_of_date) as broker_id, arg_max(open_date, as_of_date) as open_date
    from raw.clients where as_of_date between $p0 and $day group by client_id
),
teams as (
    select broker_id, arg_max(team_id, as_of_date) as team_id
    from raw.brokers where as_of_date between $p0 and (select max(as_of_date) from daily) group by broker_id
)
select
    coalesce(s.broker_id, 'UNASSIGNED') as broker_id,
    coalesce(t.team_id, 'UNASSIGNED') as team_id,
    max(d.as_of_date) = (select max(as_of_date) from daily) as at_end,
    coalesce(any_value(s.open_date) between $p0 and (select max(as_of_date) from daily), false) as is_new,
    sum(d.net_inflow) as net_inflow, sum(d.trade_amount) as trade_amount,
    sum(d.net_commission) as net_commission, sum(d.revenue) as revenue,
    bool_or(d.trade_count > 0) as traded, bool_or(coalesce(d.churn_event, false)) as churned,
    arg_max(d.total_assets, d.as_of_date) as assets, arg_max(d.profitability, d.as_of_date) as profitability
from daily as d
left join snapshot as s using (client_id)
left join teams as t on t.broker_id = s.broker_id
group by d.client_id, s.broker_id, t.team_id
"""


def ranking_by_hand(con, key: str, p0: dt.date, day: dt.date) -> list[dict]:
    rows = con.execute(BY_HAND, {"p0": p0, "day": day}).pl()
    end = pl.col("at_end")
    return rows.group_by(key).agg(
        clients=end.sum(),
        effective_clients=(end & (pl.col("assets") >= IndicatorConfig().effective_assets)).sum(),
        total_assets=pl.col("assets").filter(end).sum(),
        net_inflow=pl.col("net_inflow").sum(), trade_amount=pl.col("trade_amount").sum(),
        net_commission=pl.col("net_commission").sum(), revenue=pl.col("revenue").sum(),
        new_clients=pl.col("is_new").sum(),
        active_ratio=pl.when(end.sum() > 0).then((end & pl.col("traded")).sum() / end.sum()),
        churned_clients=pl.col("churned").sum(),
        avg_profitability=pl.col("profitability").filter(end).mean(),
    ).sort(["revenue", key], descending=[True, False]).with_row_index("rank", offset=1).to_dicts()


def assert_rankings_to(con, day: dt.date, read: str | None = None):
    """The stored rankings of the periods containing `day` (or `read`'s rows) equal the GROUP BY."""
    for table, key in (("broker_ranking", "broker_id"), ("team_ranking", "team_id")):
        for kind in ("week", "month", "quarter", "half", "year"):
            p0 = period_start(day, kind)
            sql = read or f"select * rename ({key} as group_id) from mart.{table} where period_type = $k and period_start = $p0"
            got = run_sql(con, sql + " order by rank", {"k": kind, "p0": p0, "day": day, "t": table[:-8]}).pl()
            got = got.rename({"group_id": key}).drop("kind", "period_type", "period_start", "period_end", "prev_rank",
                                                     strict=False).to_dicts()
            expected = ranking_by_hand(con, key, p0, day)
            assert [r[key] for r in got] == [r[key] for r in expected], (table, kind)
            for g, e in zip(got, expected):
                assert g == {k: pytest.approx(v) if isinstance(v, float) else v for k, v in e.items()}, (table, kind)


def test_periods_combined_from_stored_months_equal_one_group_by(tmp_path):
    """Year, half, quarter and week to a day combine the stored July (mart.client_month)
    with August read to the day. X moves from B1 to B2 with August; Y (B1) trades and leaves
    in July; Z opens on 08-01; W's cash rows stop with July while its clients rows go on,
    moved to B3 (the period's broker is still B3). Rankings rebuilt in shuffled order and an
    earlier July day rerun after August is loaded, each time checked against a GROUP BY to
    the last loaded session."""
    days = [dt.date(2024, 7, 30), dt.date(2024, 7, 31), dt.date(2024, 8, 1), dt.date(2024, 8, 2)]
    brokers = BROKERS + [dict(BROKERS[0], broker_id=b, broker_name="王经理", team_id="T2", team_name="二组")
                         for b in ("B2", "B3")]
    for d in days:
        aug = d.month == 8
        clients = [client("X", broker_id="B2" if aug else "B1"), client("W", broker_id="B3" if aug else "B1")]
        cash_rows = [cash("X", 79_000.0 if d >= days[2] else 80_000.0)]
        holds = [position("X", "600000", 100, 1_006.0)] if d >= days[2] else []
        trades = [trade("tx", "X", d, "B", "600000", 100, 10.0, 6.0, 1.0)] if d == days[2] else []
        if aug:
            clients.append(client("Z", open_date="2024-08-01", broker_id="B2"))
            cash_rows.append(cash("Z", 30_000.0 + 1_000 * d.day, deposit=30_000.0 if d == days[2] else 1_000))
        else:
            clients.append(client("Y", close_date="2024-07-31", broker_id="B1"))
            cash_rows += [cash("W", 20_000.0), cash("Y", 45_000.0 if d == days[0] else 44_994.0)]
            holds.append(position("Y", "600000", 100, 1_006.0))
            trades += [trade("ty", "Y", d, "B", "600000", 100, 10.0, 6.0, 1.0)] if d == days[0] else []
        write_day(tmp_path / "x", d, clients, cash_rows, positions=holds, quotes=[quote("600000", 10.5)],
                  trades=trades, brokers=brokers)
    con = build_warehouse(tmp_path / "x", tmp_path / "w.duckdb")
    # rebuilding any day recomputes its periods to the last loaded session (08-02): a
    # rerun of an earlier day never cuts a period back to that day
    for d in random.Random(5).sample(days, len(days)) + [days[0]]:
        rebuild(con, "rankings", [d])
        assert_rankings_to(con, days[3])
    rebuild(con, "rankings", [days[2]])  # July stored whole, August read to the last session
    assert_rankings_to(con, days[3])
    rebuild(con, "rankings", [days[3]])  # both months stored
    assert_rankings_to(con, days[3])
    # a warehouse whose July was never stored: read from client_daily, then stored again
    con.execute("delete from mart.client_month where month_start = '2024-07-01'")
    assert_rankings_to(con, days[3], read="select * from int_ranking($day, $day, 10000, [$k]) where kind = $t")
    rebuild(con, "rankings", [days[3]])
    assert con.execute("select count(*) from mart.client_month where month_start = '2024-07-01'").fetchone()[0] == 3
    assert_rankings_to(con, days[3])
