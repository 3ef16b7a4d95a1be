"""The generator writes extracts that obey the contract and reconcile like real books.

Expectations are recomputed here from the written files (and the real bars in
data/reference), never taken from the generator's internals.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import exchange_calendars as xc
import numpy as np
import polars as pl
import pytest

from generator import generate

from ..conftest import ROOT
START = dt.date(2024, 9, 20)  # spans the late-September 2024 rally and the October holiday
N_CLIENTS, N_SESSIONS, SEED = 300, 15, 11
DEFAULT_DIGEST = "ce26174d86dce3e8"  # sha256 of the CSVs of generate(root, 60, START, 12, 5), first 16 hex digits
# (generator.VERSION 2: the roster drawn from its own generator)

COLUMNS = {
    "clients": "client_id,client_name,id_number,phone,gender,birth_date,open_date,close_date,broker_id,"
    "risk_level,channel,city",
    "brokers": "broker_id,broker_name,team_id,team_name,branch_id,branch_name,hire_date",
    "trades": "trade_id,client_id,trade_date,trade_time,market,security_code,side,quantity,price,amount,"
    "commission,exchange_fee,stamp_tax,transfer_fee,channel",
    "positions": "client_id,market,security_code,quantity,cost_amount",
    "cash": "client_id,cash_balance,deposit_amount,withdraw_amount,other_flow_amount",
    "quotes": "market,security_code,security_name,close,prev_close",
    "market": "market,turnover_amount",
}
NUMERIC = {
    "quantity", "price", "amount", "commission", "exchange_fee", "stamp_tax", "transfer_fee", "cost_amount",
    "cash_balance", "deposit_amount", "withdraw_amount", "other_flow_amount", "close", "prev_close", "turnover_amount",
}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("extracts")
    generate(root, N_CLIENTS, START, N_SESSIONS, SEED)
    return root


def day_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if not p.name.startswith("_"))


def read(path: Path, encoding: str = "utf8") -> pl.DataFrame:
    df = pl.read_csv(path, infer_schema=False, encoding=encoding)
    return df.with_columns(pl.col(c).cast(pl.Float64) for c in df.columns if c in NUMERIC)


def load(root: Path, name: str) -> pl.DataFrame:
    """One table over all days, with the folder's day as `day`."""
    return pl.concat([read(d / f"{name}.csv").with_columns(day=pl.lit(d.name)) for d in day_dirs(root)])


def as_of_next_session(df: pl.DataFrame) -> pl.DataFrame:
    """Rows of each day relabelled with the following day (`day` -> that next day)."""
    days = sorted(df["day"].unique())
    return df.with_columns(pl.col("day").replace_strict(dict(zip(days, days[1:])), default=None)).drop_nulls("day")


@pytest.fixture(scope="module")
def tables(out) -> dict[str, pl.DataFrame]:
    return {name: load(out, name) for name in COLUMNS}


def test_folders_are_consecutive_xshg_sessions(out):
    cal = xc.get_calendar("XSHG")
    expected = [
        ts.date().isoformat() for ts in cal.sessions_in_range(START, START + dt.timedelta(days=60))
    ][:N_SESSIONS]
    assert [d.name for d in day_dirs(out)] == expected
    assert "2024-10-01" not in expected and "2024-10-08" in expected  # National Day week skipped
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("_")) == ["_truth"]


def test_files_and_columns_follow_the_contract(out):
    for d in day_dirs(out):
        assert sorted(p.name for p in d.iterdir()) == sorted(f"{n}.csv" for n in COLUMNS)
        for name, header in COLUMNS.items():
            assert (d / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0] == header


def test_codes_are_zero_padded_strings_and_ids_look_real(tables):
    clients = tables["clients"]
    assert clients["client_id"].str.contains(r"^0731\d{6}$").all()
    assert clients["id_number"].str.contains(r"^\d{17}[\dX]$").all()
    assert clients["phone"].str.contains(r"^1\d{10}$").all()
    assert clients["risk_level"].is_in(["C1", "C2", "C3", "C4", "C5"]).all()
    assert set(clients["channel"]) <= {"online", "branch", "referral", "bank"}
    for name in ("trades", "positions", "quotes"):
        assert tables[name]["security_code"].str.contains(r"^\d{6}$").all()
    assert (tables["quotes"]["security_code"].str.starts_with("0")).any()  # leading zeros kept
    assert set(tables["market"]["market"]) == {"SH", "SZ"}
    assert tables["trades"]["trade_id"].is_unique().all()
    assert set(tables["brokers"]["broker_id"]) >= set(clients["broker_id"])


