"""What a changed session makes stale, from the table registry: "what depends on session D
of table T" is the closure of the tables' reads with their windows.

Sessions are indices into the calendar. A read with window (back, forward) makes session i
of the reader depend on sessions i - back .. i + forward of the upstream table, so a
changed upstream session j makes the reader's sessions j - forward .. j + back stale; FIRST
(every earlier session) reaches every later session, and a table reading itself one
session back reaches the last through its own rows. A period table (replaced by calendar
period or month) recomputes every period touching the sessions it runs, in full, so its
stale sessions start at the first changed one: running it from there rebuilds the periods
containing it and every later one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import tables
from .config import Settings
from .db import check_layout
from .fingerprint import basis, stamp_folder
from .sessions import trading_calendar


@dataclass(frozen=True)
class Plan:
    """The sessions to rebuild for a set of changed sessions, and why."""

    changed: tuple[dt.date, ...]            # sessions whose input changed
    rebuild: tuple[dt.date, ...]            # every session any table must recompute, in order

    @property
    def downstream(self) -> tuple[dt.date, ...]:
        """Sessions to rebuild that did not change themselves."""
        return tuple(d for d in self.rebuild if d not in self.changed)

    def line(self) -> str:
        """The plan in one line, e.g. '2024-06-19 changed: also refreshing 84 later sessions
        (2024-06-20..2024-10-28)'."""
        if not self.changed:
            return "nothing changed: no session to rebuild"
        changed = ", ".join(d.isoformat() for d in self.changed[:3]) + (
            f" and {len(self.changed) - 3} more" if len(self.changed) > 3 else "")
        later = self.downstream
        if not later:
            n = len(self.changed)
            return (f"{self.changed[0]} new or changed: no later session to refresh" if n == 1 else
                    f"{n} sessions new or changed ({self.changed[0]}..{self.changed[-1]}): no later session to refresh")
        return (f"{changed} changed: also refreshing {len(later)} later session{'s' * (len(later) != 1)} "
                f"({later[0]}..{later[-1]})")


def stale_after(changed: dict[str, set[int]], settings: Settings, sessions: tuple[dt.date, ...],
                last: int) -> dict[str, set[int]]:
    """Session indices of every table made stale by `changed` (table -> indices), up to `last`."""
    stale: dict[str, set[int]] = {t.name: set(changed.get(t.name, ())) for t in tables.TABLES}
    # TABLES is in dependency order but for self and same-writer reads: iterate to a fixpoint
    moved = True
    while moved:
        moved = False
        for t in tables.TABLES:
            for r in t.reads:
                up = stale[r.table]
                if not up:
                    continue
                back, forward = tables.offsets(r, settings, sessions)
                if t.replace in (tables.BY_PERIOD, tables.BY_MONTH):
                    forward = 0
                lo = min(up) - forward
                if back >= len(sessions) - 1:  # FIRST: every later session
                    reach = set(range(max(lo, 0), last + 1))
                else:
                    reach = {i for j in up for i in range(max(j - forward, 0), min(j + back, last) + 1)}
                if not reach <= stale[t.name]:
                    stale[t.name] |= reach
                    moved = True
    return stale


def plan(changed: list[dt.date], loaded_last: dt.date, settings: Settings,
         sessions: tuple[dt.date, ...]) -> Plan:
    """Rebuild plan for sessions whose extracts changed, up to the last session with data."""
    index = {d: i for i, d in enumerate(sessions)}
    last = index[max(loaded_last, *changed)] if changed else index[loaded_last]
    raw = {t.name: {index[d] for d in changed} for t in tables.TABLES if t.writer == "raw_extracts"}
    stale = stale_after(raw, settings, sessions, last)
    every = sorted({i for ix in stale.values() for i in ix})
    return Plan(tuple(sorted(changed)), tuple(sessions[i] for i in every))


def stored_stamps(warehouse: Path) -> dict[dt.date, tuple[str | None, str | None]]:
    """(fingerprint, basis) of every session whose run completed; empty for a new warehouse."""
    if not Path(warehouse).exists():
        return {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        check_layout(con)
        rows = con.execute("select as_of_date, fingerprint, basis from quality.published").fetchall()
    except duckdb.CatalogException:  # no quality.published yet
        return {}
    finally:
        con.close()
    return {d: (fp, b) for d, fp, b in rows}


def plan_run(warehouse: Path, extracts: Path, days: list[dt.date], settings: Settings) -> Plan:
    """What `crm run` over `days` must rebuild: the sessions whose files (or the settings and
    code they were computed with) changed since loaded, every loaded session computed with
    other settings or code, and everything the registry says reads them, to the last
    loaded session. Reads the warehouse read-only and hashes the requested folders."""
    stored = stored_stamps(warehouse)
    current = basis(settings)
    changed = {d for d in days if stored.get(d, (None,))[0] != stamp_folder(extracts / d.isoformat(), settings).fingerprint}
    changed |= {d for d, (_, b) in stored.items() if b != current}
    last = max([*stored, *days])
    return plan(sorted(changed), last, settings, tuple(trading_calendar().sessions))
