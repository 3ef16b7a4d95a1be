"""Reading and validating a session folder: encodings, Parquet, row rejects, file errors."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from core.extracts import ExtractFileError
from core.ingest import ingest_day
from core.sessions import trading_calendar

from ..builders import assert_same, copy_day, load, raw_tables
from ..conftest import EXAMPLE

DAY = dt.date(2024, 9, 18)
SRC = EXAMPLE / "extracts" / DAY.isoformat()
CAL = trading_calendar()


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_gbk_and_bom_files_load_like_utf8(tmp_path, encoding):
    utf8 = load(copy_day(tmp_path / "u").parent, [DAY], tmp_path / "u.duckdb")
    other = load(copy_day(tmp_path / "o", encoding=encoding).parent, [DAY], tmp_path / "o.duckdb")
    assert (SRC / "clients.csv").read_text(encoding="utf-8").encode(encoding) != (
        SRC / "clients.csv").read_bytes()  # the file really is in another encoding
    assert_same(raw_tables(utf8), raw_tables(other))
    names = other.execute("select client_name from raw.clients order by client_id limit 1").fetchone()[0]
    assert names == "朱丽军"
    # an ASCII-only file (market.csv) is valid UTF-8 too; the Chinese ones are detected
    fmt = other.execute("select format from quality.loads where file = 'clients.csv'").fetchone()
    assert fmt == ({"utf-8-sig": "utf-8-sig"}.get(encoding, "gb18030"),)


def test_parquet_day_loads_like_csv_and_keeps_leading_zeros(tmp_path):
    csv = load(copy_day(tmp_path / "c").parent, [DAY], tmp_path / "c.duckdb")
    folder = tmp_path / "p" / DAY.isoformat()
    folder.mkdir(parents=True)
    for f in SRC.iterdir():  # typed Parquet, as a counter system would write it
        df = pl.read_csv(f, infer_schema_length=0)
        df.write_parquet(folder / f"{f.stem}.parquet")
    pq = load(folder.parent, [DAY], tmp_path / "p.duckdb")
    assert_same(raw_tables(csv), raw_tables(pq))
    codes = pq.execute("select security_code from raw.positions where security_code like '0%'").fetchall()
    assert codes and all(len(c[0]) == 6 for c in codes)


def test_blank_parquet_cells_are_empty_like_blank_csv_cells(tmp_path):
    """A Parquet clients file whose city is '' for one client and '  ' for another, and a
    gender of ' M ': the same NULL cities and 'M' as the CSV's empty cells give."""
    folder = copy_day(tmp_path)
    df = pl.read_csv(folder / "clients.csv", infer_schema_length=0)
    ids = df["client_id"][:3].to_list()
    df = df.with_columns(
        city=pl.when(pl.col("client_id") == ids[0]).then(pl.lit("")).when(pl.col("client_id") == ids[1])
        .then(pl.lit("  ")).otherwise(pl.col("city")),
        gender=pl.when(pl.col("client_id") == ids[2]).then(pl.lit(" M ")).otherwise(pl.col("gender")))
    (folder / "clients.csv").unlink()
    df.write_parquet(folder / "clients.parquet")
    con = load(folder.parent, [DAY], tmp_path / "w.duckdb")
    rows = con.execute("select client_id, city, gender from raw.clients where client_id in (?, ?, ?) order by 1",
                       ids).fetchall()
    assert [(c, city) for c, city, _ in rows[:2]] == [(ids[0], None), (ids[1], None)]
    assert rows[2][2] == "M"


