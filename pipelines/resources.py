"""Resources: which DuckDB file is the warehouse, where the extracts are, and the settings."""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from core.config import Settings
from core.db import WRITE_CONFIG, hold, prepare, release

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = ROOT / "data" / "warehouse.duckdb"
DEFAULT_EXTRACTS = ROOT / "data" / "extracts"


class WarehouseResource(DuckDBResource):
    """The warehouse of a run: one connection and one transaction for the whole run.

    Every step of a run (the in-process executor: one resource instance per run) writes
    through the same connection inside one DuckDB transaction, committed when the run ends
    and rolled back if any step raised or a blocking check failed (`fail`). So a session's
    raw load, marts and checks take effect together or not at all, and a failed check
    leaves the previous rows byte-identical. A killed run commits nothing."""

    _stack: ExitStack | None = PrivateAttr(default=None)
    _con: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _failed: bool = PrivateAttr(default=False)

    @contextmanager
    def get_connection(self):
        if self._con is None:
            self._stack = ExitStack()  # dagster-duckdb's connect (it retries a locked file ~100 s)
            self._con = hold(prepare(self._stack.enter_context(super().get_connection())))
        try:
            yield self._con
        except BaseException:
            self._failed = True
            raise

    def fail(self) -> None:
        """Roll the run back at its end (a blocking check failed)."""
        self._failed = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._con is None:
            return
        try:
            release(self._con, commit=not self._failed)
        finally:
            self._con = None
            self._stack.close()


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
