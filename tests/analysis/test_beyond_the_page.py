"""The client-analysis tables beyond the spec's page (docs/spec/client-analysis.md, "Beyond the
page") on hand-made inputs, every expected value worked out by hand in the comments or a second
way (the statistics module), then facts they must satisfy on the example warehouse, and the
same warehouse whatever order the sessions are built in."""

from __future__ import annotations

import datetime as dt
import shutil
import statistics

import duckdb
import pytest

from core import tables
from core.build import Job, analysis_temps, rebuild, replace
from core.config import AnalysisConfig, Settings
from core.db import WRITE_CONFIG, prepare

from .test_client_analysis import plant

D0, D = dt.date(2024, 9, 30), dt.date(2024, 10, 8)  # the last session of September, the first of October
NEW = ("mart.loyalty_distribution", "mart.loyalty_movers", "mart.client_habits", "mart.trapped_industries",
       "mart.client_exits", "mart.flow_projection")


@pytest.fixture()
def con(tmp_path):
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb"), config=WRITE_CONFIG))
    yield con
    con.close()


def build(con, table: str, start: dt.date, end: dt.date | None = None, settings: Settings | None = None) -> int:
    """One table's SQL over start..end, as its writer runs it (core.build.replace; the
    client-analysis tables with the writer's shared temp tables)."""
    t = tables.BY_NAME[table]
    params = {**Job(tables.writer(t.writer), settings or Settings()).params, "start": start, "end": end or start}
    if t.writer != "client_analysis":
        return replace(con, t, params)
    with analysis_temps(con, params):
        return replace(con, t, params)


def session(con, day: dt.date, back: int = 0) -> dt.date:
    """The session `back` sessions before `day`."""
    return con.execute("select session_date from ref.sessions where session_idx = "
                       "(select session_idx from ref.sessions where session_date = ?) - ?", [day, back]).fetchone()[0]


