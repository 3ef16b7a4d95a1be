"""Every threshold, window, tier and model setting of the pipeline, once, in plain pydantic.

The defaults are the spec's (docs/spec/indicators.md) and docs/models.md's. A run may read
overrides from a TOML file (`CRM_CONFIG` or `--config`), sections named like the fields of
`Settings`:

    [indicators]
    lookback = 60
    [churn]
    horizon = 20

Dagster receives one `Settings` object as a resource (pipelines/resources.py); the windows
are fixed when the definitions load, because partition mappings are built from them.
Indicator fields are bound into the SQL models as `$<field name>` (core.db.run_sql).
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

PERIOD_TYPES = ("week", "month", "quarter", "half", "year")  # spec 3, calendar periods


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorConfig(_Section):
    """Windows, thresholds and rates of docs/spec/indicators.md (every mart reads them)."""

    window: int = Field(20, description="W: sessions in the indicator window (a trading month)")
    lookback: int = Field(60, description="sessions for dormancy, churn peak and churn outflow")
    annual_sessions: int = Field(250, description="sessions per year for annualised rates")
    cash_spread_rate: float = Field(0.01, description="what the firm earns on client cash, per year")
    effective_assets: float = Field(10_000, description="total assets from which a client is effective (有效户)")
    eligible_assets: float = Field(
        1_000.0, description="total assets from which a client can be segmented (spec 2), and from which its "
                             "daily return counts in the volatility feature")
    trap_threshold: float = Field(0.10, description="position loss from which it is trapped (套牢)")
    medium_level: float = Field(0.20, description="trapped depth from which the level is medium (中套)")
    deep_level: float = Field(0.30, description="trapped depth from which the level is deep (深套)")
    trapped_client_ratio: float = Field(0.5, description="trapped_ratio from which the client is trapped")
    turnover_high: float = Field(12.0, description="annual turnover from which the band is high")
    turnover_low: float = Field(2.0, description="annual turnover under which the band is low")
    churn_asset_share: float = Field(0.2, description="churn: assets below this share of the 60-session peak")
    churn_outflow_share: float = Field(0.5, description="churn: net transfers out at least this share of the peak")
    max_unreconciled_share: float = Field(
        0.1, description="a session whose share of clients with cash that transfers and trades do not explain is "
                         "above this fails (the cash or trades file is wrong or incomplete); a normal day has a "
                         "handful, each a warning")
    interest_credit_share: float = Field(
        0.005, description="a credit without trade or transfer of at most this share of the previous cash balance "
                           "is taken as an interest credit (结息, at most ~2 %/year a quarter) when the cash file "
                           "has no other_flow_amount: a warning, not an unreconciled client")
    max_reject_share: float = Field(
        0.5, description="a file with more rejected rows than this share fails its day (the file is wrong, not some rows)")

    def params(self) -> dict[str, object]:
        return {**self.model_dump(), "period_types": list(PERIOD_TYPES)}


class SegmentationConfig(_Section):
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


class ChurnConfig(_Section):
    """Probability of churn_event within `horizon` sessions (docs/models.md)."""

    horizon: int = Field(20, description="sessions after the day in which a churn_event makes the label positive")
    valid_sessions: int = Field(20, description="latest labelled sessions held out for validation (time split)")
    handover_margin: float = Field(
        0.01, description="held-out AUC by which a fit must rank better than the rule to replace it (a validation "
                          "slice holds a few dozen churners: a smaller lead is noise)")
    rule_blend: float = Field(
        0.5, ge=0.0, lt=1.0, description="weight of the calibrated rule in the blend with a fit, tried at each "
                                         "comparison besides the fit alone (0: never blend)")
    train_sessions: int = Field(250, description="most labelled sessions a fit reads (the most recent ones)")
    min_label_sessions: int = Field(
        20, description="fewest labelled sessions a fit trains on; a fit needs valid_sessions more to be compared "
                        "with the rule (fewer: rule score)")
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
    tie_break: float = Field(
        0.001, description="share of a score that only orders equal scores: of a model score, the uncalibrated "
                           "trees (a logistic of their decision function; isotonic calibration is a step function), "
                           "moving no probability by more than this; of the rule score, the fall from the peak")
    rule_weights: dict[str, float] = Field(
        {"withdrawals": 1.0, "idle": 0.75, "outflow": 0.25, "liquidation": 0.25},
        description="the rule score's weight of each component (each in [0, 1)): risk = 1 - prod(1 - weight x "
                    "component), so one strong signal is enough and every other one adds to it")
    rule_withdrawal_days: float = Field(
        2.0, description="rule, withdrawals: weighted days with money out in the lookback (one of the last window "
                         "counts 2, an earlier one rule_withdrawal_earlier) at which the component is 1 - 1/e")
    rule_withdrawal_earlier: float = Field(
        0.25, description="rule, withdrawals: weight of a day with money out before the last window (within the "
                          "lookback); one of the last window counts 2")
    rule_outflow_share: float = Field(
        0.1, description="rule, outflow: net transfers out over the window as a share of the lookback's peak at "
                         "which the component is 1 - 1/e")
    rule_idle_trades: float = Field(
        3.0, description="rule, idle: trades the client would have made lately at its own earlier rate and did not, "
                         "at which the component is 1 - 1/e")
    rule_idle_prior: float = Field(
        5.0, description="rule, idle: sessions without a trade added to the client's earlier history (the lookback "
                         "before the last 5 sessions), so that a short history does not make a high trading rate")
    rule_high: float = Field(0.9, description="rule score from which the report shows the level 高 (high)")
    rule_medium: float = Field(0.7, description="rule score from which the report shows the level 中 (medium)")


class AnalysisConfig(_Section):
    """Sizes and thresholds of the client-analysis tables (docs/spec/client-analysis.md)."""

    coholding_securities: int = Field(20, description="most-held securities whose co-held securities are listed")
    coholding_min_clients: int = Field(
        3, description="fewest clients holding both for a co-held pair, and trapped in both for a pair of industries")
    coholding_pairs: int = Field(
        5, description="co-held securities kept per security, and industries trapped together kept per "
                       "industry (largest lift)")
    loyalty_low: float = Field(40.0, description="loyalty score under which a client counts as low (低) in the "
                                                 "loyalty distribution")
    loyalty_high: float = Field(70.0, description="loyalty score from which a client counts as high (高)")
    loyalty_movers: int = Field(
        20, description="clients listed per session whose loyalty rose most, and as many whose loyalty fell most, "
                        "since the last session of the previous month")


class ReportConfig(_Section):
    """Sizes of the daily report's lists and charts (thresholds are the indicators')."""

    trend_sessions: int = Field(60, description="sessions in the trend charts")
    top_trapped: int = Field(20, description="securities in the trapped list")
    clients_per_security: int = Field(30, description="trapped clients listed per security")
    top_dormant: int = Field(50, description="dormant clients to wake up")
    top_churn: int = Field(50, description="clients at churn risk")
    reject_examples: int = Field(5, description="rejected rows shown per file")
    every_session: bool = Field(
        True, description="a pipeline run renders the report of every session of its range; false: of its last "
                          "session only (a long backfill or rerun: ~1.3 s a session at 50k clients)")
    targets: str | None = Field(
        None, description="targets of teams and brokers (reports/targets.py): the team pages show 完成率 against "
                          "them; by default targets.csv beside the configuration file, when there is one")
    ranking_shown: int = Field(20, description="brokers shown at the top and at the bottom of the daily "
                                               "report's ranking (all of them in the team pages)")
    calls_per_broker: int = Field(20, description="most clients on a broker's call list of the day (今日联系名单)")
    call_trapped_factor: float = Field(
        0.2, description="call list: share of a trapped client's yearly revenue that advice is taken to keep "
                         "(docs/decisions.md, Call list)")
    call_dormant_factor: float = Field(
        0.1, description="call list: chance that a call wakes a dormant client, who then earns the branch's "
                         "commission rate on its assets")
    churn_high: float = Field(
        0.5, description="a fitted model's churn probability from which a client is at high risk (高): the "
                         "report's count, the books' level, the call list; a client the rule scores at level high "
                         "(churn.rule_high, a rank) is taken at this chance in the call list's revenue at stake")
    call_outcome_sessions: int = Field(
        10, description="did the call list work: sessions after a list in which a listed client's trade, deposit "
                        "or end of withdrawals counts as a response")
    call_outcome_lists: int = Field(
        20, description="did the call list work: the lists judged, those of the last sessions whose "
                        "call_outcome_sessions following sessions are loaded")
    churn_medium: float = Field(0.2, description="a fitted model's churn probability from which the books show "
                                                 "the level 中 (medium)")


class Settings(_Section):
    """The whole configuration of a warehouse's pipeline."""

    indicators: IndicatorConfig = IndicatorConfig()
    segmentation: SegmentationConfig = SegmentationConfig()
    churn: ChurnConfig = ChurnConfig()
    analysis: AnalysisConfig = AnalysisConfig()
    report: ReportConfig = ReportConfig()
    first_session: dt.date | None = Field(
        None, description="the warehouse's first session: Dagster's partitions start there (default: the "
                          "earliest session folder of the extracts); it changes no number, so it is no part "
                          "of the fingerprint")

    @classmethod
    def load(cls, path: str | Path | None = None) -> Settings:
        """Defaults overridden by the TOML file at `path`, else at $CRM_CONFIG, else none."""
        path = path or os.environ.get("CRM_CONFIG")
        if not path:
            return cls()
        with open(path, "rb") as f:
            values = tomllib.load(f)
        # the targets file: relative to the configuration file's folder, targets.csv by default
        report = values.setdefault("report", {})
        targets = Path(path).parent / report.get("targets", "targets.csv")
        if "targets" in report or targets.is_file():
            report["targets"] = str(targets.resolve())
        return cls.model_validate(values)

    def fingerprint(self) -> str:
        """A stable text of every value (for the load fingerprint of Step 8 and caches); the
        first session, the targets file and which sessions get a report change no warehouse
        number, so they are left out."""
        return self.model_dump_json(exclude={"first_session": True, "report": {"targets", "every_session"}})
