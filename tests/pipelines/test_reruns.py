"""Reruns, corrections and late sessions through `crm run` end in the warehouse of one clean
in-order run over the same final extracts (docs/operations.md, reruns).

Every command goes through the real entry point (typer's runner on cli.app, Dagster
in-process). Warehouses are compared table by table with core.compare (floats within 1e-9
relative: DuckDB's parallel sums add in varying order).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli.app import app
from core.ingest import session_folders
from core.sessions import trading_calendar

from ..conftest import EXAMPLE, ROOT, assert_same_warehouse, query, shared_dir

EXTRACTS = EXAMPLE / "extracts"
DAYS = trading_calendar().between(dt.date(2024, 9, 18), dt.date(2024, 10, 29))
CORRECTED = dt.date(2024, 10, 15)  # the example's session re-delivered with one close restated
# A generated branch on which both models fit within its 30 sessions (settings below), so
# that reruns must also reproduce refits, hysteresis and label alignment.
BRANCH = dict(clients=300, start=dt.date(2024, 6, 3), sessions=30, seed=3)
BRANCH_CORRECTED = dt.date(2024, 6, 27)
FIT_EARLY = """
[report]
every_session = false
[segmentation]
min_fit_clients = 30
k_max = 3
n_init = 2
[churn]
horizon = 5
min_label_sessions = 5
valid_sessions = 5
min_positive_clients = 5
max_iter = 30
"""


def crm_run(extracts: Path, warehouse: Path, *args: str):
    result = CliRunner().invoke(app, ["run", "--extracts", str(extracts), "--warehouse", str(warehouse), *args])
    assert result.exit_code == 0, result.output
    return result.output


def corrected_extracts(folder: Path, source: Path = EXTRACTS, day: dt.date = CORRECTED) -> Path:
    """A copy of `source` with one held security's close on `day` raised by 10 %."""
    shutil.copytree(source, folder)
    quotes = folder / day.isoformat() / "quotes.csv"
    frame = pl.read_csv(quotes, infer_schema=False)
    held = pl.read_csv(folder / day.isoformat() / "positions.csv", infer_schema=False)["security_code"][0]
    frame = frame.with_columns(
        pl.when(pl.col("security_code") == held)
        .then((pl.col("close").cast(pl.Float64) * 1.1).round(2).cast(pl.String))
        .otherwise(pl.col("close")).alias("close"))
    frame.write_csv(quotes)
    return folder


@pytest.fixture(scope="module")
def fit_early_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "fit_early.toml"
    path.write_text(FIT_EARLY)
    return path


@pytest.fixture(scope="module")
def branch(tmp_path_factory, fit_early_config):
    """The generated branch's extracts, the same with one close corrected, and one clean
    in-order run over the corrected ones (fit-early models)."""
    def build(folder: Path) -> None:
        from generator import generate

        generate(folder / "original", **BRANCH)
        corrected_extracts(folder / "corrected", folder / "original", BRANCH_CORRECTED)
        crm_run(folder / "corrected", folder / "clean.duckdb", "--config", str(fit_early_config))

    folder = shared_dir(tmp_path_factory, "rerun-branch", build)
    return folder / "original", folder / "corrected", folder / "clean.duckdb"


def test_unchanged_rerun_writes_nothing(example_warehouse, tmp_path):
    """Rerunning an earlier session with the same files leaves the file byte-identical."""
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, warehouse)
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    out = crm_run(EXTRACTS, warehouse, "--start", "2024-10-10", "--end", "2024-10-10")
    assert "unchanged since loaded: nothing to rebuild" in out
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before


