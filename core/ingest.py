"""The raw_extracts writer: validated session folders into raw.* and quality.*, a session
replaced atomically."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from .db import transaction
from .extracts import FILES, ExtractFileError, LoadedFile, check_inside, load_day
from .fingerprint import Stamp, stamp_folder
from .reference import load_securities
from .sessions import TradingCalendar, trading_calendar


def day_folder(root: Path, day: dt.date) -> Path:
    return root / day.isoformat()


LOADED_ON = "trade_id already loaded on "  # the reason of a trade_id seen on an earlier session


def reject_loaded_trade_ids(con: duckdb.DuckDBPyConnection, day: dt.date, trades: LoadedFile) -> LoadedFile:
    """The contract's "trade_id unique across all days": a good trade whose trade_id raw.trades
    holds on an EARLIER session is a reject ("trade_id already loaded on 2024-09-18", the first
    such session). One join of the day's ids with raw.trades; the day's own rows (a reload) and
    later sessions' rows do not count: of two sessions with the same trade_id, the later one's
    row is the duplicate, whatever the load order (build_raw reloads a later session that was
    loaded before an earlier one)."""
    if trades.good.height == 0 or trades.good_text is None:
        return trades
    con.register("day_trade_ids", trades.good.select("trade_id").to_arrow())
    try:
        seen = con.execute(
            "select d.trade_id, min(t.as_of_date) as loaded_on from day_trade_ids d "
            "join raw.trades t on t.trade_id = d.trade_id where t.as_of_date < $day group by d.trade_id",
            {"day": day}).pl()
    finally:
        con.unregister("day_trade_ids")
    if seen.height == 0:
        return trades
    ids = trades.good["trade_id"]
    reasons = ids.replace_strict(seen["trade_id"], LOADED_ON + seen["loaded_on"].cast(pl.String),
                                 default=None, return_dtype=pl.String)
    return trades.reject(reasons.is_not_null(), "trade_id", reasons)


def write_day(con: duckdb.DuckDBPyConnection, day: dt.date, files: dict[str, LoadedFile],
              stamp: Stamp | None = None) -> dict[str, LoadedFile]:
    """Delete-then-insert the day in one transaction: a crash leaves the previous state.
    The stamp (core/fingerprint.py) is recorded in quality.loads. The checks that need the
    warehouse (trade_id across sessions) update `files` in place first; returns it."""
    files["trades"] = reject_loaded_trade_ids(con, day, files["trades"])
    stamp = stamp or Stamp(None, {})
    loads = pl.DataFrame(
        {
            "as_of_date": [day] * len(files),
            "file": [f.path.name for f in files.values()],
            "format": [f.encoding for f in files.values()],
            "rows_read": [f.rows_read for f in files.values()],
            "rows_loaded": [f.good.height for f in files.values()],
            "rows_rejected": [f.rejects.height for f in files.values()],
            "digest": [stamp.digests.get(f.path.name) for f in files.values()],
            "fingerprint": [stamp.fingerprint] * len(files),
            "basis": [stamp.basis] * len(files),
        },
        schema_overrides={"digest": pl.String, "fingerprint": pl.String, "basis": pl.String},
    )
    rejects = pl.concat([f.rejects for f in files.values()]).with_columns(pl.lit(day).alias("as_of_date"))
    nulled = pl.concat([f.nulled for f in files.values()]).with_columns(pl.lit(day).alias("as_of_date"))
    try:
        with transaction(con):
            for name in FILES:
                con.execute(f"delete from raw.{name} where as_of_date = $day", {"day": day})
                # plain Arrow strings: DuckDB appends them ~10 % faster than polars' string views
                con.register("day_rows", files[name].good.with_columns(pl.lit(day).alias("as_of_date"))
                             .to_arrow(compat_level=pl.CompatLevel.oldest()))
                con.execute(f"insert into raw.{name} by name select * from day_rows")
            con.register("day_rejects", rejects)
            con.register("day_nulled", nulled)
            con.register("day_loads", loads)
            for table, view in (("quality.rejects", "day_rejects"), ("quality.nulled", "day_nulled")):
                con.execute(f"delete from {table} where as_of_date = $day", {"day": day})
                con.execute(f"insert into {table} by name select * from {view}")
            con.execute("delete from quality.loads where as_of_date = $day", {"day": day})
            con.execute("insert into quality.loads by name select *, now() as loaded_at from day_loads")
    finally:
        for view in ("day_rows", "day_rejects", "day_nulled", "day_loads"):
            con.unregister(view)
    return files


def read_day(root: Path, day: dt.date, calendar: TradingCalendar) -> dict[str, LoadedFile]:
    """The validated files of a session's folder (refuses a day that is not a session); the
    previous session's folder, when there is one, is what a header-only trades file is held
    against (core.extracts.quiet_day_error)."""
    day = calendar.check(day)
    previous = day_folder(root, calendar.offset(day, -1)) if day > calendar.first else None
    return load_day(day_folder(root, day), day, previous)


def ingest_day(con: duckdb.DuckDBPyConnection, root: Path, day: dt.date,
               calendar: TradingCalendar) -> dict[str, LoadedFile]:
    """Validate the folder of a session and load it; nothing is written on a file error."""
    return write_day(con, day, read_day(root, day, calendar))


def ingest_days(con: duckdb.DuckDBPyConnection, root: Path, days: list[dt.date], calendar: TradingCalendar,
                stamps: dict[dt.date, Stamp] | None = None,
                ) -> Iterator[tuple[dt.date, dict[str, LoadedFile]]]:
    """ingest_day for each day in order, yielding (day, files) once the day is committed.

    The next day's files are read and validated in a background thread while this day is
    written: polars and DuckDB both release the GIL, so on two cores the read of day N + 1
    overlaps the insert of day N. A failing day raises when its turn comes, after every
    earlier day was committed (the same outcome as ingest_day in a loop).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract-reader") as reader:
        pending = reader.submit(read_day, root, days[0], calendar) if days else None
        for i, day in enumerate(days):
            files = pending.result()
            pending = reader.submit(read_day, root, days[i + 1], calendar) if i + 1 < len(days) else None
            yield day, write_day(con, day, files, (stamps or {}).get(day))


