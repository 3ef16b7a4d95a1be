"""Churn: labels without leakage, the rule score fallback, metrics."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from core.config import ChurnConfig
from core.db import run_sql, sql_text
from core.sessions import trading_calendar
from models import churn

CAL = trading_calendar()


def test_churn_on_day_t_labels_exactly_days_t_minus_20_to_t_minus_1(tiny_warehouse):
    con = tiny_warehouse
    days = CAL.between(dt.date(2024, 9, 2), dt.date(2024, 12, 31))[:30]
    t = 25  # the churn_event session
    con.executemany("insert into mart.client_windows (as_of_date, client_id, churn_event) values (?, 'c1', ?)",
                    [(d, i == t) for i, d in enumerate(days)])
    sql = sql_text("features/churn_labels")
    bound = {"start": days[0], "end": days[-1], "known_until": days[-1], "horizon": 20}
    labels = run_sql(con, sql, bound).pl().sort("as_of_date")
    assert labels.filter("label")["as_of_date"].to_list() == days[t - 20:t]
    # complete: the whole 20-session future is known by `known_until` (day 29): days 0..9
    assert labels.filter("complete")["as_of_date"].to_list() == days[:10]
    # as of day 24 the event has not happened yet: nothing may leak from day 25
    early = run_sql(con, sql, {**bound, "known_until": days[24]}).pl()
    assert not early["label"].any() and early["as_of_date"].max() == days[24]


def frame_of(rows: list[dict]) -> pl.DataFrame:
    """Training rows: every feature 0 unless given."""
    return pl.DataFrame([{"as_of_date": r.get("day", dt.date(2024, 9, 2)), "client_id": r.get("id", "c"),
                          **{f: float(r.get(f, 0.0)) for f in churn.FEATURES},
                          "label": r.get("label", False), "weight": 1.0} for r in rows])


def test_no_positive_label_falls_back_to_the_documented_rule_score():
    days = CAL.between(dt.date(2024, 9, 2), dt.date(2024, 12, 31))[:40]
    negatives = frame_of([{"day": d, "id": f"c{i}"} for d in days for i in range(5)])
    with pytest.raises(churn.NotEnoughData, match="no positive label"):
        churn.train_churn(negatives, "v", ChurnConfig())
    model = churn.rule_model("fallback rule score: no positive label")
    x = frame_of([
        # 0.5 x 0.6 outflow + 0.3 x 30/60 inactivity + 0.2 x (1 - 0.5) fall = 0.55
        {"net_outflow_share_w": 0.6, "days_since_last_trade": 30, "assets_to_peak": 0.5},
        {"net_outflow_share_w": -2.0, "days_since_last_trade": 0, "assets_to_peak": 1.0},  # inflow: 0
        {"net_outflow_share_w": 3.0, "days_since_last_trade": 240, "assets_to_peak": 0.0},  # capped: 1
    ]).select(churn.FEATURES).to_numpy()
    np.testing.assert_allclose(model.score(x), [0.55, 0.0, 1.0])
    drivers = churn.drivers_frame(model, ["a", "b", "c"], x, model.score(x), top=2)
    assert drivers["client_id"].to_list() == ["c", "a"]
    assert drivers["driver_1"][1] == "近20日净流出占峰值资产 60% / net outflow 60% of peak (20 sessions)"


def test_metrics_on_a_hand_made_ranking():
    y = np.array([1, 0, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.0])
    m = churn.evaluate(y, p, np.ones(5), top_share=0.2)
    assert m["auc"] == pytest.approx(5 / 6)  # one of six (pos, neg) pairs misordered
    assert m["precision_top20pct"] == 1.0
    # bins: 0.9 (y=1), 0.8 (0), 0.7 (1), 0.1 (0), 0.0 (0) -> |0.9-1| + |0.8-0| + |0.7-1| + 0.1 + 0
    assert m["ece"] == pytest.approx((0.1 + 0.8 + 0.3 + 0.1) / 5)