def test_a_corrected_close_refreshes_the_later_sessions_and_nothing_before(example_warehouse, tmp_path):
    """Re-delivered CORRECTED: the plan names the later sessions; D+1's daily_pnl moves (its
    prior close changed), the sessions before D do not, and every 20-session window that
    holds D (here D..the last session) moves with it."""
    extracts = corrected_extracts(tmp_path / "extracts")
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, warehouse)
    later = [d for d in DAYS if d > CORRECTED]
    out = crm_run(extracts, warehouse, "--start", CORRECTED.isoformat(), "--end", CORRECTED.isoformat())
    assert f"{CORRECTED} changed: also refreshing {len(later)} later sessions ({later[0]}..{later[-1]})" in out

    sql = ("select as_of_date, client_id, daily_pnl, total_assets from mart.client_daily "
           "order by as_of_date, client_id")
    old, new = query(example_warehouse, sql), query(warehouse, sql)
    moved = old.join(new, on=["as_of_date", "client_id"], suffix="_new").filter(
        (pl.col("daily_pnl") - pl.col("daily_pnl_new")).abs() > 1e-6)
    assert moved["as_of_date"].min() == CORRECTED  # the restated close revalues D itself
    assert later[0] in set(moved["as_of_date"])    # and D+1's P&L against the new prior close
    windows = "select as_of_date, client_id, avg_assets from mart.client_windows order by 1, 2"
    old_w, new_w = query(example_warehouse, windows), query(warehouse, windows)
    changed_w = old_w.join(new_w, on=["as_of_date", "client_id"], suffix="_new").filter(
        (pl.col("avg_assets") - pl.col("avg_assets_new")).abs() > 1e-6)
    assert sorted(set(changed_w["as_of_date"])) == [CORRECTED, *later]


def _history(days: list[dt.date], rng: random.Random) -> list[tuple[dt.date, dt.date]]:
    """Random sub-ranges covering every session, in random order, and one repeated."""
    cuts = sorted(rng.sample(range(1, len(days)), 2))
    ranges = [(days[a], days[b - 1]) for a, b in zip([0, *cuts], [*cuts, len(days)])]
    rng.shuffle(ranges)
    again = days[rng.randrange(len(days))]
    return [*ranges, (again, again)]


@pytest.mark.parametrize("seed", [1, 2])
def test_any_history_ends_in_the_clean_run(branch, fit_early_config, tmp_path, seed):
    """Random sub-ranges in random order with the original files, a repeat, then the
    corrected session re-delivered and run: every table equals the clean in-order run."""
    original, corrected, clean = branch
    extracts = tmp_path / "extracts"
    shutil.copytree(original, extracts)
    warehouse = tmp_path / "w.duckdb"
    config = ("--config", str(fit_early_config))
    days = session_folders(original, trading_calendar())
    for start, end in _history(days, random.Random(seed)):
        crm_run(extracts, warehouse, "--start", start.isoformat(), "--end", end.isoformat(), *config)
    day = BRANCH_CORRECTED.isoformat()
    shutil.copytree(corrected / day, extracts / day, dirs_exist_ok=True)
    crm_run(extracts, warehouse, "--start", day, "--end", day, *config)
    assert query(clean, "select count(*) as n from model.segmentation_versions")["n"][0] >= 1  # models did fit
    assert query(clean, "select count(*) as n from model.churn_versions")["n"][0] >= 1
    assert_same_warehouse(clean, warehouse)


def test_the_worked_example_after_a_shuffled_history(tmp_path):
    """Second half, first half, a middle session again: the spec's expected marts."""
    from ..core.test_spec_example import KEYS, compare as compare_expected

    warehouse = tmp_path / "w.duckdb"
    half = len(DAYS) // 2
    for start, end in [(DAYS[half], DAYS[-1]), (DAYS[0], DAYS[half - 1]), (DAYS[half], DAYS[half])]:
        crm_run(EXTRACTS, warehouse, "--start", start.isoformat(), "--end", end.isoformat(),
                "--config", str(ROOT / "tests" / "fixtures" / "last_report_only.toml"))
    for table, keys in KEYS.items():
        expected = pl.read_parquet(EXAMPLE / "expected" / f"{table}.parquet")
        assert compare_expected(expected, query(warehouse, f"select * from mart.{table}"), keys) == [], table
