"""Spearman correlations between the indicators, per session."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest


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
