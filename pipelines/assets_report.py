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
        description="The self-contained HTML report of the range's last session, and the index of all reports.",
    )
    def daily_report(context: dg.AssetExecutionContext, duckdb: WarehouseResource,
                     settings: dg.ResourceParam[Settings]) -> dg.MaterializeResult:
        from reports.render import write_report

        days = range_sessions(context)
        with duckdb.get_connection() as con:  # the run's: it sees what the run wrote before it commits
            day = con.execute("select max(as_of_date) from mart.branch_daily where as_of_date between ? and ?",
                              [days[0], days[-1]]).fetchone()[0]
            if day is None:
                # a backfill also targets sessions downstream of its range (the 60-session windows),
                # some of which may have no extracts yet: nothing to report there
                context.log.info(f"no branch data in {days[0]}..{days[-1]}: no report")
                return dg.MaterializeResult(metadata={"note": "no data in range"})
            t0 = time.perf_counter()
            path = write_report(con, day, reports_dir(duckdb.database), settings)
        seconds = time.perf_counter() - t0
        context.log.info(f"report of {day} -> {path} in {seconds:.2f}s")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(path)),
            "date": day.isoformat(),
            "size_kb": round(path.stat().st_size / 1024, 1),
            "render_seconds": round(seconds, 3),
        })

    return daily_report
