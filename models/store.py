"""Reads and writes of the models in the warehouse (SQL in sql/features/ and sql/marts/,
bound parameters).

Every write replaces one session's rows; the callers wrap a session in a transaction.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core.config import ChurnConfig
from core.db import run_file, run_sql, sql_text

from . import churn

MODEL_RUN_COLUMNS = ("run_at", "model", "version", "as_of_date", "train_start", "train_end",
                     "rows_train", "metric_name", "metric_value", "note")


def segment_features(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Stored behavioural features of every client on start..end, sorted by day and client."""
    return run_file(con, "features/segment_features", {"start": start, "end": end}).pl().sort("as_of_date", "client_id")


def churn_features(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pl.DataFrame:
    return run_file(con, "features/churn_features", {"start": start, "end": end}).pl().sort("as_of_date", "client_id")


def churn_training_set(con: duckdb.DuckDBPyConnection, start: dt.date, day: dt.date,
                       config: ChurnConfig) -> pl.DataFrame:
    """Labelled client-days of start..day whose horizon ends by `day` (nothing after `day` is read).

    Positives and negatives subsampled (deterministic hash) to about config.max_positives
    and config.max_negatives, each weighted back by 1 / its rate. Raises churn.NotEnoughData
    before reading features when the labels cannot support a fit (the same limits as
    churn.train_churn). Labels and the sample are streamed, never materialised: a year at
    200k clients is 50 M client-days.
    """
    horizon = config.horizon
    labels = sql_text("features/churn_labels")
    bound = {"start": start, "end": day, "known_until": day, "horizon": horizon}
    sessions, churners, positives, negatives, last = run_sql(con, (
        "select count(distinct as_of_date), count(distinct client_id) filter (where label), "
        "count(*) filter (where label), count(*) filter (where not label), max(as_of_date) "
        f"from ({labels}) where complete"), bound).fetchone()
    if not sessions:
        raise churn.NotEnoughData(f"no session before {day} has its {horizon}-session future known yet")
    if sessions < churn.fit_sessions(config):
        raise churn.NotEnoughData(f"only {sessions} labelled sessions (< {churn.fit_sessions(config)}: "
                                  f"{config.min_label_sessions} to train, {config.valid_sessions} to compare "
                                  f"with the rule)")
    if churners < config.min_positive_clients:
        raise churn.NotEnoughData(f"only {churners} churning clients in the labels (< {config.min_positive_clients})"
                                  if churners else "no positive label (no churn_event) in the labelled sessions")
    rates = {"rate_pos": min(1.0, config.max_positives / positives),
             "rate_neg": min(1.0, config.max_negatives / max(negatives, 1))}
    # The labels' SQL (a file, not data) becomes a subquery; values are bound parameters.
    sql = (
        "select * exclude (rate, draw), 1.0 / rate as weight from ("
        "select f.*, l.label, case when l.label then $rate_pos else $rate_neg end as rate, "
        "(hash(l.client_id, l.as_of_date, $seed) % 1000000) / 1000000 as draw "
        f"from ({sql_text('features/churn_features')}) as f "
        f"inner join ({labels}) as l using (as_of_date, client_id) where l.complete"
        ") where draw < rate"
    )
    frame = run_sql(con, sql, {**bound, "end": last, **rates, "seed": config.random_state}).pl()
    return frame.sort("as_of_date", "client_id")


def previous_segments(con: duckdb.DuckDBPyConnection, day: dt.date) -> pl.DataFrame:
    """client_id, segment on the session before `day` (empty on the first session)."""
    prev = con.execute("select prev_session from ref.sessions where session_date = $day", {"day": day}).fetchone()
    # the date as a value, not a subquery: DuckDB then reads only that session's row groups
    return con.execute("select client_id, segment from mart.client_segments where as_of_date = $prev",
                       {"prev": prev[0] if prev else None}).pl()


def write_segments(con: duckdb.DuckDBPyConnection, day: dt.date, segments: pl.DataFrame,
                   features: pl.DataFrame, model_version: str, window: int) -> None:
    """segment of every client on `day`, then the day's segment_profile and transitions."""
    _replace_day(con, "mart.client_segments", day,
                 segments.select("client_id", "segment").with_columns(model_version=pl.lit(model_version)))
    con.register("segment_features_day", features.to_arrow())
    try:
        con.execute("delete from mart.segment_profile where as_of_date = $day", {"day": day})
        run_sql(con, "insert into mart.segment_profile by name " + sql_text("marts/segment_profile"),
                {"day": day, "model_version": model_version})
    finally:
        con.unregister("segment_features_day")
    con.execute("delete from mart.segment_transitions where as_of_date = $day", {"day": day})
    run_sql(con, "insert into mart.segment_transitions by name " + sql_text("marts/segment_transitions"),
            {"day": day, "window": window})


def write_churn(con: duckdb.DuckDBPyConnection, day: dt.date, scores: pl.DataFrame,
                drivers: pl.DataFrame, model_version: str) -> None:
    """churn_risk of every client on `day` and the day's mart.churn_drivers."""
    _replace_day(con, "mart.churn_scores", day,
                 scores.select("client_id", "churn_risk").with_columns(model_version=pl.lit(model_version)))
    _replace_day(con, "mart.churn_drivers", day, drivers)


def _replace_day(con: duckdb.DuckDBPyConnection, table: str, day: dt.date, frame: pl.DataFrame) -> None:
    """The rows of `table` on `day` become `frame` (stamped with as_of_date = day)."""
    con.execute(f"delete from {table} where as_of_date = $day", {"day": day})
    con.register("day_rows", frame.with_columns(as_of_date=pl.lit(day)).to_arrow())
    try:
        con.execute(f"insert into {table} by name select * from day_rows")
    finally:
        con.unregister("day_rows")


def delete_model_runs(con: duckdb.DuckDBPyConnection, model: str, day: dt.date) -> None:
    con.execute(f"delete from model.{model}_runs where as_of_date = $day", {"day": day})


def write_model_runs(con: duckdb.DuckDBPyConnection, model: str, rows: list[dict]) -> None:
    """Rows of model.<model>_runs (long format: one metric per row)."""
    if not rows:
        return
    frame = pl.DataFrame([{c: r.get(c) for c in MODEL_RUN_COLUMNS} for r in rows], schema={
        "run_at": pl.Datetime("us"), "model": pl.String, "version": pl.String, "as_of_date": pl.Date,
        "train_start": pl.Date, "train_end": pl.Date, "rows_train": pl.Int64, "metric_name": pl.String,
        "metric_value": pl.Float64, "note": pl.String,
    })
    con.register("model_runs_new", frame.to_arrow())
    try:
        con.execute(f"insert into model.{model}_runs by name select * from model_runs_new")
    finally:
        con.unregister("model_runs_new")
