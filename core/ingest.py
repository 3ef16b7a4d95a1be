"""The raw_extracts writer: validated session folders into raw.* and quality.*, a session
replaced atomically."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import polars as pl

from .extracts import FILES, LoadedFile, load_day
from .fingerprint import Stamp, stamp_folder
from .sessions import TradingCalendar, trading_calendar


def day_folder(root: Path, day: dt.date) -> Path:
    return root / day.isoformat()


def write_day(con: duckdb.DuckDBPyConnection, day: dt.date, files: dict[str, LoadedFile],
              stamp: Stamp | None = None) -> None:
    """Delete-then-insert the day in one transaction: a crash leaves the previous state.
    The stamp (core/fingerprint.py) is recorded in quality.loads."""
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
    rejects = pl.concat([f.rejects for f in files.values()]).with_columns(
        pl.lit(day).alias("as_of_date")
    )
    con.execute("begin")
    try:
        for name in FILES:
            con.execute(f"delete from raw.{name} where as_of_date = $day", {"day": day})
            # plain Arrow strings: DuckDB appends them ~10 % faster than polars' string views
            con.register("day_rows", files[name].good.with_columns(pl.lit(day).alias("as_of_date"))
                         .to_arrow(compat_level=pl.CompatLevel.oldest()))
            con.execute(f"insert into raw.{name} by name select * from day_rows")
        con.register("day_rejects", rejects)
        con.register("day_loads", loads)
        con.execute("delete from quality.rejects where as_of_date = $day", {"day": day})
        con.execute("insert into quality.rejects by name select * from day_rejects")
        con.execute("delete from quality.loads where as_of_date = $day", {"day": day})
        con.execute("insert into quality.loads by name select *, now() as loaded_at from day_loads")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for view in ("day_rows", "day_rejects", "day_loads"):
            con.unregister(view)


def read_day(root: Path, day: dt.date, calendar: TradingCalendar) -> dict[str, LoadedFile]:
    """The validated files of a session's folder (refuses a day that is not a session)."""
    return load_day(day_folder(root, calendar.check(day)), day)


def ingest_day(con: duckdb.DuckDBPyConnection, root: Path, day: dt.date,
               calendar: TradingCalendar) -> dict[str, LoadedFile]:
    """Validate the folder of a session and load it; nothing is written on a file error."""
    files = read_day(root, day, calendar)
    write_day(con, day, files)
    return files


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
            write_day(con, day, files, (stamps or {}).get(day))
            yield day, files


def stored_fingerprints(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """The fingerprint each loaded session of start..end was loaded with."""
    return dict(con.execute("select as_of_date, any_value(fingerprint) from quality.loads "
                            "where as_of_date between ? and ? group by 1", [start, end]).fetchall())


def build_raw(con: duckdb.DuckDBPyConnection, days: list[dt.date], job) -> "Written":
    """The registry's raw_extracts writer: load every session's folder under job.extracts
    whose fingerprint differs from the one it was loaded with (an unchanged session, or a
    loaded one whose folder is gone, is left as it is)."""
    from .build import Written

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
    cal = trading_calendar()
    for day, files in ingest_days(con, job.extracts, list(todo), cal, stamps=todo):
        for name, f in files.items():
            loaded[name] += f.good.height
            rejected[name] += f.rejects.height
        job.log.info(f"{day}: loaded " + ", ".join(
            f"{n} {f.good.height}" + (f" (-{f.rejects.height})" if f.rejects.height else "")
            for n, f in files.items()))
    if len(todo) < len(days):
        job.log.info(f"{len(days) - len(todo)} of {len(days)} sessions unchanged since loaded")
    rows = {f"raw.{name}": n for name, n in loaded.items()}
    rows.update({"quality.loads": len(todo) * len(FILES), "quality.rejects": sum(rejected.values())})
    return Written(rows, {f"raw.{name}": {"rows_rejected": n, "sessions_loaded": len(todo),
                                          "sessions_unchanged": len(days) - len(todo)}
                          for name, n in rejected.items()})


def session_folders(root: Path, calendar: TradingCalendar) -> list[dt.date]:
    """Day folders under root (folders starting with '_' or '.' are not days)."""
    days = []
    for p in sorted(root.iterdir()):
        if not p.is_dir() or p.name[0] in "_.":
            continue
        try:
            day = dt.date.fromisoformat(p.name)
        except ValueError:
            raise ValueError(f"{p}: folder name is not a date YYYY-MM-DD") from None
        days.append(calendar.check(day))
    return days
