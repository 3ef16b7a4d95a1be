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


def test_month_to_date_kpis(example_warehouse, reports_out):
    """Month to 2024-10-15 from branch_daily by hand, and its change vs all of September."""
    daily = query(example_warehouse, "select * from mart.branch_daily")
    mtd = daily.filter(pl.col("as_of_date").is_between(dt.date(2024, 10, 1), DAY))
    sept = daily.filter(pl.col("as_of_date").is_between(dt.date(2024, 9, 1), dt.date(2024, 9, 30)))
    assert mtd.height == 6 and sept.height == 9  # 10-08 .. 10-15; 09-18 .. 09-30
    revenue, revenue_sept = mtd["revenue"].sum(), sept["revenue"].sum()
    share = mtd["trade_amount"].sum() / (2 * mtd["market_turnover"].sum())
    traders = query(example_warehouse, """select count(distinct client_id) as n from mart.client_daily
        where trade_count > 0 and as_of_date between '2024-10-01' and '2024-10-15'""")["n"][0]

    with connect(example_warehouse, read_only=True) as con:
        k = kpis(con, DAY, report_params(DAY))
    month = next(p for p in k["periods"] if p["type"] == "month")
    v = month["values"]
    assert month["sessions"] == 6 and month["end"] == DAY
    assert v["revenue"]["value"] == pytest.approx(revenue)
    assert v["revenue"]["prev"] == pytest.approx(revenue_sept)
    assert v["revenue"]["change"] == pytest.approx(revenue / revenue_sept - 1)
    assert v["market_share"]["value"] == pytest.approx(share)
    assert v["active_clients"]["value"] == traders
    assert v["clients"]["value"] == mtd.filter(pl.col("as_of_date") == DAY)["clients"][0]
    assert v["net_inflow"]["diff"] == pytest.approx(mtd["net_inflow"].sum() - sept["net_inflow"].sum())
    # the stored October row runs to 10-29: the report must not show it for 10-15
    stored = query(example_warehouse, """select revenue from mart.branch_period
        where period_type = 'month' and period_start = '2024-10-01'""")["revenue"][0]
    assert abs(stored - revenue) > 1
    html = html_of(reports_out / "report-2024-10-15.html")
    table = html.split('<table class="kpi">', 1)[1].split("</table>", 1)[0]
    assert fmt_cny(revenue) in table and fmt_change(revenue / revenue_sept - 1) in table


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
