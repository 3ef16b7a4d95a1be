"""Segmentation: naming, alignment of refits, hysteresis, eligibility."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np

from core.build import rebuild
from core.config import IndicatorConfig, SegmentationConfig, Settings
from core.db import run_file
from core.sessions import trading_calendar
from models import segmentation

CAL = trading_calendar()
FEATURES = segmentation.FEATURES


def centroid(**values: float) -> list[float]:
    """A centroid row in FEATURES order, 0 where not given (standardised units)."""
    return [values.get(f, 0.0) for f in FEATURES]


# ---- segmentation -------------------------------------------------------------------
def test_naming_rule_on_hand_made_centroids():
    centroids = np.array([
        centroid(),  # appetite 0 -> middle
        centroid(turnover=2, concentration=1, volatility=1, cash_ratio=-1),  # 5 -> aggressive
        centroid(turnover=-1, volatility=-1, cash_ratio=1.5),  # -3.5 -> conservative
        # activity and trade size are not part of risk appetite: 1 -> middle
        centroid(activity=9, trade_size=9, turnover=1),
    ])
    assert segmentation.name_clusters(centroids) == ["stable", "aggressive", "conservative", "stable"]
    # cash counts against appetite: the same centroid with much cash is the conservative one
    assert segmentation.name_clusters(np.array([centroid(turnover=1), centroid(turnover=1, cash_ratio=3),
                                                centroid(turnover=2)])) == ["stable", "conservative", "aggressive"]


def blobs(n: int = 90, seed: int = 0) -> np.ndarray:
    """Three well separated behaviours (raw feature units), n rows each."""
    rng = np.random.default_rng(seed)
    centres = np.array([[1.5, 0.35, 0.3, 0.3, 2.0, 1.0],   # stable
                        [4.5, 0.9, 0.5, 0.1, 3.5, 1.4],    # aggressive
                        [0.5, 0.15, 0.5, 0.8, 2.0, 0.5]])  # conservative
    return np.vstack([c + rng.normal(0, 0.03, (n, len(FEATURES))) for c in centres])


def test_hungarian_alignment_keeps_names_after_a_permuted_refit():
    config = SegmentationConfig(k_max=4, n_init=3)
    x = blobs()
    first = segmentation.fit_segmentation(x, "v1", config)
    assert first.names.count("aggressive") == 1 and first.k == 3
    # Pretend the first model named its clusters differently from the rule (a rotation):
    # a refit on the same behaviour must inherit those names, not re-derive them.
    previous = copy.deepcopy(first)
    previous.names = first.names[1:] + first.names[:1]
    refit = segmentation.fit_segmentation(x[::-1].copy(), "v2", SegmentationConfig(k_max=4, n_init=3,
                                                                                    random_state=99), previous)
    assert sorted(refit.matched) == [0, 1, 2]
    np.testing.assert_array_equal(segmentation.assign_segments(refit, x), segmentation.assign_segments(previous, x))
    # the matching itself: a permuted set of centroids maps back to its permutation
    cents = first.centroids()
    assert segmentation.align_clusters(cents, cents[[2, 0, 1]]) == [2, 0, 1]


def test_hysteresis_keeps_yesterdays_segment_unless_clearly_closer():
    config = SegmentationConfig(k_max=3, n_init=3)
    x = blobs()
    model = segmentation.fit_segmentation(x, "v1", config)
    names = np.array(model.names)
    stable, aggressive = model.raw_centroids()[names == "stable"][0], model.raw_centroids()[names == "aggressive"][0]
    near_middle = stable + 0.52 * (aggressive - stable)  # a bit closer to aggressive
    near_aggressive = stable + 0.9 * (aggressive - stable)
    rows = np.vstack([near_middle, near_aggressive])
    assert list(segmentation.assign_segments(model, rows)) == ["aggressive", "aggressive"]
    kept = segmentation.assign_segments(model, rows, np.array(["stable", "stable"]), hysteresis=0.25)
    assert list(kept) == ["stable", "aggressive"]
    # no memory for clients that were inactive yesterday
    assert list(segmentation.assign_segments(model, rows, np.array(["inactive", None]), 0.25)) == ["aggressive"] * 2


def test_eligibility_needs_1000_assets_and_a_trade_in_60_sessions(tiny_warehouse):
    con = tiny_warehouse
    day = dt.date(2024, 11, 27)
    days = CAL.sessions[CAL.index(day) - 69: CAL.index(day) + 1]
    # client: (total assets, sessions before `day` of its only trade)
    clients = {"poor": (900.0, 1), "quiet": (50_000.0, 60), "just_active": (50_000.0, 59), "never": (50_000.0, None)}
    daily, indicators = [], []
    for cid, (assets, ago) in clients.items():
        for i, d in enumerate(days):
            traded = ago is not None and i == len(days) - 1 - ago
            daily.append((d, cid, assets, 1.0 if traded else 0.0, 1000.0 if traded else 0.0))
        dslt = None if ago is None else ago
        indicators.append((day, cid, dslt))
    con.executemany("insert into mart.client_daily (as_of_date, client_id, total_assets, trade_count, trade_amount,"
                    " daily_pnl, net_inflow) values (?, ?, ?, ?, ?, 0, 0)", daily)
    con.executemany("insert into mart.client_windows (as_of_date, client_id, days_since_last_trade, cash_ratio)"
                    " values (?, ?, ?, 0.5)", indicators)
    indicators = IndicatorConfig(eligible_assets=1000.0)
    rebuild(con, "client_running", [day], Settings(indicators=indicators))  # what the day's partition runs first
    params = {**indicators.params(), "start": day, "end": day}
    got = dict(run_file(con, "features/client_features", params).pl().select("client_id", "eligible").rows())
    assert got == {"poor": False, "quiet": False, "just_active": True, "never": False}
