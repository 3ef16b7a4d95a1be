"""Edge cases of docs/indicators.md on a hand-made branch, expected values worked by hand.

Sessions: Thu 2024-09-26, Fri 09-27, Mon 09-30, then the National Day holiday, Tue 10-08,
Wed 10-09, Thu 10-10. Clients:
  A  buys 1,000 x 600000 at 10.00 on 09-26, sells them at 11.00 on 09-27 (stamp tax)
  Z  an open account with no money at all
  N  opens on 09-30: deposits 50,000, keeps 49,000 cash and 100 shares worth 1,200
  C  closes its account on 10-09, withdrawing its 20,000
  K  holds 10,000 x 600002 bought at 10; the stock falls to 1.00 from 10-08 (no transfers)
  W  withdraws 90,000 of its 100,000 on 10-08 and stays at 10,000
  S  holds 600003 (cost 3,000) and 600004 (cost 2,000); 600003 has no quote after 09-27
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.config import IndicatorConfig

from ..builders import build_warehouse, cash, client, position, quote, trade, write_day

D1, D2, D3, D4, D5, D6 = (dt.date(2024, 9, 26), dt.date(2024, 9, 27), dt.date(2024, 9, 30),
                          dt.date(2024, 10, 8), dt.date(2024, 10, 9), dt.date(2024, 10, 10))
DAYS = [D1, D2, D3, D4, D5, D6]
RATE = 0.01  # cash_spread_rate


def write_branch(root):
    for d in DAYS:
        clients = [client("A"), client("Z"), client("K"), client("W"), client("S")]
        cash_rows = [cash("Z", 0), cash("K", 0)]
        positions = [position("K", "600002", 10_000, 100_000.0),
                     position("S", "600003", 100, 3_000.0), position("S", "600004", 100, 2_000.0)]
        quotes = [quote("600002", 10.0 if d < D4 else 1.0), quote("600004", 20.0)]
        trades = []
        if d <= D2:
            quotes.append(quote("600003", 20.0))  # missing from D3 on: stale
        if d == D1:
            trades.append(trade("t1", "A", d, "B", "600000", 1000, 10.0, 5.00, 0.54))
            positions.append(position("A", "600000", 1000, 10_005.0))
            quotes.append(quote("600000", 10.0))
            cash_rows.append(cash("A", 89_995.0))
        elif d == D2:
            trades.append(trade("t2", "A", d, "S", "600000", 1000, 11.0, 5.50, 0.59, stamp_tax=5.50))
            quotes.append(quote("600000", 11.0))
            cash_rows.append(cash("A", 100_984.0))
        else:
            cash_rows.append(cash("A", 100_984.0))
        if d >= D3:
            clients.append(client("N", open_date="2024-09-30"))
            cash_rows.append(cash("N", 49_000.0, deposit=50_000.0 if d == D3 else 0))
            positions.append(position("N", "600001", 100, 1_000.0))
            quotes.append(quote("600001", 12.0))
        if d <= D5:
            clients.append(client("C", close_date="2024-10-09" if d == D5 else ""))
            cash_rows.append(cash("C", 0.0, withdraw=20_000.0) if d == D5 else cash("C", 20_000.0))
        else:
            clients.append(client("C", close_date="2024-10-09"))  # snapshot keeps it, no cash row
        cash_rows.append(cash("W", 100_000.0) if d < D4 else
                         cash("W", 10_000.0, withdraw=90_000.0 if d == D4 else 0))
        cash_rows.append(cash("S", 1_000.0))
        write_day(root, d, clients, cash_rows, positions, quotes, trades)


@pytest.fixture(scope="module")
def branch(tmp_path_factory):
    root = tmp_path_factory.mktemp("edge")
    write_branch(root / "extracts")
    return build_warehouse(root / "extracts", root / "w.duckdb")


@pytest.fixture(scope="module")
def short_windows(tmp_path_factory):
    """Same branch with W = 3 and a 3-session lookback, so holidays and dormancy show."""
    root = tmp_path_factory.mktemp("edge_short")
    write_branch(root / "extracts")
    return build_warehouse(root / "extracts", root / "w.duckdb", IndicatorConfig(window=3, lookback=3))


def row(con, table, day, client_id):
    df = con.execute(f"select * from mart.{table} where as_of_date = ? and client_id = ?",
                     [day, client_id]).pl()
    assert df.height == 1, (table, day, client_id)
    return df.row(0, named=True)


def test_first_session_in_warehouse_has_zero_pnl(branch):
    a = row(branch, "client_daily", D1, "A")
    assert a["total_assets"] == pytest.approx(89_995 + 10_000)
    assert a["daily_pnl"] == 0


def test_sell_with_stamp_tax_and_friday_interest(branch):
    a = row(branch, "client_daily", D2, "A")
    assert a["trade_count"] == 1 and a["trade_amount"] == pytest.approx(11_000)
    # stamp tax is the state's, not the firm's: net commission = 5.50 - 0.59
    assert a["net_commission"] == pytest.approx(4.91)
    # Friday: the cash earns until Monday, 3 calendar days
    assert a["interest_income"] == pytest.approx(100_984 * RATE * 3 / 360)
    assert a["revenue"] == pytest.approx(4.91 + 100_984 * RATE * 3 / 360)
    assert a["daily_pnl"] == pytest.approx(100_984 - 99_995)
    # the holiday: 09-30 earns until 10-08, 8 calendar days
    assert row(branch, "client_daily", D3, "A")["interest_income"] == pytest.approx(100_984 * RATE * 8 / 360)


def test_account_opened_today_counts_pnl_from_zero(branch):
    n = row(branch, "client_daily", D3, "N")
    assert n["total_assets"] == pytest.approx(49_000 + 1_200)
    assert n["daily_pnl"] == pytest.approx(50_200 - 0 - 50_000)
    ni = row(branch, "client_indicators", D6, "N")
    assert ni["present_days"] == 4  # 09-30, 10-08, 10-09, 10-10 of W = 20
    assert ni["avg_assets"] == pytest.approx(50_200)
    assert ni["tenure_days"] == (D6 - D3).days


def test_zero_assets_give_nulls_not_errors(branch):
    z = row(branch, "client_indicators", D6, "Z")
    for col in ("turnover_rate", "turnover_rate_annual", "turnover_band", "profitability",
                "pnl_rate", "cash_ratio", "concentration", "trapped_depth", "days_since_last_trade"):
        assert z[col] is None, col
    assert z["trapped_ratio"] == 0 and z["trapped_level"] == "none"
    assert z["is_effective"] is False and z["wealth_tier"] == "mass"


def test_window_sums_and_rates(branch):
    a = row(branch, "client_indicators", D6, "A")
    assets = [99_995, 100_984, 100_984, 100_984, 100_984, 100_984]
    avg = sum(assets) / 6
    revenue = (5.00 - 0.54) + (5.50 - 0.59) + 100_984 * RATE * (3 + 8 + 1 + 1 + 1) / 360 + 89_995 * RATE / 360
    assert a["present_days"] == 6 and a["active_days"] == 2
    assert a["avg_assets"] == pytest.approx(avg)
    assert a["turnover_rate"] == pytest.approx(21_000 / avg)
    assert a["turnover_rate_annual"] == pytest.approx(21_000 / avg * 250 / 6)
    assert a["turnover_band"] == "medium"  # 21,000 / 100,818.5 x 250 / 6 = 8.7 a year
    assert a["revenue_w"] == pytest.approx(revenue)
    assert a["profitability"] == pytest.approx(revenue / avg * 250 / 6)
    assert a["days_since_last_trade"] == 4  # 09-27 -> 09-30, 10-08, 10-09, 10-10
    assert a["pnl_w"] == pytest.approx(989)


def test_market_crash_without_withdrawals_is_not_churn(branch):
    for d in DAYS:
        assert row(branch, "client_indicators", d, "K")["churn_event"] is False
    k = row(branch, "client_indicators", D6, "K")
    # loss = 1 - 10,000 / 100,000 = 0.9: trapped, deep
    assert k["trapped_ratio"] == 1 and k["trapped_depth"] == pytest.approx(0.9)
    assert k["trapped_level"] == "deep" and k["is_trapped"] is True


def test_withdrawal_churn_fires_once_over_consecutive_days(branch):
    events = [row(branch, "client_indicators", d, "W")["churn_event"] for d in DAYS]
    assert events == [False, False, False, True, False, False]


def test_closing_account_churns_on_its_close_day_only(branch):
    events = [row(branch, "client_indicators", d, "C")["churn_event"] for d in DAYS[:5]]
    assert events == [False, False, False, False, True]
    n = branch.execute("select count(*) from mart.client_indicators where client_id = 'C' and as_of_date = ?",
                       [D6]).fetchone()[0]
    assert n == 0  # gone the day after
    closed = branch.execute("select closed_clients from mart.branch_daily where as_of_date = ?", [D5]).fetchone()
    assert closed == (1,)


def test_missing_quote_uses_latest_earlier_close(branch):
    s = row(branch, "client_daily", D6, "S")
    assert s["market_value"] == pytest.approx(100 * 20.0 + 100 * 20.0)  # 600003 at its 09-27 close
    si = row(branch, "client_indicators", D6, "S")
    assert si["concentration"] == pytest.approx(0.5)
    # 600003: loss 1 - 2,000 / 3,000 = 1/3 trapped; 600004 not; ratio 3,000 / 5,000
    assert si["trapped_ratio"] == pytest.approx(0.6) and si["is_trapped"] is True
    assert si["trapped_depth"] == pytest.approx(1 / 3) and si["trapped_level"] == "deep"
    warnings = branch.execute(
        "select as_of_date, security_code, clients from quality.warnings order by as_of_date").fetchall()
    assert warnings == [(d, "600003", 1) for d in (D3, D4, D5, D6)]


def test_security_trapped_counts_holders_by_depth(branch):
    rows = branch.execute("select security_code, holders, trapped_holders, trapped_cost, trapped_loss, "
                          "avg_loss, deep_holders from mart.security_trapped where as_of_date = ? "
                          "order by security_code", [D6]).fetchall()
    assert rows == [
        ("600001", 1, 0, 0.0, 0.0, None, 0),
        ("600002", 1, 1, 100_000.0, 90_000.0, 0.9, 1),
        ("600003", 1, 1, 3_000.0, 1_000.0, pytest.approx(1 / 3), 1),
        ("600004", 1, 0, 0.0, 0.0, None, 0),
    ]


def test_window_counts_sessions_across_the_holiday(short_windows):
    # W = 3 on 10-08: 09-27, 09-30, 10-08 (not 10-06 .. 10-08 in calendar days)
    a = row(short_windows, "client_indicators", D4, "A")
    assert a["present_days"] == 3 and a["active_days"] == 1
    assert a["trade_amount_w"] == pytest.approx(11_000)


def test_dormant_needs_history_no_trades_and_effective_assets(short_windows):
    dormant = {d: row(short_windows, "client_indicators", d, "A")["is_dormant"] for d in DAYS}
    # lookback 3: from 10-09 on, A's last 3 sessions hold no trade and its first row is old enough
    assert dormant == {D1: False, D2: False, D3: False, D4: False, D5: True, D6: True}
    assert row(short_windows, "client_indicators", D6, "Z")["is_dormant"] is False  # not effective
