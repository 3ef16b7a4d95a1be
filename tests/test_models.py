"""Segmentation and churn models: naming, alignment, eligibility, labels, fallback, end to end."""

from __future__ import annotations

import copy
import datetime as dt

import dagster as dg
import duckdb
import numpy as np
import polars as pl
import pytest

from models import churn, segmentation
from models.config import ChurnConfig, SegmentationConfig
from pipelines.config import IndicatorConfig
from pipelines.sessions import trading_calendar
from pipelines.warehouse import ensure_schema, extend_running, run_sql, sql_text

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


@pytest.fixture
def tiny_warehouse():
    """An in-memory warehouse with the schema and the session calendar."""
    con = duckdb.connect()
    ensure_schema(con, CAL)
    yield con
    con.close()


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
    con.executemany("insert into mart.client_indicators (as_of_date, client_id, days_since_last_trade, cash_ratio)"
                    " values (?, ?, ?, 0.5)", indicators)
    params = {**IndicatorConfig(eligible_assets=1000.0).params(), "start": day, "end": day}
    extend_running(con, day, params)  # what the features asset does before it reads them
    got = dict(run_sql(con, sql_text("models/client_features"), params).pl().select("client_id", "eligible").rows())
    assert got == {"poor": False, "quiet": False, "just_active": True, "never": False}


# ---- churn --------------------------------------------------------------------------
def test_churn_on_day_t_labels_exactly_days_t_minus_20_to_t_minus_1(tiny_warehouse):
    con = tiny_warehouse
    days = CAL.between(dt.date(2024, 9, 2), dt.date(2024, 12, 31))[:30]
    t = 25  # the churn_event session
    con.executemany("insert into mart.client_indicators (as_of_date, client_id, churn_event) values (?, 'c1', ?)",
                    [(d, i == t) for i, d in enumerate(days)])
    sql = sql_text("models/churn_labels")
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


# ---- end to end ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_branch(tmp_path_factory):
    """600 clients x 60 sessions through every asset, models included (one Dagster run).

    Lighter hyperparameters through run config (fewer trees and restarts) keep it fast."""
    from pipelines.assets import ASSETS
    from pipelines.assets_models import MODEL_ASSETS
    from pipelines.generator import generate
    from pipelines.resources import default_resources

    root = tmp_path_factory.mktemp("small_branch")
    days = generate(root / "extracts", 600, dt.date(2024, 6, 3), 60, seed=3)
    warehouse = root / "warehouse.duckdb"
    defs = dg.Definitions(assets=ASSETS + MODEL_ASSETS, executor=dg.in_process_executor,
                          resources=default_resources(warehouse=warehouse, extracts=root / "extracts"),
                          jobs=[dg.define_asset_job("all", selection=dg.AssetSelection.all())])
    result = defs.resolve_job_def("all").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        tags={"dagster/asset_partition_range_start": days[0].isoformat(),
              "dagster/asset_partition_range_end": days[-1].isoformat()})
    assert result.success
    return warehouse


def test_every_row_gets_a_segment_and_a_churn_risk(small_branch):
    with duckdb.connect(str(small_branch), read_only=True) as con:
        rows = con.execute("""
            select i.segment, i.churn_risk, d.total_assets, i.days_since_last_trade
            from mart.client_indicators as i
            inner join mart.client_daily as d using (as_of_date, client_id)""").pl()
        runs = con.execute("select model, version, note from mart.model_runs").pl()
        drivers = con.execute("select count(*), count(distinct as_of_date), count(driver_1) from mart.churn_drivers"
                              ).fetchone()
    assert rows.height > 30_000
    assert set(rows["segment"]) == {"stable", "aggressive", "conservative", "inactive"}
    eligible = (rows["total_assets"] >= 1000) & (rows["days_since_last_trade"] <= 59).fill_null(False)
    assert (rows.filter(~eligible)["segment"] == "inactive").all()
    assert (rows.filter(eligible)["segment"] != "inactive").all()
    assert rows["churn_risk"].null_count() == 0
    assert rows["churn_risk"].min() >= 0 and rows["churn_risk"].max() <= 1
    # the first sessions have no known 20-session future: the rule, said so in model_runs
    rule = runs.filter(pl.col("version") == "rule")
    assert rule.height > 0 and rule["note"].str.contains("fallback rule score").all()
    assert runs.filter(pl.col("model") == "segmentation").height > 0
    assert drivers[1] == 60 and drivers[0] == 60 * 200 and drivers[2] > 0
    assert any((small_branch.parent / "models").glob("segmentation-*.joblib"))


