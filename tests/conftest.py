"""Shared fixtures: the spec's worked example and a warehouse built from it through Dagster."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = FIXTURES / "spec_example"


def pytest_configure(config):
    """Dagster run history of the whole test session goes to a temp DAGSTER_HOME, not data/."""
    os.environ["DAGSTER_HOME"] = tempfile.mkdtemp(prefix="crm-dagster-home-")


@pytest.fixture(scope="session")
def example_warehouse(tmp_path_factory) -> Path:
    """The worked example (25 sessions, 40 clients) run through the Dagster job."""
    from pipelines.runner import run_sessions

    path = tmp_path_factory.mktemp("example") / "warehouse.duckdb"
    run_sessions(path, EXAMPLE / "extracts", dt.date(2024, 9, 18), dt.date(2024, 10, 29))
    return path


def query(path: Path, sql: str, params=None):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or {}).pl()
