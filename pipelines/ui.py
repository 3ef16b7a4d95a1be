"""`crm ui`: `dagster dev` on one warehouse's instance.

DAGSTER_HOME is the warehouse's instance folder (runner.instance_dir), so the UI lists that
warehouse's runs, backfills and materializations only; CRM_WAREHOUSE / CRM_EXTRACTS /
CRM_CONFIG make what the UI launches (and the daemon `dagster dev` runs: schedule, sensor,
backfills) write that warehouse from those extracts with those settings.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .backfill import daemon_env
from .resources import ROOT
from .runner import project_instance


def dev_command(warehouse: Path, extracts: Path, config: Path | None = None,
                port: int = 3000) -> tuple[list[str], dict[str, str], Path]:
    """argv, environment and working folder of `dagster dev` for this warehouse; creates the
    instance folder if needed (after checking the paths)."""
    warehouse, extracts = Path(warehouse).resolve(), Path(extracts).resolve()
    if not warehouse.parent.is_dir():
        raise ValueError(f"folder {warehouse.parent} does not exist")
    if not extracts.is_dir():
        raise ValueError(f"extracts folder {extracts} does not exist")
    if config is not None and not Path(config).is_file():
        raise ValueError(f"settings file {config} does not exist")
    project_instance(warehouse).dispose()  # folder, dagster.yaml and storage tables
    env = daemon_env(warehouse, extracts, Path(config).resolve() if config else None)
    argv = [str(Path(sys.executable).parent / "dagster"), "dev", "-p", str(port)]
    # from the repo root: the code location of pyproject.toml ([tool.dagster]), as plain
    # `dagster dev` and the daemon of `crm backfill` load it (Dagster logs that it does not
    # use the repo's dagster.yaml, since DAGSTER_HOME is set)
    return argv, env, ROOT
