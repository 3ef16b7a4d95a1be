"""Broker and team rankings in the report: month to date and the day's."""

from __future__ import annotations

import datetime as dt

import pytest

from core.db import connect
from reports.queries import rankings

from ..conftest import query
from .conftest import DAY, report_params


def test_rankings_to_date_equal_the_marts_at_period_end(example_warehouse):
    """At the month's last loaded session the report's month-to-D ranking is the mart's."""
    last = dt.date(2024, 10, 29)
    with connect(example_warehouse, read_only=True) as con:
        r = rankings(con, last, report_params(last))
    cols = ["rank", "prev_rank", "clients", "effective_clients", "new_clients", "churned_clients"]
    for group, table in (("brokers", "broker_ranking"), ("teams", "team_ranking")):
        key = "broker_id" if group == "brokers" else "team_id"
        mart = query(example_warehouse, f"""select * from mart.{table}
            where period_type = 'month' and period_start = '2024-10-01' order by rank""")
        mine = r[group]
        assert [x["group_id"] for x in mine] == mart[key].to_list()
        for col in cols:
            assert [x[col] for x in mine] == mart[col].to_list(), col
        for col in ("revenue", "total_assets", "net_inflow", "active_ratio"):
            assert [x[col] for x in mine] == pytest.approx(mart[col].to_list()), col


def test_day_ranking_by_revenue(example_warehouse):
    """Brokers ranked by the revenue of D of their clients (clients snapshot of D)."""
    by_hand = query(example_warehouse, """
        select k.broker_id, sum(c.revenue) as revenue
        from mart.client_daily c join raw.clients k using (as_of_date, client_id)
        where c.as_of_date = $day group by k.broker_id order by revenue desc, k.broker_id""",
        {"day": DAY})
    with connect(example_warehouse, read_only=True) as con:
        r = rankings(con, DAY, report_params(DAY))
    day = r["brokers_day"]
    assert [x["group_id"] for x in day] == by_hand["broker_id"].to_list()
    assert [x["rank"] for x in day] == list(range(1, by_hand.height + 1))
    assert [x["revenue"] for x in day] == pytest.approx(by_hand["revenue"].to_list())
    month = {x["group_id"]: x for x in r["brokers"]}
    assert all(month[x["group_id"]]["day_rank"] == x["rank"] for x in day)
