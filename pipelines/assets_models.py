"""Dagster assets of the models: segments, churn risk and indicator correlations.

Each asset runs its partition range in one run and processes the sessions IN ORDER: the
model in force on a day depends on the days before (fit schedule, hysteresis). One DuckDB
transaction per session. The logic lives in models/ (see docs/models.md); these assets
read, call it, write and report.
"""

import datetime as dt
import time
from functools import partial

import dagster as dg
import numpy as np
import polars as pl
from dagster_duckdb import DuckDBResource
from threadpoolctl import threadpool_limits

from models import churn, segmentation, store
from models.config import ChurnConfig, SegmentationConfig
from models.registry import load_model, model_dir, save_model

from .assets import CHUNK_SESSIONS, POOL, SINGLE_RUN, _prev
from .checks import Check, unique_key
from .config import IndicatorConfig
from .partitions import chunks, range_sessions, session_partitions
from .sessions import TradingCalendar, trading_calendar
from .warehouse import ensure_schema, transaction

INDICATORS = dg.AssetKey(["mart", "client_indicators"])
FEATURES_KEY = dg.AssetKey(["mart", "client_features"])
DAILY = dg.AssetKey(["mart", "client_daily"])
SEGMENTS_KEY = dg.AssetKey(["mart", "client_segments"])
CHURN_KEY = dg.AssetKey(["mart", "churn_risk"])
CORRELATION_KEY = dg.AssetKey(["mart", "indicator_correlation"])
GROUP = "models"
KINDS = {"duckdb", "scikitlearn"}
# Features read up to `lookback` sessions back; training reads all earlier labelled sessions.
HISTORY = 60

FEATURE_CHECKS = [unique_key("client_features", ["as_of_date", "client_id"])]

SEGMENT_CHECKS = [
    Check("segment_filled", "every client row of the run's sessions has one of the four segments",
          "select as_of_date, client_id, segment from mart.client_indicators "
          "where as_of_date between $start and $end and (segment is null or segment not in "
          "('stable', 'aggressive', 'conservative', 'inactive'))"),
    unique_key("segment_profile", ["as_of_date", "segment"]),
]
CHURN_CHECKS = [
    Check("churn_risk_in_range", "every client row of the run's sessions has churn_risk in [0, 1]",
          "select as_of_date, client_id, churn_risk from mart.client_indicators "
          "where as_of_date between $start and $end and (churn_risk is null or churn_risk < 0 or churn_risk > 1)"),
    unique_key("churn_drivers", ["as_of_date", "client_id"]),
]
CORRELATION_CHECKS = [unique_key("indicator_correlation", ["as_of_date", "indicator_a", "indicator_b"])]


def _month_start(cal: TradingCalendar, day: dt.date) -> bool:
    """The first session of a calendar month (or of the calendar)."""
    i = cal.index(day)
    return i == 0 or cal.sessions[i - 1].month != day.month


def _session_back(cal: TradingCalendar, day: dt.date, n: int) -> dt.date:
    return cal.sessions[max(cal.index(day) - n, 0)]


def _current_model(con, folder, name: str, day: dt.date):
    """The model in force before `day`: latest fit recorded in mart.model_runs, from disk."""
    version = store.latest_version(con, name, day)
    return load_model(folder, name, version) if version else None


def _each_day(con, days: list[dt.date], read, step, model):
    """Read stored features a chunk at a time; run step(day, features, model) -> (model, stats)
    for each day in order, one transaction per day. Returns the last model and the stats."""
    stats = []
    for chunk in chunks(days, CHUNK_SESSIONS):
        feats = read(con, chunk[0], chunk[-1])
        for day in chunk:
            with transaction(con):
                model, s = step(day, feats.filter(pl.col("as_of_date") == day), model)
            stats.append(s)
    return model, stats


