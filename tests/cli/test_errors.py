"""Every user or data error of the real `crm` entry point ends in one line naming the cause,
with exit status 2 for usage and 1 for data, no traceback, and no warehouse left behind."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ..conftest import EXAMPLE, ROOT


def crm(*args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "cli.app", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    out = done.stdout + done.stderr
    assert "Traceback" not in out, out
    return done.returncode, out.strip().splitlines()[-1]


@pytest.mark.parametrize("args,status,last", [
    (["run", "--extracts", "x", "--start", "2024/09/04"], 2,
     "error: --start '2024/09/04' is not a date: expected YYYY-MM-DD, e.g. 2024-09-04"),
    (["report", "--date", "2024-09-07"], 2,
     "error: --date 2024-09-07 is not a trading session (a weekend); the previous session is 2024-09-06"),
    (["report", "--date", "2024-10-01"], 2,  # National Day week
     "error: --date 2024-10-01 is not a trading session (an exchange holiday); the previous session is 2024-09-30"),
    (["report", "--date", "2024-09-02"], 1, None),
], ids=["bad-date", "weekend", "holiday", "no-data"])
def test_report_and_run_options(example_warehouse, tmp_path, args, status, last):
    code, line = crm(*args, "--warehouse", str(example_warehouse), "--out", str(tmp_path / "out")) \
        if args[0] == "report" else crm(*args)
    assert code == status
    if last:
        assert line == last
    else:
        assert line == (f"error: no data for 2024-09-02 in {example_warehouse} (it holds 2024-09-18..2024-10-29); "
                        "load that session with `crm run --start 2024-09-02 --end 2024-09-02`")
    assert not (tmp_path / "out").exists()  # a failing command writes no report output


def test_report_out_that_is_a_file(example_warehouse, tmp_path):
    target = tmp_path / "a-file.html"
    target.write_text("keep me")
    code, line = crm("report", "--warehouse", str(example_warehouse), "--date", "2024-10-29", "--out", str(target))
    assert (code, line) == (2, f"error: --out {target} is a file; give the folder the reports go to")
    assert target.read_text() == "keep me"


def test_report_on_a_warehouse_of_an_earlier_version_names_what_it_lacks(example_warehouse, tmp_path):
    """A warehouse built before tables were added (here two dropped) is refused in one line
    naming them, not with DuckDB's multi-line catalog error from inside the report's SQL."""
    old = tmp_path / "old.duckdb"
    shutil.copy(example_warehouse, old)
    with duckdb.connect(str(old)) as con:
        con.execute("drop table mart.coholding")
        con.execute("drop table mart.client_flow")
    code, line = crm("report", "--warehouse", str(old), "--date", "2024-10-29", "--out", str(tmp_path / "out"))
    assert (code, line) == (1, f"error: {old} was built by an earlier version: it lacks mart.coholding, "
                               "mart.client_flow; rebuild it with `crm run`")
    assert not (tmp_path / "out").exists()


def test_a_file_level_error_names_the_file_and_column_and_leaves_no_warehouse(tmp_path):
    extracts = tmp_path / "extracts"
    shutil.copytree(EXAMPLE / "extracts" / "2024-09-19", extracts / "2024-09-19")
    trades = extracts / "2024-09-19" / "trades.csv"
    lines = trades.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("price", "px")
    trades.write_text("\n".join(lines) + "\n", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    code, line = crm("run", "--extracts", str(extracts), "--warehouse", str(warehouse))
    assert code == 1
    assert line == "error: 2024-09-19/trades.csv, column 'price': required column is missing from the header"
    assert not warehouse.exists()


def _two_sessions(tmp_path):
    extracts = tmp_path / "extracts"
    for day in ("2024-09-18", "2024-09-19"):
        shutil.copytree(EXAMPLE / "extracts" / day, extracts / day)
    return extracts, tmp_path / "w.duckdb"


def _set(path, row: int, column: str, value: str) -> None:
    """Data row `row` (1 = first under the header) of a CSV gets `value` in `column`."""
    import polars as pl

    df = pl.read_csv(path, infer_schema=False)
    df.with_columns(pl.when(pl.int_range(pl.len()) == row - 1).then(pl.lit(value))
                    .otherwise(pl.col(column)).alias(column)).write_csv(path)


def test_a_run_with_bad_rows_succeeds_and_counts_its_warnings_on_the_last_line(tmp_path):
    """2024-09-19: the buy T202409190000013 of 0731000018 (row 3) gets the price 'abc' and
    client 0731000002 (row 3) the gender 'X'. By hand: 5 rejected rows (that one and the four
    bad trade rows the example carries on its first day, 2024-09-18: README.md); 1 nulled
    value; the client's cash is 2,537.17 CNY (amount + fees) below what its loaded flows
    explain, too much for interest: 1 client with unreconciled cash. Exit 0, counts last."""
    extracts, warehouse = _two_sessions(tmp_path)
    _set(extracts / "2024-09-19" / "trades.csv", 3, "price", "abc")
    _set(extracts / "2024-09-19" / "clients.csv", 3, "gender", "X")
    code, line = crm("run", "--extracts", str(extracts), "--warehouse", str(warehouse))
    assert code == 0
    assert re.fullmatch(
        rf"rebuilt 2024-09-18\.\.2024-09-19 in [0-9.]+s -> {re.escape(str(warehouse))}; warnings: 5 rejected rows, "
        r"1 invalid optional value nulled, 1 client with unreconciled cash", line), line


def test_a_failed_check_ends_in_its_cause_and_the_details_go_to_a_log_file(tmp_path):
    """Both rows of 2024-09-19's market.csv rejected: 100 % of the file, above max_reject_share
    (50 %): the run fails in the raw check; its step error and traceback are in the log file
    the line above names; nothing of it is committed. The new warehouse's first session ran
    alone before it (core.db.run_ranges) and stays, published."""
    extracts, warehouse = _two_sessions(tmp_path)
    for row in (1, 2):
        _set(extracts / "2024-09-19" / "market.csv", row, "turnover_amount", "-1")
    done = subprocess.run([sys.executable, "-m", "cli.app", "run", "--extracts", str(extracts),
                           "--warehouse", str(warehouse)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert lines[-1] == ("error: 2024-09-19/market.csv: check raw_reject_share failed: 2 of 2 rows rejected "
                         "(first: row 1, column 'turnover_amount': turnover_amount must be > 0); is it the right file?")
    details = next(line for line in lines if line.startswith("details: "))
    log = Path(details.removeprefix("details: ").removesuffix(" (or --verbose)"))
    text = log.read_text(encoding="utf-8")
    assert "raw_reject_share" in text and 'pipelines/assets.py", line' in text  # the stack
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = con.execute("select distinct as_of_date::varchar from raw.market order by 1").fetchall()
        published = con.execute("select as_of_date::varchar from quality.published order by 1").fetchall()
    assert loaded == published == [("2024-09-18",)]
