"""Test data builders: hand-made extract folders for edge cases (tiny days written from Python
rows), and copies of the worked example's days loaded into fresh warehouses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from core import tables
from core.build import build
from core.config import IndicatorConfig, Settings
from core.db import WRITE_CONFIG, ensure_schema, prepare
from core.extracts import FILES, SCHEMAS
from core.ingest import ingest_day
from core.sessions import trading_calendar

from .conftest import EXAMPLE

BROKERS = [dict(broker_id="B1", broker_name="李经理", team_id="T1", team_name="一组",
                branch_id="0731", branch_name="长沙营业部", hire_date="2010-01-01")]


def client(client_id: str, open_date: str = "2020-01-02", close_date: str = "", broker_id: str = "B1") -> dict:
    return dict(client_id=client_id, client_name="张三", id_number="430101199001011234",
                phone="13800001111", gender="M", birth_date="1990-01-01", open_date=open_date,
                close_date=close_date, broker_id=broker_id, risk_level="C3", channel="online", city="长沙")


def cash(client_id: str, balance: float, deposit: float = 0, withdraw: float = 0, other: float | None = None) -> dict:
    """A cash row; `other`: an other_flow_amount column (the file leaves it out when None)."""
    row = dict(client_id=client_id, cash_balance=balance, deposit_amount=deposit, withdraw_amount=withdraw)
    return row if other is None else {**row, "other_flow_amount": other}


def position(client_id: str, code: str, quantity: int, cost: float, market: str = "SH") -> dict:
    return dict(client_id=client_id, market=market, security_code=code, quantity=quantity, cost_amount=cost)


def quote(code: str, close: float, market: str = "SH") -> dict:
    return dict(market=market, security_code=code, security_name=f"股票{code}", close=close, prev_close=close)


def trade(trade_id: str, client_id: str, day: dt.date, side: str, code: str, quantity: int,
          price: float, commission: float, exchange_fee: float, stamp_tax: float = 0.0) -> dict:
    return dict(trade_id=trade_id, client_id=client_id, trade_date=day.isoformat(), trade_time="10:00:00",
                market="SH", security_code=code, side=side, quantity=quantity, price=price,
                amount=round(quantity * price, 2), commission=commission, exchange_fee=exchange_fee,
                stamp_tax=stamp_tax, transfer_fee=0.0, channel="online")


def write_day(root: Path, day: dt.date, clients: list[dict], cash_rows: list[dict],
              positions: list[dict] = (), quotes: list[dict] = (), trades: list[dict] = (),
              brokers: list[dict] = BROKERS) -> None:
    folder = root / day.isoformat()
    folder.mkdir(parents=True)
    rows = {"clients": clients, "brokers": brokers, "trades": list(trades), "positions": list(positions),
            "cash": cash_rows, "quotes": list(quotes),
            "market": [dict(market="SH", turnover_amount=4e11), dict(market="SZ", turnover_amount=6e11)]}
    for name, data in rows.items():
        cols = [c for c, _, _ in SCHEMAS[name]]
        frame = pl.DataFrame([{c: str(r.get(c, "")) for c in cols} for r in data],
                             schema={c: pl.String for c in cols})
        frame.write_csv(folder / f"{name}.csv")


def build_warehouse(root: Path, db: Path, config: IndicatorConfig | None = None) -> duckdb.DuckDBPyConnection:
    """Ingest every day folder and build every SQL table directly (no Dagster, no models);
    checks run but do not raise. Returns an open connection with the macros loaded."""
    days = sorted(dt.date.fromisoformat(p.name) for p in root.iterdir())
    sql_writers = [w.name for w in tables.WRITERS if w.group != "models"]
    build(db, days, Settings(indicators=config or IndicatorConfig()), extracts=root, writers=sql_writers,
          raise_on_failure=False)
    # not connect(db).__enter__(): the context manager, once garbage collected, closes it
    return prepare(duckdb.connect(str(db), config=WRITE_CONFIG))


# ---- days of the worked example, copied and re-encoded --------------------------------

def copy_day(dst_root: Path, day: dt.date = dt.date(2024, 9, 18), encoding: str = "utf-8") -> Path:
    """Copy the example's day into dst_root/<day>, re-encoded as asked."""
    folder = dst_root / day.isoformat()
    folder.mkdir(parents=True)
    for f in (EXAMPLE / "extracts" / day.isoformat()).iterdir():
        data = f.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # some example days are GBK already
            text = data.decode("gbk")
        (folder / f.name).write_bytes(text.encode(encoding))
    return folder


def load(root: Path, days, db: Path) -> duckdb.DuckDBPyConnection:
    """A new warehouse at `db` with the given session folders of `root` ingested in that order."""
    cal = trading_calendar()
    con = duckdb.connect(str(db))
    ensure_schema(con, cal)
    for d in days:
        ingest_day(con, root, d, cal)
    return con


def raw_tables(con) -> dict[str, pl.DataFrame]:
    """Every raw table, sorted on all columns, for exact comparison."""
    out = {}
    for name in FILES:
        df = con.execute(f"select * from raw.{name}").pl()
        out[name] = df.sort(df.columns)
    return out


def assert_same(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]):
    for name in a:
        assert a[name].equals(b[name]), name