# ---- features -----------------------------------------------------------------------
@dg.asset(
    key=FEATURES_KEY, deps=[_prev(INDICATORS, HISTORY), _prev(DAILY, HISTORY)],
    partitions_def=session_partitions, backfill_policy=SINGLE_RUN, pool=POOL, group_name=GROUP, kinds={"duckdb"},
    check_specs=[c.spec(FEATURES_KEY) for c in FEATURE_CHECKS],
)
def client_features(context: dg.AssetExecutionContext, duckdb: DuckDBResource, indicators: IndicatorConfig):
    """The models' inputs per client and session (window behaviour, stored once for scoring and fits)."""
    days, params, rows = range_sessions(context), indicators.params(), 0
    with duckdb.get_connection() as con:
        ensure_schema(con, trading_calendar())
        for chunk in chunks(days, CHUNK_SESSIONS):
            rows += store.rebuild_features(con, chunk[0], chunk[-1], params)
        results = [c.evaluate(con, FEATURES_KEY, {"start": days[0], "end": days[-1]}) for c in FEATURE_CHECKS]
    yield dg.MaterializeResult(metadata={"rows": rows, "sessions": len(days)})
    yield from results


# ---- segmentation -------------------------------------------------------------------
def _segment_fit_rows(model: segmentation.SegmentModel, day: dt.date, start: dt.date, reason: str,
                      drift: float | None) -> list[dict]:
    names = ", ".join(f"c{i}={n}" for i, n in enumerate(model.names))
    matched = f"; matched to the previous clusters {model.matched}" if model.matched is not None else ""
    note = f"refit: {reason}; k={model.k} (best silhouette among k>=k_min); {names}{matched}"
    base = {"run_at": dt.datetime.now(), "model": "segmentation", "version": model.version, "as_of_date": day,
            "train_start": start, "train_end": day, "rows_train": model.rows_fit, "note": note}
    metrics = {**model.scores, **({"drift_before_refit": drift} if drift is not None else {})}
    return [{**base, "metric_name": k, "metric_value": v} for k, v in metrics.items()]


def _segment_day(day, feats: pl.DataFrame, model, *, con, cal, config: SegmentationConfig, folder, window: int,
                 lookback: int, log) -> tuple[object, dict]:
    """Refit if due, assign every client of `day`, write segment, profile and transitions."""
    eligible = feats["eligible"].to_numpy()
    x = feats.filter(pl.col("eligible")).select(segmentation.FEATURES).to_numpy()
    store.delete_model_runs(con, "segmentation", day)
    reason = segmentation.refit_reason(model, x, _month_start(cal, day), config)
    fitted = None
    if reason:
        drift = model.drift(x) if model is not None else None
        model = segmentation.fit_segmentation(x, day.isoformat(), config, previous=model)
        save_model(model, folder, "segmentation", model.version)
        store.write_model_runs(con, _segment_fit_rows(model, day, _session_back(cal, day, lookback - 1),
                                                      reason, drift))
        fitted = {"day": day.isoformat(), "reason": reason, "k": model.k, "names": model.names}
        log.info(f"{day}: segmentation refit ({reason}): k={model.k} {model.names}")
    prev = feats.select("client_id").join(store.previous_segments(con, day), on="client_id", how="left",
                                          maintain_order="left")["segment"].to_numpy()[eligible]
    if model is None:
        labels, version = segmentation.rule_segments(x), segmentation.RULE_VERSION
        log.warning(f"{day}: {len(x)} eligible clients (< {config.min_fit_clients}) and no model: "
                    "segments by risk-appetite terciles")
    else:
        labels = segmentation.assign_segments(model, x, prev, config.hysteresis)
        version = model.version
    segment = np.full(len(feats), segmentation.INACTIVE, dtype=object)
    segment[eligible] = labels
    store.write_segments(con, day, pl.DataFrame({"client_id": feats["client_id"], "segment": segment.tolist()}),
                         feats, version, window)
    had = np.isin(prev, segmentation.SEGMENTS)
    stats = {"day": day, "eligible": int(eligible.sum()), "compared": int(had.sum()),
             "flips": int((labels[had] != prev[had]).sum()), "fitted": fitted,
             "counts": dict(zip(*np.unique(segment.astype(str), return_counts=True)))}
    return model, stats


