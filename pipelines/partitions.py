"""The partitions of a warehouse: one per XSHG session (weekdays, holidays excluded), from
the warehouse's first session, so the UI shows the range the data can cover and not years
before it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from core.sessions import trading_calendar


def first_session(configured: dt.date | None, extracts: Path | None) -> dt.date:
    """The configured first session, else the earliest session folder of the extracts, else
    the calendar's first session (a session on or after the date found)."""
    cal = trading_calendar()
    day = configured
    if day is None and extracts is not None and Path(extracts).is_dir():
        names = []
        for folder in Path(extracts).iterdir():
            try:
                names.append(dt.date.fromisoformat(folder.name))
            except ValueError:
                continue  # not a day folder: the raw load reports it
        day = min(names, default=None)
    if day is None or day <= cal.first:
        return cal.first
    return cal.between(day, cal.last)[0]


def session_partitions(first: dt.date) -> dg.TimeWindowPartitionsDefinition:
    """One partition per session from `first`: weekday windows whose exclusions are the
    weekday holidays.

    Not daily windows excluding weekends too: Dagster maps a partition offset one partition
    at a time, re-reading every exclusion at each step, and our reads reach a year (PERIODS)
    or back to the first session (FIRST). Weekdays leave ~15 exclusions a year, not ~115
    (docs/operations.md: the daemon's backfill evaluation 57 -> 34 s). The keys are the same;
    on a weekend the newest partition is Friday's, not the next Monday's.
    """
    cal = trading_calendar()
    return dg.TimeWindowPartitionsDefinition(
        start=dt.datetime.combine(first, dt.time()),
        end=dt.datetime.combine(cal.last + dt.timedelta(days=1), dt.time()),
        cron_schedule="0 0 * * 1-5",
        fmt="%Y-%m-%d",
        timezone="Asia/Shanghai",
        # the day's own session exists from its midnight, so the 18:00 run can target it
        end_offset=1,
        # Explicit dates, not a cron: Dagster iterates cron exclusions from the start date on
        # every range lookup (measured: 1.2 s per lookup over three years).
        exclusions=[dt.datetime.combine(d, dt.time()) for d in cal.closed_days if d >= first and d.weekday() < 5],
    )


def range_sessions(context: dg.AssetExecutionContext) -> list[dt.date]:
    """Sessions of the run's partition range, in order (one partition or a single-run backfill)."""
    r = context.partition_key_range
    return trading_calendar().between(dt.date.fromisoformat(r.start), dt.date.fromisoformat(r.end))
