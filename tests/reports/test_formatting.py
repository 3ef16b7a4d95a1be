"""Numbers as the report shows them: 万/亿, percentages, changes and ranks."""

from __future__ import annotations

import math

import pytest

from reports.formatting import (fmt_change, fmt_cny, fmt_diff_cny, fmt_metric, fmt_pct, fmt_permyriad, fmt_rank_change,
                                fmt_wan)


@pytest.mark.parametrize(("value", "text"), [
    (0, "0.00"),
    (9876.54, "9,876.54"),
    (9999.99, "9,999.99"),
    (9999.996, "1.0万"),            # rounds to 10,000.00: shown in 万
    (10_000, "1.0万"),
    (45_678_000, "4,567.8万"),
    (99_940_000, "9,994.0万"),
    (99_999_999, "1.00亿"),         # 9,999.9999万 rounds to 10,000.0万: shown in 亿
    (100_000_000, "1.00亿"),
    (123_456_789, "1.23亿"),
    (-123_456_789, "-1.23亿"),
    (-45_678, "-4.6万"),
    (-9876.54, "-9,876.54"),
    (-0.004, "0.00"),               # no '-0.00'
    (None, "—"),
    (math.nan, "—"),
])
def test_fmt_cny(value, text):
    assert fmt_cny(value) == text


@pytest.mark.parametrize(("value", "digits", "text"), [
    (0.1234, 1, "12.3%"),
    (0.1234, 2, "12.34%"),
    (-0.0456, 1, "-4.6%"),
    (-0.0004, 1, "0.0%"),
    (5.678e-05, None, "0.00568%"),   # market share: three significant figures
    (1.0668e-06, None, "0.000107%"),
    (0.5, None, "50.00%"),
    (None, 1, "—"),
])
def test_fmt_pct(value, digits, text):
    assert fmt_pct(value, digits) == text


def test_fmt_change_rank_and_rates():
    assert fmt_change(0.123) == "▲12.3%"
    assert fmt_change(-0.045) == "▼4.5%"
    assert fmt_change(0.0004) == "0.0%"
    assert fmt_change(1.5) == "▲150.0%"
    assert fmt_change(None) == "—"
    assert fmt_diff_cny(-12_345) == "▼1.2万"
    assert fmt_diff_cny(800) == "▲800.00"
    assert fmt_permyriad(0.000253) == "万2.53"
    assert fmt_rank_change(2, 5) == "▲3"
    assert fmt_rank_change(5, 2) == "▼3"
    assert fmt_rank_change(3, 3) == "–"
    assert fmt_rank_change(1, None) == "新"


@pytest.mark.parametrize("value, text", [(6967.91, "0.70"), (11_000, "1.10"), (-123_456_789, "-12,345.68"),
                                         (0, "0.00"), (None, "—")])
def test_fmt_wan_one_unit_for_a_column(value, text):
    assert fmt_wan(value) == text


@pytest.mark.parametrize("value, text", [(354.0, "354"), (6301.0, "6,301"), (0.8304, "0.830"), (None, "—")])
def test_fmt_metric_counts_are_whole(value, text):
    assert fmt_metric(value) == text