@dg.asset(
    key=SEGMENTS_KEY, deps=[FEATURES_KEY, INDICATORS],
    partitions_def=session_partitions, backfill_policy=SINGLE_RUN, pool=POOL, group_name=GROUP, kinds=KINDS,
    check_specs=[c.spec(SEGMENTS_KEY) for c in SEGMENT_CHECKS],
)
def client_segments(context: dg.AssetExecutionContext, duckdb: DuckDBResource, indicators: IndicatorConfig,
                    config: SegmentationConfig):
    """Segment of every client per session (k-means on behaviour, stable names), with profile and transitions."""
    cal, days, t0 = trading_calendar(), range_sessions(context), time.perf_counter()
    folder = model_dir(duckdb.database)
    with duckdb.get_connection() as con, threadpool_limits(config.threads):
        ensure_schema(con, cal)
        step = partial(_segment_day, con=con, cal=cal, config=config, folder=folder, window=indicators.window,
                       lookback=indicators.lookback, log=context.log)
        model, stats = _each_day(con, days, store.segment_features, step,
                                 _current_model(con, folder, "segmentation", days[0]))
        results = [c.evaluate(con, SEGMENTS_KEY, {"start": days[0], "end": days[-1]}) for c in SEGMENT_CHECKS]
    compared = sum(s["compared"] for s in stats)
    fits = [s["fitted"] for s in stats if s["fitted"]]
    last_fit = model.scores if model is not None else {}
    yield dg.MaterializeResult(metadata={
        "sessions": len(days),
        "seconds": round(time.perf_counter() - t0, 1),
        "model_version": model.version if model is not None else segmentation.RULE_VERSION,
        "refits": dg.MetadataValue.json(fits),
        "k": int(last_fit.get("k", 0)),
        "k_scores": dg.MetadataValue.json({k: round(v, 4) for k, v in last_fit.items() if k != "k"}),
        "segments_last_session": dg.MetadataValue.json({k: int(v) for k, v in stats[-1]["counts"].items()}),
        "daily_flip_rate": round(sum(s["flips"] for s in stats) / compared, 4) if compared else 0.0,
    })
    yield from results


# ---- churn --------------------------------------------------------------------------
def _churn_rows(model: churn.ChurnModel, day: dt.date, frame: pl.DataFrame | None, rows_scored: int) -> list[dict]:
    base = {"run_at": dt.datetime.now(), "model": "churn", "version": model.version, "as_of_date": day,
            "note": model.note}
    if frame is None:  # the rule: one row saying why, per session scored with it
        return [{**base, "rows_train": 0, "metric_name": "rows_scored", "metric_value": float(rows_scored)}]
    base.update(train_start=frame["as_of_date"].min(), train_end=frame["as_of_date"].max(), rows_train=frame.height)
    return [{**base, "metric_name": k, "metric_value": v} for k, v in model.metrics.items()]


