"""Measure the models on a generated branch against its planted truth.

    python -m models.evaluate --warehouse W --truth EXTRACTS/_truth/personas.parquet

Prints three acceptance numbers (docs/models.md, "Acceptance"):
  1. adjusted Rand index of the stored segments vs the planted stable / aggressive /
     conservative personas (eligible clients with one of those personas), on the last
     session and a few earlier ones;
  2. day-to-day segment flips among clients eligible on both days whose features all moved
     by less than 5 % of their population range (5th-95th percentile) that day;
  3. churn AUC of the stored churn_risk on the last `horizon` sessions whose label is known
     (scored each day by the model in force then, fitted on earlier labels only).
Reads the warehouse read-only.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from sklearn.metrics import adjusted_rand_score

from core.config import ChurnConfig, IndicatorConfig
from core.db import connect, run_sql, sql_text

from . import churn, segmentation

MOVED_SHARE = 0.05


def sessions(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    return [r[0] for r in con.execute(
        "select distinct as_of_date from mart.client_indicators order by 1").fetchall()]


def segment_ari(con, truth: pl.DataFrame, days: list[dt.date]) -> dict[dt.date, tuple[float, int]]:
    """ARI and clients compared per day."""
    out = {}
    planted = truth.filter(pl.col("persona").is_in(segmentation.SEGMENTS)).select("client_id", "persona")
    for day in days:
        seg = con.execute("select client_id, segment from mart.client_indicators "
                          "where as_of_date = $day and segment <> 'inactive'", {"day": day}).pl()
        j = seg.join(planted, on="client_id")
        out[day] = (float(adjusted_rand_score(j["persona"], j["segment"])), j.height)
    return out


def feature_movement(features: pl.DataFrame) -> pl.DataFrame:
    """Per client and day: the largest move of a segmentation feature since the previous
    session, as a share of that feature's 5th-95th percentile range among eligible clients."""
    f = features.sort("client_id", "as_of_date")
    ranges = (features.filter(pl.col("eligible")).group_by("as_of_date")
              .agg([(pl.col(c).quantile(0.95) - pl.col(c).quantile(0.05)).alias(f"r_{c}")
                    for c in segmentation.FEATURES]))
    moves = f.join(ranges, on="as_of_date").with_columns([
        ((pl.col(c) - pl.col(c).shift(1).over("client_id")).abs() / pl.col(f"r_{c}").clip(1e-9)).alias(f"m_{c}")
        for c in segmentation.FEATURES
    ])
    return moves.select("as_of_date", "client_id",
                        moved=pl.max_horizontal([f"m_{c}" for c in segmentation.FEATURES]))


def segment_flips(con, days: list[dt.date], params: dict) -> dict[str, float]:
    """Flip rate among steady clients (all features moved < 5 %) and among all, over `days`."""
    start = days[0]
    features = run_sql(con, sql_text("features/segment_features"), {**params, "start": start, "end": days[-1]}).pl()
    seg = con.execute("select as_of_date, client_id, segment from mart.client_indicators "
                      "where as_of_date between $start and $end", {"start": start, "end": days[-1]}).pl()
    seg = seg.sort("client_id", "as_of_date").with_columns(
        prev=pl.col("segment").shift(1).over("client_id"),
        prev_day=pl.col("as_of_date").shift(1).over("client_id"))
    nxt = dict(zip(days, days[1:]))
    both = seg.filter((pl.col("segment") != "inactive") & pl.col("prev").is_in(segmentation.SEGMENTS)
                      & (pl.col("prev_day").replace_strict(nxt, default=None) == pl.col("as_of_date")))
    both = both.join(feature_movement(features), on=["as_of_date", "client_id"]).filter(
        pl.col("as_of_date") > start)
    steady = both.filter(pl.col("moved") < MOVED_SHARE)
    flips = lambda df: float((df["segment"] != df["prev"]).mean()) if df.height else float("nan")  # noqa: E731
    return {"steady_flip_rate": flips(steady), "steady_pairs": steady.height,
            "all_flip_rate": flips(both), "all_pairs": both.height}


