"""Resources: which DuckDB file is the warehouse, where the extracts are, and the settings."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from core.config import Settings
from core.db import WRITE_CONFIG, prepare

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = ROOT / "data" / "warehouse.duckdb"
DEFAULT_EXTRACTS = ROOT / "data" / "extracts"


class WarehouseResource(DuckDBResource):
    """DuckDBResource whose connections have the project's macros and are closed even when
    the asset body raises (dagster-duckdb 0.29 closes them only on success; a failed step
    would keep the file locked against the next run in the same process)."""

    @contextmanager
    def get_connection(self):
        with super().get_connection() as con:
            try:
                yield prepare(con)
            finally:
                con.close()


class ExtractsResource(dg.ConfigurableResource):
    """The root folder holding one sub-folder of extracts per session."""

    root: str

    @property
    def path(self) -> Path:
        return Path(self.root)


def default_resources(warehouse: str | Path | None = None, extracts: str | Path | None = None,
                      settings: Settings | None = None) -> dict:
    """Resources for a run: explicit paths, else CRM_WAREHOUSE / CRM_EXTRACTS, else data/."""
    warehouse = warehouse or os.environ.get("CRM_WAREHOUSE", DEFAULT_WAREHOUSE)
    extracts = extracts or os.environ.get("CRM_EXTRACTS", DEFAULT_EXTRACTS)
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    return {
        "duckdb": WarehouseResource(database=str(warehouse), connection_config=WRITE_CONFIG),
        "extracts": ExtractsResource(root=str(extracts)),
        "settings": settings or Settings.load(),
    }
