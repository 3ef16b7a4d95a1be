"""Every value checked at the door: one cell of the worked example's 2024-09-18 changed at a
time, and the reject (or the nulled cell) it must give, written out by hand."""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl
import pytest

from core.extracts import SCHEMAS, describe, load_day
from core.ingest import ingest_day
from core.sessions import trading_calendar

from ..builders import assert_same, copy_day, load, raw_tables
from ..conftest import ROOT

DAY = dt.date(2024, 9, 18)
CAL = trading_calendar()


def set_cell(folder, name: str, row: int, column: str, value: str) -> None:
    """Data row `row` (1 = first under the header) of folder/name.csv gets `value` in `column`."""
    df = pl.read_csv(folder / f"{name}.csv", infer_schema=False)
    df = df.with_columns(pl.when(pl.int_range(pl.len()) == row - 1).then(pl.lit(value))
                         .otherwise(pl.col(column)).alias(column))
    df.write_csv(folder / f"{name}.csv")


# (file, column, value written into data row 2, the reason of its reject)
REJECTS = [
    # not a finite number: polars reads all of these as floats
    ("trades", "price", "nan", "price is not a finite number"),
    ("trades", "commission", "inf", "commission is not a finite number"),
    ("trades", "amount", "1e400", "amount is not a finite number"),
    ("trades", "quantity", "-inf", "quantity is not a finite number"),
    ("positions", "cost_amount", "NaN", "cost_amount is not a finite number"),
    ("cash", "deposit_amount", "inf", "deposit_amount is not a finite number"),
    ("quotes", "close", "nan", "close is not a finite number"),
    ("market", "turnover_amount", "NaN", "turnover_amount is not a finite number"),
    # wrong type
    ("trades", "price", "7,05", "unparsable decimal"),
    ("trades", "quantity", "3300.5", "quantity must be a whole number"),
    ("trades", "trade_time", "25:00:00", "unparsable time"),
    ("positions", "quantity", "abc", "unparsable int"),
    ("clients", "open_date", "2017-02-30", "unparsable date"),
    # empty required
    ("trades", "market", "", "missing value"),
    ("positions", "security_code", "  ", "missing value"),
    ("cash", "cash_balance", "", "missing value"),
    ("quotes", "prev_close", "", "missing value"),
    ("market", "turnover_amount", "", "missing value"),
    ("clients", "broker_id", "", "missing value"),
    ("brokers", "team_id", "", "missing value"),
    # out of range: negatives, zeros, bounds, enumerations, codes, dates
    ("positions", "quantity", "0", "quantity must be > 0"),
    ("positions", "cost_amount", "-1000000000000.01", "cost_amount must be >= -1e12"),
    ("positions", "market", "HK", "unknown market (expected one of SH/SZ/BJ)"),
    ("cash", "cash_balance", "-0.01", "cash_balance must be >= 0"),
    ("cash", "withdraw_amount", "-5", "withdraw_amount must be >= 0"),
    ("cash", "cash_balance", "1000000000000.01", "cash_balance must be <= 1e12"),
    ("quotes", "prev_close", "0", "prev_close must be > 0"),
    ("quotes", "close", "1000000.01", "close must be <= 1e6"),
    ("quotes", "security_code", "2841", "security_code must be 6 digits"),
    ("market", "turnover_amount", "0", "turnover_amount must be > 0"),
    ("market", "turnover_amount", "-1", "turnover_amount must be > 0"),
    ("market", "turnover_amount", "1.00001e13", "turnover_amount must be <= 1e13"),
    ("market", "market", "HK", "unknown market (expected one of SH/SZ/BJ)"),
    ("trades", "security_code", "30068６", "security_code must be 6 digits"),  # a full-width 6
    ("trades", "commission", "-5.82", "commission must be >= 0"),
    ("trades", "transfer_fee", "1e13", "transfer_fee must be <= 1e12"),
    ("clients", "open_date", "2024-09-19", "open_date after the folder's day 2024-09-18"),
    ("clients", "open_date", "1899-12-30", "open_date before 1900-01-01"),
]


@pytest.mark.parametrize("name,column,value,reason", REJECTS, ids=lambda v: str(v))
def test_a_bad_value_rejects_its_row(tmp_path, name, column, value, reason):
    folder = copy_day(tmp_path)
    set_cell(folder, name, 2, column, value)
    f = load_day(folder, DAY)[name]
    assert f.rejects.select("file", "row_number", "column_name", "reason").rows() == [
        (f"{name}.csv", 2, column, reason)]
    raw = json.loads(f.rejects["raw_row"][0])
    assert raw[column] == (value.strip() or None)
    assert f.good.height == f.rows_read - 1 and f.nulled.height == 0


