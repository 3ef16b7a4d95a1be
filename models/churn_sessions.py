"""The churn_scores writer: churn risk of every client per session with the top drivers,
refitting the model at each month's first session (models/churn.py).

The rule scores until a fit ranks its held-out rows better than the rule does (the
handover); a fit that does not is logged and dropped, and the rule, calibrated on that fit's
labels (a probability from then on, like a model's), is stored as a version (`rule-<session>`)
so that the next attempt waits for the next month, also in a later run.
"""

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

from . import artefacts, churn, store
from .schedule import each_day, month_start, session_back

NAME = "churn"


def _run_rows(model: churn.ChurnModel, day: dt.date, frame: pl.DataFrame | None, rows_scored: int) -> list[dict]:
    base = {"run_at": dt.datetime.now(), "model": NAME, "version": model.version, "as_of_date": day,
            "note": model.note}
    if frame is None:  # the rule: one row saying why, per session scored with it
        return [{**base, "rows_train": 0, "metric_name": "rows_scored", "metric_value": float(rows_scored)}]
    base.update(train_start=frame["as_of_date"].min(), train_end=frame["as_of_date"].max(), rows_train=frame.height)
    return [{**base, "metric_name": k, "metric_value": v} for k, v in model.metrics.items()]


def _fit_due(model: churn.ChurnModel | None, day: dt.date, cal) -> bool:
    """Every session until a fit could be compared with the rule, then each month's first."""
    return (model is None or (model.version == churn.RULE_VERSION and model.compared_on is None)
            or month_start(cal, day))


def _churn_day(day, feats: pl.DataFrame, model, *, con, cal, job: Job):
    """Refit if due and keep the better ranker of fit and rule, score every client of `day`,
    write drivers."""
    config, log = job.settings.churn, job.log
    store.delete_model_runs(con, NAME, day)
    artefacts.delete_from(con, NAME, day)
    fitted = None
    if _fit_due(model, day, cal):
        start = session_back(cal, day, config.train_sessions + config.horizon - 1)
        try:
            frame = store.churn_training_set(con, start, day, config)
            candidate = churn.train_churn(frame, day.isoformat(), config)
            kept = candidate.beats_rule(config.handover_margin)
            candidate.metrics["handover"] = 1.0 if kept else 0.0
            store.write_model_runs(con, NAME, _run_rows(candidate, day, frame, 0))
            fitted = {"day": day.isoformat(), "kept": kept, **{k: round(v, 4) for k, v in candidate.metrics.items()}}
            if kept:
                model = candidate
                artefacts.save_model(con, NAME, model.version, day, model)
                log.info(f"{day}: churn model fitted on {frame.height} client-days and kept: {model.metrics}")
            else:
                why = (f"held-out AUC {candidate.metrics['auc']:.3f} <= rule {candidate.metrics['auc_rule']:.3f}"
                       f" + margin {config.handover_margin:g}"
                       if "auc" in candidate.metrics else "not validated")
                calibration = candidate.calibration  # the rule calibrated on the fit's labelled rows
                how = "calibrated on its labels" if calibration else "a rank: it does not rise with the labels"
                model = churn.rule_model(f"rule kept: the fit of {day} did not rank better ({why}); {how}",
                                         day.isoformat(), calibration)
                artefacts.save_model(con, NAME, f"{churn.RULE_VERSION}-{day.isoformat()}", day, model)
                log.info(f"{day}: churn fit dropped ({why}); churn_risk stays the rule score, {how}")
        except churn.NotEnoughData as exc:
            # the rank rule (or nothing) in force: the rank rule; a fit or a calibrated rule stays in force
            if model is None or model.version == churn.RULE_VERSION:
                model = churn.rule_model(f"fallback rule score: {exc}", model.compared_on if model else None)
                log.info(f"{day}: churn model not fitted ({exc}); churn_risk is the documented rule score")
            else:
                log.warning(f"{day}: churn refit skipped ({exc}); keeping version {model.version}")
    x = feats.select(churn.FEATURES).to_numpy().astype(float)
    risk = np.clip(model.score(x, config), 0.0, 1.0) if len(x) else np.zeros(0)
    ids = feats["client_id"].to_list()
    if model.is_rule:
        store.write_model_runs(con, NAME, _run_rows(model, day, None, len(x)))
    drivers = churn.drivers_frame(model, ids, x, risk, config)
    store.write_churn(con, day, pl.DataFrame({"client_id": ids, "churn_risk": risk}), drivers, model.version)
    return model, {"day": day, "fitted": fitted, "rule": model.is_rule, "rows": len(ids),
                   "drivers": drivers.height}


def build_churn(con: duckdb.DuckDBPyConnection, days: list[dt.date], job: Job) -> Written:
    """Churn scores of `days` in order; the model in force before the first is the warehouse's."""
    cal, t0 = trading_calendar(), time.perf_counter()
    with threadpool_limits(job.settings.churn.threads):
        step = partial(_churn_day, con=con, cal=cal, job=job)
        model, stats = each_day(con, days, store.churn_features, step, artefacts.model_in_force(con, NAME, days[0]))
    metrics = {k: round(v, 4) for k, v in model.metrics.items()} if model is not None else {}
    summary = {
        "sessions": len(days),
        "seconds": round(time.perf_counter() - t0, 1),
        "model_version": model.version if model is not None else "none",
        "fits": [s["fitted"] for s in stats if s["fitted"]],
        "fits_kept": sum(bool(s["fitted"] and s["fitted"]["kept"]) for s in stats),
        "fallback_sessions": sum(s["rule"] for s in stats),
        "note": model.note if model is not None else "no session with data",
        **{f"validation_{k}": v for k, v in metrics.items() if k in ("auc", "ece", "brier", "base_rate")
           or k.startswith("precision")},
    }
    return Written({"mart.churn_scores": sum(s["rows"] for s in stats),
                    "mart.churn_drivers": sum(s["drivers"] for s in stats)}, {"mart.churn_scores": summary})