def test_cash_never_negative_and_one_row_per_open_client(tables):
    cash, clients = tables["cash"], tables["clients"]
    assert (cash["cash_balance"] >= 0).all()
    assert (cash["deposit_amount"] >= 0).all() and (cash["withdraw_amount"] >= 0).all()
    key = ["day", "client_id"]
    assert cash.select(key).sort(key).equals(clients.select(key).sort(key))
    assert cash.select(key).is_unique().all()


def test_positions_reconcile_with_trades(tables):
    pos = tables["positions"]
    assert (pos["quantity"] > 0).all()
    key = ["client_id", "market", "security_code"]
    flows = tables["trades"].group_by(["day", *key]).agg(
        bought=pl.when(pl.col("side") == "B").then(pl.col("quantity")).otherwise(0).sum(),
        sold=pl.when(pl.col("side") == "S").then(pl.col("quantity")).otherwise(0).sum(),
    )
    days = sorted(pos["day"].unique())
    checked = 0
    for prev, day in zip(days, days[1:]):
        before = pos.filter(pl.col("day") == prev).select(*key, q0="quantity")
        after = pos.filter(pl.col("day") == day).select(*key, q1="quantity")
        f = flows.filter(pl.col("day") == day).drop("day")
        j = before.join(after, on=key, how="full", coalesce=True)
        j = j.join(f, on=key, how="full", coalesce=True).fill_null(0)
        assert (j["q1"] == j["q0"] + j["bought"] - j["sold"]).all(), day
        assert (j["q0"] - j["sold"] >= 0).all()  # nothing sold that was not held (T+1)
        checked += j.height
    assert checked > 1000


def test_cash_reconciles_with_transfers_and_trades_including_fees(tables):
    t = tables["trades"]
    signed = t.with_columns(
        flow=pl.when(pl.col("side") == "B")
        .then(-(pl.col("amount") + pl.col("commission") + pl.col("stamp_tax") + pl.col("transfer_fee")))
        .otherwise(pl.col("amount") - pl.col("commission") - pl.col("stamp_tax") - pl.col("transfer_fee"))
    ).group_by("day", "client_id").agg(pl.col("flow").sum())
    cash = tables["cash"]
    prev = as_of_next_session(cash.select("day", "client_id", c0="cash_balance"))
    j = (
        cash.filter(pl.col("day") != cash["day"].min())
        .join(prev, on=["day", "client_id"], how="left")
        .join(signed, on=["day", "client_id"], how="left")
        .with_columns(pl.col("c0", "flow").fill_null(0))  # new accounts start from zero
    )
    expected = j["c0"] + j["deposit_amount"] - j["withdraw_amount"] + j["other_flow_amount"] + j["flow"]
    assert (abs(j["cash_balance"] - expected) < 0.011).all()
    assert j.filter(pl.col("flow") != 0).height > 300


def test_the_quarters_interest_is_credited_on_its_day_as_another_cash_flow(tables):
    """Interest (结息) for the quarter to 20 September: credited on 2024-09-23, the first session
    on or after the 21st, at 0.35 % a year for 91 of 360 days of the previous session's cash
    balance, floored to the cent; no other day has an other flow."""
    cash = tables["cash"]
    other = cash.filter(pl.col("other_flow_amount") != 0)
    assert set(other["day"]) == {"2024-09-23"} and other.height > 100
    prev = as_of_next_session(cash.select("day", "client_id", c0="cash_balance"))
    j = cash.filter(pl.col("day") == "2024-09-23").join(prev, on=["day", "client_id"])
    cents = (j["c0"] * 100).round(0)
    assert ((j["other_flow_amount"] * 100).round(0) == (cents * 0.0035 * 91 / 360).floor()).all()


