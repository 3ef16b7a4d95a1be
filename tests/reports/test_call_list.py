"""Today's call list on a hand-made branch, every row worked out by hand (docs/decisions.md,
Call list).

Sessions Mon 2024-09-02 .. Thu 09-05 (D1..D4), the list of D4; window = 2 sessions (D3, D4),
lookback = 3, no interest on cash (cash_spread_rate 0), so a client's revenue is its net
commission. A "round trip" buys and sells 100 x 600900 at 10.00 the same day with commission c
each way and no exchange fee: net commission 2c, cash - 2c, positions unchanged.

Broker B1 (team T1 一组):
  C1 张三丰  1,000 x 600001 cost 10,000 at 7.70 (-23 %, trapped); round trip D4 c=20 (40)
  C2 李四    520,000 cash; round trip on D1 only: dormant 3 sessions
  C3 王小五  1,000 x 600002 cost 50,000 at 40 (-20 %, trapped); 200,000 cash; round trip D3
             c=50 (100); churn risk 0.61
  C4 孙七    30,000 cash, never traded: dormant
  C9 周八    50,000 cash, round trip D4 c=5 (10); nothing to call about
Broker B2 (team T1):
  C5 a formula as its name: 1,000 x 600003 cost 10,000 at 5 (-50 %); round trip D3 c=30 (60);
     churn risk 0.52
  C6 <script> as its name: 2,000 x 600001 cost 20,000 (loss 4,600, -23 %) and 100 x 600003
     cost 1,000 (loss 500, -50 %); round trip D4 c=40 (80)
  C7 钱九    80,000 cash; round trip on D1 only: dormant 3 sessions
Broker B3 (team T2 "二组/北区[新]", not a valid sheet name):
  C8 欧阳娜娜 500 x 600002 cost 25,000 at 40 (-20 %); round trip D4 c=100 (200)
"""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
from openpyxl import load_workbook

from core.config import IndicatorConfig, ReportConfig, Settings
from reports.calls import by_broker, call_list, sheet_title, write_call_workbook
from reports.render import environment

from ..builders import build_warehouse, cash, client, position, quote, trade, write_day

D1, D2, D3, D4 = (dt.date(2024, 9, d) for d in (2, 3, 4, 5))
CONFIG = IndicatorConfig(window=2, lookback=3, cash_spread_rate=0.0)
SETTINGS = Settings(indicators=CONFIG)
FORMULA_NAME = '=HYPERLINK("http://evil.example","点我")'
SCRIPT_NAME = "<script>alert(1)</script>"
NAMES = {"C1": "张三丰", "C2": "李四", "C3": "王小五", "C4": "孙七", "C9": "周八",
         "C5": FORMULA_NAME, "C6": SCRIPT_NAME, "C7": "钱九", "C8": "欧阳娜娜"}
BROKER_OF = {"C1": "B1", "C2": "B1", "C3": "B1", "C4": "B1", "C9": "B1",
             "C5": "B2", "C6": "B2", "C7": "B2", "C8": "B3"}
HOSTILE_TEAM = "二组/北区[新]"
BROKERS = [
    dict(broker_id="B1", broker_name="李经理", team_id="T1", team_name="一组", branch_id="0731",
         branch_name="长沙营业部", hire_date="2010-01-01"),
    dict(broker_id="B2", broker_name="王经理", team_id="T1", team_name="一组", branch_id="0731",
         branch_name="长沙营业部", hire_date="2012-01-01"),
    dict(broker_id="B3", broker_name="陈经理", team_id="T2", team_name=HOSTILE_TEAM, branch_id="0731",
         branch_name="长沙营业部", hire_date="2015-01-01"),
]
# (client, day of its round trip, commission each way, cash before it, cash from it on)
ROUND_TRIPS = [("C1", D4, 20.0, 1_040.0, 1_000.0), ("C2", D1, 10.0, 520_000.0, 520_000.0),
               ("C3", D3, 50.0, 200_100.0, 200_000.0), ("C9", D4, 5.0, 50_010.0, 50_000.0),
               ("C5", D3, 30.0, 10_060.0, 10_000.0), ("C6", D4, 40.0, 5_080.0, 5_000.0),
               ("C7", D1, 10.0, 80_000.0, 80_000.0), ("C8", D4, 100.0, 100_200.0, 100_000.0)]
