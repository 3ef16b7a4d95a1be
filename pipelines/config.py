"""Indicator parameters: the spec's defaults, documented once, overridable per run.

Every field is bound into the SQL models as `$<field name>` (see warehouse.run_sql).
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field


PERIOD_TYPES = ("week", "month", "quarter", "half", "year")  # spec 3, calendar periods


class IndicatorConfig(dg.ConfigurableResource):
    """Windows, thresholds and rates of docs/indicators.md (a resource: every mart reads it)."""

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
    max_reject_share: float = Field(
        0.5, description="a file with more rejected rows than this share fails its day (the file is wrong, not some rows)")

    def params(self) -> dict[str, object]:
        return {**self.model_dump(), "period_types": list(PERIOD_TYPES)}
