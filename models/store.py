"""Reads and writes of the models in the warehouse (SQL in sql/models/, bound parameters).

Every write replaces one session's rows; the callers wrap a session in a transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import duckdb
import polars as pl

from pipelines.warehouse import BY_DAY, replace_rows, run_sql, sql_text

from . import churn, correlation
from .config import ChurnConfig

MODEL_RUN_COLUMNS = ("run_at", "model", "version", "as_of_date", "train_start", "train_end",
                     "rows_train", "metric_name", "metric_value", "note")


def rebuild_features(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
                     params: Mapping[str, object]) -> int:
    """Replace mart.client_features of start..end (sql/models/client_features.sql); rows written."""
    return replace_rows(con, "mart.client_features", "models/client_features", BY_DAY, start, end, params)


def segment_features(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Stored behavioural features of every client on start..end, sorted by day and client."""
    sql = sql_text("models/segment_features")
    return run_sql(con, sql, {"start": start, "end": end}).pl().sort("as_of_date", "client_id")


def churn_features(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pl.DataFrame:
    sql = sql_text("models/churn_features")
    return run_sql(con, sql, {"start": start, "end": end}).pl().sort("as_of_date", "client_id")


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
    labels = sql_text("models/churn_labels")
    bound = {"start": start, "end": day, "known_until": day, "horizon": horizon}
    sessions, churners, positives, negatives, last = run_sql(con, (
        "select count(distinct as_of_date), count(distinct client_id) filter (where label), "
        "count(*) filter (where label), count(*) filter (where not label), max(as_of_date) "
        f"from ({labels}) where complete"), bound).fetchone()
    if not sessions:
        raise churn.NotEnoughData(f"no session before {day} has its {horizon}-session future known yet")
    if sessions < config.min_label_sessions:
        raise churn.NotEnoughData(f"only {sessions} labelled sessions (< {config.min_label_sessions})")
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
        f"from ({sql_text('models/churn_features')}) as f "
        f"inner join ({labels}) as l using (as_of_date, client_id) where l.complete"
        ") where draw < rate"
    )
    frame = run_sql(con, sql, {**bound, "end": last, **rates, "seed": config.random_state}).pl()
    return frame.sort("as_of_date", "client_id")


def previous_segments(con: duckdb.DuckDBPyConnection, day: dt.date) -> pl.DataFrame:
    """client_id, segment on the session before `day` (empty on the first session)."""
    return con.execute(
        "select client_id, segment from mart.client_indicators "
        "where as_of_date = (select prev_session from ref.sessions where session_date = $day)",
        {"day": day},
    ).pl()


def latest_version(con: duckdb.DuckDBPyConnection, model: str, before: dt.date) -> str | None:
    """Version of the latest fit of `model` on a session before `before` (rule rows excluded)."""
    row = con.execute(
        "select version from mart.model_runs where model = $model and as_of_date < $before "
        "and version <> 'rule' and rows_train > 0 order by as_of_date desc, run_at desc limit 1",
        {"model": model, "before": before},
    ).fetchone()
    return row[0] if row else None


def _update_column(con, day: dt.date, column: str, frame: pl.DataFrame) -> None:
    """Set one model column (segment or churn_risk: callers pass a constant) for `day`."""
    con.register("model_output", frame.to_arrow())
    try:
        con.execute(
            f"update mart.client_indicators as i set {column} = o.{column} from model_output as o "
            "where i.as_of_date = $day and i.client_id = o.client_id",
            {"day": day},
        )
    finally:
        con.unregister("model_output")


def write_segments(con: duckdb.DuckDBPyConnection, day: dt.date, segments: pl.DataFrame,
                   features: pl.DataFrame, model_version: str, window: int) -> None:
    """segment of every client on `day`, then the day's segment_profile and transitions."""
    _update_column(con, day, "segment", segments.select("client_id", "segment"))
    con.register("segment_features_day", features.to_arrow())
    try:
        con.execute("delete from mart.segment_profile where as_of_date = $day", {"day": day})
        run_sql(con, "insert into mart.segment_profile by name " + sql_text("models/segment_profile"),
                {"day": day, "model_version": model_version})
    finally:
        con.unregister("segment_features_day")
    con.execute("delete from mart.segment_transitions where as_of_date = $day", {"day": day})
    run_sql(con, "insert into mart.segment_transitions by name " + sql_text("models/segment_transitions"),
            {"day": day, "window": window})


def write_churn(con: duckdb.DuckDBPyConnection, day: dt.date, scores: pl.DataFrame,
                drivers: pl.DataFrame) -> None:
    """churn_risk of every client on `day` and the day's mart.churn_drivers."""
    _update_column(con, day, "churn_risk", scores.select("client_id", "churn_risk"))
    con.execute("delete from mart.churn_drivers where as_of_date = $day", {"day": day})
    con.register("drivers_day", drivers.with_columns(as_of_date=pl.lit(day)).to_arrow())
    try:
        con.execute("insert into mart.churn_drivers by name select * from drivers_day")
    finally:
        con.unregister("drivers_day")


def delete_model_runs(con: duckdb.DuckDBPyConnection, model: str, day: dt.date) -> None:
    con.execute("delete from mart.model_runs where model = $model and as_of_date = $day",
                {"model": model, "day": day})


def write_model_runs(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """Rows of mart.model_runs (long format: one metric per row)."""
    if not rows:
        return
    frame = pl.DataFrame([{c: r.get(c) for c in MODEL_RUN_COLUMNS} for r in rows], schema={
        "run_at": pl.Datetime("us"), "model": pl.String, "version": pl.String, "as_of_date": pl.Date,
        "train_start": pl.Date, "train_end": pl.Date, "rows_train": pl.Int64, "metric_name": pl.String,
        "metric_value": pl.Float64, "note": pl.String,
    })
    con.register("model_runs_new", frame.to_arrow())
    try:
        con.execute("insert into mart.model_runs by name select * from model_runs_new")
    finally:
        con.unregister("model_runs_new")


def rebuild_correlation(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> int:
    """Replace mart.indicator_correlation for start..end; return the rows written."""
    values = run_sql(con, sql_text("models/correlation_inputs"), {"start": start, "end": end}).pl()
    result = correlation.spearman_by_day(values)
    con.execute("delete from mart.indicator_correlation where as_of_date between $start and $end",
                {"start": start, "end": end})
    con.register("correlation_new", result.to_arrow())
    try:
        con.execute("insert into mart.indicator_correlation by name select * from correlation_new")
    finally:
        con.unregister("correlation_new")
    return result.height