POSITIONS = [position("C1", "600001", 1_000, 10_000.0), position("C3", "600002", 1_000, 50_000.0),
             position("C5", "600003", 1_000, 10_000.0), position("C6", "600001", 2_000, 20_000.0),
             position("C6", "600003", 100, 1_000.0), position("C8", "600002", 500, 25_000.0)]
QUOTES = [quote("600001", 7.70), quote("600002", 40.0), quote("600003", 5.0), quote("600900", 10.0)]
CHURN = {"C1": 0.10, "C2": 0.20, "C3": 0.61, "C4": 0.30, "C9": 0.05, "C5": 0.52, "C6": 0.40,
         "C7": 0.45, "C8": 0.10}
PHONE, ID_NUMBER = "13800001111", "430101199001011234"  # every client's, from tests/builders.client

# The branch's net commission over the window (D3, D4) is 40 + 100 + 10 + 60 + 80 + 200 = 490 on
# assets summed over D3 and D4 of 2,169,530 (C1 8,740 + 8,700; C2 2 x 520,000; C3 2 x 240,000;
# C4 2 x 30,000; C9 50,010 + 50,000; C5 2 x 15,000; C6 20,980 + 20,900; C7 2 x 80,000;
# C8 120,200 + 120,000): a yuan of assets earns 490 / 2,169,530 x 250 a year, and a dormant
# client's stake is its assets x that x 0.1.
DORMANT = 490 / 2_169_530 * 250 * 0.1
# A client's yearly revenue is its window's revenue x 250 / 2 sessions (x 125).
EXPECTED = [  # broker, client, masked name, reason, stake, assets, rank, detail
    ("B1", "C3", "王*五", "churn", 100 * 125 * 0.61, 240_000, 1, "流失风险 61%"),  # trapped: 2,500
    ("B1", "C2", "李*", "dormant", 520_000 * DORMANT, 520_000, 2, "3 个交易日未交易，资产 52.0万"),
    ("B1", "C1", "张*丰", "trapped", 40 * 125 * 0.2, 8_700, 3, "股票600001（600001）浮亏 23.0%"),
    ("B1", "C4", "孙*", "dormant", 30_000 * DORMANT, 30_000, 4, "开户以来未交易，资产 3.0万"),
    ("B2", "C5", "=" + "*" * (len(FORMULA_NAME) - 2) + ")", "churn", 60 * 125 * 0.52, 15_000, 1,
     "流失风险 52%"),  # trapped: 1,500
    ("B2", "C6", "<" + "*" * (len(SCRIPT_NAME) - 2) + ">", "trapped", 80 * 125 * 0.2, 20_900, 2,
     "股票600001（600001）浮亏 23.0%"),  # the largest loss in money, not the deepest
    ("B2", "C7", "钱*", "dormant", 80_000 * DORMANT, 80_000, 3, "3 个交易日未交易，资产 8.0万"),
    ("B3", "C8", "欧**娜", "trapped", 200 * 125 * 0.2, 120_000, 1, "股票600002（600002）浮亏 20.0%"),
]
HEADERS = ["经纪人编号", "经纪人", "排名", "客户号", "客户姓名", "联系原因", "说明", "涉及收入（元）", "资产（元）"]


