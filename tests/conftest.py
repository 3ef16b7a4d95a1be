"""Shared fixtures: the spec's worked example and a warehouse built from it through Dagster.

Expensive inputs are built once per test session, not once per xdist worker: `shared_dir`
builds a folder under the run's common temp directory behind a file lock; the other
workers wait for it and read it. Tests that write copy the warehouse first.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from core.build import build
from core.compare import compare
from core.config import Settings

ROOT = Path(__file__).resolve().parent.parent  # the repository
FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = FIXTURES / "spec_example"


def pytest_configure(config):
    """No DAGSTER_HOME: crm opens the instance beside each warehouse (pipelines.runner
    .instance_dir), so the tests' run history lives with their temporary warehouses; code
    that would still fall back on DAGSTER_HOME fails instead of writing somewhere shared."""
    os.environ.pop("DAGSTER_HOME", None)


# The packages whose tests run whole Dagster runs (a minute or two each): scheduled first, so
# that the two xdist workers end together on short tests instead of one waiting on a long one.
SLOW_FIRST = ("pipelines", "cli")


def pytest_collection_modifyitems(items):
    """Slow packages first (a stable sort: the same order on every worker, as xdist needs)."""
    def package(item) -> str:
        return Path(str(item.fspath)).relative_to(Path(__file__).parent).parts[0]

    items.sort(key=lambda item: package(item) not in SLOW_FIRST)


def shared_dir(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder filled by `build(folder)` once per test session, shared by the xdist workers."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's temp directory, common to its workers
    folder, done = base / f"shared-{name}", base / f"shared-{name}.done"
    with open(base / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a worker failed half way
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def example_warehouse(tmp_path_factory) -> Path:
    """The worked example (25 sessions, 40 clients) run through the Dagster job. Read only:
    the workers share it."""
    def build(folder: Path) -> None:
        from pipelines.runner import run_sessions

        run_sessions(folder / "warehouse.duckdb", EXAMPLE / "extracts", dt.date(2024, 9, 18), dt.date(2024, 10, 29))

    return shared_dir(tmp_path_factory, "example", build) / "warehouse.duckdb"


def assert_same_warehouse(a: Path, b: Path) -> None:
    """Every table of both warehouses holds the same rows (core.compare: numbers within 1e-9
    relative, run timestamps and pickled models aside)."""
    differ = [(name, unmatched) for name, _, _, unmatched in compare(str(a), str(b)) if unmatched]
    assert differ == []


def query(path: Path, sql: str, params=None):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or {}).pl()


SMALL_BRANCH_SETTINGS = Settings()


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