def test_fees_follow_the_schedule(tables):
    t = tables["trades"]
    amount = t["amount"]
    assert (abs(amount - (t["quantity"] * t["price"]).round(2)) < 0.005).all()
    assert (t["commission"] >= 5.0).all()
    assert (abs(t["exchange_fee"] - (amount * 0.0000541).round(2)) <= 0.0101).all()
    assert (abs(t["transfer_fee"] - (amount * 0.00001).round(2)) <= 0.0101).all()
    sells = t["side"] == "S"
    assert (abs(t.filter(sells)["stamp_tax"] - (t.filter(sells)["amount"] * 0.0005).round(2)) <= 0.0101).all()
    assert (t.filter(~sells)["stamp_tax"] == 0).all()
    # One commission rate per client: the rounding intervals of all its trades above the
    # 5 CNY minimum must overlap, inside 0.00015..0.0003, and the minimum must be right.
    bounds = t.with_columns(
        lo=pl.when(pl.col("commission") > 5).then((pl.col("commission") - 0.0051) / pl.col("amount")),
        hi=pl.when(pl.col("commission") > 5).then((pl.col("commission") + 0.0051) / pl.col("amount")),
    ).group_by("client_id").agg(
        pl.col("lo").max(), pl.col("hi").min(), min_amount=pl.col("amount").filter(pl.col("commission") == 5).max()
    )
    rated = bounds.filter(pl.col("lo").is_not_null())
    assert rated.height > 30
    assert (rated["lo"] <= rated["hi"]).all()
    assert (rated["hi"] >= 0.00015).all() and (rated["lo"] <= 0.0003).all()
    at_min = rated.filter(pl.col("min_amount").is_not_null())
    assert (at_min["min_amount"] * at_min["lo"] <= 5.0051).all()


def test_lots_odd_lots_and_trading_hours(tables):
    t = tables["trades"]
    assert (t.filter(pl.col("side") == "B")["quantity"] % 100 == 0).all()
    odd = t.filter((pl.col("side") == "S") & (pl.col("quantity") % 100 != 0))
    held = as_of_next_session(tables["positions"].rename({"quantity": "held"}))
    key = ["day", "client_id", "market", "security_code"]
    odd = odd.filter(pl.col("day") != held["day"].min()).join(held, on=key, how="left")
    assert odd.height > 0
    assert (odd["quantity"] == odd["held"]).all()  # an odd lot only sells a position out
    time = t["trade_time"]
    assert time.str.contains(r"^\d\d:\d\d:\d\d$").all()
    assert (((time >= "09:30:00") & (time < "11:30:00")) | ((time >= "13:00:00") & (time < "15:00:00"))).all()
    assert (time >= "13:00:00").any() and (time < "11:30:00").any()
    assert (t["trade_date"] == t["day"]).all()


def test_prices_are_real(tables):
    bars = pl.read_parquet(ROOT / "data/reference/bars.parquet")
    bars = bars.with_columns(day=pl.col("date").cast(pl.String))
    key = ["day", "market", "code"]
    t = tables["trades"].rename({"security_code": "code"}).join(bars, on=key, how="left")
    assert t["low"].null_count() == 0  # never traded while suspended
    assert ((t["price"] >= t["low"] - 1e-9) & (t["price"] <= t["high"] + 1e-9)).all()
    q = tables["quotes"].rename({"security_code": "code"}).join(bars, on=key, how="inner")
    assert q.height > 0.9 * tables["quotes"].height
    assert (abs(q["close"] - q["close_right"]) < 0.001).all()
    assert (tables["quotes"]["prev_close"] > 0).all()


def test_quotes_cover_held_and_traded_securities(tables):
    key = ["day", "market", "security_code"]
    need = pl.concat([tables["positions"].select(key), tables["trades"].select(key)]).unique()
    assert need.join(tables["quotes"], on=key, how="anti").height == 0


def test_personas_behave_differently_and_churners_leave(out, tables):
    truth = pl.read_parquet(out / "_truth/personas.parquet")
    assert set(truth["persona"]) == {"stable", "aggressive", "conservative", "dormant", "churner"}
    active = tables["trades"].group_by("client_id").agg(days=pl.col("day").n_unique())
    per = truth.join(active, on="client_id", how="left").fill_null(0)
    days = dict(per.group_by("persona").agg(pl.col("days").mean()).iter_rows())
    assert days["dormant"] == 0
    assert days["aggressive"] > 3 * days["stable"] > 3 * days["conservative"]
    closed = tables["clients"].filter(pl.col("close_date") != "")
    assert closed.height > 0 and (closed["close_date"] == closed["day"]).all()
    assert set(closed["client_id"]) <= set(truth.filter(pl.col("persona") == "churner")["client_id"])
    later = tables["cash"].join(closed.select("client_id", gone="day"), on="client_id")
    assert later.filter(pl.col("day") > pl.col("gone")).height == 0
    left = tables["cash"].join(closed.select("client_id", "day"), on=["client_id", "day"])
    assert (left["cash_balance"] == 0).all() and (left["withdraw_amount"] > 0).all()


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for root, seed in ((a, 5), (b, 5), (c, 6)):
        generate(root, 60, START, 3, seed)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 3 * 7 + 1
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert any((a / f).read_bytes() != (c / f).read_bytes() for f in files)


