"""The worked example's bad trade rows (tests/fixtures/spec_example/README.md: every fourth day
a duplicated trade_id, a negative quantity, a client missing from that day's clients file and
an amount that disagrees with quantity x price), found here from the extract files alone:
each is in quality.rejects with its row, column and reason, none is in raw.trades, and every
other row is. Successor of the count-only test in test_spec_example.py."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction

import polars as pl

from ..conftest import EXAMPLE, query

# the reasons of docs/spec/extracts.md's rules, as quality.rejects words them
NEGATIVE = ("quantity", "quantity must be > 0")
AMOUNT = ("amount", "amount disagrees with quantity x price")
NO_CLIENT = ("client_id", "client missing from that day's clients file")
DUPLICATE = ("trade_id", "duplicate trade_id (first row kept)")


def read(day: str, name: str) -> tuple[str, pl.DataFrame]:
    """(file name, every cell as text) of one file of the example's session folder."""
    folder = EXAMPLE / "extracts" / day
    parquet = folder / f"{name}.parquet"
    if parquet.exists():
        frame = pl.read_parquet(parquet)
        return parquet.name, frame.with_columns([
            pl.col(c).map_elements(repr, return_dtype=pl.String) if frame[c].dtype.is_float()
            else pl.col(c).cast(pl.String) for c in frame.columns])
    data = (folder / f"{name}.csv").read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return f"{name}.csv", pl.read_csv(text.encode("utf-8"), infer_schema=False)


def classify(day: str) -> tuple[str, int, list[tuple], list[str]]:
    """(file, rows read, rejects as (row, column, reason, trade_id), trade_ids loaded) of one
    day: the column rules first (quantity), then the rules across columns (amount within
    0.01 CNY + 0.1 %, exactly; the client in the day's clients file), then a trade_id
    repeated among the rows otherwise good (the first is kept)."""
    file, trades = read(day, "trades")
    clients = set(read(day, "clients")[1]["client_id"])
    rejects, loaded = [], []
    for n, row in enumerate(trades.iter_rows(named=True), start=1):
        quantity, price, amount = Fraction(row["quantity"]), Fraction(row["price"]), Fraction(row["amount"])
        if quantity <= 0:
            why = NEGATIVE
        elif abs(amount - quantity * price) > Fraction(1, 100) + Fraction(1, 1000) * abs(quantity * price):
            why = AMOUNT
        elif row["client_id"] not in clients:
            why = NO_CLIENT
        elif row["trade_id"] in loaded:
            why = DUPLICATE
        else:
            loaded.append(row["trade_id"])
            continue
        rejects.append((n, *why, row["trade_id"]))
    return file, trades.height, rejects, loaded


def test_bad_trade_rows_are_rejected_not_loaded(example_warehouse):
    days = sorted(p.name for p in (EXAMPLE / "extracts").iterdir() if p.is_dir())
    expected = {day: classify(day) for day in days}
    rejects = query(example_warehouse, "select * from quality.rejects order by as_of_date, file, row_number")
    got = [(r["as_of_date"].isoformat(), r["file"], r["row_number"], r["column_name"], r["reason"],
            json.loads(r["raw_row"])["trade_id"]) for r in rejects.iter_rows(named=True)]
    assert got == [(day, file, *reject) for day, (file, _, rows, _) in expected.items() for reject in rows]
    # the README's four kinds on every fourth day, each exactly once
    bad_days = [day for day, (_, _, rows, _) in expected.items() if rows]
    assert bad_days == days[1::4]
    for day in bad_days:
        assert sorted(r[1:3] for r in expected[day][2]) == sorted([NEGATIVE, AMOUNT, NO_CLIENT, DUPLICATE])
    # the raw row is the file's row, as written
    for r in rejects.iter_rows(named=True):
        row = read(r["as_of_date"].isoformat(), "trades")[1].row(r["row_number"] - 1, named=True)
        assert json.loads(r["raw_row"]) == row
    # raw.trades holds exactly the other rows, the first of a duplicated trade_id among them
    loaded = query(example_warehouse, "select as_of_date, trade_id, quantity, amount from raw.trades")
    for day, (file, read_rows, rows, ids) in expected.items():
        mine = loaded.filter(pl.col("as_of_date") == dt.date.fromisoformat(day))
        assert sorted(mine["trade_id"]) == sorted(ids), day
        assert (mine["quantity"] > 0).all()
        assert not set(mine["trade_id"]) & {r[3] for r in rows if r[1:3] != DUPLICATE}
    # quality.loads counts them per file
    loads = query(example_warehouse, "select as_of_date, file, rows_read, rows_loaded, rows_rejected "
                                     "from quality.loads where file like 'trades.%' order by as_of_date")
    assert loads.rows() == [(dt.date.fromisoformat(day), file, read_rows, len(ids), len(rows))
                            for day, (file, read_rows, rows, ids) in expected.items()]
