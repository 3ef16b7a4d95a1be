"""The client_segments writer: segments of every client per session, with the day's
profile and transitions, refitting the clustering when due (models/segmentation.py)."""

from __future__ import annotations

import datetime as dt
import time
from functools import partial

import duckdb
import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from core.build import Job, Written
from core.sessions import trading_calendar

from . import artefacts, segmentation, store
from .schedule import each_day, month_start, session_back

NAME = "segmentation"


def _fit_rows(model: segmentation.SegmentModel, day: dt.date, start: dt.date, reason: str,
              drift: float | None) -> list[dict]:
    names = ", ".join(f"c{i}={n}" for i, n in enumerate(model.names))
    matched = f"; matched to the previous clusters {model.matched}" if model.matched is not None else ""
    note = f"refit: {reason}; k={model.k} (best silhouette among k>=k_min); {names}{matched}"
    base = {"run_at": dt.datetime.now(), "model": NAME, "version": model.version, "as_of_date": day,
            "train_start": start, "train_end": day, "rows_train": model.rows_fit, "note": note}
    metrics = {**model.scores, **({"drift_before_refit": drift} if drift is not None else {})}
    return [{**base, "metric_name": k, "metric_value": v} for k, v in metrics.items()]


def _segment_day(day, feats: pl.DataFrame, model, *, con, cal, job: Job) -> tuple[object, dict]:
    """Refit if due, assign every client of `day`, write segment, profile and transitions."""
    config, ind = job.settings.segmentation, job.settings.indicators
    eligible = feats["eligible"].to_numpy()
    x = feats.filter(pl.col("eligible")).select(segmentation.FEATURES).to_numpy()
    store.delete_model_runs(con, NAME, day)
    artefacts.delete_from(con, NAME, day)
    reason = segmentation.refit_reason(model, x, month_start(cal, day), config)
    fitted = None
    if reason:
        drift = model.drift(x) if model is not None else None
        model = segmentation.fit_segmentation(x, day.isoformat(), config, previous=model)
        artefacts.save_model(con, NAME, model.version, day, model)
        store.write_model_runs(con, NAME, _fit_rows(model, day, session_back(cal, day, ind.lookback - 1),
                                                    reason, drift))
        fitted = {"day": day.isoformat(), "reason": reason, "k": model.k, "names": model.names}
        job.log.info(f"{day}: segmentation refit ({reason}): k={model.k} {model.names}")
    prev = feats.select("client_id").join(store.previous_segments(con, day), on="client_id", how="left",
                                          maintain_order="left")["segment"].to_numpy()[eligible]
    if model is None:
        labels, version = segmentation.rule_segments(x), segmentation.RULE_VERSION
        job.log.warning(f"{day}: {len(x)} eligible clients (< {config.min_fit_clients}) and no model: "
                        "segments by risk-appetite terciles")
    else:
        labels = segmentation.assign_segments(model, x, prev, config.hysteresis)
        version = model.version
    segment = np.full(len(feats), segmentation.INACTIVE, dtype=object)
    segment[eligible] = labels
    store.write_segments(con, day, pl.DataFrame({"client_id": feats["client_id"], "segment": segment.tolist()}),
                         feats, version, ind.window)
    had = np.isin(prev, segmentation.SEGMENTS)
    stats = {"day": day, "eligible": int(eligible.sum()), "compared": int(had.sum()),
             "flips": int((labels[had] != prev[had]).sum()), "fitted": fitted, "rows": len(feats),
             "counts": dict(zip(*np.unique(segment.astype(str), return_counts=True)))}
    return model, stats


def build_segments(con: duckdb.DuckDBPyConnection, days: list[dt.date], job: Job) -> Written:
    """Segments of `days` in order; the model in force before the first is the warehouse's."""
    cal, t0 = trading_calendar(), time.perf_counter()
    with threadpool_limits(job.settings.segmentation.threads):
        step = partial(_segment_day, con=con, cal=cal, job=job)
        model, stats = each_day(con, days, store.segment_features, step,
                                artefacts.model_in_force(con, NAME, days[0]))
    compared = sum(s["compared"] for s in stats)
    last_fit = model.scores if model is not None else {}
    summary = {
        "sessions": len(days),
        "seconds": round(time.perf_counter() - t0, 1),
        "model_version": model.version if model is not None else segmentation.RULE_VERSION,
        "refits": [s["fitted"] for s in stats if s["fitted"]],
        "k": int(last_fit.get("k", 0)),
        "k_scores": {k: round(v, 4) for k, v in last_fit.items() if k != "k"},
        "segments_last_session": {k: int(v) for k, v in stats[-1]["counts"].items()} if stats else {},
        "daily_flip_rate": round(sum(s["flips"] for s in stats) / compared, 4) if compared else 0.0,
    }
    return Written({"mart.client_segments": sum(s["rows"] for s in stats)}, {"mart.client_segments": summary})
