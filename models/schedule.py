"""When the models refit and how their writers walk the sessions: in order, one
transaction per session, because the model in force on a day depends on the days before."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import polars as pl

from core.build import CHUNK_SESSIONS
from core.db import chunks, transaction
from core.sessions import TradingCalendar


def month_start(cal: TradingCalendar, day: dt.date) -> bool:
    """The first session of a calendar month (or of the calendar)."""
    i = cal.index(day)
    return i == 0 or cal.sessions[i - 1].month != day.month


def session_back(cal: TradingCalendar, day: dt.date, n: int) -> dt.date:
    return cal.sessions[max(cal.index(day) - n, 0)]


def each_day(con: duckdb.DuckDBPyConnection, days: list[dt.date],
             read: Callable[[duckdb.DuckDBPyConnection, dt.date, dt.date], pl.DataFrame], step, model):
    """Read stored features a chunk at a time; run step(day, features, model) -> (model, stats)
    for each day with features, in order, one transaction per day (a session without data,
    e.g. a backfill's downstream partitions after the last extract, is skipped). Returns the
    last model and the stats."""
    stats = []
    for chunk in chunks(days, CHUNK_SESSIONS):
        feats = read(con, chunk[0], chunk[-1])
        for day in chunk:
            today = feats.filter(pl.col("as_of_date") == day)
            if today.is_empty():
                continue
            with transaction(con):
                model, s = step(day, today, model)
            stats.append(s)
    return model, stats
