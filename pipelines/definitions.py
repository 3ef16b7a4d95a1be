"""Dagster entry point (`dagster dev` loads `defs` from here, see pyproject [tool.dagster])."""

from __future__ import annotations

import dagster as dg

from core.config import Settings

from .assets import build_assets
from .assets_report import daily_report
from .automation import daily_at_18, daily_job, new_extract_folder
from .resources import default_resources


def build_definitions(settings: Settings | None = None, **paths) -> dg.Definitions:
    """Assets, job, schedule and sensor over `settings` (default: Settings.load())."""
    settings = settings or Settings.load()
    return dg.Definitions(assets=[*build_assets(settings), daily_report], jobs=[daily_job],
                          schedules=[daily_at_18], sensors=[new_extract_folder],
                          resources=default_resources(settings=settings, **paths),
                          executor=dg.in_process_executor)


defs = build_definitions()
