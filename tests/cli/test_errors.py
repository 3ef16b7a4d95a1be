"""Every user or data error of the real `crm` entry point ends in one line naming the cause,
with exit status 2 for usage and 1 for data, no traceback, and no warehouse left behind."""

from __future__ import annotations

import shutil
import subprocess
import sys

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
