"""Every threshold that decides a class, at, just below and just above its boundary (Step 9,
"Rules hold at their boundaries"), on a hand-made branch; the expected class of each case is
worked out by hand in its comment, from the wording of docs/spec/indicators.md:

  trapped          a position's loss = 1 - value / cost >= trap_threshold 0.10 (inclusive)
  trapped_level    by trapped_depth: light [0.10, 0.20), medium [0.20, 0.30), deep >= 0.30
  is_trapped       trapped_ratio >= 0.5
  is_effective     total_assets >= 10,000
  wealth_tier      mass < 100k <= affluent < 500k <= wealth < 3M <= hnw < 10M <= uhnw
  turnover_band    high when turnover_rate_annual >= 12, low when < 2, else medium
  eligible         (segments) total_assets >= 1,000 and a trade in the last lookback sessions
  churn            total_assets < 0.2 x M and net transfers out >= 0.5 x M
  is_dormant       effective, first row lookback - 1 or more sessions before D, no trade in
                   the lookback sessions ending at D
  windows          present_days, trade_amount_w over the `window` sessions ending at D

"Just below / above" is one cent (or one session) away. Several boundaries are cases that a
floating-point test gets wrong (100 shares costing 1,000.00 at 9.00: `1 - 900 / 1000` is
0.09999999999999998); the marts decide them exactly (docs/decisions.md, "Classes at their
boundaries"). The trades' amount tolerance (core/extracts.py) is tested at the end.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from core import tables
from core.build import build
from core.config import IndicatorConfig, Settings
from core.db import WRITE_CONFIG, prepare
from core.extracts import validate

from ..builders import cash, client, position, quote, trade, write_day

D1, D2, D3, D4, D5, D6 = (dt.date(2024, 9, 26), dt.date(2024, 9, 27), dt.date(2024, 9, 30),
                          dt.date(2024, 10, 8), dt.date(2024, 10, 9), dt.date(2024, 10, 10))


def build_branch(root: Path, days: list[dt.date], config: IndicatorConfig) -> duckdb.DuckDBPyConnection:
    """Every SQL writer and the model features over `days`; every blocking check must pass."""
    writers = [w.name for w in tables.WRITERS if w.group != "models"] + ["client_features"]
    failed = []
    build(root / "w.duckdb", days, Settings(indicators=config), extracts=root / "extracts", writers=writers,
          raise_on_failure=False, on_writer=lambda name, _, outcomes: failed.extend(
              o for o in outcomes if not o.passed))
    assert failed == []
    return prepare(duckdb.connect(str(root / "w.duckdb"), config=WRITE_CONFIG))


def indicators(con, day: dt.date) -> dict[str, dict]:
    df = con.execute("select w.*, f.eligible from mart.client_windows as w "
                     "left join mart.client_features as f using (as_of_date, client_id) "
                     "where w.as_of_date = ?", [day]).pl()
    return {r["client_id"]: r for r in df.iter_rows(named=True)}


# ---- money thresholds: sessions D1, D2 with the default configuration -------------------

class Branch:
    """The rows of one session, one security per position so every security has one holder."""

    def __init__(self, day: dt.date):
        self.day, self.clients, self.cash, self.positions, self.quotes, self.trades = day, [], [], [], [], []
        self.code = 600100

    def add(self, client_id: str, balance: float, holdings=(), deposit: float = 0, withdraw: float = 0,
            trades=()):
        """holdings: (quantity, cost, close); trades: (side, quantity, price) of one of them."""
        self.clients.append(client(client_id))
        self.cash.append(cash(client_id, round(balance, 2), deposit, withdraw))  # in cents, as exported
        codes = []
        for quantity, cost, close in holdings:
            code = f"{self.code}"
            self.code += 1
            codes.append(code)
            self.positions.append(position(client_id, code, quantity, round(cost, 2)))
            self.quotes.append(quote(code, close))
        for i, (side, quantity, price) in enumerate(trades):
            self.trades.append(trade(f"{client_id}-{self.day}-{i}", client_id, self.day, side, codes[i],
                                     quantity, price, commission=5.00, exchange_fee=0.10))

    def write(self, root: Path):
        write_day(root, self.day, self.clients, self.cash, self.positions, self.quotes, self.trades)


# position classes: (client, quantity, cost, close, trapped, level); value = quantity x close
POSITIONS = [
    # trap_threshold 0.10, value 900.00: the loss is 100.00 / 1,000.00 = 0.10 exactly (trapped),
    # 99.99 / 999.99 < 0.10 (not), 100.01 / 1,000.01 > 0.10 (trapped, light)
    ("trap_at", 100, 1_000.00, 9.00, True, "light"),
    ("trap_below", 100, 999.99, 9.00, False, "none"),
    ("trap_above", 100, 1_000.01, 9.00, True, "light"),
    # 0.10 again: 94.00 / 940.00 (doubles: 1 - 846 / 940 = 0.09999999999999998 too)
    ("trap_at_2", 100, 940.00, 8.46, True, "light"),
    # medium_level 0.20, value 805.00: 201.25 / 1,006.25 = 0.20 exactly (medium),
    # 201.24 / 1,006.24 = 0.199992 (light), 201.26 / 1,006.26 = 0.200008 (medium)
    ("medium_at", 100, 1_006.25, 8.05, True, "medium"),
    ("medium_below", 100, 1_006.24, 8.05, True, "light"),
    ("medium_above", 100, 1_006.26, 8.05, True, "medium"),
    # deep_level 0.30, value 980.00: 420.00 / 1,400.00 = 0.30 exactly (deep),
    # 419.99 / 1,399.99 = 0.299999 (medium), 420.01 / 1,400.01 = 0.300001 (deep)
    ("deep_at", 100, 1_400.00, 9.80, True, "deep"),
    ("deep_below", 100, 1_399.99, 9.80, True, "medium"),
    ("deep_above", 100, 1_400.01, 9.80, True, "deep"),
]
# trapped_ratio >= 0.5: a trapped position costing 1,000.00 (value 500.00) beside one that
# is not (value 1,100.00): ratio 1,000 / 2,000.00 = 0.5 (trapped client),
# 1,000 / 2,000.01 < 0.5 (not), 1,000 / 1,999.99 > 0.5 (trapped)
RATIOS = [("ratio_at", 1_000.00, True), ("ratio_below", 1_000.01, False), ("ratio_above", 999.99, True)]
# total assets: (client, cash, holdings) -> effective, tier
ASSETS = [
    ("effective_at", 10_000.00, (), True, "mass"),
    ("effective_below", 9_999.99, (), False, "mass"),
    ("effective_above", 10_000.01, (), True, "mass"),
    # 9,100.00 cash + 100 x 9.00: 10,000.00
    ("effective_mixed", 9_100.00, ((100, 900.00, 9.00),), True, "mass"),
    ("affluent_at", 100_000.00, (), True, "affluent"),
    ("affluent_below", 99_999.99, (), True, "mass"),
    ("wealth_at", 500_000.00, (), True, "wealth"),
    ("wealth_below", 499_999.99, (), True, "affluent"),
    ("hnw_at", 3_000_000.00, (), True, "hnw"),
    ("hnw_below", 2_999_999.99, (), True, "wealth"),
    ("uhnw_at", 10_000_000.00, (), True, "uhnw"),
    ("uhnw_below", 9_999_999.99, (), True, "hnw"),
]
# turnover_rate_annual = trade_amount_w / avg_assets x 250 / present_days; on D1 (one
# session) with total assets 250,000.00 (cash + the share bought at its price):
# 250 x amount / 250,000. High from 12: amount 12,000.00 (high), 11,999.99 (medium),
# 12,000.01 (high). Low under 2: 2,000.00 (medium), 1,999.99 (low), 2,000.01 (medium).
TURNOVER = [
    ("high_at", 12_000.00, "high"), ("high_below", 11_999.99, "medium"), ("high_above", 12_000.01, "high"),
    ("low_at", 2_000.00, "medium"), ("low_below", 1_999.99, "low"), ("low_above", 2_000.01, "medium"),
]
# eligible for a segment from total assets 1,000 (with a trade on D1): 197.00 cash + a buy
# of 100 x 8.03 is 1,000.00 (eligible; doubles: 197.0 + 802.9999999999999 < 1,000);
# 899.99 + 100 x 1.00 = 999.99 (not); 1,000.01 (eligible). The same bound makes the session's
# return count in the volatility feature (mart.client_running.ret_days).
ELIGIBLE = [("eligible_at", 197.00, 8.03, True), ("eligible_below", 899.99, 1.00, False),
            ("eligible_above", 900.01, 1.00, True)]
# churn on D2 against M = 100,000.00 (the client's D1 assets):
# assets < 0.2 x M = 20,000 (outflow 80,000 >= 50,000 in all three): withdraw 80,000.00
# leaving 20,000.00 (no churn), 80,000.01 leaving 19,999.99 (churn), 79,999.99 leaving
# 20,000.01 (no churn)
CHURN_ASSETS = [("assets_at", 80_000.00, False), ("assets_below", 80_000.01, True),
                ("assets_above", 79_999.99, False)]
# outflow >= 0.5 x M = 50,000: 60,000.00 cash + 1,000 shares at 40.00 on D1; on D2 the
# close is 5.00 (5,000.00) and the client withdraws 50,000.00, leaving 15,000.00 < 20,000
# (churn); 49,999.99 (no churn: outflow short by a cent, 15,000.01 left); 50,000.01 (churn)
CHURN_OUTFLOW = [("outflow_at", 50_000.00, True), ("outflow_below", 49_999.99, False),
                 ("outflow_above", 50_000.01, True)]


def write_money_branch(root: Path) -> None:
    for day in (D1, D2):
        b = Branch(day)
        for cid, quantity, cost, close, _, _ in POSITIONS:
            b.add(cid, 0.00, [(quantity, cost, close)])
        for cid, cost, _ in RATIOS:
            b.add(cid, 0.00, [(100, 1_000.00, 5.00), (100, cost, 11.00)])
        for cid, balance, holdings, _, _ in ASSETS:
            b.add(cid, balance, holdings)
        for cid, amount, _ in TURNOVER:  # one share bought on D1 at `amount`
            b.add(cid, 250_000.00 - amount, [(1, amount, amount)], trades=[("B", 1, amount)] if day == D1 else ())
        for cid, balance, price, _ in ELIGIBLE:  # 100 shares bought on D1
            b.add(cid, balance, [(100, 100 * price, price)], trades=[("B", 100, price)] if day == D1 else ())
        for cid, withdraw, _ in CHURN_ASSETS:
            if day == D1:
                b.add(cid, 100_000.00)
            else:
                b.add(cid, 100_000.00 - withdraw, withdraw=withdraw)
        for cid, withdraw, _ in CHURN_OUTFLOW:
            if day == D1:
                b.add(cid, 60_000.00, [(1_000, 40_000.00, 40.00)])
            else:
                b.add(cid, 60_000.00 - withdraw, [(1_000, 40_000.00, 5.00)], withdraw=withdraw)
        b.write(root)


@pytest.fixture(scope="module")
def money(tmp_path_factory):
    root = tmp_path_factory.mktemp("boundaries")
    write_money_branch(root / "extracts")
    return build_branch(root, [D1, D2], IndicatorConfig())


@pytest.mark.parametrize("cid,quantity,cost,close,trapped,level", POSITIONS)
def test_trap_threshold_and_levels_of_a_client(money, cid, quantity, cost, close, trapped, level):
    """One position: the client's trapped_level is the position's; trapped_ratio 1 or 0."""
    r = indicators(money, D1)[cid]
    assert r["trapped_level"] == level
    assert r["trapped_ratio"] == (1 if trapped else 0) and r["is_trapped"] is trapped
    if trapped:
        assert r["trapped_depth"] == pytest.approx((cost - quantity * close) / cost, abs=1e-12)
    else:
        assert r["trapped_depth"] is None


@pytest.mark.parametrize("cid,quantity,cost,close,trapped,level", POSITIONS)
def test_trap_threshold_and_levels_of_a_security(money, cid, quantity, cost, close, trapped, level):
    """The security held by that one client: its holder counted trapped, at that level."""
    code = money.execute("select security_code from raw.positions where as_of_date = ? and client_id = ?",
                         [D1, cid]).fetchone()[0]
    r = money.execute("select holders, trapped_holders, light_holders, medium_holders, deep_holders, trapped_cost "
                      "from mart.security_trapped where as_of_date = ? and security_code = ?",
                      [D1, code]).pl().row(0, named=True)
    assert r["holders"] == 1 and r["trapped_holders"] == int(trapped)
    assert {k: r[f"{k}_holders"] for k in ("light", "medium", "deep")} == {
        k: int(k == level) for k in ("light", "medium", "deep")}
    assert r["trapped_cost"] == (cost if trapped else 0)


# The report lists a security's trapped holders with their level (sql/reports/trapped_clients.sql,
# int_trapped_level): the same classes as the marts.
@pytest.mark.parametrize("cid,quantity,cost,close,trapped,level", [pytest.param(*p, id=p[0]) for p in POSITIONS])
def test_trap_threshold_and_levels_in_the_report(money, cid, quantity, cost, close, trapped, level):
    from reports.queries import trapped as report_trapped

    settings = Settings()
    data = report_trapped(money, {**settings.indicators.params(), **settings.report.model_dump(), "day": D1})
    listed = {c["client_id"]: c["level"] for t in data["top"] for c in t["clients"]}
    assert listed.get(cid, "none") == level


@pytest.mark.parametrize("cid,cost,is_trapped", RATIOS)
def test_trapped_client_ratio(money, cid, cost, is_trapped):
    r = indicators(money, D1)[cid]
    assert r["trapped_ratio"] == pytest.approx(1_000 / (1_000 + cost), abs=1e-12)
    assert r["is_trapped"] is is_trapped and r["trapped_level"] == "deep"  # 500 / 1,000 lost


@pytest.mark.parametrize("cid,balance,holdings,effective,tier", ASSETS)
def test_effective_assets_and_wealth_tiers(money, cid, balance, holdings, effective, tier):
    r = indicators(money, D1)[cid]
    assert r["is_effective"] is effective and r["wealth_tier"] == tier


def test_effective_clients_of_the_branch_and_its_brokers(money):
    """branch_daily and the rankings count the same effective clients as client_windows."""
    effective = {c for c, r in indicators(money, D1).items() if r["is_effective"]}
    assert {c for c, *_ in ASSETS} & effective == {c for c, _, _, e, _ in ASSETS if e}
    assert money.execute("select effective_clients from mart.branch_daily where as_of_date = ?",
                         [D1]).fetchone()[0] == len(effective)
    # the week of D1..D2 ranks the one broker: its clients at the week's end, D2
    on_d2 = {c for c, r in indicators(money, D2).items() if r["is_effective"]}
    assert money.execute("select effective_clients from mart.broker_ranking where period_type = 'week' "
                         "and period_start = '2024-09-23'").fetchone()[0] == len(on_d2)


@pytest.mark.parametrize("cid,amount,band", TURNOVER)
def test_turnover_bands(money, cid, amount, band):
    r = indicators(money, D1)[cid]
    assert r["present_days"] == 1 and r["avg_assets"] == pytest.approx(250_000)
    assert r["trade_amount_w"] == pytest.approx(amount)
    assert r["turnover_rate_annual"] == pytest.approx(250 * amount / 250_000)
    assert r["turnover_band"] == band


@pytest.mark.parametrize("cid,balance,price,eligible", ELIGIBLE)
def test_eligible_assets(money, cid, balance, price, eligible):
    r = indicators(money, D1)[cid]
    assert r["days_since_last_trade"] == 0
    assert r["eligible"] is eligible
    # the same bound on the previous assets (D1: today's, no P&L nor transfer) counts the return
    ret_days = money.execute("select ret_days from mart.client_running where as_of_date = ? and client_id = ?",
                             [D1, cid]).fetchone()[0]
    assert ret_days == int(eligible)


@pytest.mark.parametrize("cid,withdraw,churn", CHURN_ASSETS + CHURN_OUTFLOW)
def test_churn_shares(money, cid, withdraw, churn):
    events = [indicators(money, d)[cid]["churn_event"] for d in (D1, D2)]
    assert events == [False, churn]


# ---- session windows: six sessions, lookback = window = 3 ---------------------------------
#
#   NEVER   never trades, 50,000 cash, from D1: its first row is lookback - 1 = 2 sessions
#           before D from D3 on, so dormant from D3
#   LATE    the same from D2 (its first row in the warehouse): dormant from D4
#   EDGE    never trades, 10,000.00 exactly (effective): dormant from D3; POOR 9,999.99: never
#   TRADER  50,000, buys 100 x 10.00 on D2 only (effective throughout): the 3 sessions ending at D hold D2 up to
#           D4; dormant from D5; eligible (a trade in the last 3 sessions: days since <= 2)
#           on D2..D4, not from D5; trade_amount_w 1,000 on D2..D4, 0 from D5
#   FADER   100,000 cash on D1, withdraws 60,000 on D2 (40,000 left: not < 0.2 x 100,000),
#           then 30,000 on D5 (10,000 left): M on D5 is the peak of D2..D4 = 40,000, so
#           10,000 is not < 8,000: no churn (M reaching back to D1 would say churn)
#   SELLER  50,000 cash + 1,000 x 50.00 on D1, withdraws all its cash on D2; the close
#           falls to 5.00 on D5: assets 5,000 < 0.2 x 50,000 (M of D2..D4) and the transfers
#           out of D2..D5 are 50,000 >= 0.5 x 50,000: churn on D5 (an outflow window of
#           D3..D5 would miss it); on D2 assets 50,000 are not < 0.2 x 100,000
SHORT = IndicatorConfig(lookback=3, window=3)
WINDOW_DAYS = [D1, D2, D3, D4, D5, D6]


def write_window_branch(root: Path) -> None:
    for day in WINDOW_DAYS:
        b = Branch(day)
        b.add("NEVER", 50_000.00)
        if day >= D2:
            b.add("LATE", 50_000.00)
        b.add("EDGE", 10_000.00)
        b.add("POOR", 9_999.99)
        if day == D1:
            b.add("TRADER", 50_000.00)
        else:  # 50,000 - 1,000 - 5.00 commission
            b.add("TRADER", 48_995.00, [(100, 1_000.00, 10.00)], trades=[("B", 100, 10.00)] if day == D2 else ())
        if day == D1:
            b.add("FADER", 100_000.00)
        elif day < D5:
            b.add("FADER", 40_000.00, withdraw=60_000.00 if day == D2 else 0)
        else:
            b.add("FADER", 10_000.00, withdraw=30_000.00 if day == D5 else 0)
        b.add("SELLER", 50_000.00 if day == D1 else 0.00, [(1_000, 50_000.00, 50.00 if day < D5 else 5.00)],
              withdraw=50_000.00 if day == D2 else 0)
        b.write(root)


@pytest.fixture(scope="module")
def windows(tmp_path_factory):
    root = tmp_path_factory.mktemp("boundaries_windows")
    write_window_branch(root / "extracts")
    return build_branch(root, WINDOW_DAYS, SHORT)


def by_day(con, cid: str, col: str) -> list:
    return [indicators(con, d)[cid][col] if cid in indicators(con, d) else None for d in WINDOW_DAYS]


def test_dormancy_needs_lookback_sessions_of_history(windows):
    assert by_day(windows, "NEVER", "is_dormant") == [False, False, True, True, True, True]
    assert by_day(windows, "LATE", "is_dormant") == [None, False, False, True, True, True]
    assert by_day(windows, "EDGE", "is_dormant") == [False, False, True, True, True, True]
    assert by_day(windows, "POOR", "is_dormant") == [False] * 6


def test_dormancy_needs_no_trade_in_the_lookback(windows):
    assert by_day(windows, "TRADER", "days_since_last_trade") == [None, 0, 1, 2, 3, 4]
    assert by_day(windows, "TRADER", "is_dormant") == [False, False, False, False, True, True]


def test_segment_eligibility_needs_a_trade_in_the_lookback(windows):
    assert by_day(windows, "TRADER", "eligible") == [False, True, True, True, False, False]


def test_window_sums_count_window_sessions(windows):
    assert by_day(windows, "TRADER", "present_days") == [1, 2, 3, 3, 3, 3]
    assert by_day(windows, "TRADER", "active_days") == [0, 1, 1, 1, 0, 0]
    assert by_day(windows, "TRADER", "trade_amount_w") == [0, 1_000, 1_000, 1_000, 0, 0]


def test_churn_peak_and_outflow_windows(windows):
    assert by_day(windows, "FADER", "churn_event") == [False] * 6
    assert by_day(windows, "SELLER", "churn_event") == [False, False, False, False, True, False]


# ---- the trades' amount tolerance (core/extracts.py) ----------------------------------------
#
# amount must agree with quantity x price within 0.01 CNY + 0.1 % (docs/spec/extracts.md),
# inclusive ("within"). 100 x 1.70 = 170.00: the tolerance is 0.01 + 0.17 = 0.18, so 170.18
# and 169.82 are accepted, 170.19 and 169.81 rejected. 1,000 x 10.00 = 10,000.00: the
# tolerance is 10.01, so 10,010.01 and 9,989.99 are accepted, 10,010.02 and 9,989.98
# rejected; a 1 % tolerance would accept 10,099.00 and 170.19. The four cases exactly at
# the tolerance fail in doubles (170.18 - 170.0 = 0.18000000000000682 > 0.18): the rule
# compares integers (millionths of a yuan).
AMOUNTS = [
    pytest.param(100, "1.70", "170.18", True, id="170.18-at"),
    pytest.param(100, "1.70", "169.82", True, id="169.82-at"),
    pytest.param(100, "1.70", "170.19", False, id="170.19-above"),
    pytest.param(100, "1.70", "169.81", False, id="169.81-above"),
    pytest.param(100, "1.70", "170.17", True, id="170.17-within"),
    pytest.param(1000, "10.00", "10010.01", True, id="10010.01-at"),
    pytest.param(1000, "10.00", "9989.99", True, id="9989.99-at"),
    pytest.param(1000, "10.00", "10010.02", False, id="10010.02-above"),
    pytest.param(1000, "10.00", "9989.98", False, id="9989.98-above"),
    pytest.param(1000, "10.00", "10099.00", False, id="10099-one-percent"),
]


@pytest.mark.parametrize("quantity,price,amount,accepted", AMOUNTS)
def test_trade_amount_tolerance(quantity, price, amount, accepted):
    row = trade("t1", "C1", D1, "B", "600000", quantity, float(price), commission=5.0, exchange_fee=0.1)
    text = pl.DataFrame([{k: str(v) for k, v in {**row, "amount": amount}.items()}])
    good, rejects = validate("trades", text, D1, Path("2024-09-26/trades.csv"), pl.Series(["C1"]))
    if accepted:
        assert rejects.height == 0 and good["amount"].to_list() == [float(amount)]
    else:
        assert good.height == 0
        assert rejects.select("column_name", "reason").rows() == [("amount", "amount disagrees with quantity x price")]