def test_stored_features_equal_a_plain_per_client_recomputation(small_branch):
    """mart.client_features of the last session against polars over each client's own rows:
    windows of 20 / 60 sessions counted by session, written a second way (tail of a sorted list)."""
    with duckdb.connect(str(small_branch), read_only=True) as con:
        daily = con.execute("select as_of_date, client_id, total_assets, net_inflow, trade_count "
                            "from mart.client_daily").pl()
        events = con.execute("select client_id, as_of_date from mart.client_indicators where churn_event").pl()
        stored = con.execute("select * from mart.client_features where as_of_date = "
                             "(select max(as_of_date) from mart.client_features)").pl()
    sessions = sorted(daily["as_of_date"].unique())
    day, w20, w60 = sessions[-1], set(sessions[-20:]), set(sessions[-60:])
    expected = (
        daily.filter(pl.col("as_of_date").is_in(list(w60)))
        .sort("as_of_date")
        .group_by("client_id")
        .agg(
            present=pl.len(),
            today=pl.col("total_assets").filter(pl.col("as_of_date") == day).first(),
            peak=pl.col("total_assets").max(),
            out20=-pl.col("net_inflow").filter(pl.col("as_of_date").is_in(list(w20))).sum(),
            withdraw20=(pl.col("net_inflow").filter(pl.col("as_of_date").is_in(list(w20))) < 0).sum(),
            active20=(pl.col("trade_count").filter(pl.col("as_of_date").is_in(list(w20))) > 0).mean(),
            active60=(pl.col("trade_count") > 0).mean(),
        )
        .filter(pl.col("today").is_not_null())
        .with_columns(churned=pl.col("client_id").is_in(
            events.filter(pl.col("as_of_date").is_in(list(w60)))["client_id"].to_list()).cast(pl.Int32))
    )
    both = expected.join(stored, on="client_id", how="full", coalesce=True)
    assert both.height == stored.height == expected.height > 500

    def close(a, b):
        return np.allclose(both[a].to_numpy().astype(float), both[b].to_numpy().astype(float), rtol=1e-9, atol=1e-9)
    assert close("withdraw20", "withdraw_days_w") and close("active20", "activity_w")
    assert close("active60", "activity_l") and close("churned", "churned_recently")
    assert np.allclose(both["present"].to_numpy() / 60, both["history_share"].to_numpy())
    peak = both["peak"].to_numpy()
    assert np.allclose(np.where(peak > 0, both["today"].to_numpy() / np.where(peak > 0, peak, 1), 1),
                       both["assets_to_peak"].to_numpy())
    assert np.allclose(np.where(peak > 0, both["out20"].to_numpy() / np.where(peak > 0, peak, 1), 0),
                       both["net_outflow_share_w"].to_numpy())
    assert np.allclose(np.arcsin(np.sqrt(both["active60"].to_numpy())), both["seg_activity"].to_numpy())


# ---- correlations -------------------------------------------------------------------
def test_spearman_per_pair_equals_scipy_on_the_rows_where_both_are_defined():
    from scipy.stats import spearmanr

    from models import correlation

    rng = np.random.default_rng(1)
    n = 300
    data = {c: rng.normal(size=n) for c in correlation.INDICATORS}
    data["activity"] = np.round(data["activity"])  # ties
    data["concentration"] = np.round(data["concentration"], 1)  # ties among a column's defined rows
    data["concentration"][rng.random(n) < 0.2] = np.nan
    data["days_since_last_trade"][:50] = np.nan
    data["cash_ratio"][rng.random(n) < 0.05] = np.inf
    day = dt.date(2024, 9, 2)
    frame = pl.DataFrame({"as_of_date": [day] * n, **data}).with_columns(
        pl.col("concentration", "days_since_last_trade").fill_nan(None))
    got = {(r["indicator_a"], r["indicator_b"]): r for r in correlation.spearman_by_day(frame).iter_rows(named=True)}
    assert len(got) == 55
    for a, b in correlation.PAIRS:
        rows = np.isfinite(data[a]) & np.isfinite(data[b])
        assert got[a, b]["clients"] == rows.sum()
        assert got[a, b]["spearman"] == pytest.approx(spearmanr(data[a][rows], data[b][rows]).statistic, abs=1e-12)
