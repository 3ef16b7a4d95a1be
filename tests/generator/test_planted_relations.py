"""The generator plants relations between who a client is and how it behaves (the table in
generator/branch.py's docstring), strong enough to be found on a few thousand clients.

Every effect is recomputed here from the written files (clients, trades, positions, cash,
quotes and the planted truth in _truth/), never from the generator's internals, and asserted
with a margin: a branch where the attribute does not matter would fail it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from generator import generate

START = dt.date(2025, 2, 5)
N_CLIENTS, N_SESSIONS, SEED = 2_000, 30, 21
GROWTH = ["chinext", "star"]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("planted")
    generate(root, N_CLIENTS, START, N_SESSIONS, SEED)
    return root


def load(root: Path, name: str) -> pl.DataFrame:
    days = sorted(p for p in root.iterdir() if not p.name.startswith("_"))
    return pl.concat([pl.read_csv(d / f"{name}.csv", infer_schema=False).with_columns(day=pl.lit(d.name))
                      for d in days])


def board(code: pl.Expr) -> pl.Expr:
    """client-analysis.md section 3."""
    return (pl.when(code.str.contains("^68[89]")).then(pl.lit("star"))
            .when(code.str.starts_with("6")).then(pl.lit("sh_main"))
            .when(code.str.contains("^30[01]")).then(pl.lit("chinext"))
            .when(code.str.starts_with("0")).then(pl.lit("sz_main"))
            .when(code.str.contains("^(4|8|920)")).then(pl.lit("bj"))
            .otherwise(pl.lit("other")))


@pytest.fixture(scope="module")
def clients(out) -> pl.DataFrame:
    """Each client's first row, with its age on the first day, age band and planted persona."""
    rows = load(out, "clients").sort("day").group_by("client_id").first()
    truth = pl.read_parquet(out / "_truth/personas.parquet")
    age = (pl.lit(START) - pl.col("birth_date").str.to_date()).dt.total_days() / 365.25
    return rows.with_columns(age=age).with_columns(
        band=pl.when(pl.col("age") < 35).then(pl.lit("young")).when(pl.col("age") >= 55).then(pl.lit("old"))
        .otherwise(pl.lit("middle")),
        open_channel=pl.col("channel"),
    ).drop("channel").join(truth, on="client_id", how="left")


@pytest.fixture(scope="module")
def trades(out, clients) -> pl.DataFrame:
    t = load(out, "trades").with_columns(pl.col("amount").cast(pl.Float64), board=board(pl.col("security_code")))
    return t.join(clients.select("client_id", "band", "age", "persona", "risk_level", "open_channel"), on="client_id")


def by(frame: pl.DataFrame, key: str, **aggs: pl.Expr) -> dict[str, dict[str, float]]:
    """{aggregate name: {key value: value}}."""
    got = frame.group_by(key).agg(**aggs)
    return {name: dict(zip(got[key], got[name])) for name in aggs}


def test_the_branch_has_enough_of_each_group(clients, trades):
    counts = by(clients, "band", n=pl.len())["n"]
    assert counts["young"] > 250 and counts["old"] > 400, counts
    assert by(trades, "band", n=pl.len())["n"]["old"] > 1_000
    assert clients.height == N_CLIENTS and clients["persona"].null_count() == 0


def test_age_goes_with_persona(clients):
    """Young clients are more often aggressive, old ones conservative or dormant."""
    share = by(clients, "band", aggressive=(pl.col("persona") == "aggressive").mean(),
               quiet=pl.col("persona").is_in(["conservative", "dormant"]).mean())
    assert share["aggressive"]["young"] > 0.25 and share["aggressive"]["young"] > 4 * share["aggressive"]["old"]
    assert share["quiet"]["old"] > 0.5 and share["quiet"]["old"] > 3 * share["quiet"]["young"]
    # ... noisy: no age band is a single persona
    assert share["aggressive"]["young"] < 0.7 and share["quiet"]["old"] < 0.9


