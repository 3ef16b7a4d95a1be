"""Materialize the pipeline for a range of sessions through Dagster, on the project instance."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from .resources import ROOT
from .sessions import trading_calendar

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class RunFailed(RuntimeError):
    """A Dagster run failed; the message is the first step error."""


def project_instance() -> dg.DagsterInstance:
    """The instance of dagster.yaml at the repo root (storage under data/dagster)."""
    os.environ.setdefault("DAGSTER_HOME", str(ROOT))
    os.chdir(os.environ["DAGSTER_HOME"])  # dagster.yaml's storage path is relative to it
    return dg.DagsterInstance.get()


def run_sessions(warehouse: Path, extracts: Path, start: dt.date, end: dt.date,
                 runs_of: int = 60, on_chunk: Callable[[list[dt.date]], None] | None = None,
                 selection: str | None = None) -> list[dt.date]:
    """Run the daily job over [start, end] as single-run ranges of `runs_of` sessions, in order."""
    from .definitions import build_definitions

    warehouse, extracts = warehouse.resolve(), extracts.resolve()
    defs = build_definitions(warehouse=warehouse, extracts=extracts)
    job = defs.resolve_job_def("daily")
    if selection:
        job = job.get_subset(asset_selection=set(dg.AssetSelection.from_coercible(selection.split(","))
                                                 .resolve(defs.resolve_asset_graph())))
    instance = project_instance()
    days = trading_calendar().between(start, end)
    for i in range(0, len(days), runs_of):
        chunk = days[i:i + runs_of]
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET,
            tags={RANGE_START: chunk[0].isoformat(), RANGE_END: chunk[-1].isoformat()},
        )
        if not result.success:
            errors = [e.event_specific_data.error for e in result.all_events
                      if e.is_step_failure and e.event_specific_data.error]
            message = errors[0].message.strip() if errors else "run failed"
            raise RunFailed(f"sessions {chunk[0]}..{chunk[-1]}: {message}")
        if on_chunk:
            on_chunk(chunk)
    return days
