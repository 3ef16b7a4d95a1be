"""Churn risk: P(churn_event within the next `horizon` sessions), and why (drivers).

Pure functions; the Dagster asset reads features (sql/models/churn_features.sql) and
labels (sql/models/churn_labels.sql) and writes the scores. docs/models.md explains:

* split: the latest `valid_sessions` labelled sessions validate; training stops `horizon`
  sessions before them (purge: no churn event is seen by both sides). The model in force
  is then refitted on all labelled sessions.
* model: HistGradientBoostingClassifier in CalibratedClassifierCV (isotonic when there are
  enough positives, else sigmoid); negatives are subsampled and weighted back.
* fallback (too little history or no churner in the labels): `rule_score`, a transparent
  score from net outflow, inactivity and the fall from the peak.
* drivers: contribution = permutation importance x max(0, direction x z-score); the three
  largest become readable reasons (`describe_driver`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import brier_score_loss, roc_auc_score

from core.config import ChurnConfig

FEATURES = (
    "log_assets", "assets_to_peak", "net_outflow_share_w", "net_outflow_share_l",
    "withdraw_days_w", "activity_5", "activity_w", "activity_l", "trade_trend",
    "assets_change_w", "market_value_change_w", "days_since_last_trade", "never_traded",
    "cash_ratio", "concentration", "trapped_ratio", "pnl_rate", "log_tenure",
    "history_share", "churned_recently",
)
RULE_VERSION = "rule"
# Who the client is rather than what it does: used by the model, never given as a reason.
NOT_DRIVERS = ("log_assets", "log_tenure", "history_share")
# The fallback score: weight, direction, and how the feature maps to [0, 1].
RULE = {
    "net_outflow_share_w": (0.5, 1.0, lambda v: np.clip(v, 0, 1)),
    "days_since_last_trade": (0.3, 1.0, lambda v: np.clip(v / 60, 0, 1)),
    "assets_to_peak": (0.2, -1.0, lambda v: np.clip(1 - v, 0, 1)),
}


class NotEnoughData(ValueError):
    """Too little history or no churner in the labels: the caller falls back to the rule."""


@dataclass
class ChurnModel:
    """A fitted (or rule) churn scorer plus what the drivers need."""

    version: str
    estimator: object | None  # calibrated classifier; None for the rule
    importance: np.ndarray  # per feature, >= 0, sums to 1
    direction: np.ndarray  # +1: higher value, higher risk; -1: lower value, higher risk
    mean: np.ndarray | None = None  # training population mean and SD for z-scores (None: rule)
    std: np.ndarray | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def score(self, x: np.ndarray) -> np.ndarray:
        if self.estimator is None:
            return rule_score(x)
        return self.estimator.predict_proba(x)[:, 1]


def column(x: np.ndarray, name: str) -> np.ndarray:
    return x[:, FEATURES.index(name)]


def rule_score(x: np.ndarray) -> np.ndarray:
    """0.5 x net outflow share (20 sessions, of the peak) + 0.3 x min(days without trade / 60, 1)
    + 0.2 x fall from the 60-session peak; in [0, 1]. A ranking, not a calibrated probability."""
    return np.clip(sum(w * f(column(x, name)) for name, (w, _, f) in RULE.items()), 0.0, 1.0)


def rule_model(note: str) -> ChurnModel:
    importance = np.array([RULE[f][0] if f in RULE else 0.0 for f in FEATURES])
    direction = np.array([RULE[f][1] if f in RULE else 1.0 for f in FEATURES])
    return ChurnModel(RULE_VERSION, None, importance, direction, note=note)


# ---- metrics ------------------------------------------------------------------------
def precision_at(y: np.ndarray, p: np.ndarray, w: np.ndarray, share: float) -> float:
    """Weighted share of positives among the riskiest `share` of (weighted) rows."""
    order = np.argsort(-p, kind="stable")
    cum = np.cumsum(w[order])
    top = order[: int(np.searchsorted(cum, share * cum[-1])) + 1]
    return float(np.average(y[top], weights=w[top]))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, w: np.ndarray, bins: int = 10) -> float:
    """Weighted mean |predicted - observed| over `bins` equal-width probability bins."""
    b = np.minimum((p * bins).astype(int), bins - 1)
    total = w.sum()
    err = 0.0
    for i in np.unique(b):
        m = b == i
        err += abs(np.sum(w[m] * p[m]) - np.sum(w[m] * y[m])) / total
    return float(err)


def evaluate(y: np.ndarray, p: np.ndarray, w: np.ndarray, top_share: float) -> dict[str, float]:
    return {
        "auc": float(roc_auc_score(y, p, sample_weight=w)),
        f"precision_top{round(top_share * 100)}pct": precision_at(y, p, w, top_share),
        "ece": expected_calibration_error(y, p, w),
        "brier": float(brier_score_loss(y, p, sample_weight=w)),
        "base_rate": float(np.average(y, weights=w)),
    }


# ---- training -----------------------------------------------------------------------
class RankingTrees(HistGradientBoostingClassifier):
    """Boosted trees fitted on the sample as drawn, without its weights: they only rank, and
    the calibration around them, fitted with the weights, sets the probabilities.

    With weights, scikit-learn bins a fit of < 200k rows through 254 weighted percentiles
    per feature: 1.8 s of a 2 s fit at 66k rows (0.04 s unweighted).
    """

    def fit(self, X, y, sample_weight=None):  # noqa: ARG002 - the weights are the calibration's
        return super().fit(X, y)


def build_estimator(config: ChurnConfig, positives: int, folds=None) -> CalibratedClassifierCV:
    """Boosted trees inside cross-validated calibration; `folds`: the (train, calibrate) splits."""
    trees = RankingTrees(
        max_iter=config.max_iter, learning_rate=config.learning_rate,
        max_leaf_nodes=config.max_leaf_nodes, l2_regularization=config.l2_regularization,
        early_stopping=False, random_state=config.random_state,
    )
    method = "isotonic" if positives >= config.isotonic_min_positives else "sigmoid"
    # ensemble=False: the folds' out-of-fold scores fit the calibration and one set of trees
    # fitted on everything scores; each day's scoring then runs 1 model instead of one per fold
    # (0.3 -> 0.1 s a day at 50k clients) for one more fit a month
    return CalibratedClassifierCV(trees, method=method, cv=folds or config.calibration_folds, ensemble=False)


def client_folds(frame: pl.DataFrame, config: ChurnConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Calibration folds that hold out whole clients, stratified by client: churning clients and
    the others are each dealt round-robin to the folds in a seeded random order.

    Unshuffled folds of time-sorted rows would calibrate on another period (measured: ECE
    0.066 instead of 0.006); shuffled rows would calibrate on the same clients' next days.
    Not sklearn's StratifiedGroupKFold: it loops over clients in Python (6.8 s for 63k clients).
    """
    k = config.calibration_folds
    clients = frame.group_by("client_id", maintain_order=True).agg(churner=pl.col("label").any())
    order = np.random.default_rng(config.random_state).permutation(clients.height)
    churner = clients["churner"].to_numpy()[order]
    fold = np.empty(clients.height, dtype=np.int64)
    for flag in (True, False):
        dealt = order[churner == flag]
        fold[dealt] = np.arange(len(dealt)) % k
    rows = frame.select("client_id").join(clients.select("client_id").with_columns(fold=fold), on="client_id",
                                          how="left", maintain_order="left")["fold"].to_numpy()
    return [(np.flatnonzero(rows != f), np.flatnonzero(rows == f)) for f in range(k)]