def test_rejected_rows_reach_quality_rejects_and_nothing_else_changes(tmp_path):
    """A NaN close through ingest_day: one row of quality.rejects, the other quotes loaded."""
    clean = load(copy_day(tmp_path / "a").parent, [DAY], tmp_path / "a.duckdb")
    folder = copy_day(tmp_path / "b")
    set_cell(folder, "quotes", 2, "close", "nan")
    con = load(folder.parent, [DAY], tmp_path / "b.duckdb")
    assert con.execute("select file, row_number, column_name, reason from quality.rejects").fetchall() == [
        ("quotes.csv", 2, "close", "close is not a finite number")]
    assert con.execute("select count(*) from raw.quotes where market = 'SZ' and security_code = '002841'"
                       ).fetchone() == (0,)
    want, got = raw_tables(clean), raw_tables(con)
    want["quotes"] = want["quotes"].filter(pl.col("security_code") != "002841")
    assert_same(want, got)


@pytest.mark.parametrize("name,row,column,value,at_bound", [
    ("positions", 2, "quantity", "10000000000", True),
    ("positions", 2, "quantity", "10000000001", False),
    ("positions", 2, "cost_amount", "-1000000000000", True),
    ("cash", 2, "cash_balance", "1000000000000", True),
    ("market", 2, "turnover_amount", "10000000000000", True),
    ("market", 2, "turnover_amount", "0.01", True),
])
def test_bounds_are_inclusive(tmp_path, name, row, column, value, at_bound):
    folder = copy_day(tmp_path)
    set_cell(folder, name, row, column, value)
    f = load_day(folder, DAY)[name]
    assert (f.rejects.height == 0) is at_bound


@pytest.mark.parametrize("price,quantity,amount,reason", [
    ("1000000", "1", "1000000.00", None),                       # the dearest price allowed
    ("1000000.01", "1", "1000000.01", "price must be <= 1e6"),
    ("1000000", "1000000", "1000000000000.00", None),            # amount at its bound
    ("1000000", "1000001", "1000001000000.00", "amount must be <= 1e12"),
])
def test_price_and_amount_bounds(tmp_path, price, quantity, amount, reason):
    folder = copy_day(tmp_path)
    for column, value in (("price", price), ("quantity", quantity), ("amount", amount)):
        set_cell(folder, "trades", 2, column, value)
    f = load_day(folder, DAY)["trades"]
    assert f.rejects["reason"].to_list() == ([reason] if reason else [])


def test_stamp_tax_on_a_buy_is_a_reject(tmp_path):
    folder = copy_day(tmp_path)
    set_cell(folder, "trades", 3, "stamp_tax", "0.01")  # T202409180000003 is a buy
    f = load_day(folder, DAY)["trades"]
    assert f.rejects.select("row_number", "column_name", "reason").rows() == [
        (3, "stamp_tax", "stamp_tax on a buy (charged on sells only)")]


@pytest.mark.parametrize("cost", ["0", "0.00", "-1234.56"])
def test_a_diluted_cost_at_or_below_zero_is_accepted(tmp_path, cost):
    """Profitable sells bring the back office's diluted holding cost to zero or below."""
    folder = copy_day(tmp_path)
    set_cell(folder, "positions", 2, "cost_amount", cost)
    f = load_day(folder, DAY)["positions"]
    assert f.rejects.height == 0
    row = f.good.filter(pl.col("client_id") == "0731000000", pl.col("security_code") == "002031")
    assert row["cost_amount"].to_list() == [float(cost)]


# (file, column, value written into data row 2, the reason it is nulled with)
NULLED = [
    ("clients", "gender", "X", "unknown gender (expected M or F)"),
    ("clients", "birth_date", "1850-05-01", "birth_date before 1900-01-01"),
    ("clients", "birth_date", "2024-09-19", "birth_date after the folder's day 2024-09-18"),
    ("clients", "birth_date", "1997-13-15", "unparsable date"),
    ("clients", "close_date", "2017-10-25", "close_date before open_date"),  # opened 2017-10-26
    ("clients", "close_date", "2024-09-19", "close_date after the folder's day 2024-09-18"),
    ("clients", "risk_level", "C6", "unknown risk_level (expected one of C1/C2/C3/C4/C5)"),
    ("clients", "channel", "web", "unknown channel (expected one of online/branch/referral/bank)"),
    ("brokers", "hire_date", "2030-01-01", "hire_date after the folder's day 2024-09-18"),
    ("trades", "channel", "app", "unknown channel (expected one of online/phone/counter)"),
]


@pytest.mark.parametrize("name,column,value,reason", NULLED, ids=lambda v: str(v))
def test_a_bad_optional_value_is_nulled_and_the_row_kept(tmp_path, name, column, value, reason):
    folder = copy_day(tmp_path)
    set_cell(folder, name, 2, column, value)
    f = load_day(folder, DAY)[name]
    assert f.rejects.height == 0 and f.good.height == f.rows_read
    assert f.nulled.select("file", "row_number", "column_name", "reason").rows() == [
        (f"{name}.csv", 2, column, reason)]
    assert json.loads(f.nulled["raw_row"][0])[column] == value
    key = {"clients": "0731000001", "brokers": "B001", "trades": "T202409180000002"}[name]
    assert f.good.filter(pl.col(f.good.columns[0]) == key)[column].to_list() == [None]