def test_other_leavers_leave_from_other_personas_and_the_default_is_unchanged(tmp_path):
    """generator.Leavers: the default changes nothing (same bytes as without it, pinned by a
    digest of today's output); leavers of other personas fade out and churn too."""
    import hashlib

    from generator import Leavers

    generate(tmp_path / "plain", 60, START, 12, 5)
    generate(tmp_path / "default", 60, START, 12, 5, leavers=Leavers())
    files = sorted(p.relative_to(tmp_path / "plain") for p in (tmp_path / "plain").rglob("*") if p.is_file())
    assert all((tmp_path / "plain" / f).read_bytes() == (tmp_path / "default" / f).read_bytes() for f in files)
    digest = hashlib.sha256(b"".join((tmp_path / "plain" / f).read_bytes() for f in files if f.suffix == ".csv"))
    assert digest.hexdigest()[:16] == DEFAULT_DIGEST  # what the default Leavers write: pinned
    others = Leavers(churner_share=0.02, also_leave=(0.3, 0.3, 0.3), first=0.05, fade=(5, 10), gradual=True)
    generate(tmp_path / "others", 300, START, 30, 5, leavers=others)
    truth = pl.read_parquet(tmp_path / "others/_truth/personas.parquet")
    left = truth.filter(pl.col("churn_date").is_not_null())
    assert {"stable", "aggressive", "conservative"} <= set(left["persona"]) and "dormant" not in set(left["persona"])
    assert (truth["persona"] == "churner").sum() == 6  # 2 % of 300


def test_gbk_round_trip(tmp_path):
    generate(tmp_path / "u", 40, START, 2, 3)
    generate(tmp_path / "g", 40, START, 2, 3, encoding="gbk")
    for name in ("clients", "brokers", "quotes"):
        raw = (tmp_path / "g/2024-09-20" / f"{name}.csv").read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        text = raw.decode("gbk")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
        assert text == (tmp_path / "u/2024-09-20" / f"{name}.csv").read_text(encoding="utf-8")


def test_parquet_has_the_same_tables(tmp_path):
    generate(tmp_path / "c", 40, START, 2, 3)
    generate(tmp_path / "p", 40, START, 2, 3, fmt="parquet")
    for name, header in COLUMNS.items():
        df = pl.read_parquet(tmp_path / "p/2024-09-23" / f"{name}.parquet")
        assert ",".join(df.columns) == header
        assert df.height == read(tmp_path / "c/2024-09-23" / f"{name}.csv").height
    assert pl.read_parquet(tmp_path / "p/2024-09-23/positions.parquet")["security_code"].dtype == pl.String


def test_range_beyond_reference_bars_is_refused(tmp_path):
    with pytest.raises(ValueError, match="2025-11-21"):
        generate(tmp_path, 10, dt.date(2025, 11, 18), 10, 1)
    with pytest.raises(ValueError, match="before the reference"):
        generate(tmp_path, 10, dt.date(2023, 6, 1), 1, 1)
    assert not any(tmp_path.iterdir())


def test_asset_sizes_follow_sse_distribution(tmp_path):
    generate(tmp_path, 5000, START, 1, 2)
    day = tmp_path / "2024-09-20"
    pos, quotes, cash = read(day / "positions.csv"), read(day / "quotes.csv"), read(day / "cash.csv")
    mv = pos.join(quotes, on=["market", "security_code"]).group_by("client_id").agg(
        mv=(pl.col("quantity") * pl.col("close")).sum()
    )
    assets = cash.join(mv, on="client_id", how="left").select(pl.col("cash_balance") + pl.col("mv").fill_null(0))
    counts = np.histogram(assets.to_series(), bins=[0, 1e5, 5e5, 3e6, 1e7, np.inf])[0]
    shares = counts / counts.sum()
    assert np.allclose(shares, [0.587, 0.286, 0.109, 0.014, 0.004], atol=0.02), shares
