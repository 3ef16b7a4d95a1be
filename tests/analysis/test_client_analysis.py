"""The client-analysis marts (docs/spec/client-analysis.md) on hand-made inputs: a few
clients planted in the tables the marts read, every expected value worked out by hand in
the comments. (tests/analysis/test_oracle.py checks every cell against a second
implementation on generated branches.)"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from core.build import rebuild
from core.db import WRITE_CONFIG, prepare

D0, D = dt.date(2024, 9, 30), dt.date(2024, 10, 8)  # the last session of September, the first of October


@pytest.fixture()
def con(tmp_path):
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb"), config=WRITE_CONFIG))
    yield con
    con.close()


def plant(con, table: str, rows: list[dict]) -> None:
    cols = list(rows[0])
    con.executemany(f"insert into {table} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
                    [[r[c] for c in cols] for r in rows])


# Four clients on D. Running totals (revenue, assets) at D0 and D; r = the October (= Q4)
# revenue = revenue(D) - revenue(D0); the year's = revenue(D), nothing before 2024 loaded.
#   client  tier      total_assets(D)  rev(D0)  rev(D)  r_month  r_year  assets(D0)  assets(D)
#   A       mass         50,000         10       10        0      10      40,000      90,000
#   B       mass         60,000         10       10        0      10      50,000     110,000
#   C       affluent    200,000         10       11        1      11     100,000     300,000
#   D       wealth      900,000         10       13        3      13     800,000   1,700,000
VALUE = [("A", "mass", 50_000, 10, 10, 40_000, 90_000), ("B", "mass", 60_000, 10, 10, 50_000, 110_000),
         ("C", "affluent", 200_000, 10, 11, 100_000, 300_000), ("D", "wealth", 900_000, 10, 13, 800_000, 1_700_000)]


def plant_value(con) -> None:
    running = []
    for cid, tier, assets, rev0, rev1, cum0, cum1 in VALUE:
        running += [dict(as_of_date=D0, client_id=cid, idx=0, present=True, revenue=rev0, assets=cum0),
                    dict(as_of_date=D, client_id=cid, idx=1, present=True, revenue=rev1, assets=cum1)]
        plant(con, "mart.client_windows", [dict(as_of_date=D, client_id=cid, wealth_tier=tier)])
        plant(con, "mart.client_daily", [dict(as_of_date=D, client_id=cid, total_assets=assets)])
    plant(con, "mart.client_running", running)
    plant(con, "mart.branch_daily", [dict(as_of_date=D0), dict(as_of_date=D)])


def test_value_by_tier_and_concentration_by_hand(con):
    plant_value(con)
    rebuild(con, "client_analysis", [D])
    tiers = {(p, t): row for p, t, *row in con.execute(
        "select period_type, wealth_tier, sessions, clients, total_assets, revenue, revenue_share, revenue_per_client, "
        "avg_assets, profitability from mart.value_by_tier where as_of_date = ?", [D]).fetchall()}
    # October to D: one loaded session; revenue 0 + 0 | 1 | 3 of 4; avg assets = the differences / 1
    assert tiers[("month", "mass")] == pytest.approx([1, 2, 110_000, 0, 0, 0, 110_000, 0])
    assert tiers[("month", "affluent")] == pytest.approx([1, 1, 200_000, 1, 0.25, 1, 200_000, 1 / 200_000 * 250])
    assert tiers[("month", "wealth")] == pytest.approx([1, 1, 900_000, 3, 0.75, 3, 900_000, 3 / 900_000 * 250])
    assert tiers[("quarter", "wealth")] == tiers[("month", "wealth")]  # Q4 starts on 1 October too
    # the year to D: two loaded sessions (D0, D); revenue 20 | 11 | 13 of 44; assets summed / 2
    assert tiers[("year", "mass")] == pytest.approx([2, 2, 110_000, 20, 20 / 44, 10, 100_000, 20 / 100_000 * 250 / 2])
    assert tiers[("year", "wealth")] == pytest.approx([2, 1, 900_000, 13, 13 / 44, 13, 850_000,
                                                       13 / 850_000 * 250 / 2])
    conc = {p: row for p, *row in con.execute(
        "select period_type, clients, revenue, top1_share, top5_share, top20_share, gini, top_tier, worth_ratio "
        "from mart.value_concentration where as_of_date = ?", [D]).fetchall()}
    # r = 0, 0, 1, 3: ceil(1 % / 5 % / 20 % of 4) = 1 client, D's 3 of 4;
    # gini = 2 x (1x0 + 2x0 + 3x1 + 4x3) / (4 x 4) - 5/4 = 30/16 - 20/16 = 0.625; mass mean 0: no ratio
    assert conc["month"] == pytest.approx([4, 4, 0.75, 0.75, 0.75, 0.625, "wealth", None])
    # r = 10, 10, 11, 13: gini = 2 x (10 + 20 + 33 + 52) / (4 x 44) - 5/4 = 230/176 - 220/176;
    # worth = mean of wealth (13) / mean of mass (10)
    assert conc["year"] == pytest.approx([4, 44, 13 / 44, 13 / 44, 13 / 44, 10 / 176, "wealth", 1.3])


def test_top_shares_break_ties_by_client_id_and_round_up(con):
    """101 clients: ceil(1 % x 101) = 2, ceil(5 %) = 6, ceil(20 %) = 21 clients. Client 000
    earns 5, clients 001..100 earn 1 each (ties: the lowest ids first): top 2 = 5 + 1."""
    running, windows, daily = [], [], []
    for i in range(101):
        cid = f"{i:03d}"
        running.append(dict(as_of_date=D, client_id=cid, idx=1, present=True, revenue=5 if i == 0 else 1, assets=1))
        windows.append(dict(as_of_date=D, client_id=cid, wealth_tier="mass"))
        daily.append(dict(as_of_date=D, client_id=cid, total_assets=1))
    for table, rows in (("mart.client_running", running), ("mart.client_windows", windows),
                        ("mart.client_daily", daily), ("mart.branch_daily", [dict(as_of_date=D)])):
        plant(con, table, rows)
    rebuild(con, "client_analysis", [D])
    shares = con.execute("select top1_share, top5_share, top20_share from mart.value_concentration "
                         "where as_of_date = ? and period_type = 'month'", [D]).fetchone()
    assert shares == pytest.approx((6 / 105, 10 / 105, 25 / 105))


def test_coholding_lift_by_hand(con):
    """Six clients hold X (SH 600000) and Y (SZ 000001) and Z (SZ 300001):
    1: X Y Z, 2: X Y Z, 3: X Y Z, 4: X Y, 5: X, 6: Z. N = 6; n_X = 5, n_Y = 4, n_Z = 4.
    X-Y: n 4, lift 4 x 6 / (5 x 4) = 1.2; X-Z: 3, 3 x 6 / 20 = 0.9; Y-Z: 3, 3 x 6 / 16 = 1.125.
    Z is held together with X by 3 only: kept (>= 3)."""
    holds = {"1": "XYZ", "2": "XYZ", "3": "XYZ", "4": "XY", "5": "X", "6": "Z"}
    codes = {"X": ("SH", "600000"), "Y": ("SZ", "000001"), "Z": ("SZ", "300001")}
    plant(con, "raw.positions", [dict(as_of_date=D, client_id=c, market=codes[s][0], security_code=codes[s][1],
                                      quantity=100, cost_amount=1000.0) for c, ss in holds.items() for s in ss])
    rebuild(con, "client_analysis", [D])
    rows = con.execute("select security_a, security_b, n_a, n_b, n_ab, round(lift, 12) from mart.coholding "
                       "where as_of_date = ? order by security_a, lift desc", [D]).fetchall()
    assert rows == ([
        ("000001", "600000", 4, 5, 4, 1.2), ("000001", "300001", 4, 4, 3, 1.125),
        ("300001", "000001", 4, 4, 3, 1.125), ("300001", "600000", 4, 5, 3, 0.9),
        ("600000", "000001", 5, 4, 4, 1.2), ("600000", "300001", 5, 4, 3, 0.9)])


@pytest.mark.parametrize("birth,age,band", [
    ("2000-10-08", 24, "<25"), ("1999-10-09", 24, "<25"),   # the 25th birthday is tomorrow
    ("1999-10-08", 25, "25-34"), ("1959-10-09", 64, "55-64"), ("1959-10-08", 65, "65+"), ("", None, "unknown"),
])
def test_age_in_whole_years_and_its_band(con, birth, age, band):
    plant(con, "raw.clients", [dict(as_of_date=D, client_id="A", birth_date=birth or None, open_date=D0)])
    plant(con, "mart.client_windows", [dict(as_of_date=D, client_id="A", tenure_days=8)])
    rebuild(con, "client_analysis", [D])
    assert con.execute("select age, age_band, tenure_band, gender from mart.client_profile").fetchone() == (
        age, band, "<1y", "unknown")


@pytest.mark.parametrize("days,band", [(364, "<1y"), (365, "1-3y"), (1094, "1-3y"), (1095, "3-5y"), (1825, "3-5y"),
                                       (1826, "5-10y"), (3651, "5-10y"), (3652, "10y+")])
def test_tenure_bands_at_their_boundaries(con, days, band):
    plant(con, "mart.client_windows", [dict(as_of_date=D, client_id="A", tenure_days=days)])
    rebuild(con, "client_analysis", [D])
    assert con.execute("select tenure_band from mart.client_profile").fetchone() == (band,)


def test_preferred_board_main_channel_and_trading_hour(con):
    """A holds 100 x 15.00 of 600000 (sh_main 1,500) and 100 x 15.00 of 300001 (chinext 1,500): a tie,
    sh_main first; 100 x 20.00 of 688001 (star) on D - 1 only. Trades in the 20 sessions to D:
    online 1,000 at 10:30, counter 1,000 at 14:00 (a tie: online first), one without a channel
    of 2,000 at 09:45. avg hour = (1,000 x 10.5 + 1,000 x 14 + 2,000 x 9.75) / 4,000 = 11.0."""
    plant(con, "mart.client_windows", [dict(as_of_date=D, client_id="A", tenure_days=900)])
    plant(con, "raw.positions", [dict(as_of_date=D, client_id="A", market=m, security_code=c, quantity=100,
                                      cost_amount=1000.0) for m, c in (("SH", "600000"), ("SZ", "300001"))]
          + [dict(as_of_date=D0, client_id="A", market="SH", security_code="688001", quantity=100, cost_amount=1.0)])
    plant(con, "raw.quotes", [dict(as_of_date=D, market=m, security_code=c, close=15.0, prev_close=15.0)
                              for m, c in (("SH", "600000"), ("SZ", "300001"))])
    trades = [("T1", D0, "10:30:00", "online", 1000.0), ("T2", D, "14:00:00", "counter", 1000.0),
              ("T3", dt.date(2024, 9, 10), "09:45:00", None, 2000.0),
              # the 21st session back from D (Sep 16-17 and Oct 1-7 are holidays): outside the window
              ("T4", dt.date(2024, 8, 30), "09:30:00", "phone", 9000.0)]
    plant(con, "raw.trades", [dict(as_of_date=d, trade_id=t, client_id="A", trade_time=h, channel=ch, amount=a)
                              for t, d, h, ch, a in trades])
    rebuild(con, "client_analysis", [D])
    assert con.execute("select preferred_board, main_channel, avg_trade_hour, tenure_band from mart.client_profile"
                       ).fetchone() == ("sh_main", "online", pytest.approx(11.0), "1-3y")


def test_loyalty_components_and_score_by_hand(con):
    """Two clients on D = 2024-10-08, two loaded sessions in the year to D (D0, D).
      A: tenure 913 days -> 0.5; on both sessions -> presence 2/2 = 1; peak: September's
         100,000 (October so far: a running peak of 80,000; the stored October row, 500,000,
         may run past D and is not read), assets on D 80,000 -> retention 0.8; net transfers
         in 20,000 (outflow -20,000) -> 0.5 + 20,000 / 200,000 = 0.6; traded in September, not
         in October to D -> regularity 1/2. loyalty = 100 x (0.1 + 0.2 + 0.24 + 0.09 + 0.075) = 70.5
      B: tenure 2,000 days -> 1 (capped at 5 years); on D only -> presence 1/2; peak 50,000 =
         its assets -> retention 1; net out 30,000 -> 0.5 - 30,000 / 100,000 = 0.2; traded on
         D, its only month -> 1. loyalty = 100 x (0.2 + 0.1 + 0.3 + 0.03 + 0.15) = 78.0"""
    sep, oct_ = dt.date(2024, 9, 1), dt.date(2024, 10, 1)
    idx = dict(con.execute("select session_date, session_idx from ref.sessions where session_date in (?, ?)",
                           [D0, D]).fetchall())
    plant(con, "mart.branch_daily", [dict(as_of_date=D0), dict(as_of_date=D)])
    plant(con, "mart.client_windows", [dict(as_of_date=D, client_id="A", tenure_days=913, wealth_tier="mass"),
                                       dict(as_of_date=D, client_id="B", tenure_days=2000, wealth_tier="mass")])
    plant(con, "mart.client_daily", [dict(as_of_date=D, client_id="A", total_assets=80_000),
                                     dict(as_of_date=D, client_id="B", total_assets=50_000)])
    plant(con, "mart.client_running", [
        dict(as_of_date=D0, client_id="A", idx=0, present=True, days=1, outflow=0, peak_assets=100_000,
             last_trade_idx=idx[D0]),
        dict(as_of_date=D, client_id="A", idx=1, present=True, days=2, outflow=-20_000, peak_assets=80_000,
             last_trade_idx=idx[D0]),
        dict(as_of_date=D, client_id="B", idx=1, present=True, days=1, outflow=30_000, peak_assets=50_000,
             last_trade_idx=idx[D])])
    plant(con, "mart.client_month", [dict(month_start=sep, client_id="A", peak_assets=100_000, traded=True),
                                     dict(month_start=oct_, client_id="A", peak_assets=500_000, traded=True),
                                     dict(month_start=oct_, client_id="B", peak_assets=900_000, traded=True)])
    rebuild(con, "client_analysis", [D])
    rows = con.execute("select client_id, tenure, presence, retention, transfers, regularity, loyalty "
                       "from mart.client_loyalty order by 1").fetchall()
    assert [r[0] for r in rows] == ["A", "B"]
    assert rows[0][1:] == pytest.approx((0.5, 1.0, 0.8, 0.6, 0.5, 70.5))
    assert rows[1][1:] == pytest.approx((1.0, 0.5, 1.0, 0.2, 1.0, 78.0))


def test_loyalty_subtracts_the_totals_a_year_back(con):
    """With a 3-session year (annual_sessions = 3), the year to D = 2024-10-08 is its last 3
    sessions, 2024-09-27, 09-30 and D, all loaded; the totals a year back are those of
    2024-09-26, 3 sessions before D. Client A: days on the books 12 on D, 10 on 09-26 ->
    presence (12 - 10) / 3 = 2/3; outflow -15,000 on D, 5,000 on 09-26 -> net in 20,000 over
    the year, against its peak 100,000 (= its assets on D, the running peak; no month row) ->
    transfers 0.5 + 20,000 / 200,000 = 0.6; retention 1; tenure 1 (1,826 days); a trade on D
    in D's month, no earlier month -> regularity 1.
    loyalty = 100 x (0.2 + 0.2 x 2/3 + 0.3 + 0.15 x 0.6 + 0.15) = 87.33...
    (Without the row a year back: presence 12 / 3 and transfers 0.575.)"""
    from core.config import IndicatorConfig, Settings

    back, d27 = dt.date(2024, 9, 26), dt.date(2024, 9, 27)
    idx = dict(con.execute("select session_date, session_idx from ref.sessions where session_date in (?, ?)",
                           [back, D]).fetchall())
    assert idx[D] - idx[back] == 3  # 09-26, 09-27, 09-30, then the October holiday
    plant(con, "mart.branch_daily", [dict(as_of_date=d) for d in (d27, D0, D)])
    plant(con, "mart.client_windows", [dict(as_of_date=D, client_id="A", tenure_days=1826, wealth_tier="mass")])
    plant(con, "mart.client_daily", [dict(as_of_date=D, client_id="A", total_assets=100_000)])
    plant(con, "mart.client_running", [
        dict(as_of_date=back, client_id="A", idx=0, present=True, days=10, outflow=5_000, peak_assets=60_000,
             last_trade_idx=idx[back]),
        dict(as_of_date=D, client_id="A", idx=3, present=True, days=12, outflow=-15_000, peak_assets=100_000,
             last_trade_idx=idx[D])])
    rebuild(con, "client_analysis", [D], settings=Settings(indicators=IndicatorConfig(annual_sessions=3)))
    assert con.execute("select presence, retention, transfers, regularity, loyalty from mart.client_loyalty"
                       ).fetchall() == [pytest.approx((2 / 3, 1.0, 0.6, 1.0, 87.0 + 1 / 3))]


def test_the_running_lookup_exists_only_for_a_range(con):
    """int_client_value filters client_running by int_running_lookup, a constant list that
    core.db.running_lookup defines for one range: outside it the SQL fails with the reason,
    it never reads another range's list."""
    from core.db import running_lookup

    plant_value(con)
    with pytest.raises(duckdb.Error, match="defined by core.db.running_lookup"):
        con.execute("select count(*) from int_client_value(?, ?)", [D, D]).fetchall()
    with running_lookup(con, {"start": D, "end": D, "annual_sessions": 250}):
        assert con.execute("select count(*) from int_client_value(?, ?)", [D, D]).fetchone()[0] == 4 * 3
    with pytest.raises(duckdb.Error, match="defined by core.db.running_lookup"):
        con.execute("select count(*) from int_client_value(?, ?)", [D, D]).fetchall()


def test_an_error_in_the_analysis_block_is_the_error_raised(con):
    """A statement that fails inside a run's analysis block aborts the run's transaction, which
    then refuses the block's cleanup; the error raised is the statement's (the cause), not the
    cleanup's "transaction is aborted", and the rollback leaves no temp table or list behind."""
    from core import tables
    from core.build import Job, analysis_temps
    from core.config import Settings
    from core.db import hold, release

    plant_value(con)
    params = {**Job(tables.writer("client_analysis"), Settings()).params, "start": D, "end": D}
    hold(con)
    with pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
        with analysis_temps(con, params):
            con.execute("insert into raw.clients (as_of_date) values (null)")
    release(con, commit=False)
    assert con.execute("select count(*) from duckdb_tables() where table_name = 'client_value'").fetchone()[0] == 0
    with pytest.raises(duckdb.Error, match="defined by core.db.running_lookup"):
        con.execute("select count(*) from int_client_value(?, ?)", [D, D]).fetchall()
