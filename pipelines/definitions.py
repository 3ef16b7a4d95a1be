"""Dagster entry point (`dagster dev` loads `defs` from here, see pyproject [tool.dagster])."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from core.config import Settings

from .assets import build_assets
from .assets_report import report_asset
from .automation import daily_at_18, daily_job, new_extract_folder
from .partitions import first_session, session_partitions
from .resources import default_resources


class SettingsResource(dg.ConfigurableResource):
    """The `settings` resource: a `core.config.Settings` object, held as its JSON so that run
    config can replace it (a plain object resource has no config). Assets receive the
    Settings object (`dg.ResourceParam[Settings]`): Dagster's pattern of a ConfigurableResource
    whose `create_resource` vends another object."""

    values: str = Field(description="core.config.Settings as JSON (Settings.model_dump_json())")

    def create_resource(self, context: dg.InitResourceContext) -> Settings:
        return Settings.model_validate_json(self.values)


def build_definitions(settings: Settings | None = None, **paths) -> dg.Definitions:
    """Assets, job, schedule and sensor over `settings` (default: Settings.load())."""
    settings = settings or Settings.load()
    resources = default_resources(settings=settings, **paths)
    resources["settings"] = SettingsResource(values=resources["settings"].model_dump_json())
    partitions = session_partitions(first_session(settings.first_session, Path(resources["extracts"].root)))
    return dg.Definitions(assets=[*build_assets(settings, partitions), report_asset(partitions)], jobs=[daily_job],
                          schedules=[daily_at_18], sensors=[new_extract_folder],
                          resources=resources, executor=dg.in_process_executor)


def resources_config(warehouse: str | Path, extracts: str | Path, settings: Settings) -> dict:
    """Run config naming a run's warehouse, extracts and settings. It overrides the resources
    of the definitions that execute the run (a daemon's, loaded with its own CRM_* variables),
    so a run carries its files with it. The partition mappings' windows stay those of the
    definitions (they are fixed when the definitions load)."""
    return {"resources": {
        "duckdb": {"config": {"database": str(warehouse)}},
        "extracts": {"config": {"root": str(extracts)}},
        "settings": {"config": {"values": settings.model_dump_json()}},
    }}


defs = build_definitions()
