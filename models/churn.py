"""Churn risk: P(churn_event within the next `horizon` sessions), and why (drivers).

Pure functions; the writer (models/churn_sessions.py) reads features
(sql/features/churn_features.sql) and labels (sql/features/churn_labels.sql) and writes the
scores. docs/models.md explains:

* rule (before a model exists, or while it does not rank better): `rule_score`, a monotone
  score of the client's own history - withdrawals, trading that stopped against its own rate,
  net outflow, holdings sold - a rank, not a probability. Once a fit was compared with it, the
  rule that stays is calibrated on the same labels (`calibrate_rule`, logistic on its logit):
  the same order, on the model's probability scale, so that days scored by either compare.
* split: the latest `valid_sessions` labelled sessions validate; training stops `horizon`
  sessions before them (purge: no churn event is seen by both sides). With too short a
  history for that, later sessions of held-out clients validate (`holdout`). The model in
  force is then refitted on all labelled sessions.
* handover: the fit is kept only if it ranks the validation rows better than the rule, by more
  than `handover_margin` of AUC. The fit blended with the calibrated rule (`rule_blend`) is
  compared too, and replaces the fit alone when it ranks better.
* model: HistGradientBoostingClassifier in CalibratedClassifierCV (isotonic when there are
  enough positives, else sigmoid); negatives are subsampled and weighted back. The score
  takes `tie_break` of the uncalibrated trees, so that an isotonic step is still ordered.
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
from sklearn.linear_model import LogisticRegression
from scipy.special import expit
from sklearn.metrics import brier_score_loss, roc_auc_score

from core.config import ChurnConfig

FEATURES = (
    "log_assets", "assets_to_peak", "net_outflow_share_w", "net_outflow_share_l",
    "withdraw_days_w", "activity_5", "activity_w", "activity_l", "trade_trend",
    "assets_change_w", "market_value_change_w", "days_since_last_trade", "never_traded",
    "cash_ratio", "concentration", "trapped_ratio", "pnl_rate", "log_tenure",
    "history_share", "churned_recently", "holdings_cost_change_w", "withdraw_days_l", "active_days_5",
    "present_days_5", "active_days_l", "present_days_l",
)
RULE_VERSION = "rule"
# Who the client is rather than what it does: used by the model, never given as a reason.
NOT_DRIVERS = ("log_assets", "log_tenure", "history_share", "active_days_5", "present_days_5", "active_days_l",
               "present_days_l")
# The rule's components (core/config.py rule_weights) and the feature each one's reason is
# written from (drivers under the rule).
RULE_REASONS = {
    "withdrawals": "withdraw_days_l",
    "idle": "days_since_last_trade",
    "outflow": "net_outflow_share_w",
    "liquidation": "holdings_cost_change_w",
}


class NotEnoughData(ValueError):
    """Too little history or no churner in the labels: the caller falls back to the rule."""


def fit_sessions(config: ChurnConfig) -> int:
    """Labelled sessions a fit needs: min_label_sessions to train on and valid_sessions more
    to compare it with the rule on (a fit that cannot be compared could not replace it)."""
    return config.min_label_sessions + config.valid_sessions


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
    compared_on: str | None = None  # rule: the session a fit was compared with it and lost
    # (a, b) of the rule's calibration on this fit's labelled rows (calibrate_rule): a rule model
    # scores with it; a fit only when blended, and hands it to the rule kept in its place
    calibration: tuple[float, float] | None = None
    blend: float = 0.0  # a fit: the calibrated rule's weight in its score (0: the fit alone)

    @property
    def is_rule(self) -> bool:
        return self.estimator is None

    def score(self, x: np.ndarray, config: ChurnConfig) -> np.ndarray:
        if self.estimator is None:
            rule = rule_score(x, config)
            return rule if self.calibration is None else calibrated_rule(rule, self.calibration)
        p = model_score(self.estimator, x, config.tie_break)
        return blended(p, x, self.blend, self.calibration, config) if self.blend else p

    def beats_rule(self, margin: float = 0.0) -> bool:
        """Whether the fit ranked its held-out rows better than the rule by more than `margin`
        (ChurnConfig.handover_margin; no comparison: no)."""
        return "auc" in self.metrics and self.metrics["auc"] > self.metrics.get("auc_rule", 1.0) + margin


def column(x: np.ndarray, name: str) -> np.ndarray:
    return x[:, FEATURES.index(name)]


# ---- the rule -----------------------------------------------------------------------
def rule_components(x: np.ndarray, config: ChurnConfig) -> dict[str, np.ndarray]:
    """The rule's components, each in [0, 1) and nondecreasing in what signals leaving,
    each measured against the client's own history (docs/models.md, "The rule"):

    withdrawals  days with money out: 2 each in the last window, rule_withdrawal_earlier (0.25)
                 each earlier in the lookback - recent withdrawals are what precedes leaving;
    idle         trades missed lately at the client's own earlier rate: the rate of the
                 lookback's sessions before the last 5 (shrunk by rule_idle_prior sessions
                 without a trade), times the sessions since the last trade, or the trades
                 expected in the last 5 sessions minus those made, whichever is more. Fewer
                 recent trades never lower it; a client without earlier trades has none to miss;
    outflow      net transfers out over the window, as a share of the lookback's peak;
    liquidation  share of the holdings' cost gone since a window ago (sold or moved out).
    Saturating (1 - exp(-v / scale)) rather than clipped, so equal scores need equal inputs.
    """
    v = {name: np.nan_to_num(column(x, name)) for name in (
        "withdraw_days_l", "withdraw_days_w", "net_outflow_share_w", "days_since_last_trade", "never_traded",
        "active_days_5", "present_days_5", "active_days_l", "present_days_l", "holdings_cost_change_w")}
    earlier = np.maximum(v["present_days_l"] - v["present_days_5"], 0.0)
    rate = np.maximum(v["active_days_l"] - v["active_days_5"], 0.0) / (earlier + config.rule_idle_prior)
    gap = np.where(v["never_traded"] > 0, 0.0, np.minimum(v["days_since_last_trade"], v["present_days_l"]))
    missed = np.maximum(rate * gap, rate * v["present_days_5"] - v["active_days_5"])
    # a day with money out weighs 2 in the last window, rule_withdrawal_earlier before it
    earlier_out = np.maximum(v["withdraw_days_l"] - v["withdraw_days_w"], 0.0)
    withdrawn = 2.0 * v["withdraw_days_w"] + config.rule_withdrawal_earlier * earlier_out
    return {
        "withdrawals": -np.expm1(-withdrawn / config.rule_withdrawal_days),
        "idle": -np.expm1(-np.maximum(missed, 0.0) / config.rule_idle_trades),
        "outflow": -np.expm1(-np.maximum(v["net_outflow_share_w"], 0.0) / config.rule_outflow_share),
        "liquidation": np.clip(-np.expm1(v["holdings_cost_change_w"]), 0.0, 1.0),
    }


def _rule_weights(config: ChurnConfig) -> dict[str, float]:
    w = config.rule_weights
    if set(w) != set(RULE_REASONS) or not all(0.0 <= v <= 1.0 for v in w.values()):
        raise ValueError(f"churn.rule_weights needs a weight in [0, 1] for each of {sorted(RULE_REASONS)}, got {w}")
    return w


def combine(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """1 - prod(1 - weight x component): in [0, 1) for components in [0, 1) and weights in
    [0, 1], nondecreasing in each component; one strong signal is enough, and each other
    one closes part of the remaining gap."""
    stay = 1.0
    for name, c in components.items():
        stay = stay * (1.0 - weights[name] * c)
    return 1.0 - stay


def rule_score(x: np.ndarray, config: ChurnConfig) -> np.ndarray:
    """1 - prod(1 - weight x component) over the rule's components, in [0, 1): monotone in
    each component. Counts make equal scores common (two withdrawals; on a warehouse's first
    session nobody has a history), so tie_break of the score orders them: the fall from the
    lookback's peak, then the peak's size (more at stake first; neither goes down when the
    client withdraws more or trades less). 0 for a client that churned within the lookback
    (already gone: its next churn_event is not in sight). A ranking, not a probability."""
    signal = combine(rule_components(x, config), _rule_weights(config))
    to_peak = np.clip(np.nan_to_num(column(x, "assets_to_peak"), nan=1.0), 0.0, 1.0)
    assets = np.expm1(np.nan_to_num(column(x, "log_assets")))
    stake = np.log1p(np.divide(assets, to_peak, out=assets.copy(), where=to_peak > 0))
    # everything gone (the peak is not in the features then): the most at stake
    order = 0.9 * (1.0 - to_peak) + 0.1 * np.where(to_peak > 0, stake / (1.0 + stake), 1.0)
    score = (1.0 - config.tie_break) * signal + config.tie_break * order
    return score * (np.nan_to_num(column(x, "churned_recently")) == 0)


def rule_model(note: str, compared_on: str | None = None,
               calibration: tuple[float, float] | None = None) -> ChurnModel:
    """The rule as the model in force: version `rule` (a rank), or `rule-<session>` when
    calibrated on the labels of the fit it was compared with on that session."""
    importance = np.zeros(len(FEATURES))
    for name, feature in RULE_REASONS.items():
        importance[FEATURES.index(feature)] = 1.0
    version = RULE_VERSION if calibration is None else f"{RULE_VERSION}-{compared_on}"
    return ChurnModel(version, None, importance, np.ones(len(FEATURES)), note=note, compared_on=compared_on,
                      calibration=calibration)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def calibrate_rule(frame: pl.DataFrame, config: ChurnConfig) -> tuple[float, float] | None:
    """(a, b) of P(churn within the horizon) = expit(a + b x logit(rule score)), a weighted
    logistic regression on the labelled client-days of a fit (`frame`, weighted as the fit is).

    Two parameters rather than an isotonic step function: a fit's labels hold a few dozen
    leavers, and the monthly recalibrations must keep days comparable with each other -
    isotonic steps that moved from month to month ranked the fading configuration's
    client-days after the first fit 0.888 where the rule alone ranks 0.927 (seed 11); this
    0.916. b > 0 keeps the rule's order; a rule that does not rise with the labels (b <= 0)
    cannot be calibrated so: None, it stays a rank."""
    x, y, w = _xyw(frame)
    fit = LogisticRegression().fit(_logit(rule_score(x, config))[:, None], y, sample_weight=w)
    a, b = float(fit.intercept_[0]), float(fit.coef_[0, 0])
    return (a, b) if b > 0 else None


def calibrated_rule(rule: np.ndarray, calibration: tuple[float, float]) -> np.ndarray:
    a, b = calibration
    return expit(a + b * _logit(rule))


def blended(p: np.ndarray, x: np.ndarray, weight: float, calibration: tuple[float, float],
            config: ChurnConfig) -> np.ndarray:
    """A fit's scores `p` of rows `x` blended with the rule's, calibrated: (1 - weight) x p +
    weight x calibrated rule."""
    return (1.0 - weight) * p + weight * calibrated_rule(rule_score(x, config), calibration)


def model_score(estimator: CalibratedClassifierCV, x: np.ndarray, tie_break: float) -> np.ndarray:
    """(1 - tie_break) x calibrated probability + tie_break x logistic(trees' decision).

    Isotonic calibration is a step function: many clients share a step (e.g. all at 47.7 %),
    and the top of a day's list would be in arbitrary order. The second term is strictly
    increasing in the trees' score, so the sum orders clients as the trees do, and no
    probability moves by more than tie_break. The calibrated classifier's own computation
    (ensemble=False: one set of trees, one calibrator), done once.
    """
    if len(x) == 0:
        return np.zeros(0)
    (calibrated,) = estimator.calibrated_classifiers_
    raw = calibrated.estimator.decision_function(x)
    p = np.clip(calibrated.calibrators[0].predict(raw), 0.0, 1.0)
    return (1.0 - tie_break) * p + tie_break * expit(raw)


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


def client_fold(frame: pl.DataFrame, config: ChurnConfig) -> np.ndarray:
    """The fold (0..calibration_folds - 1) of each row's client, stratified by client: churning
    clients and the others are each dealt round-robin to the folds in a seeded random order."""
    k = config.calibration_folds
    clients = frame.group_by("client_id", maintain_order=True).agg(churner=pl.col("label").any())
    order = np.random.default_rng(config.random_state).permutation(clients.height)
    churner = clients["churner"].to_numpy()[order]
    fold = np.empty(clients.height, dtype=np.int64)
    for flag in (True, False):
        dealt = order[churner == flag]
        fold[dealt] = np.arange(len(dealt)) % k
    return frame.select("client_id").join(clients.select("client_id").with_columns(fold=fold), on="client_id",
                                          how="left", maintain_order="left")["fold"].to_numpy()


def client_folds(frame: pl.DataFrame, config: ChurnConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Calibration folds that hold out whole clients (`client_fold`).

    Unshuffled folds of time-sorted rows would calibrate on another period (measured: ECE
    0.066 instead of 0.006); shuffled rows would calibrate on the same clients' next days.
    Not sklearn's StratifiedGroupKFold: it loops over clients in Python (6.8 s for 63k clients).
    """
    rows = client_fold(frame, config)
    return [(np.flatnonzero(rows != f), np.flatnonzero(rows == f)) for f in range(config.calibration_folds)]


def _xyw(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (frame.select(FEATURES).to_numpy().astype(float), frame["label"].to_numpy().astype(int),
            frame["weight"].to_numpy().astype(float))


def split_sessions(days: list, config: ChurnConfig) -> tuple[list, list]:
    """(train days, validation days): the latest valid_sessions validate; training ends
    `horizon` sessions before them, so no churn event labels rows on both sides."""
    valid = days[-config.valid_sessions:]
    train = days[: max(len(days) - config.valid_sessions - config.horizon, 0)]
    return train, valid


def holdout(frame: pl.DataFrame, days: list, config: ChurnConfig) -> tuple[pl.DataFrame, pl.DataFrame, str] | None:
    """(training rows, validation rows, how) for the checked fit and the comparison with the rule.

    The time split (`split_sessions`) when its parts are big enough. A young warehouse has
    too few labelled sessions for it (training + purge + valid: 60): then the latest
    valid_sessions labelled sessions (at most half of them) of one client fold validate, and
    the earlier sessions of the other clients train. The two parts share no client, so no
    churn event labels rows on both sides and no purge is needed. None: no validation part
    with both classes, or no positive to train on.
    """
    train_days, valid_days = split_sessions(days, config)
    train = frame.filter(pl.col("as_of_date").is_in(train_days))
    valid = frame.filter(pl.col("as_of_date").is_in(valid_days))
    if (len(train_days) >= config.min_label_sessions and train.filter(pl.col("label"))["client_id"].n_unique()
            >= config.min_positive_clients and valid["label"].any()):
        return train, valid, (f"validated on {valid_days[0]}..{valid_days[-1]}, trained on "
                              f"{train_days[0]}..{train_days[-1]} (purge {config.horizon} sessions)")
    n_valid = max(1, min(config.valid_sessions, len(days) // 2))
    first_valid = days[-n_valid]
    held_out = client_fold(frame, config) == 0
    later = (frame["as_of_date"] >= first_valid).to_numpy()
    train, valid = frame.filter(~held_out & ~later), frame.filter(held_out & later)
    if not (train["label"].any() and valid["label"].any() and not valid["label"].all()):
        return None
    return train, valid, (f"validated on {first_valid}..{days[-1]} of 1/{config.calibration_folds} of the clients, "
                          f"trained on {days[0]}..{days[-n_valid - 1]} of the others (no client on both sides)")


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
    if len(days) < fit_sessions(config):
        raise NotEnoughData(f"only {len(days)} labelled sessions (< {fit_sessions(config)}: "
                            f"{config.min_label_sessions} to train, {config.valid_sessions} to compare with the rule)")
    if churners < config.min_positive_clients:
        raise NotEnoughData(f"only {churners} churning clients in the labels (< {config.min_positive_clients})"
                            if churners else "no positive label (no churn_event) in the labelled sessions")
    split = holdout(frame, days, config)
    metrics, notes = {}, []
    x_all, y_all, w_all = _xyw(frame)
    importance, blend = None, 0.0
    if split is not None:
        train, valid, how = split
        xt, yt, wt = _xyw(train)
        xv, yv, wv = _xyw(valid)
        checked = build_estimator(config, int(yt.sum()), client_folds(train, config)).fit(xt, yt, sample_weight=wt)
        held_out = model_score(checked, xv, config.tie_break)
        # the fit blended with the rule calibrated on the training part: kept instead of the fit
        # alone when it ranks the held-out rows better
        rule_cal = calibrate_rule(train, config) if config.rule_blend else None
        mixed = None if rule_cal is None else blended(held_out, xv, config.rule_blend, rule_cal, config)
        auc_fit = float(roc_auc_score(yv, held_out, sample_weight=wv))
        auc_blend = float(roc_auc_score(yv, mixed, sample_weight=wv)) if mixed is not None else 0.0
        if auc_blend > auc_fit:
            blend, held_out = config.rule_blend, mixed
        metrics = evaluate(yv, held_out, wv, config.top_share)
        metrics.update(auc_fit=auc_fit, auc_blend=auc_blend, blend=blend)
        # the handover: the same held-out rows ranked by the rule
        metrics["auc_rule"] = float(roc_auc_score(yv, rule_score(xv, config), sample_weight=wv))
        importance = _importance(checked, xv, yv, wv, config)
        notes.append(f"{how}; held-out AUC {metrics['auc']:.3f} ({'blended with the rule' if blend else 'the fit alone'}; "
                     f"fit {auc_fit:.3f}, blend {auc_blend:.3f}), rule {metrics['auc_rule']:.3f}")
    else:
        notes.append(f"not validated: {len(days)} labelled sessions leave no validation part with both classes "
                     f"and a training part with churners; the rule stays")
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
    calibration = calibrate_rule(frame, config)
    return ChurnModel(version, estimator, importance, np.where(diff >= 0, 1.0, -1.0), mean,
                      np.where(std > 0, std, 1.0), metrics, "; ".join(notes),
                      calibration=calibration, blend=blend if calibration else 0.0)


# ---- drivers ------------------------------------------------------------------------
def _pct(v: float) -> str:
    return f"{v:.0%}"


def _change(v: float) -> str:
    return f"{math.expm1(v):+.0%}"


# Readable reason of each feature's value, in the report's language (Chinese).
DRIVER_TEXT: dict[str, Callable[[float], str]] = {
    "log_assets": lambda v: f"资产 {math.expm1(v):,.0f} 元",
    "assets_to_peak": lambda v: f"资产仅为60日峰值的 {_pct(v)}",
    "net_outflow_share_w": lambda v: f"近20日净流出占峰值资产 {_pct(v)}",
    "net_outflow_share_l": lambda v: f"近60日净流出占峰值资产 {_pct(v)}",
    "withdraw_days_w": lambda v: f"近20日转出 {v:.0f} 次",
    "activity_5": lambda v: f"近5日交易天数占比 {_pct(v)}",
    "activity_w": lambda v: f"近20日活跃度 {_pct(v)}",
    "activity_l": lambda v: f"近60日活跃度 {_pct(v)}",
    "trade_trend": lambda v: f"近20日成交较60日均值 {_change(v)}",
    "assets_change_w": lambda v: f"资产较20日前 {_change(v)}",
    "market_value_change_w": lambda v: f"持仓市值较20日前 {_change(v)}",
    "days_since_last_trade": lambda v: f"已 {v:.0f} 个交易日未交易",
    "never_traded": lambda v: "从未交易" if v else "有交易记录",
    "cash_ratio": lambda v: f"现金比例 {_pct(v)}",
    "concentration": lambda v: f"持仓集中度 {v:.2f}",
    "trapped_ratio": lambda v: f"套牢度 {_pct(v)}",
    "pnl_rate": lambda v: f"20日收益率 {v:+.1%}",
    "log_tenure": lambda v: f"开户 {math.expm1(v):.0f} 天",
    "history_share": lambda v: f"近60日在册 {_pct(v)}",
    "churned_recently": lambda v: "近60日已流失过" if v else "近60日未流失",
    "holdings_cost_change_w": lambda v: f"持仓成本较20日前 {_change(v)}",
    "withdraw_days_l": lambda v: f"近60日转出 {v:.0f} 次",
    "active_days_5": lambda v: f"近5日交易 {v:.0f} 天",
    "present_days_5": lambda v: f"近5日在册 {v:.0f} 天",
    "active_days_l": lambda v: f"近60日交易 {v:.0f} 天",
    "present_days_l": lambda v: f"近60日在册 {v:.0f} 天",
}


def contributions(model: ChurnModel, x: np.ndarray, config: ChurnConfig) -> np.ndarray:
    """How far each feature pushes each row toward churn (n x f), for the drivers.

    Model: permutation importance x max(0, direction x z-score against the training
    population). Rule: its own components, weighted, each on the feature its reason is
    written from (RULE_REASONS).
    Features in NOT_DRIVERS contribute 0: a reason must be something the client did.
    """
    if model.estimator is None:
        out = np.zeros_like(x, dtype=float)
        w = _rule_weights(config)
        for name, c in rule_components(x, config).items():
            out[:, FEATURES.index(RULE_REASONS[name])] = w[name] * c
        return out
    z = (x - model.mean) / model.std
    usable = np.array([f not in NOT_DRIVERS for f in FEATURES])
    return model.importance * usable * np.clip(model.direction * z, 0, None)


def describe_driver(feature: str, value: float) -> str:
    return DRIVER_TEXT[feature](float(value))


def top_drivers(model: ChurnModel, x: np.ndarray, config: ChurnConfig, n: int = 3) -> list[list[str | None]]:
    """The n largest positive contributions of each row as readable reasons (None if fewer)."""
    contrib = np.round(contributions(model, x, config), 12)  # near-ties: the feature order, as in drivers_frame
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :n]
    return [
        [describe_driver(FEATURES[j], x[i, j]) if contrib[i, j] > 0 else None for j in order[i]]
        for i in range(len(x))
    ]


def drivers_frame(model: ChurnModel, client_ids: list[str], x: np.ndarray, risk: np.ndarray,
                  config: ChurnConfig) -> pl.DataFrame:
    """client_id, churn_risk, driver_1..3 for the `drivers_top` riskiest rows (ties: client_id)."""
    # rounded: features summed over different chunks of sessions differ in the last bits, and
    # a near-tie at the cut must not change who is listed (ties: client_id)
    order = np.lexsort((np.asarray(client_ids), -np.round(risk, 12)))[:config.drivers_top]
    reasons = top_drivers(model, x[order], config)
    return pl.DataFrame({
        "client_id": [client_ids[i] for i in order],
        "churn_risk": risk[order],
        **{f"driver_{k + 1}": [r[k] for r in reasons] for k in range(3)},
    }, schema_overrides={f"driver_{k + 1}": pl.String for k in range(3)})