def churn_auc(con, days: list[dt.date], horizon: int, top_share: float) -> dict[str, float]:
    """Metrics of the stored churn_risk on the last `horizon` sessions with a known label."""
    labels = run_sql(con, sql_text("features/churn_labels"),
                     {"start": days[0], "end": days[-1], "known_until": days[-1], "horizon": horizon}).pl()
    known = sorted(labels.filter("complete")["as_of_date"].unique().to_list())[-horizon:]
    if not known:
        return {"auc": float("nan")}
    scores = con.execute("select as_of_date, client_id, churn_risk from mart.client_indicators "
                         "where as_of_date between $a and $b", {"a": known[0], "b": known[-1]}).pl()
    j = scores.join(labels, on=["as_of_date", "client_id"])
    y, p = j["label"].to_numpy().astype(int), j["churn_risk"].to_numpy()
    if y.min() == y.max():
        return {"auc": float("nan"), "sessions": len(known), "positives": int(y.sum())}
    m = churn.evaluate(y, p, np.ones(len(y)), top_share)
    return {**m, "first": known[0], "last": known[-1], "positives": int(y.sum()), "rows": len(y)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", type=Path, required=True)
    ap.add_argument("--truth", type=Path, required=True, help="EXTRACTS/_truth/personas.parquet")
    ap.add_argument("--flip-sessions", type=int, default=60, help="latest sessions for the flip rate")
    args = ap.parse_args(argv)
    indicators, churn_cfg = IndicatorConfig(), ChurnConfig()
    truth = pl.read_parquet(args.truth)
    with connect(args.warehouse, read_only=True) as con:
        days = sessions(con)
        picks = sorted({days[max(len(days) - 1 - k, 0)] for k in (0, 5, 10, 20, 40)})
        ari = segment_ari(con, truth, picks)
        params = indicators.params()
        flips = segment_flips(con, days[-args.flip_sessions - 1:], params)
        auc = churn_auc(con, days, churn_cfg.horizon, churn_cfg.top_share)
        fit = con.execute("select version, metric_name, metric_value from mart.model_runs where model = 'churn' "
                          "and metric_name <> 'rows_scored' qualify as_of_date = max(as_of_date) over ()").pl()
    print(f"warehouse {args.warehouse}: {len(days)} sessions {days[0]}..{days[-1]}")
    print("1. segment ARI vs planted personas (eligible clients, persona stable/aggressive/conservative):")
    for day, (value, n) in ari.items():
        print(f"     {day}: ARI {value:.3f} ({n} clients)")
    print(f"   min ARI {min(v for v, _ in ari.values()):.3f}")
    print(f"2. day-to-day flips over the last {args.flip_sessions} sessions: "
          f"{flips['steady_flip_rate']:.2%} of {flips['steady_pairs']} client-days whose features moved < 5 % "
          f"(all eligible client-days: {flips['all_flip_rate']:.2%} of {flips['all_pairs']})")
    if np.isnan(auc["auc"]):
        print(f"3. churn AUC: not computable ({auc})")
    else:
        print(f"3. churn AUC on held-out sessions {auc['first']}..{auc['last']} (stored churn_risk, "
              f"{auc['positives']} positive of {auc['rows']} client-days): AUC {auc['auc']:.3f}, "
              f"precision top 5% {auc[f'precision_top{round(churn_cfg.top_share * 100)}pct']:.3f}, "
              f"ECE {auc['ece']:.4f}, Brier {auc['brier']:.4f}")
    if fit.height:
        print(f"   latest fit {fit['version'][0]} validation: "
              + ", ".join(f"{n} {v:.4g}" for n, v in zip(fit["metric_name"], fit["metric_value"])))


if __name__ == "__main__":
    main()
