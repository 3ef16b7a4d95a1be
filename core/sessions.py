"""XSHG trading sessions: the only days that exist for the pipeline.

exchange-calendars knows the Shanghai calendar; we only add two knobs the package
lacks: an earliest session (its default reaches back 20 years from today) and a list
of extra holidays (ad-hoc closures announced after the package was released).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import os

import exchange_calendars as xc
import pandas as pd

CALENDAR_NAME = "XSHG"


class NotASessionError(ValueError):
    """A date that is not an XSHG session (weekend, holiday, or outside the calendar)."""


def _env_dates(name: str) -> tuple[dt.date, ...]:
    raw = os.environ.get(name, "")
    return tuple(dt.date.fromisoformat(p.strip()) for p in raw.split(",") if p.strip())


@functools.lru_cache(maxsize=8)
def trading_calendar(
    first_session: dt.date | None = None,
    extra_holidays: tuple[dt.date, ...] | None = None,
) -> "TradingCalendar":
    """The calendar as configured by CRM_FIRST_SESSION and CRM_EXTRA_HOLIDAYS (cached)."""
    if first_session is None:
        first_session = dt.date.fromisoformat(os.environ.get("CRM_FIRST_SESSION", "2023-01-03"))
    if extra_holidays is None:
        extra_holidays = _env_dates("CRM_EXTRA_HOLIDAYS")
    return TradingCalendar(first_session, extra_holidays)


class TradingCalendar:
    """Sessions of XSHG from `first_session` to the last day exchange-calendars knows."""

    def __init__(self, first_session: dt.date, extra_holidays: tuple[dt.date, ...] = ()):
        cal = xc.get_calendar(CALENDAR_NAME, start=pd.Timestamp(first_session))
        idx = cal.sessions
        if extra_holidays:
            idx = idx[~idx.isin(pd.DatetimeIndex(extra_holidays))]
        self.sessions: list[dt.date] = [ts.date() for ts in idx]
        self._pos = {d: i for i, d in enumerate(self.sessions)}
        self.first, self.last = self.sessions[0], self.sessions[-1]
        # Every calendar day in range that is not a session: Dagster partition exclusions.
        all_days = pd.date_range(self.first, self.last, freq="D")
        self.closed_days = [d.date() for d in all_days if d.date() not in self._pos]

    def check(self, day: dt.date | str) -> dt.date:
        """Return `day` as a date if it is a session; raise a message that says why not."""
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        if day in self._pos:
            return day
        if day < self.first or day > self.last:
            raise NotASessionError(
                f"{day} is outside the trading calendar ({self.first} .. {self.last}); "
                "set CRM_FIRST_SESSION or upgrade exchange-calendars"
            )
        why = "a weekend" if day.weekday() >= 5 else "an exchange holiday"
        raise NotASessionError(f"{day} is not an XSHG trading session ({why})")

    def is_session(self, day: dt.date | str) -> bool:
        return (dt.date.fromisoformat(day) if isinstance(day, str) else day) in self._pos

    def index(self, day: dt.date) -> int:
        return self._pos[self.check(day)]

    def offset(self, day: dt.date, n: int) -> dt.date:
        """The session n sessions after `day` (n < 0: before)."""
        i = self.index(day) + n
        if not 0 <= i < len(self.sessions):
            raise NotASessionError(f"{n} sessions from {day} is outside the trading calendar")
        return self.sessions[i]

    def between(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Sessions in [start, end]; the bounds need not be sessions."""
        lo = bisect.bisect_left(self.sessions, start)
        hi = bisect.bisect_right(self.sessions, end)
        return self.sessions[lo:hi]

    def next_session(self, day: dt.date) -> dt.date:
        return self.offset(day, 1)
