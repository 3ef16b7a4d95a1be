"""The contract's rules that reach beyond one file: trade_id across sessions, a header-only
trades file on a day that shows trading, symlinks and stray entries in the extracts root, and
the row an undecodable byte is reported on."""

from __future__ import annotations

import datetime as dt
import os

import polars as pl
import pytest

from core.build import build
from core.config import Settings
from core.extracts import ExtractFileError, load_day
from core.fingerprint import stamp_folder
from core.ingest import ingest_day, scan_folders, session_folders
from core.sessions import trading_calendar

from ..builders import assert_same, cash, client, copy_day, load, position, quote, raw_tables, write_day
from .test_extracts_values import set_cell

D1, D2 = dt.date(2024, 9, 18), dt.date(2024, 9, 19)
CAL = trading_calendar()
SHARED = "T202409180000001"  # the first trade of 2024-09-18, given to 2024-09-19's first trade too


def rejects(con, day):
    return con.execute("select row_number, column_name, reason from quality.rejects where as_of_date = ? "
                       "order by row_number", [day]).fetchall()


def trade_days(con, trade_id):
    return [d for (d,) in con.execute("select as_of_date from raw.trades where trade_id = ? order by 1",
                                      [trade_id]).fetchall()]


# the example's own bad rows of 2024-09-19 (rows 12-15), untouched by these tests
EXAMPLE_REJECTS_D2 = [
    (12, "trade_id", "duplicate trade_id (first row kept)"),
    (13, "quantity", "quantity must be > 0"),
    (14, "client_id", "client missing from that day's clients file"),
    (15, "amount", "amount disagrees with quantity x price"),
]


def two_days_sharing_a_trade_id(root):
    copy_day(root, D1)
    set_cell(copy_day(root, D2), "trades", 1, "trade_id", SHARED)


def test_a_trade_id_loaded_on_an_earlier_session_is_a_reject(tmp_path):
    two_days_sharing_a_trade_id(tmp_path)
    con = load(tmp_path, [D1, D2], tmp_path / "w.duckdb")
    assert rejects(con, D2) == [(1, "trade_id", "trade_id already loaded on 2024-09-18")] + EXAMPLE_REJECTS_D2
    raw = con.execute("select raw_row from quality.rejects where as_of_date = ? and row_number = 1", [D2]).fetchone()
    assert f'"trade_id":"{SHARED}"' in raw[0] and '"security_code":"003022"' in raw[0]
    assert trade_days(con, SHARED) == [D1]
    loads = con.execute("select rows_read, rows_loaded, rows_rejected from quality.loads "
                        "where as_of_date = ? and file = 'trades.csv'", [D2]).fetchone()
    assert loads == (15, 10, 5)
    # reloading either day changes nothing: a session's own rows, and later ones, do not count
    before = raw_tables(con), rejects(con, D1), rejects(con, D2)
    ingest_day(con, tmp_path, D2, CAL)
    ingest_day(con, tmp_path, D1, CAL)
    assert rejects(con, D1) == [] and rejects(con, D2) == before[2]
    assert_same(before[0], raw_tables(con))


def test_the_later_session_holds_the_duplicate_whatever_the_load_order(tmp_path):
    """2024-09-19 loaded first (its row is then the only one), 2024-09-18 arrives late: the run
    reloads 2024-09-19 and ends like the run in order. When 2024-09-18 no longer holds the id,
    2024-09-19's row is no duplicate any more."""
    root = tmp_path / "x"
    two_days_sharing_a_trade_id(root)
    in_order = load(root, [D1, D2], tmp_path / "a.duckdb")
    late = tmp_path / "b.duckdb"

    def run(days):
        build(late, days, Settings(), extracts=root, writers=["raw_extracts"], raise_on_failure=False)

    run([D2])
    with load(root, [], late) as con:
        assert trade_days(con, SHARED) == [D2] and rejects(con, D2) == EXAMPLE_REJECTS_D2
    run([D1, D2])
    with load(root, [], late) as con:
        assert trade_days(con, SHARED) == [D1]
        assert rejects(con, D2) == rejects(in_order, D2)
        assert_same(raw_tables(in_order), raw_tables(con))
    set_cell(root / D1.isoformat(), "trades", 1, "trade_id", "T-RENAMED")
    run([D1, D2])
    with load(root, [], late) as con:
        assert trade_days(con, SHARED) == [D2] and trade_days(con, "T-RENAMED") == [D1]
        assert rejects(con, D2) == EXAMPLE_REJECTS_D2


# ---- a header-only trades file --------------------------------------------------------

