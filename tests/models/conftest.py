"""Fixtures of the model tests: an empty warehouse, and a small branch through every writer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from core.build import build
from core.config import Settings
from core.db import prepare

from ..conftest import shared_dir

SMALL_BRANCH_SETTINGS = Settings()


@pytest.fixture
def tiny_warehouse():
    """An in-memory warehouse with the schema, the session calendar and the macros."""
    con = prepare(duckdb.connect())
    yield con
    con.close()


@pytest.fixture(scope="session")
def small_branch(tmp_path_factory) -> Path:
    """600 clients x 60 sessions through every writer of the registry, models included, by
    the direct path (core.build.build: the writers the Dagster assets call, in registry
    order, each followed by its blocking checks, which raise). Dagster runs of the model
    assets are covered by the example warehouse (tests/conftest.py). Read only: copy it
    to write."""
    def build_branch(root: Path) -> None:
        from generator import generate

        days = generate(root / "extracts", 600, dt.date(2024, 6, 3), 60, seed=3)
        build(root / "warehouse.duckdb", days, SMALL_BRANCH_SETTINGS, extracts=root / "extracts")

    return shared_dir(tmp_path_factory, "small_branch", build_branch) / "warehouse.duckdb"