def _xyw(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (frame.select(FEATURES).to_numpy().astype(float), frame["label"].to_numpy().astype(int),
            frame["weight"].to_numpy().astype(float))


def split_sessions(days: list, config: ChurnConfig) -> tuple[list, list]:
    """(train days, validation days): the latest valid_sessions validate; training ends
    `horizon` sessions before them, so no churn event labels rows on both sides."""
    valid = days[-config.valid_sessions:]
    train = days[: max(len(days) - config.valid_sessions - config.horizon, 0)]
    return train, valid


def _importance(estimator: CalibratedClassifierCV, x, y, w, config: ChurnConfig) -> np.ndarray:
    """Permutation importance (drop of AUC) of each feature, >= 0, summing to 1.

    Measured on the boosted trees without their calibration: calibration is monotonic, so
    the AUC drop is the same, for less prediction."""
    trees = estimator.calibrated_classifiers_[0].estimator
    rows = np.random.default_rng(config.random_state).permutation(len(x))[: config.importance_sample]
    if len(np.unique(y[rows])) < 2:
        return np.full(len(FEATURES), 1 / len(FEATURES))
    result = permutation_importance(trees, x[rows], y[rows], sample_weight=w[rows], scoring="roc_auc",
                                    n_repeats=2, random_state=config.random_state)
    imp = np.clip(result.importances_mean, 0, None)
    return imp / imp.sum() if imp.sum() > 0 else np.full(len(FEATURES), 1 / len(FEATURES))


def train_churn(frame: pl.DataFrame, version: str, config: ChurnConfig) -> ChurnModel:
    """Fit on labelled client-days (columns: as_of_date, client_id, FEATURES, label, weight).

    Raises NotEnoughData when a fit is not possible; the caller then uses `rule_model`.
    """
    days = sorted(frame["as_of_date"].unique().to_list())
    churners = frame.filter(pl.col("label"))["client_id"].n_unique()
    if len(days) < config.min_label_sessions:
        raise NotEnoughData(f"only {len(days)} labelled sessions (< {config.min_label_sessions})")
    if churners < config.min_positive_clients:
        raise NotEnoughData(f"only {churners} churning clients in the labels (< {config.min_positive_clients})"
                            if churners else "no positive label (no churn_event) in the labelled sessions")
    train_days, valid_days = split_sessions(days, config)
    train = frame.filter(pl.col("as_of_date").is_in(train_days))
    valid = frame.filter(pl.col("as_of_date").is_in(valid_days))
    metrics, notes = {}, []
    x_all, y_all, w_all = _xyw(frame)
    importance = None
    if (len(train_days) >= config.min_label_sessions and train.filter(pl.col("label"))["client_id"].n_unique()
            >= config.min_positive_clients and valid["label"].any()):
        xt, yt, wt = _xyw(train)
        xv, yv, wv = _xyw(valid)
        checked = build_estimator(config, int(yt.sum()), client_folds(train, config)).fit(xt, yt, sample_weight=wt)
        metrics = evaluate(yv, checked.predict_proba(xv)[:, 1], wv, config.top_share)
        importance = _importance(checked, xv, yv, wv, config)
        notes.append(f"validated on {valid_days[0]}..{valid_days[-1]}, trained on "
                     f"{train_days[0]}..{train_days[-1]} (purge {config.horizon} sessions)")
    else:
        notes.append(f"not validated: {len(days)} labelled sessions leave no purged training part with "
                     f"churners and a validation part with a churn_event")
    estimator = build_estimator(config, int(y_all.sum()), client_folds(frame, config)).fit(
        x_all, y_all, sample_weight=w_all)
    if importance is None:
        importance = _importance(estimator, x_all, y_all, w_all, config)
    mean = np.average(x_all, axis=0, weights=w_all)
    std = np.sqrt(np.average((x_all - mean) ** 2, axis=0, weights=w_all))
    pos, neg = y_all == 1, y_all == 0
    diff = np.average(x_all[pos], axis=0, weights=w_all[pos]) - np.average(x_all[neg], axis=0, weights=w_all[neg])
    metrics.update({"positive_rows": float(y_all.sum()), "churners": float(churners),
                    "labelled_sessions": float(len(days))})
    notes.append(f"{estimator.method} calibration on {config.calibration_folds} client-held-out folds")
    return ChurnModel(version, estimator, importance, np.where(diff >= 0, 1.0, -1.0), mean,
                      np.where(std > 0, std, 1.0), metrics, "; ".join(notes))


# ---- drivers ------------------------------------------------------------------------
def _pct(v: float) -> str:
    return f"{v:.0%}"


def _change(v: float) -> str:
    return f"{math.expm1(v):+.0%}"


# Readable reason of each feature's value: Chinese / English.
DRIVER_TEXT: dict[str, Callable[[float], str]] = {
    "log_assets": lambda v: f"资产 {math.expm1(v):,.0f} 元 / assets {math.expm1(v):,.0f} CNY",
    "assets_to_peak": lambda v: f"资产仅为60日峰值的 {_pct(v)} / assets at {_pct(v)} of the 60-session peak",
    "net_outflow_share_w": lambda v: f"近20日净流出占峰值资产 {_pct(v)} / net outflow {_pct(v)} of peak (20 sessions)",
    "net_outflow_share_l": lambda v: f"近60日净流出占峰值资产 {_pct(v)} / net outflow {_pct(v)} of peak (60 sessions)",
    "withdraw_days_w": lambda v: f"近20日转出 {v:.0f} 次 / money out on {v:.0f} of 20 sessions",
    "activity_5": lambda v: f"近5日交易天数占比 {_pct(v)} / traded on {_pct(v)} of the last 5 sessions",
    "activity_w": lambda v: f"近20日活跃度 {_pct(v)} / activity {_pct(v)} over 20 sessions",
    "activity_l": lambda v: f"近60日活跃度 {_pct(v)} / activity {_pct(v)} over 60 sessions",
    "trade_trend": lambda v: f"近20日成交较60日均值 {_change(v)} / trading {_change(v)} vs the 60-session average",
    "assets_change_w": lambda v: f"资产较20日前 {_change(v)} / assets {_change(v)} vs 20 sessions ago",
    "market_value_change_w": lambda v: f"持仓市值较20日前 {_change(v)} / holdings {_change(v)} vs 20 sessions ago",
    "days_since_last_trade": lambda v: f"已 {v:.0f} 个交易日未交易 / no trade for {v:.0f} sessions",
    "never_traded": lambda v: "从未交易 / never traded" if v else "有交易记录 / has traded",
    "cash_ratio": lambda v: f"现金比例 {_pct(v)} / cash {_pct(v)} of assets",
    "concentration": lambda v: f"持仓集中度 {v:.2f} / concentration (HHI) {v:.2f}",
    "trapped_ratio": lambda v: f"套牢度 {_pct(v)} / {_pct(v)} of cost trapped",
    "pnl_rate": lambda v: f"20日收益率 {v:+.1%} / 20-session return {v:+.1%}",
    "log_tenure": lambda v: f"开户 {math.expm1(v):.0f} 天 / account {math.expm1(v):.0f} days old",
    "history_share": lambda v: f"近60日在册 {_pct(v)} / on the books {_pct(v)} of 60 sessions",
    "churned_recently": lambda v: "近60日已流失过 / churned within 60 sessions" if v else "近60日未流失 / no churn in 60 sessions",
}


def contributions(model: ChurnModel, x: np.ndarray) -> np.ndarray:
    """How far each feature pushes each row toward churn (n x f), for the drivers.

    Model: permutation importance x max(0, direction x z-score against the training
    population). Rule: the rule's own terms (weight x scaled value), which add up to the score.
    Features in NOT_DRIVERS contribute 0: a reason must be something the client did.
    """
    if model.estimator is None:
        out = np.zeros_like(x, dtype=float)
        for name, (w, _, f) in RULE.items():
            out[:, FEATURES.index(name)] = w * f(column(x, name))
        return out
    z = (x - model.mean) / model.std
    usable = np.array([f not in NOT_DRIVERS for f in FEATURES])
    return model.importance * usable * np.clip(model.direction * z, 0, None)


def describe_driver(feature: str, value: float) -> str:
    return DRIVER_TEXT[feature](float(value))


def top_drivers(model: ChurnModel, x: np.ndarray, n: int = 3) -> list[list[str | None]]:
    """The n largest positive contributions of each row as readable reasons (None if fewer)."""
    contrib = contributions(model, x)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :n]
    return [
        [describe_driver(FEATURES[j], x[i, j]) if contrib[i, j] > 0 else None for j in order[i]]
        for i in range(len(x))
    ]


def drivers_frame(model: ChurnModel, client_ids: list[str], x: np.ndarray, risk: np.ndarray,
                  top: int) -> pl.DataFrame:
    """client_id, churn_risk, driver_1..3 for the `top` riskiest rows (ties: client_id)."""
    order = np.lexsort((np.asarray(client_ids), -risk))[:top]
    reasons = top_drivers(model, x[order])
    return pl.DataFrame({
        "client_id": [client_ids[i] for i in order],
        "churn_risk": risk[order],
        **{f"driver_{k + 1}": [r[k] for r in reasons] for k in range(3)},
    }, schema_overrides={f"driver_{k + 1}": pl.String for k in range(3)})