def tiny_day(root, day, quantity: int | None, balance: float, deposit: float = 0, other: float | None = None):
    """Client A: 600000 held (`quantity` shares, None: not held) and `balance` CNY; no trade."""
    write_day(root, day, [client("A")], [cash("A", balance, deposit=deposit, other=other)],
              positions=[position("A", "600000", quantity, quantity * 10.0)] if quantity else [],
              quotes=[quote("600000", 10.0)])


@pytest.mark.parametrize("quantity,balance,other,shown", [
    (200, 9_000.0, None, "A: SH 600000 100 -> 200 shares, cash 10,000.00 -> 9,000.00 with transfers and other "
                         "flows of 0.00"),
    (None, 10_995.0, None, "A: SH 600000 100 -> 0 shares, cash 10,000.00 -> 10,995.00 with transfers and other "
                           "flows of 0.00"),
    # a dividend of 45.00 itemised does not explain a cash move of 995.00
    (None, 10_995.0, 45.0, "A: SH 600000 100 -> 0 shares, cash 10,000.00 -> 10,995.00 with transfers and other "
                           "flows of 45.00"),
])
def test_header_only_trades_on_a_day_that_shows_trading_is_a_file_error(tmp_path, quantity, balance, other, shown):
    tiny_day(tmp_path, D1, 100, 10_000.0)
    tiny_day(tmp_path, D2, quantity, balance, other=other)
    con = load(tmp_path, [D1], tmp_path / "w.duckdb")
    before = raw_tables(con)
    with pytest.raises(ExtractFileError) as err:
        ingest_day(con, tmp_path, D2, CAL)
    assert str(err.value) == (
        "2024-09-19/trades.csv: no trade rows, but positions.csv and cash.csv show 1 client(s) trading since "
        f"2024-09-18 (e.g. {shown}): a trades export that lost the day?")
    assert_same(before, raw_tables(con))
    assert con.execute("select count(*) from quality.loads where as_of_date = ?", [D2]).fetchone() == (0,)


@pytest.mark.parametrize("quantity,balance,deposit,other", [
    (100, 10_000.0, 0, None),      # nothing moved: a quiet day
    (110, 10_000.0, 0, None),      # bonus shares (送股), cash still
    (100, 10_003.2, 0, None),      # interest credited (结息), holdings still
    (200, 11_000.0, 1_000, None),  # shares transferred in, cash moved by the deposit only
    (200, 10_000.01, 0, None),     # shares transferred in, cash within the cent
    (110, 10_045.0, 0, 45.0),      # bonus shares and a dividend net of tax, itemised as other flows
])
def test_header_only_trades_load_when_holdings_or_cash_alone_moved(tmp_path, quantity, balance, deposit, other):
    tiny_day(tmp_path, D1, 100, 10_000.0)
    tiny_day(tmp_path, D2, quantity, balance, deposit, other)
    con = load(tmp_path, [D1, D2], tmp_path / "w.duckdb")
    assert con.execute("select count(*) from raw.positions where as_of_date = ?", [D2]).fetchone() == (1,)
    assert con.execute("select rows_read from quality.loads where as_of_date = ? and file = 'trades.csv'",
                       [D2]).fetchone() == (0,)


def test_header_only_trades_without_the_previous_folder_load(tmp_path):
    tiny_day(tmp_path, D2, 200, 9_000.0)  # as above, but 2024-09-18 is not there to compare with
    assert load_day(tmp_path / D2.isoformat(), D2, tmp_path / D1.isoformat())["trades"].rows_read == 0


# ---- symlinks and stray entries of the extracts root ----------------------------------

def test_a_session_folder_linked_from_outside_the_root_is_refused(tmp_path):
    outside = copy_day(tmp_path / "outside")
    root = tmp_path / "root"
    root.mkdir()
    (root / D1.isoformat()).symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError) as err:
        session_folders(root, CAL)
    assert str(err.value) == (f"{root}/2024-09-18: is a symlink to {outside}, outside the extracts root {root}; "
                              "copy the session's folder into the root instead")
    con = load(root, [], tmp_path / "w.duckdb")
    with pytest.raises(ExtractFileError) as err:
        ingest_day(con, root, D1, CAL)
    assert str(err.value) == (f"root/2024-09-18: is a symlink to {outside}, outside the extracts root {root}; "
                              "copy the data into the root instead")
    assert con.execute("select count(*) from quality.loads").fetchone() == (0,)


@pytest.mark.parametrize("relative", [False, True])
def test_a_file_linked_from_outside_the_root_is_refused(tmp_path, relative):
    outside = copy_day(tmp_path / "outside")
    root = tmp_path / "root"
    folder = copy_day(root)
    con = load(root, [D1], tmp_path / "w.duckdb")
    before = raw_tables(con)
    (folder / "trades.csv").unlink()
    target = outside / "trades.csv"
    (folder / "trades.csv").symlink_to(os.path.relpath(target, folder) if relative else target)
    message = (f"2024-09-18/trades.csv: is a symlink to {target}, outside the extracts root {root}; "
               "copy the data into the root instead")
    with pytest.raises(ExtractFileError) as err:
        ingest_day(con, root, D1, CAL)
    assert str(err.value) == message
    with pytest.raises(ExtractFileError) as err:  # the fingerprint does not read it either
        stamp_folder(folder, Settings())
    assert str(err.value) == message
    assert_same(before, raw_tables(con))


