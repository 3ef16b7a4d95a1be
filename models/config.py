"""Hyperparameters of the segmentation and churn models (Dagster run config, with defaults).

Plain pydantic models underneath: tests and scripts build them directly, e.g.
`SegmentationConfig(k_max=4)`; the assets receive them as `config` parameters.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class SegmentationConfig(dg.Config):
    """Behavioural clustering into stable / aggressive / conservative (docs/models.md)."""

    k_min: int = Field(
        3, description="smallest k the choice may take: the spec names three segments "
                       "(k=2 is still scored and recorded)")
    k_max: int = Field(6, description="largest k scored (silhouette and BIC are recorded for 2..k_max)")
    feature_weights: dict[str, float] = Field(
        {"turnover": 1.0, "activity": 1.0, "cash_ratio": 1.0,
         "concentration": 0.5, "trade_size": 0.5, "volatility": 0.5},
        description="multiplier of each standardised feature before clustering: secondary traits "
                    "(concentration, trade size, volatility) depend on account size and the market and count half",
    )
    fit_sample: int = Field(50_000, description="most eligible clients a fit uses (deterministic sample)")
    silhouette_sample: int = Field(5_000, description="clients used to score silhouette and BIC for each k")
    n_init: int = Field(10, description="k-means restarts")
    min_fit_clients: int = Field(
        60, description="fewest eligible clients to fit on; fewer: keep the model (or the rule)")
    drift_threshold: float = Field(
        0.5, description="refit when the mean of a standardised feature moved more than this many SDs since the fit")
    hysteresis: float = Field(
        0.25, description="a client keeps yesterday's segment unless the nearest cluster is this much closer "
                          "(relative distance) than yesterday's")
    threads: int = Field(1, description="OpenMP threads of k-means (1: no oversubscription on shared cores)")
    random_state: int = Field(7, description="seed of sampling, k-means and mixtures")


class ChurnConfig(dg.Config):
    """Probability of churn_event within `horizon` sessions (docs/models.md)."""

    horizon: int = Field(20, description="sessions after the day in which a churn_event makes the label positive")
    valid_sessions: int = Field(20, description="latest labelled sessions held out for validation (time split)")
    train_sessions: int = Field(250, description="most labelled sessions a fit reads (the most recent ones)")
    min_label_sessions: int = Field(20, description="fewest labelled sessions for a fit; fewer: rule score")
    min_positive_clients: int = Field(
        10, description="fewest distinct churning clients in the training labels; fewer: rule score")
    max_negatives: int = Field(60_000, description="most negative client-days a fit uses (weighted subsample)")
    max_positives: int = Field(
        40_000, description="most positive client-days a fit uses (weighted subsample): bounds a fit's cost "
                            "whatever the branch size and history (200k clients: ~250k positive rows in 40 sessions)")
    isotonic_min_positives: int = Field(
        300, description="positive rows from which calibration is isotonic (else sigmoid)")
    calibration_folds: int = Field(3, description="folds of CalibratedClassifierCV")
    max_iter: int = Field(100, description="boosting iterations")
    learning_rate: float = Field(0.1, description="boosting learning rate")
    max_leaf_nodes: int = Field(15, description="leaves per tree")
    l2_regularization: float = Field(1.0, description="L2 penalty of the trees")
    top_share: float = Field(0.05, description="share of riskiest client-days for the precision metric")
    drivers_top: int = Field(200, description="riskiest clients per day that get three written drivers")
    importance_sample: int = Field(10_000, description="rows for permutation importance")
    threads: int = Field(
        1, description="OpenMP threads of the boosting (1: measured 6x faster than 2 on a busy 2-core machine)")
    random_state: int = Field(7, description="seed of sampling, boosting and importance")