def stored_fingerprints(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """The fingerprint each loaded session of start..end was loaded with."""
    return dict(con.execute("select as_of_date, any_value(fingerprint) from quality.loads "
                            "where as_of_date between ? and ? group by 1", [start, end]).fetchall())


def _revalidate(con: duckdb.DuckDBPyConnection, days: list[dt.date]) -> list[dt.date]:
    """Loaded sessions among `days` that an earlier session, loaded AFTER them, may now
    contradict (trade_id unique across sessions, the later row being the duplicate): those
    holding a trade_id that an earlier session holds, and those that rejected a trade_id as
    loaded on an earlier session (which may no longer hold it). Sessions loaded in date order,
    as every run loads them, are never candidates: then this is one query on quality.loads."""
    if not days:
        return []
    loads = con.execute("select as_of_date, max(loaded_at) from quality.loads group by all order by 1").fetchall()
    candidates, latest = [], None
    for d, at in loads:  # a candidate: loaded before some earlier session was
        if latest is not None and at < latest and d in days:
            candidates.append((d, at))
        latest = at if latest is None else max(latest, at)
    if not candidates:
        return []
    since = min(at for _, at in candidates)
    # Only sessions loaded after a candidate can clash with it (its own load checked it
    # against those loaded before): usually the few of this run, so the join is small.
    late = [d for d, at in loads if at > since]
    return [d for (d,) in con.execute("""
        select distinct t.as_of_date
        from raw.trades t join raw.trades e on e.trade_id = t.trade_id and e.as_of_date < t.as_of_date
        where t.as_of_date in (select unnest($candidates)) and e.as_of_date in (select unnest($late))
        union
        select distinct as_of_date from quality.rejects
        where as_of_date in (select unnest($candidates)) and starts_with(reason, $loaded_on)
        order by 1""", {"candidates": [d for d, _ in candidates], "late": late, "loaded_on": LOADED_ON}
    ).fetchall()]


def build_raw(con: duckdb.DuckDBPyConnection, days: list[dt.date], job) -> "Written":
    """The registry's raw_extracts writer: load every session's folder under job.extracts
    whose fingerprint differs from the one it was loaded with (an unchanged session, or a
    loaded one whose folder is gone, is left as it is). An unchanged session loaded before an
    earlier session of the range was (re)loaded is reloaded when its trade_ids now clash with
    the earlier one's (_revalidate). The repository's reference (ref.securities) is reloaded
    first when its file changed: the one other input that enters the warehouse from outside SQL."""
    from .build import Written

    if load_securities(con):
        job.log.info("ref.securities reloaded from data/reference/securities.parquet")
    stored = stored_fingerprints(con, days[0], days[-1])
    todo: dict[dt.date, Stamp] = {}
    for day in days:
        folder = day_folder(job.extracts, day)
        if not folder.is_dir():
            if day in stored:
                job.log.warning(f"{day}: no folder under {job.extracts}; keeping the session as loaded")
                continue
            todo[day] = Stamp(None, {})  # read_day says what is missing
            continue
        current = stamp_folder(folder, job.settings)
        if stored.get(day) != current.fingerprint:
            todo[day] = current
    loaded = {name: 0 for name in FILES}
    rejected = {name: 0 for name in FILES}
    nulled = 0
    cal = trading_calendar()

    def ingest(batch: dict[dt.date, Stamp]) -> None:
        nonlocal nulled
        for day, files in ingest_days(con, job.extracts, list(batch), cal, stamps=batch):
            for name, f in files.items():
                loaded[name] += f.good.height
                rejected[name] += f.rejects.height
            job.log.info(f"{day}: loaded " + ", ".join(
                f"{n} {f.good.height}" + (f" (-{f.rejects.height})" if f.rejects.height else "")
                for n, f in files.items()))
            for f in files.values():
                if f.nulled.height:
                    nulled += f.nulled.height
                    job.log.warning(nulled_line(day, f))

    ingest(todo)
    again = {d: stamp_folder(day_folder(job.extracts, d), job.settings)
             for d in _revalidate(con, [d for d in days if d not in todo and day_folder(job.extracts, d).is_dir()])}
    if again:
        job.log.info(f"reloading {len(again)} session(s) loaded before an earlier one whose trade_ids they share "
                     f"({', '.join(d.isoformat() for d in again)}): a later session's row is the duplicate")
        ingest(again)
    done = len(todo) + len(again)
    if done < len(days):
        job.log.info(f"{len(days) - done} of {len(days)} sessions unchanged since loaded")
    rows = {f"raw.{name}": n for name, n in loaded.items()}
    rows.update({"quality.loads": done * len(FILES), "quality.rejects": sum(rejected.values()),
                 "quality.nulled": nulled})
    return Written(rows, {f"raw.{name}": {"rows_rejected": n, "sessions_loaded": done,
                                          "sessions_unchanged": len(days) - done}
                          for name, n in rejected.items()})


def nulled_line(day: dt.date, f: LoadedFile) -> str:
    """One warning line for a file's invalid optional values (nulled, rows kept)."""
    counts = f.nulled.group_by("column_name", maintain_order=True).len()
    first = f.nulled.row(0, named=True)
    return (f"{day}/{f.path.name}: {f.nulled.height} invalid optional value(s) nulled, rows kept ("
            + ", ".join(f"{c} {n}" for c, n in counts.iter_rows())
            + f"), e.g. row {first['row_number']}, column '{first['column_name']}': {first['reason']}")


# A name holding a date: a session folder's name with something around it ("2024-09-10.bak").
DATE_IN_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class FolderScan:
    """The session folders of an extracts root, and every other entry of it (not read)."""

    root: Path
    days: list[dt.date]
    ignored: list[str]

    def warning(self) -> str | None:
        """The other entries in one line, or None."""
        if not self.ignored:
            return None
        return f"{self.root}: not session folders, not read: " + ", ".join(self.ignored)


def scan_folders(root: Path, calendar: TradingCalendar) -> FolderScan:
    """Sort the entries of an extracts root (docs/spec/extracts.md, Layout):

    - a folder named YYYY-MM-DD is a session folder: an error if the date is not a session,
      if it is not a folder, or if it is a symlink to somewhere outside the root;
    - an entry whose name holds a date with anything else (`..2024-09-10`, `2024-09-10.bak`,
      `_2024-09-10`): ignored with a warning when the session folder of that date exists (a
      copy beside it), an error when it does not (the session would be missing in silence);
    - another folder starting with '_' or '.', or a file: ignored with a warning;
    - another folder: an error (not a session folder, not marked as something else)."""
    days: list[dt.date] = []
    ignored: list[str] = []
    lookalikes: dict[str, str] = {}
    for p in sorted(root.iterdir()):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.name):
            try:
                day = dt.date.fromisoformat(p.name)
            except ValueError:
                raise ValueError(f"{p}: folder name is not a date YYYY-MM-DD") from None
            if not p.is_dir():
                raise ValueError(f"{p}: named like a session folder but is "
                                 + ("a broken symlink" if p.is_symlink() and not p.exists() else "not a folder"))
            try:
                check_inside(root, p)
            except ExtractFileError:
                raise ValueError(f"{p}: is a symlink to {p.resolve()}, outside the extracts root {root}; "
                                 "copy the session's folder into the root instead") from None
            days.append(calendar.check(day))
        elif m := DATE_IN_NAME.search(p.name):
            lookalikes[p.name] = m.group()
        elif p.is_dir() and p.name[0] not in "_.":
            raise ValueError(f"{p}: folder name is not a date YYYY-MM-DD")
        else:
            ignored.append(p.name)
    present = {d.isoformat() for d in days}
    for name, date in lookalikes.items():
        if date not in present:
            raise ValueError(f"{root / name}: not a session folder named YYYY-MM-DD, and there is no folder "
                             f"{date}: name the session's folder {date}, or move this out of {root}")
        ignored.append(f"{name} (beside {date})")
    return FolderScan(root, days, sorted(ignored))


def session_folders(root: Path, calendar: TradingCalendar, warn: Callable[[str], None] | None = None
                    ) -> list[dt.date]:
    """The session days of an extracts root (scan_folders); the entries that are not session
    folders are named in one warning line, to `warn` or the "crm" logger."""
    scan = scan_folders(root, calendar)
    if line := scan.warning():
        (warn or logging.getLogger("crm").warning)(line)
    return scan.days
