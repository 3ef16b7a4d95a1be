"""Loading sessions into raw.*: idempotent, order-free, read ahead, all or nothing per day."""

from __future__ import annotations

import datetime as dt

import pytest

from core.extracts import FILES, ExtractFileError
from core.ingest import ingest_day, ingest_days
from core.sessions import trading_calendar

from ..builders import assert_same, copy_day, load, raw_tables

DAY = dt.date(2024, 9, 18)
CAL = trading_calendar()


def test_rerun_of_a_day_is_idempotent(tmp_path):
    copy_day(tmp_path)
    con = load(tmp_path, [DAY], tmp_path / "w.duckdb")
    once = raw_tables(con)
    ingest_day(con, tmp_path, DAY, CAL)
    assert_same(once, raw_tables(con))
    assert con.execute("select count(*) from quality.loads").fetchone() == (len(FILES),)


def test_days_in_any_order_give_the_same_warehouse(tmp_path):
    days = [dt.date(2024, 9, 18), dt.date(2024, 9, 19), dt.date(2024, 9, 20)]
    for d in days:
        copy_day(tmp_path / "x", d)
    forward = load(tmp_path / "x", days, tmp_path / "f.duckdb")
    backward = load(tmp_path / "x", [days[2], days[0], days[1]], tmp_path / "b.duckdb")
    assert_same(raw_tables(forward), raw_tables(backward))


def test_days_read_ahead_load_like_one_by_one_and_stop_at_a_bad_day(tmp_path):
    """ingest_days reads day N + 1 while writing day N: same rows as ingest_day in a loop, and
    a bad day fails after the days before it are committed, with nothing of it or after it."""
    days = [dt.date(2024, 9, 18), dt.date(2024, 9, 19), dt.date(2024, 9, 20)]
    for d in days:
        copy_day(tmp_path / "x", d)
    one_by_one = load(tmp_path / "x", days, tmp_path / "a.duckdb")
    ahead = load(tmp_path / "x", [], tmp_path / "b.duckdb")
    assert [d for d, _ in ingest_days(ahead, tmp_path / "x", days, CAL)] == days
    assert_same(raw_tables(one_by_one), raw_tables(ahead))

    (tmp_path / "x" / days[1].isoformat() / "positions.csv").unlink()
    fresh = load(tmp_path / "x", [], tmp_path / "c.duckdb")
    with pytest.raises(ExtractFileError, match=r"2024-09-19/positions.csv: file is missing"):
        list(ingest_days(fresh, tmp_path / "x", days, CAL))
    loaded = fresh.execute("select distinct as_of_date from quality.loads").fetchall()
    assert loaded == [(days[0],)]
    assert fresh.execute("select count(*) from raw.trades where as_of_date > $d", {"d": days[0]}).fetchone() == (0,)