def write_branch(root):
    for d in (D1, D2, D3, D4):
        clients = [{**client(c, broker_id=BROKER_OF[c]), "client_name": n} for c, n in NAMES.items()]
        cash_rows = [cash("C4", 30_000.0)]
        trades = []
        for c, day, fee, before, after in ROUND_TRIPS:
            cash_rows.append(cash(c, after if d >= day else before))
            if d == day:
                trades += [trade(f"{c}b", c, d, "B", "600900", 100, 10.0, fee, 0.0),
                           trade(f"{c}s", c, d, "S", "600900", 100, 10.0, fee, 0.0)]
        write_day(root, d, clients, cash_rows, POSITIONS, QUOTES, trades, brokers=BROKERS)


@pytest.fixture(scope="module")
def branch(tmp_path_factory):
    root = tmp_path_factory.mktemp("calls")
    write_branch(root / "extracts")
    con = build_warehouse(root / "extracts", root / "w.duckdb", CONFIG)
    con.executemany("insert into mart.churn_scores values (?, ?, ?, 'churn-test-1')",
                    [(D4, c, risk) for c, risk in CHURN.items()])
    return con


def table(rows):
    return [(r["broker_id"], r["client_id"], r["client_name"], r["reason"], r["stake"], r["total_assets"],
             r["rank"], r["detail"]) for r in rows]


def test_call_list_rows_worked_by_hand(branch):
    got = table(call_list(branch, D4, SETTINGS))
    # stakes to the fen: 520,000 x DORMANT = 2,936.12, 30,000 x DORMANT = 169.39
    assert got == [(*e[:4], pytest.approx(round(e[4], 2), abs=1e-9), e[5], *e[6:]) for e in EXPECTED]


def test_each_client_once_with_its_largest_stake(branch):
    rows = call_list(branch, D4, SETTINGS)
    ids = [r["client_id"] for r in rows]
    assert len(ids) == len(set(ids))
    # C3 and C5 are trapped too, but their churn stake is larger; C9 has no reason at all
    assert {r["client_id"]: r["reason"] for r in rows if r["client_id"] in ("C3", "C5")} == \
        {"C3": "churn", "C5": "churn"}
    assert "C9" not in ids
    assert {r["reason_label"] for r in rows} == {"流失风险高：挽留", "沉寂：唤醒", "套牢：提供解套建议"}


def test_cap_per_broker(branch):
    capped = Settings(indicators=CONFIG, report=ReportConfig(calls_per_broker=2))
    got = [(r["broker_id"], r["client_id"], r["rank"]) for r in call_list(branch, D4, capped)]
    assert got == [("B1", "C3", 1), ("B1", "C2", 2), ("B2", "C5", 1), ("B2", "C6", 2), ("B3", "C8", 1)]


def test_rule_scored_churn_is_a_level_taken_at_the_call_risk(branch):
    """A day the rule scored: only level high (>= 0.9) is called, at the chance 0.5; C5 (0.85,
    medium) falls back to its trapped stake, 60 x 125 x 0.2 = 1,500, below C6's 2,000."""
    branch.execute("begin")
    try:
        branch.execute("update mart.churn_scores set model_version = 'rule', "
                       "churn_risk = case client_id when 'C3' then 0.95 when 'C5' then 0.85 else 0.1 end")
        rows = {r["client_id"]: r for r in call_list(branch, D4, SETTINGS)}
    finally:
        branch.execute("rollback")
    assert (rows["C3"]["reason"], rows["C3"]["stake"], rows["C3"]["detail"]) == \
        ("churn", pytest.approx(100 * 125 * 0.5), "流失风险 高（规则评分）")
    assert (rows["C5"]["reason"], rows["C5"]["stake"], rows["C5"]["rank"], rows["C5"]["detail"]) == \
        ("trapped", pytest.approx(1_500), 2, "股票600003（600003）浮亏 50.0%")
    assert rows["C6"]["rank"] == 1


@pytest.fixture(scope="module")
def workbook(branch, tmp_path_factory):
    rows = call_list(branch, D4, SETTINGS)
    path = tmp_path_factory.mktemp("xlsx") / "calls-2024-09-05.xlsx"
    assert write_call_workbook(rows, path) == path
    return rows, path


