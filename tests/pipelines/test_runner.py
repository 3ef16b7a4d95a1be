"""run_sessions: the daily job over a session range through Dagster; a failing blocking check
commits nothing of the run."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from core.config import IndicatorConfig, Settings
from pipelines.runner import RunFailed, run_sessions

from ..conftest import EXAMPLE


def _snapshot(path) -> dict[str, list[tuple]]:
    """Every row of every table, exactly (load times included): what must not move."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [f"{s}.{t}" for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() order by all").fetchall()]
        return {n: con.execute(f"select * from {n} order by all").fetchall() for n in names}


def _one_session(tmp_path):
    root = tmp_path / "extracts"
    shutil.copytree(EXAMPLE / "extracts" / "2024-09-19", root / "2024-09-19")
    return root, dt.date(2024, 9, 19)


STRICT = Settings(indicators=IndicatorConfig(max_reject_share=0.1))  # 4 of 15 trades rejected: fails


def test_a_failing_blocking_check_on_a_new_session_commits_nothing(tmp_path):
    """raw/trades' check fails: not even the raw rows of the writer before the check stay."""
    root, day = _one_session(tmp_path)
    with pytest.raises(RunFailed) as failed:
        run_sessions(tmp_path / "w.duckdb", root, day, day, settings=STRICT)
    # the example's trades.csv of that day: rows 12 (a repeated trade_id) and 3 more rejected
    assert str(failed.value) == ("2024-09-19/trades.csv: check raw_reject_share failed: 4 of 15 rows rejected "
                                 "(first: row 12, column 'trade_id': duplicate trade_id (first row kept)); "
                                 "is it the right file?")
    assert failed.value.sessions == (day, day)
    rows = _snapshot(tmp_path / "w.duckdb")
    assert rows["raw.trades"] == [] and rows["quality.loads"] == [] and rows["mart.client_daily"] == []
    assert rows["ref.sessions"]  # the schema and calendar exist: only the run's rows are gone


def test_a_failing_blocking_check_leaves_the_previous_rows_byte_identical(tmp_path):
    """The session loaded fine, then is rerun under settings that fail its raw check: every
    table, raw and marts and load times, is exactly what it was."""
    root, day = _one_session(tmp_path)
    run_sessions(tmp_path / "w.duckdb", root, day, day)
    before = _snapshot(tmp_path / "w.duckdb")
    assert before["mart.client_daily"]
    with pytest.raises(RunFailed, match="raw_reject_share"):
        run_sessions(tmp_path / "w.duckdb", root, day, day, settings=STRICT)
    assert _snapshot(tmp_path / "w.duckdb") == before


def test_a_failure_in_a_late_step_rolls_back_the_earlier_steps(tmp_path, monkeypatch):
    """Changed settings rewrite raw, client_daily .. churn_scores, then the last model writer
    fails: every earlier writer's rows are rolled back with it."""
    import models.correlation

    root, day = _one_session(tmp_path)
    run_sessions(tmp_path / "w.duckdb", root, day, day)
    before = _snapshot(tmp_path / "w.duckdb")

    def broken(con, days, job):
        assert con.execute("select count(*) from mart.client_daily where as_of_date = ?", [day]).fetchone()[0] > 0
        raise RuntimeError("planted failure in indicator_correlation")

    monkeypatch.setattr(models.correlation, "build_correlation", broken)
    changed = Settings(indicators=IndicatorConfig(trap_threshold=0.05))
    with pytest.raises(RunFailed, match="^planted failure in indicator_correlation$"):
        run_sessions(tmp_path / "w.duckdb", root, day, day, settings=changed)
    assert _snapshot(tmp_path / "w.duckdb") == before
    monkeypatch.undo()
    run_sessions(tmp_path / "w.duckdb", root, day, day, settings=changed)  # control: the change does move rows
    after = _snapshot(tmp_path / "w.duckdb")
    assert after["mart.client_windows"] != before["mart.client_windows"]


def test_one_rejected_trade_is_a_reject_and_a_warning_not_a_stopped_night(tmp_path):
    """A negative quantity rejects the trade; its client's cash then moves beyond what the
    loaded trades explain: the run goes on and says so (quality.warnings), by the trade's
    own cash flow."""
    import polars as pl

    root = tmp_path / "extracts"
    for day in ("2024-09-19", "2024-09-20"):
        shutil.copytree(EXAMPLE / "extracts" / day, root / day)
    trades = pl.read_csv(root / "2024-09-20" / "trades.csv", infer_schema=False)
    bad = trades.row(0, named=True)
    trades.with_columns(pl.when(pl.col("trade_id") == bad["trade_id"]).then(pl.lit("-100"))
                        .otherwise(pl.col("quantity")).alias("quantity")).write_csv(root / "2024-09-20" / "trades.csv")
    fees = float(bad["commission"]) + float(bad["stamp_tax"]) + float(bad["transfer_fee"])
    flow = -(float(bad["amount"]) + fees) if bad["side"] == "B" else float(bad["amount"]) - fees

    run_sessions(tmp_path / "w.duckdb", root, dt.date(2024, 9, 19), dt.date(2024, 9, 20))
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        rejects = con.execute("select row_number, column_name, reason from quality.rejects "
                              "where as_of_date = '2024-09-20' and file = 'trades.csv'").fetchall()
        warning = con.execute("select clients, detail from quality.warnings "
                              "where as_of_date = '2024-09-20' and kind = 'cash_unreconciled'").fetchall()
        published = con.execute("select count(*) from quality.published").fetchone()[0]
    assert (1, "quantity", "quantity must be > 0") in rejects
    assert warning == [(1, f"1 with rejected trade rows; largest gap {bad['client_id']}: {flow:.2f} CNY")]
    assert published == 2


def test_into_an_empty_warehouse_the_first_session_runs_alone(tmp_path):
    """DuckDB estimates a table's rows from its committed rows only (core.db.run_ranges), so a
    new warehouse commits its first session in a run of its own; a later range runs as asked."""
    from pipelines.runner import RANGE_END, RANGE_START, project_instance

    root = tmp_path / "extracts"
    for day in ("2024-09-18", "2024-09-19", "2024-09-20"):
        shutil.copytree(EXAMPLE / "extracts" / day, root / day)
    first, last = dt.date(2024, 9, 18), dt.date(2024, 9, 20)
    run_sessions(tmp_path / "w.duckdb", root, first, last)
    run_sessions(tmp_path / "w.duckdb", root, first, last)
    with project_instance(tmp_path / "w.duckdb") as instance:
        records = sorted(instance.get_run_records(), key=lambda r: r.create_timestamp)
    assert [(r.dagster_run.tags[RANGE_START], r.dagster_run.tags[RANGE_END]) for r in records] == [
        ("2024-09-18", "2024-09-18"), ("2024-09-19", "2024-09-20"), ("2024-09-18", "2024-09-20")]
