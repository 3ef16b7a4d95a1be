"""Behavioural segments: features -> standardise -> k-means -> name -> align -> assign.

Pure functions on numpy arrays; the Dagster asset (pipelines/assets_models.py) reads the
features (sql/models/segment_features.sql) and writes the results. docs/models.md explains
every choice; the short version:

* k: silhouette of k-means for k = 2..k_max (BIC of a diagonal Gaussian mixture is recorded
  beside it); the best silhouette among k >= k_min (3: the spec names three segments) wins.
* names: risk appetite = turnover + concentration + volatility - cash ratio of each centroid,
  in standardised units; highest -> aggressive, lowest -> conservative, others -> stable.
* refit: clusters are matched to the previous model's by the Hungarian algorithm on centroid
  distances and inherit its names, so a refit never swaps names.
* daily: nearest centroid, with hysteresis: yesterday's segment stays unless the nearest
  cluster is clearly (config.hysteresis) closer than yesterday's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from core.config import SegmentationConfig

FEATURES = ("turnover", "activity", "concentration", "cash_ratio", "trade_size", "volatility")
SEGMENTS = ("stable", "aggressive", "conservative")
INACTIVE = "inactive"
# Sign of each feature in the risk appetite of a centroid (standardised, unweighted units).
APPETITE = {"turnover": 1.0, "concentration": 1.0, "volatility": 1.0, "cash_ratio": -1.0}
RULE_VERSION = "rule"


def _weigh(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return x * weights


@dataclass
class SegmentModel:
    """A fitted segmentation: the sklearn pipeline and the name of each of its clusters."""

    version: str
    pipeline: Pipeline  # StandardScaler -> feature weights -> KMeans
    names: list[str]
    scores: dict[str, float] = field(default_factory=dict)
    rows_fit: int = 0
    matched: list[int] | None = None  # previous model's cluster of each cluster (-1: new)

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def weights(self) -> np.ndarray:
        return self.pipeline.named_steps["weigh"].kw_args["weights"]

    def centroids(self) -> np.ndarray:
        """Cluster centres in standardised, unweighted feature units (k x features)."""
        return self.pipeline.named_steps["kmeans"].cluster_centers_ / self.weights

    def raw_centroids(self) -> np.ndarray:
        """Cluster centres in the features' own units."""
        return self.pipeline.named_steps["scale"].inverse_transform(self.centroids())

    def distances(self, x: np.ndarray) -> np.ndarray:
        """Distance of each row to each cluster centre, in the clustering space (n x k)."""
        return self.pipeline.transform(x)

    def drift(self, x: np.ndarray) -> float:
        """Largest shift of a feature's mean since the fit, in standard deviations."""
        if len(x) == 0:
            return 0.0
        scale = self.pipeline.named_steps["scale"]
        return float(np.max(np.abs((x.mean(axis=0) - scale.mean_) / scale.scale_)))


def feature_weights(config: SegmentationConfig) -> np.ndarray:
    return np.array([config.feature_weights.get(f, 1.0) for f in FEATURES], dtype=float)


def build_pipeline(k: int, config: SegmentationConfig) -> Pipeline:
    """Standardise, weigh, cluster: the whole model as one sklearn Pipeline."""
    return Pipeline([
        ("scale", StandardScaler()),
        ("weigh", FunctionTransformer(_weigh, kw_args={"weights": feature_weights(config)})),
        ("kmeans", KMeans(n_clusters=k, n_init=config.n_init, random_state=config.random_state)),
    ])


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of a deterministic sample of at most `size` of n rows."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def score_k(x: np.ndarray, config: SegmentationConfig) -> tuple[int, dict[str, float], dict[int, Pipeline]]:
    """Fit k = 2..k_max; return the chosen k, silhouette_k / bic_k scores and the fits."""
    fits, scores = {}, {}
    ks = range(2, min(config.k_max, len(x) - 1) + 1)
    sub = sample_rows(len(x), config.silhouette_sample, config.random_state)
    z = distances = None
    for k in ks:
        fits[k] = build_pipeline(k, config).fit(x)
        if z is None:
            # scale and weigh are fitted on the same x whatever k: the sample's distances are
            # computed once for every k's silhouette (they were 80 % of a fit's time)
            z = fits[k][:-1].transform(x[sub])
            distances = pairwise_distances(z)
        labels = fits[k].named_steps["kmeans"].labels_[sub]
        scores[f"silhouette_k{k}"] = (float(silhouette_score(distances, labels, metric="precomputed"))
                                      if len(set(labels)) > 1 else float("nan"))
        gm = GaussianMixture(k, covariance_type="diag", random_state=config.random_state, reg_covar=1e-4)
        scores[f"bic_k{k}"] = float(gm.fit(z).bic(z))
    allowed = [k for k in ks if k >= config.k_min] or list(ks)
    best = max(allowed, key=lambda k: np.nan_to_num(scores[f"silhouette_k{k}"], nan=-1.0))
    return best, scores, fits


