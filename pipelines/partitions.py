"""The one partitions definition: a partition per XSHG session (weekends, holidays excluded)."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from core.sessions import trading_calendar

_cal = trading_calendar()

session_partitions = dg.DailyPartitionsDefinition(
    start_date=dt.datetime.combine(_cal.first, dt.time()),
    end_date=dt.datetime.combine(_cal.last + dt.timedelta(days=1), dt.time()),
    timezone="Asia/Shanghai",
    # the day's own session exists from its midnight, so the 18:00 run can target it
    end_offset=1,
    # Explicit dates, not a weekend cron: Dagster iterates cron exclusions from the start
    # date on every range lookup (measured: 1.2 s per lookup over three years).
    exclusions=[dt.datetime.combine(d, dt.time()) for d in _cal.closed_days],
)


def range_sessions(context: dg.AssetExecutionContext) -> list[dt.date]:
    """Sessions of the run's partition range, in order (one partition or a single-run backfill)."""
    r = context.partition_key_range
    return _cal.between(dt.date.fromisoformat(r.start), dt.date.fromisoformat(r.end))
