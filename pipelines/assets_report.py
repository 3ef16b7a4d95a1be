"""Dagster asset: the daily HTML report (reports/render.py) of a session partition range.

No `from __future__ import annotations` here: Dagster reads the parameters' annotations.
"""

import time
from pathlib import Path

import dagster as dg

from core.config import Settings
from core.tables import REPORT_READS

from .assets import POOL, SINGLE_RUN, asset_key
from .partitions import range_sessions
from .resources import WarehouseResource


def reports_dir(warehouse: str | Path) -> Path:
    """Where the reports of a warehouse go: a `reports` folder next to the DuckDB file."""
    return Path(warehouse).parent / "reports"


def report_asset(partitions: dg.TimeWindowPartitionsDefinition) -> dg.AssetsDefinition:
    """The report asset over the warehouse's partitions."""

    @dg.asset(
        key=["report", "daily"],
        deps=[asset_key(t) for t in REPORT_READS],
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        pool=POOL,
        group_name="reports",
        kinds={"html"},
        description="The self-contained HTML report (and engineering page) of every session of the range, "
                    "the index of all reports, and the latest session's broker books, team pages and call "
                    "list (.xlsx).",
    )
    def daily_report(context: dg.AssetExecutionContext, duckdb: WarehouseResource,
                     settings: dg.ResourceParam[Settings]) -> dg.MaterializeResult:
        from reports.books import write_books
        from reports.render import render_index, write_report

        days = range_sessions(context)
        out = reports_dir(duckdb.database)
        with duckdb.get_connection() as con:  # the run's: it sees what the run wrote before it commits
            loaded = [r[0] for r in con.execute(
                "select distinct as_of_date from mart.branch_daily where as_of_date between ? and ? order by 1",
                [days[0], days[-1]]).fetchall()]
            if not loaded:
                # a backfill also targets sessions downstream of its range (the 60-session windows),
                # some of which may have no extracts yet: nothing to report there
                context.log.info(f"no branch data in {days[0]}..{days[-1]}: no report")
                return dg.MaterializeResult(metadata={"note": "no data in range"})
            t0 = time.perf_counter()
            rendered = loaded if settings.report.every_session else loaded[-1:]
            for day in rendered:
                path = write_report(con, day, out, settings, index=False)
            render_index(out, con)
            # the broker books and the call list are the latest session's (a rerun of an older
            # range leaves them)
            latest = con.execute("select max(as_of_date) from mart.branch_daily").fetchone()[0]
            books = write_books(con, latest, out, settings, context.log.warning) if latest == loaded[-1] else []
        seconds = time.perf_counter() - t0
        context.log.info(f"{len(rendered)} reports ({rendered[0]}..{rendered[-1]}) -> {out} in {seconds:.2f}s")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(path)),
            "date": loaded[-1].isoformat(),
            "reports": len(rendered),
            "books": len(books),
            "size_kb": round(path.stat().st_size / 1024, 1),
            "render_seconds": round(seconds, 3),
        })

    return daily_report
