"""Spearman correlation between the main indicators, per day (mart.indicator_correlation).

Spearman = Pearson correlation of average ranks, over the clients where both indicators are
defined (so each pair is ranked on its own complete rows: exact, ties averaged).
"""

from __future__ import annotations

from itertools import combinations

import polars as pl

INDICATORS = (
    "avg_assets", "turnover_rate_annual", "activity", "profitability", "pnl_rate", "cash_ratio",
    "concentration", "trapped_ratio", "days_since_last_trade", "tenure_days", "churn_risk",
)
PAIRS = list(combinations(INDICATORS, 2))


def spearman_by_day(frame: pl.DataFrame) -> pl.DataFrame:
    """as_of_date, indicator_a, indicator_b, spearman, clients for every pair and day of `frame`."""
    aggs = []
    for i, (a, b) in enumerate(PAIRS):
        both = pl.col(a).is_not_null() & pl.col(b).is_not_null() & pl.col(a).is_finite() & pl.col(b).is_finite()
        aggs += [
            pl.corr(pl.col(a).filter(both).rank("average"), pl.col(b).filter(both).rank("average")).alias(f"s{i}"),
            both.sum().alias(f"n{i}"),
        ]
    wide = frame.group_by("as_of_date").agg(aggs)
    return pl.concat([
        wide.select(
            "as_of_date",
            indicator_a=pl.lit(a), indicator_b=pl.lit(b),
            spearman=pl.col(f"s{i}").fill_nan(None), clients=pl.col(f"n{i}").cast(pl.Int64),
        )
        for i, (a, b) in enumerate(PAIRS)
    ]).sort("as_of_date", "indicator_a", "indicator_b")
