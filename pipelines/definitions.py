"""Dagster entry point (`dagster dev` loads `defs` from here, see pyproject [tool.dagster])."""

from __future__ import annotations

import dagster as dg

from .assets import ASSETS
from .assets_models import MODEL_ASSETS
from .assets_report import daily_report
from .automation import daily_at_18, daily_job, new_extract_folder
from .resources import default_resources


def build_definitions(**resource_args) -> dg.Definitions:
    return dg.Definitions(assets=[*ASSETS, *MODEL_ASSETS, daily_report], jobs=[daily_job], schedules=[daily_at_18],
                          sensors=[new_extract_folder], resources=default_resources(**resource_args),
                          executor=dg.in_process_executor)


defs = build_definitions()