def test_workbook_reads_back_as_the_call_list(workbook):
    rows, path = workbook
    wb = load_workbook(path)
    assert wb.sheetnames == ["一组", "二组_北区_新_"]  # one sheet a team; / [ ] are not allowed in a name
    keys = ["broker_id", "broker_name", "rank", "client_id", "client_name", "reason_label", "detail", "stake",
            "total_assets"]
    for sheet, team in (("一组", "T1"), ("二组_北区_新_", "T2")):
        ws = wb[sheet]
        got = [list(r) for r in ws.iter_rows(values_only=True)]
        assert got[0] == HEADERS
        assert got[1:] == [[r[k] for k in keys] for r in rows if r["team_id"] == team]
        assert ws.freeze_panes == "A2"
    c8 = wb["二组_北区_新_"]["A2":"I2"][0]
    assert [c.value for c in c8[:4]] == ["B3", "陈经理", 1, "C8"]
    assert (c8[7].data_type, c8[7].value, c8[7].number_format) == ("n", pytest.approx(5_000), "#,##0.00")
    assert (c8[8].data_type, c8[8].value, c8[8].number_format) == ("n", pytest.approx(120_000), "#,##0.00")


def test_hostile_names_stay_masked_text(workbook):
    _, path = workbook
    ws = load_workbook(path)["一组"]
    names = {row[3].value: row[4] for row in ws.iter_rows(min_row=2)}
    assert (names["C5"].value, names["C5"].data_type) == ("=" + "*" * (len(FORMULA_NAME) - 2) + ")", "s")
    assert (names["C6"].value, names["C6"].data_type) == ("<" + "*" * (len(SCRIPT_NAME) - 2) + ">", "s")
    with zipfile.ZipFile(path) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)  # no formula anywhere


def test_no_clear_pii_in_the_workbook(workbook):
    _, path = workbook
    wb = load_workbook(path)
    cells = [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert len(cells) == 9 * (2 + 8)  # a header row a sheet + 8 rows, 9 cells each: every cell was seen
    for clear in [*NAMES.values(), "HYPERLINK", "script", PHONE, ID_NUMBER]:
        assert not any(clear in text for text in cells), clear


def test_empty_list_writes_headers_only(tmp_path):
    wb = load_workbook(write_call_workbook([], tmp_path / "calls.xlsx"))
    assert wb.sheetnames == ["联系名单"]
    assert [list(r) for r in wb["联系名单"].iter_rows(values_only=True)] == [HEADERS]
    assert [p.name for p in tmp_path.iterdir()] == ["calls.xlsx"]  # no temporary file left


def test_sheet_titles():
    taken: set[str] = set()
    assert sheet_title("一组", taken) == "一组"
    assert sheet_title("一组", taken) == "一组(2)"          # unique in the workbook
    assert sheet_title("x" * 40, taken) == "x" * 31        # 31 characters at most
    assert sheet_title("X" * 40, taken) == "X" * 28 + "(2)"  # Excel ignores case
    assert sheet_title("'A[1]:B*?'", taken) == "A_1__B__"  # no []:*?/\ and no quote at the ends
    assert sheet_title(None, taken) == "未分配"


def test_broker_book_partial_escapes_and_groups(workbook):
    rows, _ = workbook
    groups = by_broker(rows)
    assert [(g["broker_id"], g["team_name"], [r["client_id"] for r in g["rows"]]) for g in groups] == [
        ("B1", "一组", ["C3", "C2", "C1", "C4"]), ("B2", "一组", ["C5", "C6", "C7"]), ("B3", HOSTILE_TEAM, ["C8"])]
    html = environment().get_template("_call_list.html.j2").render(call_groups=groups)
    assert "<script" not in html and "&lt;*****" in html
    assert "HYPERLINK" not in html and "张三丰" not in html and "张*丰" in html
    assert html.count("<table") == 3
    assert ">0.50</td>" in html and ">12.00</td>" in html  # C8: 5,000 at stake, 120,000 of assets, in 万元
