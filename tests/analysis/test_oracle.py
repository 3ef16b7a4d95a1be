"""The client-analysis marts (docs/spec/client-analysis.md) against an independent polars
implementation of the spec (oracle.py), cell by cell, on three warehouses (conftest.py).

Same key set, same values: floats within 1e-9 relative or 1e-6 absolute, nulls equal to
nulls only. Also: the oracle's own pure helpers on hand-worked examples, and facts the
oracle must satisfy on every warehouse whatever the marts hold.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from . import oracle

WAREHOUSES = ["example_warehouse", "small_branch", "edge_warehouse"]
REL_TOL, ABS_TOL = 1e-9, 1e-6
EXAMPLES = 5  # differing rows shown per problem

_built: dict[Path, dict[str, pl.DataFrame]] = {}


@pytest.fixture(params=WAREHOUSES)
def warehouse(request) -> Path:
    return request.getfixturevalue(request.param)


def expected_tables(path: Path) -> dict[str, pl.DataFrame]:
    """The oracle's eight tables for a warehouse, computed once per process."""
    if path not in _built:
        _built[path] = oracle.build_all(oracle.load(path))
    return _built[path]


def mart(path: Path, table: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select * from mart.{table}").pl()


# ---------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------

def _rows(df: pl.DataFrame, n: int = EXAMPLES) -> str:
    return "; ".join(str(r) for r in df.head(n).iter_rows())


def compare(expected: pl.DataFrame, got: pl.DataFrame, keys: list[str]) -> list[str]:
    """Differences between the oracle's frame and the warehouse's, as readable lines."""
    missing = [c for c in expected.columns if c not in got.columns]
    if missing:
        return [f"columns missing in the warehouse: {missing} (it has {got.columns})"]
    got = got.select(expected.columns).with_columns(
        *[pl.col(k).cast(expected.schema[k], strict=False) for k in keys])
    problems = []
    dup = got.filter(pl.struct(keys).is_duplicated())
    if dup.height:
        problems.append(f"{dup.height} warehouse rows with a repeated key, e.g. {_rows(dup.select(keys))}")
    only_expected = expected.join(got, on=keys, how="anti", nulls_equal=True)
    only_got = got.join(expected, on=keys, how="anti", nulls_equal=True)
    if only_expected.height:
        problems.append(f"{only_expected.height} oracle rows missing in the warehouse, e.g. "
                        f"{_rows(only_expected)}")
    if only_got.height:
        problems.append(f"{only_got.height} warehouse rows the oracle does not have, e.g. {_rows(only_got)}")
    joined = expected.join(got, on=keys, how="inner", suffix="_got", nulls_equal=True)
    for col in expected.columns:
        if col in keys:
            continue
        a, b = joined[col], joined[f"{col}_got"]
        if a.dtype.is_numeric() and b.dtype.is_numeric():
            x = a.cast(pl.Float64).to_numpy().astype(float)
            y = b.cast(pl.Float64).to_numpy().astype(float)
            both_null = np.isnan(x) & np.isnan(y)
            with np.errstate(invalid="ignore"):
                diff = np.abs(x - y)
                close = (diff <= ABS_TOL) | (diff <= REL_TOL * np.maximum(np.abs(x), np.abs(y)))
            bad = ~(both_null | np.nan_to_num(close, nan=0).astype(bool))
        else:
            sa, sb = a.cast(pl.String), b.cast(pl.String)
            bad = ~(sa.eq_missing(sb)).to_numpy()
        if bad.any():
            rows = joined.filter(pl.Series(bad)).select(*keys, pl.col(col).alias("oracle"),
                                                       pl.col(f"{col}_got").alias("warehouse"))
            problems.append(f"{col}: {int(bad.sum())} of {joined.height} cells differ, e.g. {_rows(rows)}")
    return problems


@pytest.mark.parametrize("table", list(oracle.KEYS))
def test_mart_matches_oracle(warehouse, table):
    """mart.<table> holds exactly the oracle's rows and values."""
    problems = compare(expected_tables(warehouse)[table], mart(warehouse, table), oracle.KEYS[table])
    assert not problems, f"mart.{table} on {warehouse}:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------------------
# The oracle's helpers, by hand
# ---------------------------------------------------------------------------------------

def test_gini_by_hand():
    # r = 0, 0, 1, 3: 2 x (3 x 1 + 4 x 3) / (4 x 4) - 5 / 4 = 30/16 - 20/16 = 0.625
    assert oracle.gini([0, 0, 1, 3]) == pytest.approx(0.625)
    assert oracle.gini([3, 0, 1, 0]) == pytest.approx(0.625)  # sorted by the function
    assert oracle.gini([5, 5, 5]) == pytest.approx(0.0)       # equality
    assert oracle.gini([0, 0, 0, 7]) == pytest.approx(0.75)   # all to one of N: (N - 1) / N
    assert oracle.gini([0, 0]) is None and oracle.gini([]) is None


def test_cramers_v_by_hand():
    # rows 30, 70; columns 40, 60; n = 100; expected 12, 18 / 28, 42; every deviation is 2:
    # chi2 = 4 x (1/12 + 1/18 + 1/28 + 1/42) = 4 x 50/252 = 50/63; V = sqrt(chi2 / 100) = 1/sqrt(126)
    assert oracle.cramers_v([[10, 20], [30, 40]]) == pytest.approx(1 / math.sqrt(126))
    assert oracle.cramers_v([[5, 0], [0, 5]]) == pytest.approx(1.0)   # perfect association
    assert oracle.cramers_v([[4, 6], [2, 3]]) == pytest.approx(0.0)   # independence
    # 3 x 2 with a zero cell: it counts (chi2 over every cell)
    # rows 2, 2, 2; columns 3, 3; n = 6; expected 1 everywhere; chi2 = 1+1+1+1+0+0 = 4
    assert oracle.cramers_v([[2, 0], [0, 2], [1, 1]]) == pytest.approx(math.sqrt(4 / 6))
    assert oracle.cramers_v([[3, 4, 5]]) is None and oracle.cramers_v([]) is None  # min(r, c) < 2


def test_top_share_by_hand():
    clients = [("c5", 1.0), ("c1", 4.0), ("c2", 2.0), ("c3", 2.0), ("c4", 1.0)]
    # N = 5: ceil(1 % x 5) = ceil(5 % x 5) = ceil(20 % x 5) = 1 client, the largest (4 of 10)
    assert oracle.top_share(clients, 1) == oracle.top_share(clients, 20) == pytest.approx(0.4)
    # N = 100: 7 % is 7 clients exactly (a double 0.07 x 100 would make it 8)
    hundred = [(f"c{i:03d}", 1.0) for i in range(100)]
    assert oracle.top_share(hundred, 7) == pytest.approx(0.07)
    assert oracle.top_share([("a", 0.0)], 20) is None


def test_boards_ages_bands_by_hand():
    assert [oracle.board(c) for c in ["688001", "689009", "600000", "603520", "300750", "301001", "302132",
                                      "000001", "002201", "430047", "830799", "920001", "900901", ""]] == [
        "star", "star", "sh_main", "sh_main", "chinext", "chinext", "other",
        "sz_main", "sz_main", "bj", "bj", "bj", "other", "other"]
    assert oracle.age_years(dt.date(1990, 10, 15), dt.date(2024, 10, 14)) == 33
    assert oracle.age_years(dt.date(1990, 10, 15), dt.date(2024, 10, 15)) == 34
    assert oracle.age_years(None, dt.date(2024, 10, 15)) is None
    assert [oracle.age_band(a) for a in [None, 24, 25, 34, 35, 64, 65]] == [
        "unknown", "<25", "25-34", "25-34", "35-44", "55-64", "65+"]
    assert [oracle.tenure_band(t) for t in [0, 364, 365, 1094, 1095, 1825, 1826, 3651, 3652]] == [
        "<1y", "<1y", "1-3y", "1-3y", "3-5y", "3-5y", "5-10y", "5-10y", "10y+"]


# ---------------------------------------------------------------------------------------
# Facts the oracle itself must satisfy (independent of the marts)
# ---------------------------------------------------------------------------------------

def test_oracle_is_consistent(warehouse):
    """Tiers add up to the clients on D, shares to 1, concentration measures stay in range,
    each attribute partitions the clients on D, and channel_period's channels add up to
    mart.branch_period's trades (an existing mart computed by other code)."""
    t = expected_tables(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        on_d = con.execute("select as_of_date, count(*) as n from mart.client_windows group by 1").pl()
        branch = con.execute("""select period_type, period_start, period_end, trade_count, trade_amount,
                                       commission, net_commission from mart.branch_period""").pl()

    tiers = (t["value_by_tier"].group_by("as_of_date", "period_type")
             .agg(pl.col("clients").sum(), pl.col("revenue_share").sum(), pl.col("revenue").sum())
             .join(t["value_concentration"], on=["as_of_date", "period_type"], suffix="_c")
             .join(on_d, on="as_of_date"))
    assert (tiers["clients"] == tiers["n"]).all() and (tiers["clients_c"] == tiers["n"]).all()
    assert ((tiers["revenue_share"] - 1).abs() < 1e-9).all()
    assert ((tiers["revenue"] - tiers["revenue_c"]).abs() < 1e-6).all()

    c = t["value_concentration"].drop_nulls("gini")
    assert c.height > 0
    assert ((c["gini"] >= 0) & (c["gini"] < 1)).all()
    assert ((c["top1_share"] <= c["top5_share"]) & (c["top5_share"] <= c["top20_share"])
            & (c["top1_share"] > 0) & (c["top20_share"] <= 1 + 1e-12)).all()

    a = (t["attribute_profile"].group_by("as_of_date", "attribute").agg(pl.col("clients").sum())
         .join(on_d, on="as_of_date"))
    assert a.height == on_d.height * len(oracle.ATTRIBUTES) and (a["clients"] == a["n"]).all()
    v = t["attribute_association"]["cramers_v"].drop_nulls()
    assert ((v >= 0) & (v <= 1 + 1e-12)).all()

    ch = (t["channel_period"].group_by("period_type", "period_start")
          .agg(pl.col("period_end").first(), pl.col("trade_count").sum(), pl.col("trade_amount").sum(),
               pl.col("commission").sum(), pl.col("net_commission").sum(), pl.col("amount_share").sum())
          .join(branch, on=["period_type", "period_start"], suffix="_b"))
    traded = branch.filter(pl.col("trade_count") > 0).height
    assert ch.height == traded and (ch["period_end"] == ch["period_end_b"]).all()
    assert (ch["trade_count"] == ch["trade_count_b"]).all()
    for col in ["trade_amount", "commission", "net_commission"]:
        assert ((ch[col] - ch[f"{col}_b"]).abs() < 1e-6).all(), col
    assert ((ch["amount_share"] - 1).abs() < 1e-9).all()

    co = t["coholding"]
    assert (co["n_ab"] >= oracle.COHOLD_MIN_PAIR).all()
    assert co.select((pl.col("n_ab") <= pl.min_horizontal("n_a", "n_b")).all()).item()
    assert co.group_by("as_of_date", "market_a", "security_a").len()["len"].max() <= oracle.COHOLD_KEEP


def test_edge_warehouse_reaches_the_edges(edge_warehouse):
    """The edge fixture does exercise what the others do not (else it checks nothing more)."""
    t = expected_tables(edge_warehouse)
    p = t["client_profile"]
    for col in ["gender", "open_channel", "city", "risk_level"]:
        assert (p[col] == "unknown").any(), col
    assert p["age"].null_count() > 0 and (p["age_band"] == "unknown").any()
    assert {"bj", "other"} <= set(p["preferred_board"].drop_nulls())
    assert (t["channel_period"]["channel"] == "unknown").any()
    cats = t["attribute_profile"]
    assert ((cats["attribute"] == "preferred_board") & (cats["category"] == "none")).any()
    assert ((cats["attribute"] == "gender") & (cats["category"] == "unknown")).any()
    # a birthday and a tenure anniversary on a session
    ages = p.filter(pl.col("client_id") == "0731000008").select("as_of_date", "age")
    assert ages.filter(pl.col("as_of_date") == dt.date(2024, 10, 14))["age"].item() == 33
    assert ages.filter(pl.col("as_of_date") == dt.date(2024, 10, 15))["age"].item() == 34
    assert set(p.filter(pl.col("client_id") == "0731000001")["tenure_band"]) == {"<1y", "1-3y"}
    # main_channel ties between phone and counter (phone wins)
    inp = oracle.load(edge_warehouse)
    sums = (oracle._window_trades(inp).filter(pl.col("client_id") == "0731000033")
            .group_by("as_of_date", "channel").agg(pl.col("amount").sum())
            .pivot("channel", index="as_of_date", values="amount")
            .filter(pl.col("phone") == pl.col("counter")))
    assert sums.height > 0
    tied = p.join(sums.select("as_of_date", pl.lit("0731000033").alias("client_id")), on=["as_of_date", "client_id"])
    assert (tied["main_channel"] == "phone").all()
    # a churned client counted in churned_60 under a category no client on D has any more
    churned = oracle._churned_60(inp, p)
    gone = churned.join(cats, on=["as_of_date", "attribute", "category"], how="anti")
    assert gone.filter(pl.col("category") == "衡阳").height > 0