def test_young_clients_trade_online_old_ones_at_the_counter_and_by_phone(trades):
    share = by(trades, "band", online=(pl.col("channel") == "online").mean(),
               offline=pl.col("channel").is_in(["counter", "phone"]).mean())
    assert share["online"]["young"] > share["online"]["old"] + 0.10, share
    assert share["offline"]["old"] > 2 * share["offline"]["young"], share
    assert share["online"]["old"] > 0.5  # most old clients still trade online


def test_each_client_keeps_to_its_usual_channel(trades, clients):
    """The channel is drawn per client (its preferred channel, in the truth), with noise per
    trade: clients who prefer the counter or the phone do most of their trades there."""
    per = trades.group_by("client_id", "channel").agg(amount=pl.col("amount").sum(), n=pl.len())
    main = per.sort("amount", "channel", descending=True).group_by("client_id").first()
    total = trades.group_by("client_id").agg(trades=pl.len())
    j = main.join(total, on="client_id").join(clients.select("client_id", "preferred_channel"), on="client_id")
    j = j.filter(pl.col("trades") >= 5)
    offline = j.filter(pl.col("preferred_channel") != "online")
    assert offline.height > 30
    assert (offline["channel"] == offline["preferred_channel"]).mean() > 0.8
    assert (j["channel"] == j["preferred_channel"]).mean() > 0.9
    # ... but not every trade: some go through another channel
    mixed = j.filter(pl.col("n") < pl.col("trades"))
    assert mixed.height > 0.2 * j.height


def test_young_clients_buy_chinext_and_star_old_ones_the_main_boards(out, trades, clients):
    """Share of ChiNext + STAR in each buyer's buy amount, averaged over buyers (the branch's
    totals lean on a few big accounts: too noisy on 2,000 clients)."""
    buys = trades.filter(pl.col("side") == "B").with_columns(growth=pl.col("amount") * pl.col("board").is_in(GROWTH))
    bought = buys.group_by("client_id", "band").agg(share=pl.col("growth").sum() / pl.col("amount").sum())
    mean = by(bought, "band", share=pl.col("share").mean())["share"]
    assert mean["young"] > mean["old"] + 0.12 and mean["young"] > 1.5 * mean["old"], mean
    assert mean["young"] < 0.7 and mean["old"] > 0.05, mean  # a leaning, not a rule
    # the clients planted with a taste for the growth boards buy them most
    taste = bought.join(clients.select("client_id", "preferred_boards"), on="client_id").with_columns(
        growth_taste=pl.col("preferred_boards").list.contains("chinext"))
    t = by(taste, "growth_taste", share=pl.col("share").mean())["share"]
    assert t[True] > t[False] + 0.1, t
    # the portfolios they start with lean the same way (market value on the first day)
    first = sorted(p for p in out.iterdir() if not p.name.startswith("_"))[0]
    pos = pl.read_csv(first / "positions.csv", infer_schema=False).join(
        pl.read_csv(first / "quotes.csv", infer_schema=False), on=["market", "security_code"])
    pos = pos.with_columns(mv=pl.col("quantity").cast(pl.Float64) * pl.col("close").cast(pl.Float64),
                           board=board(pl.col("security_code"))).join(clients.select("client_id", "band"),
                                                                       on="client_id")
    held = pos.group_by("client_id", "band").agg(share=(pl.col("mv") * pl.col("board").is_in(GROWTH)).sum()
                                                 / pl.col("mv").sum())
    held = by(held, "band", share=pl.col("share").mean())["share"]
    assert held["young"] > held["old"] + 0.12, held


