"""Fixtures of the model tests: an empty warehouse (the small branch is tests/conftest.py's)."""

from __future__ import annotations

import duckdb
import pytest

from core.db import prepare


@pytest.fixture
def tiny_warehouse():
    """An in-memory warehouse with the schema, the session calendar and the macros."""
    con = prepare(duckdb.connect())
    yield con
    con.close()