def test_a_client_with_a_bad_birth_date_keeps_its_trades(tmp_path):
    """0731000004 trades twice on 2024-09-18: a birth date in 1850 must not lose them."""
    folder = copy_day(tmp_path)
    set_cell(folder, "clients", 5, "birth_date", "1850-01-01")
    con = load(folder.parent, [DAY], tmp_path / "w.duckdb")
    assert con.execute("select count(*) from raw.trades where client_id = '0731000004'").fetchone() == (2,)
    assert con.execute("select birth_date, gender from raw.clients where client_id = '0731000004'"
                       ).fetchone() == (None, "M")
    assert con.execute("select count(*) from quality.rejects").fetchone() == (0,)


def test_contract_tables_show_the_valid_values_the_code_checks():
    """docs/spec/extracts.md's 'valid values' column is describe() of every column, and the
    bounds' paragraph names each bound."""
    doc = (ROOT / "docs" / "spec" / "extracts.md").read_text(encoding="utf-8")
    cells = {}
    current = None
    for line in doc.splitlines():
        if m := re.match(r"^`(\w+)\.csv`", line):
            current = m.group(1)
        elif current and (m := re.match(r"^\| (\w+) \| (\w+) \| (.*?) \| (.*)\|$", line)) and m.group(1) != "column":
            cells[(current, m.group(1))] = (m.group(2), m.group(3))
    kinds = {"str": "str", "date": "date", "time": "time", "int": "int", "decimal": "decimal"}
    expected = {(n, c): (kinds[k], describe(n, c)) for n, cols in SCHEMAS.items() for c, k, _ in cols}
    assert cells == expected
    for bound in ("1e12 CNY", "1e6 CNY", "1e10", "1e13 CNY", "1900-01-01"):
        assert bound in doc


def test_a_diluted_cost_passes_the_raw_checks(tmp_path):
    from core.checks import CHECKS, evaluate

    folder = copy_day(tmp_path)
    set_cell(folder, "positions", 2, "cost_amount", "-1234.56")
    con = load(folder.parent, [DAY], tmp_path / "w.duckdb")
    assert con.execute("select cost_amount from raw.positions where cost_amount < 0").fetchall() == [(-1234.56,)]
    outcome = evaluate(con, CHECKS["raw_no_negative_holdings"], "raw.positions", {"start": DAY, "end": DAY})
    assert outcome.passed


def test_nulled_cells_make_one_warning_line_per_file(tmp_path):
    from core.ingest import nulled_line

    folder = copy_day(tmp_path)
    set_cell(folder, "clients", 2, "gender", "X")
    set_cell(folder, "clients", 7, "city", "")          # empty: allowed, not noted
    set_cell(folder, "clients", 9, "risk_level", "C0")
    set_cell(folder, "clients", 11, "gender", "male")
    f = load_day(folder, DAY)["clients"]
    assert nulled_line(DAY, f) == ("2024-09-18/clients.csv: 3 invalid optional value(s) nulled, rows kept "
                                   "(gender 2, risk_level 1), e.g. row 2, column 'gender': "
                                   "unknown gender (expected M or F)")


def test_other_flows_may_be_absent_and_are_checked_when_present(tmp_path):
    """cash.csv without other_flow_amount loads it empty in every row; with it, a dividend
    (+12.34) and a dividend tax (-5.00) load as written, 'abc' is nulled and noted, the row kept."""
    folder = copy_day(tmp_path)
    absent = load_day(folder, DAY)["cash"]
    assert absent.good["other_flow_amount"].null_count() == absent.good.height == absent.rows_read
    df = pl.read_csv(folder / "cash.csv", infer_schema=False)
    df.with_columns(pl.Series("other_flow_amount", ["12.34", "-5.00", "abc"] + [""] * (df.height - 3))
                    ).write_csv(folder / "cash.csv")
    present = load_day(folder, DAY)["cash"]
    assert present.good.height == absent.good.height and present.rejects.height == 0
    assert present.good["other_flow_amount"].to_list()[:4] == [12.34, -5.0, None, None]
    assert present.nulled.select("row_number", "column_name", "reason").rows() == [
        (3, "other_flow_amount", "unparsable decimal")]


def test_nulled_cells_are_stored_in_quality_nulled(tmp_path):
    folder = copy_day(tmp_path)
    set_cell(folder, "clients", 5, "birth_date", "1850-01-01")
    set_cell(folder, "trades", 2, "channel", "app")
    con = load(folder.parent, [DAY], tmp_path / "w.duckdb")
    assert con.execute("select as_of_date::varchar, file, row_number, column_name, reason from quality.nulled "
                       "order by file").fetchall() == [
        ("2024-09-18", "clients.csv", 5, "birth_date", "birth_date before 1900-01-01"),
        ("2024-09-18", "trades.csv", 2, "channel", "unknown channel (expected one of online/phone/counter)")]
    # reloading the day replaces its notes, it does not add to them
    ingest_day(con, folder.parent, DAY, CAL)
    assert con.execute("select count(*) from quality.nulled").fetchone() == (2,)
