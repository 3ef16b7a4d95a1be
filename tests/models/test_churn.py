"""Churn: labels without leakage, the rule score (formula, monotonicity, a planted leaver),
the handover between rule and model, ties, metrics."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from core.build import Job, build
from core.config import ChurnConfig, Settings
from core.db import run_sql, sql_text
from core.sessions import trading_calendar
from core.tables import writer
from models import artefacts, churn, churn_sessions

from ..builders import cash, client, position, quote, trade, write_day

CAL = trading_calendar()
CONFIG = ChurnConfig()


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


def matrix(rows: list[dict]) -> np.ndarray:
    return frame_of(rows).select(churn.FEATURES).to_numpy()


# ---- the rule -----------------------------------------------------------------------
def test_no_positive_label_falls_back_to_the_documented_rule_score():
    days = CAL.between(dt.date(2024, 9, 2), dt.date(2024, 12, 31))[:40]
    negatives = frame_of([{"day": d, "id": f"c{i}"} for d in days for i in range(5)])
    with pytest.raises(churn.NotEnoughData, match="no positive label"):
        churn.train_churn(negatives, "v", CONFIG)
    model = churn.rule_model("fallback rule score: no positive label")
    leaving = {  # 2 withdrawal days in 60 sessions, 1 of them in the last 20; 10 % of the peak out;
        # 12 trades in the 35 sessions before the last 5, none in the last 10; half the holdings sold
        "withdraw_days_l": 2, "withdraw_days_w": 1, "net_outflow_share_w": 0.1, "present_days_l": 40,
        "present_days_5": 5, "active_days_l": 12, "active_days_5": 0, "days_since_last_trade": 10,
        "holdings_cost_change_w": math.log(0.5), "assets_to_peak": 0.8, "log_assets": math.log1p(80_000)}
    x = matrix([
        leaving,
        {"assets_to_peak": 1.0},  # nothing happened: only the tie-break (no assets, nothing at stake)
        {**leaving, "churned_recently": 1},  # already gone
    ])
    # by hand (docs/models.md): each component 1 - exp(-v / scale), combined 1 - prod(1 - w c)
    withdrawals = 1 - math.exp(-(2 * 1 + 0.25 * 1) / 2)  # 2 per day of the last 20 sessions, 0.25 before
    idle = 1 - math.exp(-max(12 / (35 + 5) * 10, 12 / 40 * 5 - 0) / 3)
    outflow = 1 - math.exp(-0.1 / 0.1)
    liquidation = 0.5
    signal = 1 - (1 - withdrawals) * (1 - 0.75 * idle) * (1 - 0.25 * outflow) * (1 - 0.25 * liquidation)
    stake = math.log1p(80_000 / 0.8)
    order = 0.9 * (1 - 0.8) + 0.1 * stake / (1 + stake)
    np.testing.assert_allclose(model.score(x, CONFIG), [0.999 * signal + 0.001 * order, 0.0, 0.0], rtol=1e-12)
    drivers = churn.drivers_frame(model, ["a", "b", "c"], x, model.score(x, CONFIG), CONFIG)
    assert drivers["client_id"].to_list()[0] == "a"
    assert drivers.row(0, named=True)["driver_1"] == "近60日转出 2 次"
    assert drivers.row(0, named=True)["driver_2"] == "已 10 个交易日未交易"


def consistent_rows(n: int, seed: int) -> pl.DataFrame:
    """Random feature rows whose counts fit together (a 5-session part of a 20-session part of a
    60-session history)."""
    rng = np.random.default_rng(seed)
    present = rng.integers(1, 61, n)
    p5 = np.minimum(present, 5)
    active = rng.binomial(present, rng.uniform(0, 0.7, n))
    a5 = np.minimum(rng.binomial(p5, 0.3), active)
    wd_l = rng.poisson(0.7, n)
    wd_w = np.minimum(rng.poisson(0.4, n), wd_l)
    never = (active == 0) & (rng.random(n) < 0.5)
    return frame_of([{}] * n).with_columns(
        present_days_l=pl.Series(present.astype(float)), present_days_5=pl.Series(p5.astype(float)),
        active_days_l=pl.Series(active.astype(float)), active_days_5=pl.Series(a5.astype(float)),
        withdraw_days_l=pl.Series(wd_l.astype(float)), withdraw_days_w=pl.Series(wd_w.astype(float)),
        days_since_last_trade=pl.Series(np.where(never, 240, rng.integers(0, 80, n)).astype(float)),
        never_traded=pl.Series(never.astype(float)),
        net_outflow_share_w=pl.Series(rng.normal(0, 0.2, n)),
        holdings_cost_change_w=pl.Series(rng.normal(0, 0.5, n)),
        assets_to_peak=pl.Series(rng.uniform(0, 1, n)),
        log_assets=pl.Series(rng.uniform(0, 15, n)),
    )


def test_the_rule_never_falls_when_a_client_withdraws_more_trades_less_or_sells_out():
    """All else equal, each of these never lowers the rule score (docs/models.md)."""
    base = consistent_rows(5000, seed=1)
    score = churn.rule_score(base.select(churn.FEATURES).to_numpy(), CONFIG)
    one_more_recent = pl.col("withdraw_days_w") + 1
    changes = {
        "a withdrawal in the last 20 sessions": dict(withdraw_days_w=one_more_recent,
                                                     withdraw_days_l=pl.col("withdraw_days_l") + 1),
        "a withdrawal 21-60 sessions ago": dict(withdraw_days_l=pl.col("withdraw_days_l") + 1),
        "a withdrawal 21-60 sessions ago made in the last 20 instead (more recent)": dict(
            withdraw_days_w=pl.col("withdraw_days_w") + (pl.col("withdraw_days_w") < pl.col("withdraw_days_l"))),
        "more money out (5 % of the peak: the peak stays, the assets fall)": dict(
            net_outflow_share_w=pl.col("net_outflow_share_w") + 0.05,
            assets_to_peak=(pl.col("assets_to_peak") - 0.05).clip(0, 1),
            log_assets=(pl.col("log_assets").exp() - 1
                        - 0.05 * (pl.col("log_assets").exp() - 1) / pl.col("assets_to_peak")).clip(0, None).log1p()),
        "one more session without a trade": dict(
            days_since_last_trade=pl.when(pl.col("never_traded") == 0).then(pl.col("days_since_last_trade") + 1)
            .otherwise(pl.col("days_since_last_trade"))),
        "a trade of the last 5 sessions not made": dict(
            active_days_5=(pl.col("active_days_5") - 1).clip(0, None),
            active_days_l=pl.col("active_days_l") - (pl.col("active_days_5") > 0).cast(pl.Float64)),
        "more of the holdings sold": dict(holdings_cost_change_w=pl.col("holdings_cost_change_w") - 0.2),
    }
    for what, change in changes.items():
        after = churn.rule_score(base.with_columns(**change).select(churn.FEATURES).to_numpy(), CONFIG)
        assert (after >= score - 1e-15).all(), what
        assert (after > score).mean() > 0.02, what  # the change does move scores
    # the combination is nondecreasing in each component, within [0, 1)
    rng = np.random.default_rng(2)
    comps = {name: rng.uniform(0, 0.999, 5000) for name in churn.RULE_REASONS}
    combined = churn.combine(comps, CONFIG.rule_weights)
    assert ((combined >= 0) & (combined < 1)).all()
    for name in comps:
        higher = churn.combine({**comps, name: np.minimum(comps[name] + 0.1, 0.999)}, CONFIG.rule_weights)
        assert (higher >= combined).all(), name


def test_the_rule_has_few_ties_at_the_top_even_on_a_first_session():
    """On a warehouse's first session nobody has a history: the tie-break (fall from the peak,
    then the peak) still orders the list."""
    rng = np.random.default_rng(3)
    n = 2000
    x = frame_of([{}] * n).with_columns(
        present_days_l=pl.lit(1.0), present_days_5=pl.lit(1.0),
        withdraw_days_l=pl.Series((rng.random(n) < 0.01).astype(float)),
        assets_to_peak=pl.lit(1.0), log_assets=pl.Series(np.log1p(rng.lognormal(11, 1.5, n))),
    ).with_columns(withdraw_days_w=pl.col("withdraw_days_l"))
    s = np.sort(churn.rule_score(x.select(churn.FEATURES).to_numpy(), CONFIG))[::-1][:50]
    assert (np.diff(s) == 0).sum() <= 5


def _leaver_branch(root, days: list[dt.date], start: int) -> None:
    """A hand-made branch: steady clients of several habits, and L, who trades exactly like T1
    until session `start`, then stops trading, withdraws a fifth of its cash on `start` and
    start + 3, sells everything on start + 6 and withdraws the rest on start + 7."""
    price, lot = 10.0, 100
    kinds = {"T1": 2, "T2": 2, "T3": 3, "O1": 5, "O2": 7, "H1": 0, "H2": 0, "S1": -1, "L": 2}
    state = {c: {"cash": 50_000.0, "qty": 1000 if k >= 0 else 0, "cost": 10_000.0 if k >= 0 else 0.0, "n": 0}
             for c, k in kinds.items()}
    for i, day in enumerate(days):
        trades, cash_rows, positions, seq = [], [], [], 0
        for c, every in kinds.items():
            s = state[c]
            deposit = withdraw = 0.0
            side = None
            leaving = c == "L" and i >= start
            if leaving:
                if i in (start, start + 3):
                    withdraw = round(s["cash"] * 0.2, 2)
                if i == start + 6:
                    side, qty = "S", s["qty"]
                if i == start + 7:
                    withdraw = s["cash"]
            elif every > 0 and i % every == 0:
                side, qty = ("B", lot) if (i // every) % 2 == 0 else ("S", lot)
            if c == "S1" and i == 10:
                deposit = 1_000.0
            if side and (not leaving or i == start + 6) and qty > 0:
                seq += 1
                amount = qty * price
                stamp = round(amount * 0.0005, 2) if side == "S" else 0.0
                trades.append(trade(f"T{day:%Y%m%d}{seq:04d}", f"0731{c}", day, side, "600000", qty, price,
                                    5.0, 0.02, stamp))
                if side == "B":
                    s["cash"] -= amount + 5.0
                    s["cost"] += amount + 5.0
                    s["qty"] += qty
                else:
                    s["cash"] += amount - 5.0 - stamp
                    s["cost"] = round(s["cost"] * (s["qty"] - qty) / s["qty"], 2)
                    s["qty"] -= qty
            s["cash"] = round(s["cash"] + deposit - withdraw, 2)
            cash_rows.append(cash(f"0731{c}", s["cash"], deposit, withdraw))
            if s["qty"]:
                positions.append(position(f"0731{c}", "600000", s["qty"], s["cost"]))
        write_day(root, day, [client(f"0731{c}") for c in kinds], cash_rows, positions,
                  [quote("600000", price)], trades)


def test_a_planted_leaver_ranks_above_steady_clients_from_the_first_session_it_shows(tmp_path):
    days = CAL.between(dt.date(2024, 9, 2), dt.date(2024, 12, 31))[:24]
    start = 12
    _leaver_branch(tmp_path / "extracts", days, start)
    db = tmp_path / "warehouse.duckdb"
    build(db, days, Settings(), extracts=tmp_path / "extracts", raise_on_failure=False,
          writers=["raw_extracts", "client_daily", "client_running", "client_windows", "client_features",
                   "churn_scores"])
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        risk = con.execute("select as_of_date, client_id, churn_risk, model_version from mart.churn_scores").pl()
        churned = con.execute("select as_of_date from mart.client_windows where churn_event "
                              "and client_id = '0731L'").fetchall()
    assert churned == [(days[start + 7],)]  # the pattern ends in a churn_event
    assert set(risk["model_version"]) == {"rule"}  # no label yet: the rule scores
    wide = risk.pivot(on="client_id", index="as_of_date", values="churn_risk").sort("as_of_date")
    steady = [c for c in wide.columns if c not in ("as_of_date", "0731L")]
    top_steady = wide.select(pl.max_horizontal(steady)).to_series()
    for i, day in enumerate(days[:start + 7]):
        if i < start:  # the same history as T1 gets the same score: the rule knows no persona
            assert wide["0731L"][i] == wide["0731T1"][i], day
        else:
            assert wide["0731L"][i] > top_steady[i], day


# ---- handover -----------------------------------------------------------------------
def _labelled(days: list[dt.date], clients: int, seed: int, rule_signal_from: int | None) -> pl.DataFrame:
    """Labelled client-days: the label follows cash_ratio, which the trees learn and the rule
    ignores; from day index `rule_signal_from` on it follows withdrawals instead, which the
    rule reads and the trees never saw carry a label (None: cash_ratio throughout)."""
    rng = np.random.default_rng(seed)
    n = len(days) * clients
    frame = frame_of([{}] * n).with_columns(
        as_of_date=pl.Series(np.repeat(np.array(days, dtype="datetime64[D]"), clients)).cast(pl.Date),
        client_id=pl.Series([f"c{i}" for i in np.tile(np.arange(clients), len(days))]),
        cash_ratio=pl.Series(rng.random(n)), withdraw_days_l=pl.Series(rng.poisson(1.0, n).astype(float)),
        present_days_l=pl.lit(60.0), present_days_5=pl.lit(5.0))
    later = np.repeat(np.arange(len(days)) >= (rule_signal_from if rule_signal_from is not None else len(days)),
                      clients)
    signal = np.where(later, frame["withdraw_days_l"].to_numpy() >= 3, frame["cash_ratio"].to_numpy() > 0.93)
    return frame.with_columns(label=pl.Series(signal & (rng.random(n) < 0.9)))


@pytest.mark.parametrize("rule_signal_from, model_kept", [(None, True), (60, False)])
def test_the_handover_keeps_the_better_ranker(rule_signal_from, model_kept):
    days = CAL.between(dt.date(2024, 1, 2), dt.date(2024, 12, 31))[:80]
    frame = _labelled(days, 150, seed=4, rule_signal_from=rule_signal_from)
    fitted = churn.train_churn(frame, "v", CONFIG)
    m = fitted.metrics
    assert {"auc", "auc_rule"} <= set(m) and "validated on" in fitted.note
    assert fitted.beats_rule() is model_kept
    # the fit competes alone and blended with the calibrated rule; the better of the two meets the rule
    assert m["auc"] == max(m["auc_fit"], m["auc_blend"]) and m["blend"] == (CONFIG.rule_blend if m["auc_blend"] >
                                                                             m["auc_fit"] else 0.0)
    if model_kept:
        assert m["auc"] > 0.9 > 0.6 > m["auc_rule"]
    else:
        assert m["auc_rule"] > 0.9 > 0.6 > m["auc_fit"] and m["auc"] <= m["auc_rule"]


def test_a_young_warehouse_compares_on_later_sessions_of_held_out_clients():
    """40 labelled sessions leave no purged time split: the latest 20 of them, on a third of
    the clients, validate; the earlier 20 of the others train; no client on both sides. With
    fewer than 40 no fit is tried."""
    days = CAL.between(dt.date(2024, 1, 2), dt.date(2024, 12, 31))[:40]
    frame = _labelled(days, 300, seed=5, rule_signal_from=None)
    with pytest.raises(churn.NotEnoughData, match="20 to train, 20 to compare with the rule"):
        churn.train_churn(frame.filter(pl.col("as_of_date") < days[39]), "v", CONFIG)
    train, valid, how = churn.holdout(frame, days, CONFIG)
    assert set(train["as_of_date"]) == set(days[:20]) and set(valid["as_of_date"]) == set(days[20:])
    assert not set(train["client_id"]) & set(valid["client_id"])
    assert 90 <= valid["client_id"].n_unique() <= 110 and "no client on both sides" in how  # a third
    fitted = churn.train_churn(frame, "v", CONFIG)
    assert fitted.beats_rule() and fitted.metrics["auc"] > 0.9


def test_a_fit_blended_with_the_rule_is_kept_when_it_ranks_better_than_both():
    """Labels that follow cash_ratio throughout (the trees learn it) and, in the validated
    sessions, withdrawals too (the rule reads them): the blend of fit and calibrated rule ranks
    the held-out rows better than either, is kept, and scores between its two parts."""
    days = CAL.between(dt.date(2024, 1, 2), dt.date(2024, 12, 31))[:80]
    frame = _labelled(days, 150, seed=4, rule_signal_from=None)
    late = pl.col("as_of_date") >= days[60]
    frame = frame.with_columns(label=pl.col("label") | (late & (pl.col("withdraw_days_l") >= 3)))
    fitted = churn.train_churn(frame, "v", CONFIG)
    m = fitted.metrics
    assert m["auc_blend"] > max(m["auc_fit"], m["auc_rule"]) and m["auc"] == m["auc_blend"]
    assert fitted.blend == m["blend"] == CONFIG.rule_blend and fitted.beats_rule(CONFIG.handover_margin)
    x = frame.filter(late).select(churn.FEATURES).to_numpy().astype(float)
    alone = churn.model_score(fitted.estimator, x, CONFIG.tie_break)
    rule = churn.calibrated_rule(churn.rule_score(x, CONFIG), fitted.calibration)
    scored = fitted.score(x, CONFIG)
    assert (np.minimum(alone, rule) - 1e-12 <= scored).all() and (scored <= np.maximum(alone, rule) + 1e-12).all()
    assert np.abs(scored - alone).max() > 0.05


def test_the_writer_keeps_the_rule_until_a_fit_beats_it_and_retries_next_month(tiny_warehouse, monkeypatch):
    con = tiny_warehouse
    month_first = dt.date(2024, 10, 8)  # after the National Day holiday: October's first session
    next_day = CAL.sessions[CAL.index(month_first) + 1]
    history = CAL.sessions[CAL.index(month_first) - 80:CAL.index(month_first)]
    loses = _labelled(history, 150, seed=6, rule_signal_from=60)
    feats = loses.filter(pl.col("as_of_date") == history[-1]).drop("as_of_date", "label", "weight")
    calls = []

    def training_set(con, start, day, config):
        calls.append(day)
        return loses
    monkeypatch.setattr(churn_sessions.store, "churn_training_set", training_set)
    job = Job(writer("churn_scores"), Settings())
    model, stats = churn_sessions._churn_day(month_first, feats, None, con=con, cal=CAL, job=job)
    kept_rule = f"rule-{month_first}"  # the rule, calibrated on the labels of the fit it beat
    assert model.version == kept_rule and model.is_rule and model.compared_on == month_first.isoformat()
    assert stats["fitted"] and not stats["fitted"]["kept"]
    runs = con.execute("select version, metric_name, metric_value from model.churn_runs").pl()
    assert runs.filter(pl.col("metric_name") == "handover")["metric_value"].to_list() == [0.0]
    assert runs.filter(pl.col("metric_name") == "rows_scored")["version"].to_list() == [kept_rule]
    stored = con.execute("select client_id, churn_risk, model_version from mart.churn_scores").pl()
    assert set(stored["model_version"]) == {kept_rule}
    # the rule's order, on the probability scale: over the labelled rows its mean is their
    # (weighted) churn rate, which the rank score's is not
    x = feats.select(churn.FEATURES).to_numpy().astype(float)
    rule = churn.rule_score(x, job.settings.churn)
    risk = stored.join(feats.select("client_id").with_row_index(), on="client_id").sort("index")["churn_risk"]
    assert (np.argsort(-risk.to_numpy(), kind="stable") == np.argsort(-rule, kind="stable")).all()
    xl, yl, wl = churn._xyw(loses)
    rate = np.average(yl, weights=wl)
    assert abs(np.average(model.score(xl, job.settings.churn), weights=wl) - rate) <= job.settings.churn.tie_break
    assert abs(np.average(churn.rule_score(xl, job.settings.churn), weights=wl) - rate) > 0.05
    # the next session (same month, later run): the stored rule is in force and no fit is tried
    in_force = artefacts.model_in_force(con, "churn", next_day)
    assert in_force.version == kept_rule and in_force.compared_on == month_first.isoformat()
    churn_sessions._churn_day(next_day, feats, in_force, con=con, cal=CAL, job=job)
    assert calls == [month_first]
    # a fit that ranks better takes over
    wins = _labelled(history, 150, seed=6, rule_signal_from=None)
    monkeypatch.setattr(churn_sessions.store, "churn_training_set", lambda con, start, day, config: wins)
    model, _ = churn_sessions._churn_day(month_first, feats, None, con=con, cal=CAL, job=job)
    assert model.version == month_first.isoformat() and model.estimator is not None
    assert set(con.execute("select model_version from mart.churn_scores where as_of_date = $d",
                           {"d": month_first}).pl()["model_version"]) == {month_first.isoformat()}


# ---- ties and metrics -------------------------------------------------------------
def test_model_scores_order_an_isotonic_step_and_move_no_probability_by_more_than_the_tie_break():
    days = CAL.between(dt.date(2024, 1, 2), dt.date(2024, 12, 31))[:80]
    rng = np.random.default_rng(7)
    frame = _labelled(days, 150, seed=7, rule_signal_from=None)
    # a label that rises smoothly with a few features, as real ones do: many distinct tree scores
    traits = {f: rng.random(frame.height) for f in ("concentration", "trapped_ratio", "activity_w", "pnl_rate")}
    risk = 1 / (1 + np.exp(-(6 * frame["cash_ratio"].to_numpy() + 2 * sum(traits.values()) - 10)))
    frame = frame.with_columns(label=pl.Series(rng.random(frame.height) < risk),
                               **{f: pl.Series(v) for f, v in traits.items()})
    fitted = churn.train_churn(frame, "v", CONFIG)
    assert fitted.estimator.method == "isotonic"
    x = frame.sample(2000, seed=1).select(churn.FEATURES).to_numpy()  # a day of 2,000 clients
    calibrated = fitted.estimator.predict_proba(x)[:, 1]
    scored = fitted.score(x, CONFIG)
    assert np.abs(scored - calibrated).max() <= CONFIG.tie_break
    top = np.sort(scored)[::-1][:50]
    assert (np.diff(np.sort(calibrated)[::-1][:50]) == 0).sum() > 5  # the steps tie...
    assert (np.diff(top) == 0).sum() <= 5  # ... the scores do not
    trees = fitted.estimator.calibrated_classifiers_[0].estimator.decision_function(x)
    assert (np.argsort(-scored, kind="stable") == np.argsort(-trees, kind="stable")).mean() > 0.99


def test_metrics_on_a_hand_made_ranking():
    y = np.array([1, 0, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.0])
    m = churn.evaluate(y, p, np.ones(5), top_share=0.2)
    assert m["auc"] == pytest.approx(5 / 6)  # one of six (pos, neg) pairs misordered
    assert m["precision_top20pct"] == 1.0
    # bins: 0.9 (y=1), 0.8 (0), 0.7 (1), 0.1 (0), 0.0 (0) -> |0.9-1| + |0.8-0| + |0.7-1| + 0.1 + 0
    assert m["ece"] == pytest.approx((0.1 + 0.8 + 0.3 + 0.1) / 5)
