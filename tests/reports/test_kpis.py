"""The KPIs of the day and of each period to date, against the marts by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from core.db import connect
from reports.formatting import fmt_change, fmt_cny
from reports.queries import fetch, kpis

from ..conftest import query
from .conftest import DAY, html_of, report_params


def test_period_kpis_to_date_and_like_for_like(example_warehouse, reports_out):
    """Periods to 2024-10-15 from branch_daily by hand. The week (Mon 10-14, Tue 10-15) is
    compared with the first two sessions of the week before (10-08, 10-09: 10-07 was a
    holiday); the month (10-08 .. 10-15, six sessions) is not, since September's first six
    sessions (09-02 .. 09-09) precede the data; the year misses sessions itself."""
    daily = query(example_warehouse, "select * from mart.branch_daily")

    def between(a, b):
        return daily.filter(pl.col("as_of_date").is_between(a, b))

    mtd = between(dt.date(2024, 10, 1), DAY)
    week, before = between(dt.date(2024, 10, 14), DAY), between(dt.date(2024, 10, 8), dt.date(2024, 10, 9))
    assert mtd.height == 6 and week.height == 2 and before.height == 2
    share = mtd["trade_amount"].sum() / (2 * mtd["market_turnover"].sum())
    traders = query(example_warehouse, """select count(distinct client_id) as n from mart.client_daily
        where trade_count > 0 and as_of_date between '2024-10-01' and '2024-10-15'""")["n"][0]

    with connect(example_warehouse, read_only=True) as con:
        k = kpis(con, DAY, report_params(DAY))
    by_type = {p["type"]: p for p in k["periods"]}
    month, w, year = by_type["month"], by_type["week"], by_type["year"]
    v = month["values"]
    assert month["sessions"] == 6 and month["end"] == DAY and month["complete"]
    assert month["first_session"] == dt.date(2024, 10, 8)
    assert v["revenue"]["value"] == pytest.approx(mtd["revenue"].sum())
    assert v["market_share"]["value"] == pytest.approx(share)
    assert v["active_clients"]["value"] == traders
    assert v["clients"]["value"] == mtd.filter(pl.col("as_of_date") == DAY)["clients"][0]
    assert not month["comparable"] and v["revenue"]["change"] is None and v["net_inflow"]["diff"] is None

    assert w["comparable"] and w["lfl_start"] == dt.date(2024, 10, 8) and w["lfl_end"] == dt.date(2024, 10, 9)
    revenue, revenue_before = week["revenue"].sum(), before["revenue"].sum()
    assert w["values"]["revenue"]["change"] == pytest.approx(revenue / revenue_before - 1)
    assert w["values"]["net_inflow"]["diff"] == pytest.approx(week["net_inflow"].sum() - before["net_inflow"].sum())
    closing = lambda f: f.sort("as_of_date")["clients"][-1]  # noqa: E731 - a stock: its last session
    assert w["values"]["clients"]["change"] == pytest.approx(closing(week) / closing(before) - 1)

    assert year["first_session"] == dt.date(2024, 9, 18) and not year["complete"] and not year["comparable"]

    # the stored October row runs to 10-29: the report must not show it for 10-15
    stored = query(example_warehouse, """select revenue from mart.branch_period
        where period_type = 'month' and period_start = '2024-10-01'""")["revenue"][0]
    assert abs(stored - mtd["revenue"].sum()) > 1
    html = html_of(reports_out / "report-2024-10-15.html")
    table = html.split('<table class="kpi">', 1)[1].split("</table>", 1)[0]
    assert fmt_cny(mtd["revenue"].sum()) in table and fmt_change(revenue / revenue_before - 1) in table
    assert "2024-09-18 起" in table and "数据不全" in table


def test_kpis_read_from_the_mart_at_the_last_session_equal_the_recomputed_ones(example_warehouse):
    """At a run's last session mart.branch_period holds every period to that day: the report
    reads it (kpi_periods_stored) and gets what kpi_periods recomputes; before it, nothing."""
    last = dt.date(2024, 10, 29)
    with connect(example_warehouse, read_only=True) as con:
        p = report_params(last)
        stored, computed = fetch(con, "kpi_periods_stored", p), fetch(con, "kpi_periods", p)
        assert fetch(con, "kpi_periods_stored", {**p, "day": DAY}) == []
    assert len(stored) == len(computed) == 10
    for s, c in zip(stored, computed):
        assert s.keys() == c.keys()
        for key, value in c.items():
            assert s[key] == (pytest.approx(value, rel=1e-9) if isinstance(value, float) else value), key