BAD_TRADES = """trade_id,client_id,trade_date,trade_time,market,security_code,side,quantity,price,amount,commission,exchange_fee,stamp_tax,transfer_fee,channel
G1,0731000003,2024-09-18,10:00:00,SH,603879,B,100,2.37,237.00,5.00,0.01,0.00,0.00,online
G1,0731000003,2024-09-18,10:01:00,SH,603879,B,200,2.37,474.00,5.00,0.03,0.00,0.00,online
X2,0731000003,2024-09-18,10:02:00,SH,603879,B,-100,2.37,-237.00,5.00,0.01,0.00,0.00,online
X3,0731000003,2024-09-18,10:03:00,SH,603879,B,100,0,0.00,5.00,0.01,0.00,0.00,online
X4,0731000003,2024-09-18,10:04:00,SH,603879,X,100,2.37,237.00,5.00,0.01,0.00,0.00,online
X5,0731000003,2024-09-18,10:05:00,HK,603879,B,100,2.37,237.00,5.00,0.01,0.00,0.00,online
X6,0731999999,2024-09-18,10:06:00,SH,603879,B,100,2.37,237.00,5.00,0.01,0.00,0.00,online
X7,0731000003,2024-09-18,10:07:00,SH,603879,B,100,2.37,240.00,5.00,0.01,0.00,0.00,online
X8,0731000003,2024-09-18,10:08:00,SH,603879,B,100,abc,237.00,5.00,0.01,0.00,0.00,online
G2,0731000003,2024-09-18,10:09:00,SH,603879,S,100,2.37,237.24,5.00,0.01,0.12,0.00,online
X9,0731000003,2024-09-17,10:10:00,SH,603879,S,100,2.37,237.00,5.00,0.01,0.12,0.00,online
"""


def test_every_reject_reason_is_recorded_and_good_rows_load(tmp_path):
    folder = copy_day(tmp_path)
    (folder / "trades.csv").write_text(BAD_TRADES, encoding="utf-8")
    con = load(tmp_path, [DAY], tmp_path / "w.duckdb")
    loaded = con.execute("select trade_id, quantity from raw.trades order by trade_id").fetchall()
    # G1 keeps its first row (100 shares); G2's amount is within 0.01 + 0.1 % of 237.00
    assert loaded == [("G1", 100), ("G2", 100)]
    rejects = con.execute(
        "select row_number, column_name, reason from quality.rejects order by row_number").fetchall()
    assert rejects == [
        (2, "trade_id", "duplicate trade_id (first row kept)"),
        (3, "quantity", "quantity must be > 0"),
        (4, "price", "price must be > 0"),
        (5, "side", "unknown side (expected B or S)"),
        (6, "market", "unknown market (expected one of SH/SZ/BJ)"),
        (7, "client_id", "client missing from that day's clients file"),
        (8, "amount", "amount disagrees with quantity x price"),
        (9, "price", "unparsable decimal"),
        (11, "trade_date", "trade_date is not the folder's day 2024-09-18"),
    ]
    raw_row = con.execute("select raw_row from quality.rejects where row_number = 9").fetchone()[0]
    assert '"price":"abc"' in raw_row and '"trade_id":"X8"' in raw_row
    loads = con.execute("select rows_read, rows_loaded, rows_rejected from quality.loads "
                        "where file = 'trades.csv'").fetchone()
    assert loads == (11, 2, 9)


def test_missing_required_column_fails_the_day_and_keeps_previous_state(tmp_path):
    folder = copy_day(tmp_path)
    con = load(tmp_path, [DAY], tmp_path / "w.duckdb")
    before = raw_tables(con)
    df = pl.read_csv(folder / "trades.csv", infer_schema_length=0).drop("amount")
    df.write_csv(folder / "trades.csv")
    with pytest.raises(ExtractFileError) as err:
        ingest_day(con, tmp_path, DAY, CAL)
    assert str(err.value) == ("2024-09-18/trades.csv, column 'amount': "
                              "required column is missing from the header")
    assert_same(before, raw_tables(con))


def test_missing_file_names_it(tmp_path):
    folder = copy_day(tmp_path)
    (folder / "cash.csv").unlink()
    con = load(tmp_path, [], tmp_path / "w.duckdb")
    with pytest.raises(ExtractFileError, match=r"2024-09-18/cash.csv: file is missing"):
        ingest_day(con, tmp_path, DAY, CAL)
    assert con.execute("select count(*) from raw.clients").fetchone() == (0,)
