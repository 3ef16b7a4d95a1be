"""Dagster entry point (`dagster dev` loads `defs` from here, see pyproject [tool.dagster])."""

from __future__ import annotations

import dagster as dg

from .assets import ASSETS
from .resources import default_resources

daily_job = dg.define_asset_job("daily", selection=dg.AssetSelection.all())


def build_definitions(**resource_args) -> dg.Definitions:
    return dg.Definitions(assets=ASSETS, jobs=[daily_job],
                          resources=default_resources(**resource_args),
                          executor=dg.in_process_executor)


defs = build_definitions()