def test_symlinks_inside_the_root_are_followed(tmp_path):
    root = tmp_path / "root"
    store = copy_day(root / "_store")
    (root / D1.isoformat()).symlink_to(store, target_is_directory=True)
    (store / "market.csv").rename(root / "_store" / "market.csv")
    (store / "market.csv").symlink_to(root / "_store" / "market.csv")
    lines = []
    assert session_folders(root, CAL, warn=lines.append) == [D1]
    assert lines == [f"{root}: not session folders, not read: _store"]
    con = load(root, [D1], tmp_path / "w.duckdb")
    assert con.execute("select count(*) from raw.market").fetchone() == (2,)


def test_entries_that_are_not_session_folders_are_named_in_one_warning(tmp_path):
    copy_day(tmp_path, D1)
    copy_day(tmp_path / "..2024-09-18")  # an extracted archive beside the session: ..2024-09-18/2024-09-18
    (tmp_path / "2024-09-18.bak").mkdir()
    (tmp_path / "_truth").mkdir()
    (tmp_path / "README.txt").write_text("x")
    scan = scan_folders(tmp_path, CAL)
    assert scan.days == [D1]
    assert scan.warning() == (f"{tmp_path}: not session folders, not read: ..2024-09-18 (beside 2024-09-18), "
                              "2024-09-18.bak (beside 2024-09-18), README.txt, _truth")


@pytest.mark.parametrize("name", ["..2024-09-19", "2024-09-19.bak", "_2024-09-19", "2024-09-19.zip"])
def test_a_session_lookalike_without_its_session_folder_is_an_error(tmp_path, name):
    copy_day(tmp_path, D1)
    if name.endswith(".zip"):
        (tmp_path / name).write_bytes(b"PK")
    else:
        copy_day(tmp_path / name, D2)
    with pytest.raises(ValueError) as err:
        session_folders(tmp_path, CAL)
    assert str(err.value) == (f"{tmp_path}/{name}: not a session folder named YYYY-MM-DD, and there is no folder "
                              f"2024-09-19: name the session's folder 2024-09-19, or move this out of {tmp_path}")


def test_a_session_name_that_is_not_a_folder_is_an_error(tmp_path):
    copy_day(tmp_path, D1)
    (tmp_path / "2024-09-19").write_text("")
    with pytest.raises(ValueError, match=r"/2024-09-19: named like a session folder but is not a folder$"):
        session_folders(tmp_path, CAL)


# ---- the row of an undecodable byte ---------------------------------------------------

@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_an_undecodable_byte_is_reported_on_its_data_row(tmp_path, encoding):
    """Data row 3 (the file's 4th line, client 0731000002) gets a 0xFF byte: the message says
    row 3, the row quality.rejects gives the same line when it is otherwise bad."""
    folder = copy_day(tmp_path, encoding=encoding)
    good = (folder / "clients.csv").read_bytes()
    lines = good.split(b"\n")
    assert lines[3].startswith(b"0731000002,")
    lines[3] = lines[3].replace(b",", b",\xff", 1)
    (folder / "clients.csv").write_bytes(b"\n".join(lines))
    with pytest.raises(ExtractFileError) as err:
        load_day(folder, D1)
    assert str(err.value) == "2024-09-18/clients.csv, row 3: undecodable byte 0xFF: not UTF-8 nor GBK/GB18030 text"

    lines[3] = b"," + lines[3].split(b",", 1)[1].replace(b"\xff", b"")  # the same row, client_id emptied
    (folder / "clients.csv").write_bytes(b"\n".join(lines))
    f = load_day(folder, D1)["clients"]
    assert f.rejects.select("row_number", "reason").rows() == [(3, "missing value")]
    assert pl.Series(f.good["client_id"]).is_in(["0731000002"]).sum() == 0


def test_an_undecodable_byte_in_the_header_says_header(tmp_path):
    folder = copy_day(tmp_path, encoding="gbk")
    data = (folder / "cash.csv").read_bytes()
    (folder / "cash.csv").write_bytes(data.replace(b"cash_balance", b"cash_\xffbalance", 1))
    with pytest.raises(ExtractFileError) as err:
        load_day(folder, D1)
    assert str(err.value) == "2024-09-18/cash.csv: header: undecodable byte 0xFF: not UTF-8 nor GBK/GB18030 text"