def _churn_day(day, feats: pl.DataFrame, model, *, con, cal, config: ChurnConfig, folder, log):
    """Refit if due (or fall back to the rule), score every client of `day`, write drivers."""
    store.delete_model_runs(con, "churn", day)
    fitted = None
    if model is None or model.version == churn.RULE_VERSION or _month_start(cal, day):
        start = _session_back(cal, day, config.train_sessions + config.horizon - 1)
        try:
            frame = store.churn_training_set(con, start, day, config)
            model = churn.train_churn(frame, day.isoformat(), config)
            save_model(model, folder, "churn", model.version)
            store.write_model_runs(con, _churn_rows(model, day, frame, 0))
            fitted = {"day": day.isoformat(), **{k: round(v, 4) for k, v in model.metrics.items()}}
            log.info(f"{day}: churn model fitted on {frame.height} client-days: {model.metrics}")
        except churn.NotEnoughData as exc:
            if model is None or model.version == churn.RULE_VERSION:
                model = churn.rule_model(f"fallback rule score: {exc}")
                log.warning(f"{day}: churn model not fitted ({exc}); churn_risk is the documented rule score")
            else:
                log.warning(f"{day}: churn refit skipped ({exc}); keeping version {model.version}")
    x = feats.select(churn.FEATURES).to_numpy().astype(float)
    risk = np.clip(model.score(x), 0.0, 1.0) if len(x) else np.zeros(0)
    ids = feats["client_id"].to_list()
    if model.version == churn.RULE_VERSION:
        store.write_model_runs(con, _churn_rows(model, day, None, len(x)))
    drivers = churn.drivers_frame(model, ids, x, risk, config.drivers_top)
    store.write_churn(con, day, pl.DataFrame({"client_id": ids, "churn_risk": risk}), drivers)
    return model, {"day": day, "fitted": fitted, "rule": model.version == churn.RULE_VERSION}


@dg.asset(
    key=CHURN_KEY, deps=[FEATURES_KEY, _prev(INDICATORS, HISTORY)],
    partitions_def=session_partitions, backfill_policy=SINGLE_RUN, pool=POOL, group_name=GROUP, kinds=KINDS,
    check_specs=[c.spec(CHURN_KEY) for c in CHURN_CHECKS],
)
def churn_risk(context: dg.AssetExecutionContext, duckdb: DuckDBResource, config: ChurnConfig):
    """Probability of churn within 20 sessions for every client per session, with the top drivers."""
    cal, days, t0 = trading_calendar(), range_sessions(context), time.perf_counter()
    folder = model_dir(duckdb.database)
    with duckdb.get_connection() as con, threadpool_limits(config.threads):
        ensure_schema(con, cal)
        step = partial(_churn_day, con=con, cal=cal, config=config, folder=folder, log=context.log)
        model, stats = _each_day(con, days, store.churn_features, step, _current_model(con, folder, "churn", days[0]))
        results = [c.evaluate(con, CHURN_KEY, {"start": days[0], "end": days[-1]}) for c in CHURN_CHECKS]
    metrics = {k: round(v, 4) for k, v in model.metrics.items()}
    yield dg.MaterializeResult(metadata={
        "sessions": len(days),
        "seconds": round(time.perf_counter() - t0, 1),
        "model_version": model.version,
        "fits": dg.MetadataValue.json([s["fitted"] for s in stats if s["fitted"]]),
        "fallback_sessions": sum(s["rule"] for s in stats),
        "note": model.note,
        **{f"validation_{k}": v for k, v in metrics.items() if k in ("auc", "ece", "brier", "base_rate")
           or k.startswith("precision")},
    })
    yield from results


# ---- correlations -------------------------------------------------------------------
@dg.asset(
    key=CORRELATION_KEY, deps=[INDICATORS, CHURN_KEY],
    partitions_def=session_partitions, backfill_policy=SINGLE_RUN, pool=POOL, group_name=GROUP,
    kinds={"duckdb"}, check_specs=[c.spec(CORRELATION_KEY) for c in CORRELATION_CHECKS],
)
def indicator_correlation(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """Spearman correlation between the main indicators (churn_risk included), per session."""
    days = range_sessions(context)
    rows = 0
    with duckdb.get_connection() as con:
        ensure_schema(con, trading_calendar())
        for chunk in chunks(days, CHUNK_SESSIONS):
            with transaction(con):
                rows += store.rebuild_correlation(con, chunk[0], chunk[-1])
        results = [c.evaluate(con, CORRELATION_KEY, {"start": days[0], "end": days[-1]})
                   for c in CORRELATION_CHECKS]
    yield dg.MaterializeResult(metadata={"rows": rows, "sessions": len(days)})
    yield from results


MODEL_ASSETS = [client_features, client_segments, churn_risk, indicator_correlation]