def name_clusters(centroids: np.ndarray) -> list[str]:
    """Names by risk appetite of standardised centroids: max aggressive, min conservative."""
    appetite = sum(sign * centroids[:, FEATURES.index(f)] for f, sign in APPETITE.items())
    names = ["stable"] * len(centroids)
    names[int(np.argmax(appetite))] = "aggressive"
    names[int(np.argmin(appetite))] = "conservative"
    return names


def align_clusters(previous: np.ndarray, new: np.ndarray) -> list[int]:
    """For each new centroid, the previous centroid it matches (-1 if unmatched).

    Hungarian assignment (scipy linear_sum_assignment) minimising the total Euclidean
    distance; both sets must be in the same units.
    """
    cost = np.linalg.norm(new[:, None, :] - previous[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(cost)
    match = [-1] * len(new)
    for r, c in zip(rows, cols):
        match[r] = int(c)
    return match


def inherit_names(rule_names: list[str], match: list[int], previous_names: list[str]) -> list[str]:
    """Matched clusters keep the previous model's names; unmatched ones take the rule's.

    If that leaves no aggressive or no conservative cluster (k changed), the rule's names win.
    """
    names = [previous_names[m] if m >= 0 else r for r, m in zip(rule_names, match)]
    if not {"aggressive", "conservative"} <= set(names):
        return list(rule_names)
    return names


def fit_segmentation(x: np.ndarray, version: str, config: SegmentationConfig,
                     previous: SegmentModel | None = None) -> SegmentModel:
    """Choose k, fit on a sample of at most config.fit_sample rows, name, align to `previous`."""
    x = x[sample_rows(len(x), config.fit_sample, config.random_state)]
    k, scores, fits = score_k(x, config)
    model = SegmentModel(version, fits[k], [], scores={"k": float(k), **scores}, rows_fit=len(x))
    rule = name_clusters(model.centroids())
    if previous is None:
        model.names = rule
        return model
    # Compare centroids in the new model's standardised units.
    prev = model.pipeline.named_steps["scale"].transform(previous.raw_centroids())
    model.matched = align_clusters(prev, model.centroids())
    model.names = inherit_names(rule, model.matched, previous.names)
    return model


def assign_segments(model: SegmentModel, x: np.ndarray, previous: np.ndarray | None = None,
                    hysteresis: float = 0.0) -> np.ndarray:
    """Segment name of each row: nearest cluster, or yesterday's segment if nearly as near.

    `previous` holds yesterday's segment per row (None / 'inactive' / unknown: no memory).
    A row keeps it unless distance(nearest) < (1 - hysteresis) x distance(yesterday's).
    """
    if len(x) == 0:
        return np.array([], dtype=object)
    dist = model.distances(x)
    names = np.array(model.names, dtype=object)
    best = names[dist.argmin(axis=1)]
    if previous is None or hysteresis <= 0:
        return best
    # distance to the nearest cluster of each segment (inf when no cluster has that name)
    by_segment = np.column_stack([
        dist[:, names == s].min(axis=1) if (names == s).any() else np.full(len(x), np.inf)
        for s in SEGMENTS
    ])
    previous = np.asarray(previous, dtype=object)
    idx = np.array([SEGMENTS.index(p) if p in SEGMENTS else -1 for p in previous])
    known = idx >= 0
    d_prev = np.where(known, by_segment[np.arange(len(x)), idx.clip(0)], np.inf)
    keep = known & (dist.min(axis=1) >= (1 - hysteresis) * d_prev)
    return np.where(keep, previous, best)


def rule_segments(x: np.ndarray) -> np.ndarray:
    """Without any model (too few eligible clients): terciles of the day's risk appetite."""
    if len(x) == 0:
        return np.array([], dtype=object)
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    appetite = sum(sign * z[:, FEATURES.index(f)] for f, sign in APPETITE.items())
    lo, hi = np.quantile(appetite, [1 / 3, 2 / 3])
    return np.where(appetite > hi, "aggressive", np.where(appetite <= lo, "conservative", "stable")).astype(object)


def refit_reason(model: SegmentModel | None, x: np.ndarray, month_start: bool,
                 config: SegmentationConfig) -> str | None:
    """Why the segmentation must be refitted today (None: keep the stored model)."""
    if len(x) < config.min_fit_clients:
        return None
    if model is None:
        return "no model yet"
    if month_start:
        return "first session of the month"
    shift = model.drift(x)
    if shift > config.drift_threshold:
        return f"drift {shift:.2f} SD > {config.drift_threshold}"
    return None