def rows(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


# ---- 1. loyalty by group and its movers --------------------------------------------------------

# client: loyalty, segment (None: no segment row), wealth tier
SCORES = {"A": (10.0, "stable", "mass"), "B": (35.0, "aggressive", "mass"), "C": (40.0, "stable", "mass"),
          "D": (55.0, "aggressive", "mass"), "E": (69.5, "aggressive", "wealth"), "F": (70.0, "stable", "wealth"),
          "G": (85.0, "conservative", "wealth"), "H": (100.0, None, "wealth")}


def test_loyalty_quartiles_and_shares_by_hand(con):
    """All eight: sorted 10, 35, 40, 55, 69.5, 70, 85, 100; quantile_cont at (n - 1) x p = 7p:
    p25 at 1.75 = 35 + 0.75 x (40 - 35) = 38.75; median at 3.5 = 55 + 0.5 x 14.5 = 62.25;
    p75 at 5.25 = 70 + 0.25 x 15 = 73.75; mean 464.5 / 8 = 58.0625. Low (< 40): 10 and 35, not
    40 -> 2/8; high (>= 70): 70, 85, 100, not 69.5 -> 3/8."""
    plant(con, "mart.client_loyalty", [dict(as_of_date=D, client_id=c, loyalty=v) for c, (v, _, _) in SCORES.items()])
    plant(con, "mart.client_windows", [dict(as_of_date=D, client_id=c, wealth_tier=t) for c, (_, _, t) in SCORES.items()])
    plant(con, "mart.client_segments", [dict(as_of_date=D, client_id=c, segment=s)
                                        for c, (_, s, _) in SCORES.items() if s])
    assert build(con, "mart.loyalty_distribution", D) == 1 + 4 + 2  # all; stable, aggressive, conservative, none; 2 tiers
    got = {(t, v): r for t, v, *r in rows(con, "select group_type, group_value, clients, mean, p25, median, p75, "
                                             "low_share, high_share from mart.loyalty_distribution")}
    assert got[("all", "all")] == pytest.approx([8, 58.0625, 38.75, 62.25, 73.75, 0.25, 0.375])
    # every group a second way: statistics.quantiles(method='inclusive') is the same interpolation
    groups = {("all", "all"): list(SCORES)}
    for c, (_, s, t) in SCORES.items():
        groups.setdefault(("segment", s or "none"), []).append(c)
        groups.setdefault(("wealth_tier", t), []).append(c)
    assert set(got) == set(groups)
    for key, members in groups.items():
        xs = sorted(SCORES[c][0] for c in members)
        q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
        expected = [len(xs), statistics.fmean(xs), *q, sum(x < 40 for x in xs) / len(xs),
                    sum(x >= 70 for x in xs) / len(xs)]
        assert got[key] == pytest.approx(expected), key
    assert got[("segment", "none")] == pytest.approx([1, 100, 100, 100, 100, 0, 1])  # one client: its score


def test_loyalty_thresholds_come_from_the_settings(con):
    plant(con, "mart.client_loyalty", [dict(as_of_date=D, client_id=c, loyalty=v) for c, (v, _, _) in SCORES.items()])
    plant(con, "mart.client_windows", [dict(as_of_date=D, client_id=c, wealth_tier=t) for c, (_, _, t) in SCORES.items()])
    build(con, "mart.loyalty_distribution", D, settings=Settings(analysis=AnalysisConfig(loyalty_low=55, loyalty_high=85)))
    assert rows(con, "select low_share, high_share from mart.loyalty_distribution where group_type = 'all'") == [
        (3 / 8, 2 / 8)]


def test_loyalty_movers_ranked_with_a_tie(con):
    """September's last loaded session is 09-30 (09-27 is earlier, and not read). Since then:
    A 50 -> 70 (+20) and B 60 -> 80 (+20) tie: A first by client_id; C +5 is third, cut at N = 2.
    D 80 -> 60 (-20) and E 90 -> 89.5 (-0.5) fall; F is unchanged (no row), G is new on D and H
    gone (no score on one of the two sessions: not movers)."""
    plant(con, "mart.branch_daily", [dict(as_of_date=d) for d in (dt.date(2024, 9, 27), D0, D)])
    then = {"A": 50.0, "B": 60.0, "C": 70.0, "D": 80.0, "E": 90.0, "F": 66.0, "H": 10.0}
    now = {"A": 70.0, "B": 80.0, "C": 75.0, "D": 60.0, "E": 89.5, "F": 66.0, "G": 99.0}
    plant(con, "mart.client_loyalty",
          [dict(as_of_date=D0, client_id=c, loyalty=v) for c, v in then.items()]
          + [dict(as_of_date=D, client_id=c, loyalty=v) for c, v in now.items()]
          + [dict(as_of_date=dt.date(2024, 9, 27), client_id=c, loyalty=0.0) for c in now])
    build(con, "mart.loyalty_movers", D, settings=Settings(analysis=AnalysisConfig(loyalty_movers=2)))
    assert rows(con, "select client_id, direction, rank, then_date, loyalty_then, loyalty_now, change "
                     "from mart.loyalty_movers order by direction desc, rank") == [
        ("A", "up", 1, D0, 50.0, 70.0, 20.0), ("B", "up", 2, D0, 60.0, 80.0, 20.0),
        ("D", "down", 1, D0, 80.0, 60.0, -20.0), ("E", "down", 2, D0, 90.0, 89.5, -0.5)]
    # September's own sessions compare with August, where nothing is loaded: no movers
    assert build(con, "mart.loyalty_movers", D0) == 0


# ---- 2. top industry held and holding period -----------------------------------------------------

SECURITIES = [("SH", "600030", "中信证券", "证券"), ("SH", "600000", "浦发银行", "银行"),
              ("SZ", "000001", "平安银行", "银行"), ("SZ", "300001", "特锐德", "电气设备")]


def plant_reference(con) -> None:
    plant(con, "ref.securities", [dict(market=m, security_code=c, security_name=n, industry=i)
                                  for m, c, n, i in SECURITIES])


def test_top_industry_with_a_tie_and_an_unknown_code(con):
    """A holds 600030 (证券) 1,000, 600000 + 000001 (银行) 500 + 500 = 1,000, and 002999, missing
    from the reference (未分类), 500: 证券 and 银行 tie at 1,000, 证券 comes first by name
    (U+8BC1 < U+94F6); share 1,000 / 2,500 = 0.4; 3 industries. B holds 002999 only: 未分类, 1.0.
    C holds nothing: no industry, 0. D holds 300001, never quoted (valued 0): 电气设备, share null."""
    plant_reference(con)
    holdings = {"A": [("SH", "600030", 100), ("SH", "600000", 50), ("SZ", "000001", 50), ("SZ", "002999", 50)],
                "B": [("SZ", "002999", 10)], "D": [("SZ", "300001", 100)]}
    plant(con, "mart.client_windows", [dict(as_of_date=D, client_id=c) for c in "ABCD"])
    plant(con, "raw.positions", [dict(as_of_date=D, client_id=c, market=m, security_code=s, quantity=q,
                                      cost_amount=1.0) for c, held in holdings.items() for m, s, q in held])
    plant(con, "raw.quotes", [dict(as_of_date=D, market=m, security_code=s, close=10.0, prev_close=10.0)
                              for m, s in (("SH", "600030"), ("SH", "600000"), ("SZ", "000001"), ("SZ", "002999"))])
    build(con, "mart.client_habits", D)
    assert rows(con, "select client_id, top_industry, top_industry_share, industries, trapped_in "
                     "from mart.client_habits order by 1") == [
        ("A", "证券", pytest.approx(0.4), 3, None), ("B", "未分类", pytest.approx(1.0), 1, None),
        ("C", None, None, 0, None), ("D", "电气设备", None, 1, None)]


def test_holding_sessions_from_the_window_by_hand(con):
    """The 20 sessions ending at D = 2024-10-08 start at D - 19. A's market value on its rows in
    them: 1,000 (D) + 2,000 (D - 1) + 3,000 (D - 5) = 6,000, absent on the others (0); 99,999 on
    D - 20 is outside. Sells: 500 (D - 2) + 1,000 (D - 19) = 1,500; a buy of 5,000 and a sell of
    7,000 on D - 20 do not count. Average value over W = 6,000 / 20 = 300; holding_sessions =
    20 x 300 / 1,500 = 4.0. B never sells: null."""
    mv = {0: 1000.0, 1: 2000.0, 5: 3000.0, 20: 99_999.0}
    plant(con, "mart.client_windows", [dict(as_of_date=D, client_id=c) for c in "AB"])
    money = dict(cash_balance=0.0, net_inflow=0.0, trade_count=0, trade_amount=0.0, net_commission=0.0,
                 interest_income=0.0, revenue=0.0, daily_pnl=0.0)
    plant(con, "mart.client_daily", [dict(as_of_date=session(con, D, b), client_id="A", market_value=v,
                                          total_assets=v, **money) for b, v in mv.items()]
          + [dict(as_of_date=D, client_id="B", market_value=50.0, total_assets=50.0, **money)])
    # the window's market value is a difference of running totals (mart.client_running)
    rebuild(con, "client_running", [session(con, D, b) for b in range(21, -1, -1)])
    trades = [("T1", 2, "S", 500.0), ("T2", 19, "S", 1000.0), ("T3", 3, "B", 5000.0), ("T4", 20, "S", 7000.0)]
    plant(con, "raw.trades", [dict(as_of_date=session(con, D, b), trade_id=t, client_id="A", side=s, amount=a)
                              for t, b, s, a in trades])
    build(con, "mart.client_habits", D)
    assert rows(con, "select client_id, market_value_w, sell_amount_w, holding_sessions from mart.client_habits "
                     "order by 1") == [("A", 6000.0, 1500.0, 4.0), ("B", 50.0, 0.0, None)]


# ---- 3. industries trapped together --------------------------------------------------------------

def test_trapped_industry_lift_by_hand(con):
    """Trapped (cost 1,000, value 800: loss 0.2 >= 0.10) in: 1, 2, 3: 银行 证券 电气设备; 4: 银行
    证券; 5: 银行 (and 证券 at a loss of 0.05: not trapped); 6: 电气设备 and 002999 (未分类); 7 holds
    银行 without a loss. N = 6; n_银行 = 5, n_证券 = 4, n_电气设备 = 4, n_未分类 = 1.
    银行-证券: 4 clients, lift 4 x 6 / (5 x 4) = 1.2; 银行-电气设备: 3, 3 x 6 / 20 = 0.9;
    证券-电气设备: 3, 3 x 6 / 16 = 1.125; 电气设备-未分类: 1 (< 3, dropped)."""
    plant_reference(con)
    plant(con, "ref.securities", [dict(market="SZ", security_code="000686", security_name="东北证券", industry="证券")])
    # at 8.00 a lot of cost 1,000 is trapped; at 9.50 it is not
    code = {"银": ("SH", "600000"), "证": ("SH", "600030"), "电": ("SZ", "300001"), "未": ("SZ", "002999")}
    trapped = {"1": "银证电", "2": "银证电", "3": "银证电", "4": "银证", "5": "银", "6": "电未"}
    positions = [(c, *code[s]) for c, ss in trapped.items() for s in ss] + [("5", "SZ", "000686"), ("7", "SZ", "000001")]
    closes = {**{m_s: 8.0 for m_s in code.values()}, ("SZ", "000686"): 9.5, ("SZ", "000001"): 9.5}
    plant(con, "mart.client_windows", [dict(as_of_date=D, client_id=c) for c in "1234567"])
    plant(con, "raw.positions", [dict(as_of_date=D, client_id=c, market=m, security_code=s, quantity=100,
                                      cost_amount=1000.0) for c, m, s in positions])
    plant(con, "raw.quotes", [dict(as_of_date=D, market=m, security_code=s, close=c, prev_close=c)
                              for (m, s), c in closes.items()])
    build(con, "mart.client_habits", D)
    assert rows(con, "select client_id, trapped_in from mart.client_habits where trapped_in is not null order by 1") == [
        ("1", ["电气设备", "证券", "银行"]), ("2", ["电气设备", "证券", "银行"]), ("3", ["电气设备", "证券", "银行"]),
        ("4", ["证券", "银行"]), ("5", ["银行"]), ("6", ["未分类", "电气设备"])]
    build(con, "mart.trapped_industries", D)
    assert rows(con, "select industry_a, industry_b, n_a, n_b, n_ab, round(lift, 12) from mart.trapped_industries "
                     "order by industry_a, lift desc") == [
        ("电气设备", "证券", 4, 4, 3, 1.125), ("电气设备", "银行", 4, 5, 3, 0.9),
        ("证券", "银行", 4, 5, 4, 1.2), ("证券", "电气设备", 4, 4, 3, 1.125),
        ("银行", "证券", 5, 4, 4, 1.2), ("银行", "电气设备", 5, 4, 3, 0.9)]
    # the largest lift per industry only
    build(con, "mart.trapped_industries", D, settings=Settings(analysis=AnalysisConfig(coholding_pairs=1)))
    assert rows(con, "select industry_a, industry_b from mart.trapped_industries order by 1") == [
        ("电气设备", "证券"), ("证券", "银行"), ("银行", "证券")]


# ---- 4. lost assets and the projection -----------------------------------------------------------

def test_lost_assets_on_the_row_before_leaving(con):
    """October's first session is D = 10-08. X churns on D, its row on 09-30 (the session before)
    holds 5,000. Y closes on D without a row on 09-30; its latest row is September's last in
    mart.client_month (3,000, an August row of 7,000 is older). Z churns on D and has no earlier
    row: 0. X is flagged again on 10-09: one exit a month. lost_assets = 8,000."""
    d1 = dt.date(2024, 10, 9)
    plant(con, "mart.client_changes", [dict(as_of_date=D, client_id="X", churned=True, closed=False),
                                       dict(as_of_date=D, client_id="Y", closed=True, churned=False),
                                       dict(as_of_date=D, client_id="Z", churned=True, closed=False),
                                       dict(as_of_date=d1, client_id="X", closed=True, churned=False),
                                       dict(as_of_date=D, client_id="W", opened=True, closed=False, churned=False)])
    plant(con, "mart.client_daily", [dict(as_of_date=D0, client_id="X", total_assets=5000.0),
                                     dict(as_of_date=D, client_id="X", total_assets=100.0)])
    plant(con, "mart.client_month", [dict(month_start=dt.date(2024, 9, 1), client_id="Y", last_date=dt.date(2024, 9, 20),
                                          last_assets=3000.0),
                                     dict(month_start=dt.date(2024, 8, 1), client_id="Y", last_date=dt.date(2024, 8, 30),
                                          last_assets=7000.0)])
    build(con, "mart.client_exits", D, d1)
    assert rows(con, "select as_of_date, client_id, closed, churned, assets_before from mart.client_exits order by 2") == [
        (D, "X", False, True, 5000.0), (D, "Y", True, False, 3000.0), (D, "Z", False, True, 0.0)]
    plant(con, "mart.branch_daily", [dict(as_of_date=D, clients=3, total_assets=1.0),
                                     dict(as_of_date=d1, clients=3, total_assets=1.0)])
    build(con, "mart.flow_projection", D, d1)
    assert rows(con, "select month_start, lost_assets from mart.flow_projection") == [(dt.date(2024, 10, 1), 8000.0)]


def test_dormancy_changes_after_a_gap_read_the_latest_earlier_row(con):
    """D = 10-08; the sessions before it: 09-30 (D0), 09-27, 09-26. Dormant (True / False) on the
    client's rows, '-' where it has none (mart.client_running: dense from its first row, not
    present there):
        client  09-26  09-27  09-30  D (trades)   change on D
        G       True   -      -      False (2)    woke_up: back after a gap, dormant before it
        H       False  True   -      True         none: its latest earlier row (09-27) was dormant
        J       True   False  -      True         went_dormant: its latest earlier row was not
        K       True   -      -      True         none
        N       -      -      -      True         went_dormant: no earlier row
        P       -      -      True   False (0)    none: not dormant without a trade is no waking up
        Q       -      -      False  True         went_dormant"""
    s0, s1 = session(con, D, 3), session(con, D, 2)
    days = [s0, s1, D0, D]
    dormant = {"G": (True, None, None, False), "H": (False, True, None, True), "J": (True, False, None, True),
               "K": (True, None, None, True), "N": (None, None, None, True), "P": (None, None, True, False),
               "Q": (None, None, False, True)}
    windows, daily, running, clients = [], [], [], []
    for cid, states in dormant.items():
        first = next(i for i, v in enumerate(states) if v is not None)
        for day, state in list(zip(days, states))[first:]:
            idx = con.execute("select session_idx from ref.sessions where session_date = ?", [day]).fetchone()[0]
            running.append(dict(as_of_date=day, client_id=cid, idx=idx, present=state is not None))
            if state is not None:
                windows.append(dict(as_of_date=day, client_id=cid, is_dormant=state, churn_event=False))
                daily.append(dict(as_of_date=day, client_id=cid, trade_count=2 if cid == "G" else 0))
        clients.append(dict(as_of_date=D, client_id=cid, open_date=dt.date(2020, 1, 2)))
    for table, planted in (("mart.client_windows", windows), ("mart.client_daily", daily),
                           ("mart.client_running", running), ("raw.clients", clients)):
        plant(con, table, planted)
    build(con, "mart.client_changes", D)
    assert rows(con, "select client_id, went_dormant, woke_up from mart.client_changes order by 1") == [
        ("G", False, True), ("J", True, False), ("N", True, False), ("Q", True, False)]


# month end -> (clients, total assets); October is partial (its last session is 10-31)
MONTHS = {dt.date(2024, 6, 28): (100, 1000.0), dt.date(2024, 7, 31): (110, 1200.0), dt.date(2024, 8, 30): (130, 1100.0),
          dt.date(2024, 9, 30): (136, 1400.0), D: (140, 1500.0)}


def test_projection_and_its_error_by_hand_on_four_months(con):
    """Clients at the ends of June .. September: 100, 110, 130, 136 (changes +10, +20, +6);
    assets 1,000, 1,200, 1,100, 1,400 (+200, -100, +300).
      June, July: fewer than 2 months before: no projection.
      August from June, July: 110 + 10 = 120 (error 120 / 130 - 1); 1,200 + 200 = 1,400 (1,400 / 1,100 - 1).
      September from June .. August: 130 + (10 + 20) / 2 = 145 (145 / 136 - 1); 1,100 + (200 - 100) / 2 = 1,150.
      October from June .. September: 136 + 36 / 3 = 148; 1,400 + 400 / 3. Partial (to 10-08): no
      error, and no next month; September's next_* is October's projection."""
    plant(con, "mart.branch_daily", [dict(as_of_date=d, clients=c, total_assets=a) for d, (c, a) in MONTHS.items()])
    rebuild(con, "client_periods", list(MONTHS))
    got = {r[0]: r[1:] for r in rows(con, """
        select month_start, month_end, complete, clients_end, assets_end, basis_months, projected_clients,
            projected_assets, clients_error, assets_error, next_clients, next_assets
        from mart.flow_projection order by 1""")}
    jun, jul, aug, sep, oct_ = (dt.date(2024, m, 1) for m in (6, 7, 8, 9, 10))
    assert list(got) == [jun, jul, aug, sep, oct_]
    assert got[jun] == (dt.date(2024, 6, 28), True, 100, 1000.0, 0, None, None, None, None, None, None)
    assert got[jul] == (dt.date(2024, 7, 31), True, 110, 1200.0, 1, None, None, None, None, 120.0, 1400.0)
    assert got[aug] == pytest.approx((dt.date(2024, 8, 30), True, 130, 1100.0, 2, 120.0, 1400.0, 120 / 130 - 1,
                                      1400 / 1100 - 1, 145.0, 1150.0))
    assert got[sep] == pytest.approx((D0, True, 136, 1400.0, 3, 145.0, 1150.0, 145 / 136 - 1, 1150 / 1400 - 1,
                                      148.0, 1400 + 400 / 3))
    assert got[oct_] == pytest.approx((D, False, 140, 1500.0, 4, 148.0, 1400 + 400 / 3, None, None, None, None))


def test_a_month_missing_its_last_session_breaks_the_chain(con):
    """August loaded only to 08-29, not its last session (08-30): incomplete, so its error is not
    measured, and the chains stop there: September (August right before it) has none, October
    has September alone (k = 1): no projection for either."""
    months = {d: v for d, v in MONTHS.items() if d != dt.date(2024, 8, 30)}
    months[dt.date(2024, 8, 29)] = (130, 1100.0)
    plant(con, "mart.branch_daily", [dict(as_of_date=d, clients=c, total_assets=a) for d, (c, a) in months.items()])
    rebuild(con, "client_periods", sorted(months))
    got = dict(rows(con, "select month_start, basis_months from mart.flow_projection"))
    assert got == {dt.date(2024, 6, 1): 0, dt.date(2024, 7, 1): 1, dt.date(2024, 8, 1): 2,
                   dt.date(2024, 9, 1): 0, dt.date(2024, 10, 1): 1}
    assert rows(con, "select clients_error from mart.flow_projection where month_start = '2024-08-01'") == [(None,)]


# ---- on the example warehouse --------------------------------------------------------------------

def query(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as c:
        return c.execute(sql).fetchall()


def test_facts_on_the_example(example_warehouse):
    w = example_warehouse
    # the reference is loaded as the file holds it
    assert query(w, "select count(*) from ref.securities") == [(414,)]
    # one habits row per client on D, one loyalty group 'all' of every scored client
    assert query(w, """select count(*) from mart.client_windows w
        full join mart.client_habits h using (as_of_date, client_id)
        where w.client_id is null or h.client_id is null""") == [(0,)]
    assert query(w, """select count(*) from (select as_of_date, count(*) n from mart.client_loyalty group by all) l
        full join (select * from mart.loyalty_distribution where group_type = 'all') d using (as_of_date)
        where d.clients is distinct from l.n""") == [(0,)]
    for group in ("segment", "wealth_tier"):
        assert query(w, f"""select count(*) from (select as_of_date, sum(clients) n from mart.loyalty_distribution
            where group_type = '{group}' group by all) g
            inner join mart.loyalty_distribution a on a.as_of_date = g.as_of_date and a.group_type = 'all'
            where g.n <> a.clients""") == [(0,)]
    # October's movers compare with 09-30; at most 20 a direction, ranks 1.. without a gap
    assert query(w, """select distinct then_date from mart.loyalty_movers""") == [(D0,)]
    assert query(w, """select count(*) from (select as_of_date, direction, count(*) n, max(rank) r
        from mart.loyalty_movers group by all) where n > 20 or r <> n""") == [(0,)]
    # the month ends as client_flow counts them
    assert query(w, """select count(*) from mart.flow_projection p full join mart.client_flow f using (month_start)
        where p.clients_end is distinct from f.clients_end or p.month_end is distinct from f.month_end
           or abs(p.new_assets - f.new_assets) > 1e-6""") == [(0,)]
    # October's lost assets: the churned client 0731000007 (10-21) and the closed 0731000005 (10-22)
    # on their rows of the session before
    assert query(w, """select round(p.lost_assets, 2) = round(sum(d.total_assets), 2) from mart.flow_projection p,
        mart.client_daily d where p.month_start = '2024-10-01'
        and (d.client_id, d.as_of_date) in (('0731000007', '2024-10-18'), ('0731000005', '2024-10-21'))
        group by p.lost_assets""") == [(True,)]
    # a pair is counted both ways, with the same clients and lift
    assert query(w, """select count(*) from mart.trapped_industries a left join mart.trapped_industries b
        on b.as_of_date = a.as_of_date and b.industry_a = a.industry_b and b.industry_b = a.industry_a
        where b.n_ab is distinct from a.n_ab or b.lift is distinct from a.lift""") == [(0,)]


def test_any_session_order_gives_the_same_tables(example_warehouse, tmp_path):
    """Rebuilding the new tables one session at a time from the last to the first (and the
    months from the last) gives the rows the pipeline wrote in order."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(example_warehouse, path)

    def snapshot(c) -> dict[str, list[tuple]]:
        out = {}
        for name in NEW:
            cols = [r[0] for r in c.execute(f"describe {name}").fetchall()]
            out[name] = sorted(
                tuple(float(f"{v:.12g}") if isinstance(v, float) else v for v in r)
                for r in c.execute(f"select {', '.join(cols)} from {name}").fetchall())
            assert out[name], name
        return out

    con = prepare(duckdb.connect(str(path), config=WRITE_CONFIG))
    try:
        before = snapshot(con)
        for name in NEW:
            con.execute(f"delete from {name}")
        days = [d for (d,) in con.execute("select distinct as_of_date from mart.client_daily order by 1 desc").fetchall()]
        for day in days:
            rebuild(con, "client_analysis", [day])
        for day in (days[0], days[-1]):
            rebuild(con, "client_periods", [day])
        assert snapshot(con) == before
    finally:
        con.close()
