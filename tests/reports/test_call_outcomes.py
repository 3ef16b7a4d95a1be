"""Did the call list work (sql/reports/call_outcomes.sql) on the small generated branch (600
clients, 6 brokers, 60 sessions: more candidates a broker than twice the cap), against the
same measure computed a second way: each judged session's list taken on its own, each listed
or comparable client's rows of client_daily read and judged here in Python."""

from __future__ import annotations

from collections import defaultdict

import duckdb
import pytest

from core.config import ReportConfig, Settings
from core.db import load_macros
from reports.calls import call_outcomes, team_outcomes

CAP, AFTER, LISTS = 2, 5, 8
SETTINGS = Settings(report=ReportConfig(calls_per_broker=CAP, call_outcome_sessions=AFTER, call_outcome_lists=LISTS))


@pytest.fixture(scope="module")
def con(small_branch):
    with duckdb.connect(str(small_branch), read_only=True) as c:
        load_macros(c)
        yield c


def expected(con, day):
    """Per (broker, reason): [listed, listed responded, comparable, comparable responded]."""
    sessions = [d for (d,) in con.execute(
        "select as_of_date from mart.branch_daily where as_of_date <= ? order by 1", [day]).fetchall()]
    judged = range(len(sessions) - AFTER - LISTS, len(sessions) - AFTER)
    counts = defaultdict(lambda: [0, 0, 0, 0])
    for i in judged:
        candidates = con.execute(
            "select broker_id, client_id, reason, rank from int_call_candidates(?, ?, 250, 0.5, 0.9, 0.2, 0.1) "
            "where rank <= ?", [sessions[i], sessions[i], 2 * CAP]).fetchall()
        for broker, client, reason, rank in candidates:
            rows = dict(con.execute(
                "select as_of_date, [trade_count, net_inflow] from mart.client_daily where client_id = ? "
                "and as_of_date between ? and ?", [client, sessions[i - AFTER + 1], sessions[i + AFTER]]).fetchall())
            before = [rows[d] for d in sessions[i - AFTER + 1:i + 1] if d in rows]
            after = [rows[d] for d in sessions[i + 1:i + AFTER + 1] if d in rows]
            responded = (any(t > 0 for t, _ in after) or any(f > 0 for _, f in after)
                         or (any(f < 0 for _, f in before) and not any(f < 0 for _, f in after)))
            c = counts[(broker, reason)]
            k = 0 if rank <= CAP else 2
            c[k] += 1
            c[k + 1] += responded
    return dict(counts), sessions[judged[0]], sessions[judged[-1]]


def test_outcomes_equal_a_second_computation(con):
    day = con.execute("select max(as_of_date) from mart.branch_daily").fetchone()[0]
    want, first, last = expected(con, day)
    got = call_outcomes(con, day, SETTINGS)
    assert (got["first"], got["last"], got["lists"], got["sessions"]) == (first, last, LISTS, AFTER)
    counts = {(b, r["reason"]): [r["listed"], r["listed_responded"], r["comparable"], r["comparable_responded"]]
              for b, rows in got["brokers"].items() for r in rows}
    assert counts == want
    # the example has something to measure: both groups, responders and not
    assert sum(c[2] for c in want.values()) > 0 and 0 < sum(c[1] for c in want.values()) < sum(c[0] for c in want.values())
    for rows in got["brokers"].values():
        for r in rows:
            if r["listed"] and r["comparable"]:
                assert r["lift_pp"] == pytest.approx(
                    (r["listed_responded"] / r["listed"] - r["comparable_responded"] / r["comparable"]) * 100)


def test_team_rows_end_in_the_team_totals(con):
    day = con.execute("select max(as_of_date) from mart.branch_daily").fetchone()[0]
    got = call_outcomes(con, day, SETTINGS)
    members = [{"id": b, "name": b} for b in got["brokers"]]
    rows = team_outcomes(members, got)
    totals = [r for r in rows if r["broker"] is None]
    for t in totals:
        parts = [r for r in rows if r["broker"] is not None and r["reason"] == t["reason"]]
        assert t["listed"] == sum(r["listed"] for r in parts)
        assert t["comparable_responded"] == sum(r["comparable_responded"] for r in parts)
    assert [t["reason"] for t in totals] == sorted({r["reason"] for r in rows},
                                                   key=["churn", "dormant", "trapped"].index)


def test_too_few_sessions_judge_no_list(con):
    first = con.execute("select min(as_of_date) from mart.branch_daily").fetchone()[0]
    got = call_outcomes(con, first, SETTINGS)
    assert (got["brokers"], got["lists"]) == ({}, 0)