def test_referral_clients_churn_less(out, clients):
    """Churn seen in the extracts: a client who ends the range without positions and with
    at most 20 % of its peak total assets (the peak at least 5,000 CNY)."""
    key = ["day", "market", "security_code"]
    mv = load(out, "positions").join(load(out, "quotes"), on=key).group_by("day", "client_id").agg(
        mv=(pl.col("quantity").cast(pl.Float64) * pl.col("close").cast(pl.Float64)).sum())
    cash = load(out, "cash").select("day", "client_id", cash=pl.col("cash_balance").cast(pl.Float64))
    assets = cash.join(mv, on=["day", "client_id"], how="left").with_columns(pl.col("mv").fill_null(0))
    per = assets.sort("day").group_by("client_id").agg(
        peak=(pl.col("cash") + pl.col("mv")).max(), last=(pl.col("cash") + pl.col("mv")).last(),
        last_mv=pl.col("mv").last())
    left = per.select("client_id", left=(pl.col("peak") >= 5_000) & (pl.col("last_mv") == 0)
                      & (pl.col("last") <= 0.2 * pl.col("peak")))
    j = clients.join(left, on="client_id").with_columns(referral=pl.col("open_channel") == "referral")
    share = by(j, "referral", left=pl.col("left").mean(), n=pl.len())
    assert share["n"][True] > 250 and share["left"][False] > 0.05, share
    assert share["left"][True] < 0.5 * share["left"][False], share


def test_risk_level_goes_with_persona_and_trading(clients, trades):
    group = pl.col("risk_level").replace({"C1": "low", "C2": "low", "C3": "mid", "C4": "high", "C5": "high"})
    c = clients.with_columns(group=group)
    share = by(c, "group", aggressive=(pl.col("persona") == "aggressive").mean(),
               conservative=(pl.col("persona") == "conservative").mean())
    assert share["aggressive"]["high"] > 0.25 and share["aggressive"]["low"] < 0.05, share
    assert share["conservative"]["low"] > 0.4 and share["conservative"]["high"] < 0.15, share
    c1 = c.filter(pl.col("risk_level") == "C1")
    assert c1.height > 50 and (c1["persona"] == "aggressive").mean() < 0.03  # a C1 is rarely aggressive
    n = c.join(trades.group_by("client_id").len(), on="client_id", how="left").with_columns(pl.col("len").fill_null(0))
    counts = by(n, "group", trades=pl.col("len").mean())["trades"]
    assert counts["high"] > 3 * counts["low"], counts


def test_bank_clients_hold_more_cash_and_online_ones_are_younger(out, clients):
    first = sorted(p for p in out.iterdir() if not p.name.startswith("_"))[0]
    pos = pl.read_csv(first / "positions.csv", infer_schema=False).join(
        pl.read_csv(first / "quotes.csv", infer_schema=False), on=["market", "security_code"])
    mv = pos.group_by("client_id").agg(
        mv=(pl.col("quantity").cast(pl.Float64) * pl.col("close").cast(pl.Float64)).sum())
    cash = pl.read_csv(first / "cash.csv", infer_schema=False).select(
        "client_id", cash=pl.col("cash_balance").cast(pl.Float64))
    ratio = cash.join(mv, on="client_id", how="left").with_columns(pl.col("mv").fill_null(0)).filter(
        pl.col("cash") + pl.col("mv") > 0).select("client_id", ratio=pl.col("cash") / (pl.col("cash") + pl.col("mv")))
    j = clients.join(ratio, on="client_id").with_columns(bank=pl.col("open_channel") == "bank")
    cash_ratio = by(j, "bank", ratio=pl.col("ratio").mean())["ratio"]
    assert cash_ratio[True] > cash_ratio[False] + 0.08, cash_ratio

    online = clients.with_columns(online=pl.col("open_channel") == "online")
    age = by(online, "online", age=pl.col("age").mean())["age"]
    assert age[True] < age[False] - 8, age
    # no account was opened online before non-face-to-face opening existed (2013)
    opened = online.filter("online")["open_date"]
    assert opened.min() >= "2013-04-01" and (online.filter(~pl.col("online"))["open_date"] < "2013-01-01").any()


def test_aggressive_clients_trade_earlier_in_the_session(trades):
    time = pl.col("trade_time")
    hour = time.str.slice(0, 2).cast(pl.Int32) + time.str.slice(3, 2).cast(pl.Int32) / 60
    t = trades.with_columns(hour=hour, aggressive=pl.col("persona") == "aggressive")
    mean = by(t, "aggressive", hour=pl.col("hour").mean())["hour"]
    assert mean[True] < mean[False] - 0.3, mean
