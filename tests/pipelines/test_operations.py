"""Operating the pipeline: crashes (SIGKILL) and concurrent runs leave a correct warehouse."""

from __future__ import annotations

import datetime as dt
import shutil
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from generator import generate

from ..conftest import ROOT, assert_same_warehouse, shared_dir

START = dt.date(2024, 9, 2)
SESSIONS = 8
# mart.client_indicators is the view: client_windows with the models' segment and churn_risk
TABLES = ["raw.clients", "raw.brokers", "raw.trades", "raw.positions", "raw.cash", "raw.quotes",
          "raw.market", "quality.rejects", "quality.warnings", "mart.client_daily",
          "mart.client_indicators", "mart.client_running", "mart.security_trapped", "mart.branch_daily",
          "mart.branch_period", "mart.broker_ranking", "mart.team_ranking", "mart.client_month",
          "mart.ranking_periods"]


def snapshot(db: Path) -> dict[str, pl.DataFrame]:
    """Every table, sorted on all columns (quality.loads without its load timestamp)."""
    with duckdb.connect(str(db), read_only=True) as con:
        out = {t: con.execute(f"select * from {t}").pl() for t in TABLES}
        out["quality.loads"] = con.execute("select * exclude (loaded_at) from quality.loads").pl()
    # DECIMAL running totals are sums of doubles cast to DECIMAL: compared as floats, to 1e-9
    return {t: df.sort(df.columns).with_columns(pl.col(pl.Decimal).cast(pl.Float64)) for t, df in out.items()}


def assert_same_snapshots(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    """Same rows and values; floats to 1e-9 (DuckDB's parallel sums may round differently)."""
    for table in a:
        try:
            assert_frame_equal(a[table], b[table], rel_tol=1e-9, abs_tol=1e-9)
        except AssertionError as exc:
            raise AssertionError(f"{table}: {exc}") from None


def crm(args: list[str], **popen) -> subprocess.Popen:
    """`crm ARGS` in a child process; its Dagster instance is its warehouse's (beside the file,
    with the pool limit 1 on DuckDB writers)."""
    env = {**os.environ, "CRM_CONFIG": str(ROOT / "tests" / "fixtures" / "last_report_only.toml")}
    return subprocess.Popen([sys.executable, "-m", "cli.app", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


@pytest.fixture(scope="session")
def branch(tmp_path_factory):
    """300 clients x 8 sessions and a warehouse from one uninterrupted `crm run` (read only:
    the tests copy it)."""
    def build(tmp: Path) -> None:
        generate(tmp / "extracts", clients=300, start=START, sessions=SESSIONS, seed=3)
        p = crm(["run", "--extracts", str(tmp / "extracts"), "--warehouse", str(tmp / "clean.duckdb")])
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()

    tmp = shared_dir(tmp_path_factory, "ops", build)
    return tmp, tmp / "clean.duckdb"


def days(tmp: Path) -> list[str]:
    return sorted(p.name for p in (tmp / "extracts").iterdir() if p.name[0].isdigit())


@pytest.mark.parametrize("what,statements", [("ingest", 3), ("ingest", 9), ("mart", 1), ("running", 2)])
def test_sigkill_inside_a_day_write_keeps_the_previous_state(branch, tmp_path, what, statements):
    tmp, clean = branch
    db = tmp_path / "w.duckdb"
    shutil.copy(clean, db)
    before = snapshot(db)
    p = subprocess.run([sys.executable, "-m", "tests.pipelines.crash_during_write", str(db), str(tmp / "extracts"),
                        days(tmp)[3], what, str(statements)], cwd=ROOT, capture_output=True, timeout=120)
    assert p.returncode == -signal.SIGKILL, p.stderr.decode()  # it really died mid-transaction
    assert_same_snapshots(before, snapshot(db))


def test_sigkill_during_a_run_then_rerun_equals_uninterrupted(branch, tmp_path):
    tmp, clean = branch
    db = tmp_path / "w.duckdb"
    args = ["run", "--extracts", str(tmp / "extracts"), "--warehouse", str(db)]
    p = crm(args)
    deadline = time.time() + 120
    while not db.exists() and time.time() < deadline:  # let it get into the load
        time.sleep(0.05)
    time.sleep(1.0)
    p.send_signal(signal.SIGKILL)
    p.wait(30)
    assert p.returncode == -signal.SIGKILL  # killed before it finished
    rerun = crm(args)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    assert_same_warehouse(clean, db)


def test_same_day_twice_concurrently(branch, tmp_path):
    tmp, _ = branch
    day = days(tmp)[0]
    single = tmp_path / "single.duckdb"
    p = crm(["run", "--extracts", str(tmp / "extracts"), "--warehouse", str(single),
             "--start", day, "--end", day])
    assert p.wait(300) == 0
    db = tmp_path / "w.duckdb"
    args = ["run", "--extracts", str(tmp / "extracts"), "--warehouse", str(db), "--start", day, "--end", day]
    first, second = crm(args), crm(args)  # one warehouse, so one instance and its pool
    results = [first.communicate(timeout=300), second.communicate(timeout=300)]
    assert (first.returncode, second.returncode) == (0, 0), [r[1].decode()[-2000:] for r in results]
    assert "lock" not in (results[0][1] + results[1][1]).decode().lower()
    assert_same_warehouse(single, db)
