"""The report's client-analysis section (客户分析) against figures worked out independently:
value and concentration from mart.client_daily, the attribute heat map and Cramér's V from
raw.clients and the segments, channels from raw.trades, co-holding from raw.positions; the
section in Chinese only, shown with a note on a warehouse without the analysis marts, and
drawn in headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
import statistics
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import polars as pl
import pytest

from core.db import connect
from reports.formatting import fmt_change, fmt_cny, fmt_count, fmt_num, fmt_pct, fmt_wan
from reports.masking import mask_name
from reports.queries import client_analysis
from reports.render import render_report

from ..conftest import ROOT, query
from .conftest import DAY, html_of, report_params
from .test_browser import CHROMIUM, Chromium

LAST = dt.date(2024, 10, 29)  # the example's last session: the marts hold its month to date
ANALYSIS_MARTS = ("value_by_tier", "value_concentration", "attribute_profile", "attribute_association",
                  "channel_period", "client_flow", "coholding")
SEGMENTS = {"stable": "稳健型", "aggressive": "激进型", "conservative": "保守型", "inactive": "不活跃"}
TIER_NAMES = {"mass": "大众", "affluent": "富裕", "wealth": "财富", "hnw": "高净值", "uhnw": "超高净值"}


@pytest.fixture(scope="module")
def analysis_reports(example_warehouse, tmp_path_factory) -> dict[dt.date, Path]:
    """Reports of the example (the marts as the pipeline wrote them) for DAY and LAST."""
    out = tmp_path_factory.mktemp("analysis-reports")
    return {day: render_report(example_warehouse, day, out) for day in (DAY, LAST)}


def section(html: str) -> str:
    assert html.count('<section id="analysis">') == 1
    return html.split('<section id="analysis">', 1)[1].split("</section>", 1)[0]


class _Text(HTMLParser):
    """The text a reader sees (SVG texts and hover titles included), without scripts and styles."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    p = _Text()
    p.feed(html)
    return p.parts


class _Table(HTMLParser):
    """Rows (lists of cell texts) of the table with id `table_id`, tbody and tfoot."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.inside, self.part = table_id, False, None
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag in ("thead", "tbody", "tfoot"):
            self.part = tag
        elif self.inside and self.part != "thead" and tag == "tr":
            self.rows.append([])
        elif self.inside and self.part != "thead" and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None and data.strip():
            self._cell.append(data.strip())


def table_rows(html: str, table_id: str) -> list[list[str]]:
    p = _Table(table_id)
    p.feed(html)
    assert p.rows, table_id
    return p.rows


def month_revenue(warehouse: Path, day: dt.date) -> dict[str, tuple[str, float]]:
    """Client on `day` -> (wealth tier on `day`, revenue summed over mart.client_daily of the
    month's sessions up to `day`): the spec's r, without the running totals the mart uses."""
    rows = query(warehouse, """
        select w.client_id, w.wealth_tier, coalesce(sum(d.revenue), 0) as r
        from mart.client_windows as w
        left join mart.client_daily as d
            on d.client_id = w.client_id and d.as_of_date between date_trunc('month', $day::date) and $day
        where w.as_of_date = $day
        group by all""", {"day": day})
    return {cid: (tier, r) for cid, tier, r in rows.iter_rows()}


# ---- 1. value ------------------------------------------------------------------------------

@pytest.mark.parametrize("day", [DAY, LAST])
def test_worth_ratio_gini_and_top_shares_shown_equal_client_daily(example_warehouse, analysis_reports, day):
    value = month_revenue(example_warehouse, day)
    rs = sorted(r for _, r in value.values())
    n, total = len(rs), sum(rs)
    # Gini as the mean absolute difference (another formula than the spec's ranked sum)
    gini = sum(abs(a - b) for a in rs for b in rs) / (2 * n * n * (total / n))
    by_tier = defaultdict(list)
    for tier, r in value.values():
        by_tier[tier].append(r)
    top = max(by_tier, key=list(TIER_NAMES).index)
    worth = (sum(by_tier[top]) / len(by_tier[top])) / (sum(by_tier["mass"]) / len(by_tier["mass"]))
    desc = rs[::-1]
    tops = {p: sum(desc[:math.ceil(p * n / 100)]) / total for p in (1, 5, 20)}

    mart = query(example_warehouse, """select * from mart.value_concentration
        where as_of_date = $day and period_type = 'month'""", {"day": day}).row(0, named=True)
    assert mart["gini"] == pytest.approx(gini) and mart["worth_ratio"] == pytest.approx(worth)
    assert mart["top_tier"] == top

    html = section(html_of(analysis_reports[day]))
    assert f"一位{TIER_NAMES[top]}客户的收入贡献相当于 {worth:.0f} 位大众客户。" in html
    assert f"{mart['worth_ratio']:.0f} 位大众客户" in html
    text = re.search(r'id="concentration-text">(.*?)</p>', html).group(1)
    assert f"收入基尼系数 <strong>{fmt_num(gini, 2)}</strong>" in text
    assert fmt_num(mart["gini"], 2) == fmt_num(gini, 2)
    for p in (1, 5, 20):
        assert f"前 {p}%（{math.ceil(p * n / 100)} 人）贡献 {fmt_pct(tops[p])}" in text


def test_tier_table_and_chart_equal_client_daily(example_warehouse, analysis_reports):
    value = month_revenue(example_warehouse, DAY)
    assets = dict(query(example_warehouse, "select client_id, total_assets from mart.client_daily where as_of_date = $day",
                        {"day": DAY}).iter_rows())
    total = sum(r for _, r in value.values())
    rows = {r[0]: r for r in table_rows(section(html_of(analysis_reports[DAY])), "tier-table")}
    tiers = Counter(t for t, _ in value.values())
    assert len(rows) == len(tiers)
    html = section(html_of(analysis_reports[DAY]))
    for tier, clients in tiers.items():
        label = next(k for k in rows if k.startswith(TIER_NAMES[tier] + "("))
        revenue = sum(r for t, r in value.values() if t == tier)
        tier_assets = sum(assets[c] for c, (t, _) in value.items() if t == tier)
        row = rows[label]
        assert row[1] == fmt_count(clients)
        assert row[2] == fmt_pct(clients / len(value))
        assert row[3] == fmt_wan(tier_assets)
        assert row[6] == fmt_wan(revenue)
        assert row[7] == fmt_pct(revenue / total)
        # the bars: client share vs revenue share of the tier
        assert f"<title>{TIER_NAMES[tier]} 客户占比：{fmt_pct(clients / len(value))}</title>" in html
        assert f"<title>{TIER_NAMES[tier]} 收入占比：{fmt_pct(revenue / total)}</title>" in html


def test_concentration_curve_runs_through_the_marts_top_shares(example_warehouse):
    """The curve the report draws (from int_client_value, on request) meets the mart's top
    1 / 5 / 20 % shares and ends at all clients, all revenue."""
    with connect(example_warehouse, read_only=True) as con:
        a = client_analysis(con, LAST, report_params(LAST))
    conc, curve = a["value"]["concentration"], a["value"]["curve"]
    at = {p["clients"]: p for p in curve}
    n = conc["clients"]
    for p in (1, 5, 20):
        k = math.ceil(p * n / 100)
        assert at[k]["revenue_share"] == pytest.approx(conc[f"top{p}_share"])
    assert curve[-1]["clients"] == n and curve[-1]["revenue_share"] == pytest.approx(1.0)
    shares = [p["revenue_share"] for p in curve]
    assert shares == sorted(shares) and len(curve) <= 101


# ---- 2. attributes ---------------------------------------------------------------------------

def risk_levels(warehouse: Path, day: dt.date) -> list[tuple[str, str]]:
    """(risk_level, segment) of each client on `day`, from raw.clients and the segments."""
    return list(query(warehouse, """
        select coalesce(nullif(c.risk_level, ''), 'unknown') as risk_level, s.segment
        from mart.client_windows as w
        inner join raw.clients as c on c.as_of_date = w.as_of_date and c.client_id = w.client_id
        inner join mart.client_segments as s on s.as_of_date = w.as_of_date and s.client_id = w.client_id
        where w.as_of_date = $day""", {"day": day}).iter_rows())


def cramers_v(pairs: list[tuple[str, str]]) -> float:
    table = Counter(pairs)
    rows, cols = sorted({a for a, _ in pairs}), sorted({b for _, b in pairs})
    n = len(pairs)
    row_t = {a: sum(table[a, b] for b in cols) for a in rows}
    col_t = {b: sum(table[a, b] for a in rows) for b in cols}
    chi2 = sum((table[a, b] - row_t[a] * col_t[b] / n) ** 2 / (row_t[a] * col_t[b] / n) for a in rows for b in cols)
    return math.sqrt(chi2 / (n * (min(len(rows), len(cols)) - 1)))


@pytest.mark.parametrize("day", [DAY, LAST])
def test_heat_map_cells_and_cramers_v_equal_raw_clients(example_warehouse, analysis_reports, day):
    pairs = risk_levels(example_warehouse, day)
    html = section(html_of(analysis_reports[day]))
    for level in sorted({lv for lv, _ in pairs}):
        segs = [s for lv, s in pairs if lv == level]
        for code, name in SEGMENTS.items():
            share = segs.count(code) / len(segs)
            assert f"<title>{level} × {name}：{fmt_pct(share, 0)}（较全体 " in html, (level, name)
        assert re.search(rf">{level}</text>.*?>{len(segs)}人</text>", html)
    overall = [s for _, s in pairs]
    for code, name in SEGMENTS.items():
        assert f"<title>全体客户 × {name}：{fmt_pct(overall.count(code) / len(overall), 0)}</title>" in html
    v = cramers_v([(lv, s) for lv, s in pairs if s != "inactive"])
    shown = re.search(r">风险等级</text><text[^>]*>关联度 ([0-9.]+)</text>", html).group(1)
    assert shown == fmt_num(v, 2)
    mart = query(example_warehouse, """select cramers_v from mart.attribute_association
        where as_of_date = $day and attribute = 'risk_level'""", {"day": day})["cramers_v"][0]
    assert fmt_num(mart, 2) == shown


def test_most_over_represented_category_per_segment(example_warehouse, analysis_reports):
    """The line of typical traits names, for the aggressive segment, the category whose share
    of aggressive clients most exceeds the overall share (here a risk level, from raw)."""
    pairs = risk_levels(example_warehouse, DAY)
    overall = sum(s == "aggressive" for _, s in pairs) / len(pairs)
    best = max((lv for lv, _ in pairs if sum(x == lv for x, _ in pairs) >= 5),
               key=lambda lv: sum(s == "aggressive" for x, s in pairs if x == lv) / sum(x == lv for x, _ in pairs))
    share = sum(s == "aggressive" for x, s in pairs if x == best) / sum(x == best for x, _ in pairs)
    line = re.search(r'id="typical">(.*?)</p>', section(html_of(analysis_reports[DAY]))).group(1)
    assert f"激进型：风险等级“{best}”（{fmt_pct(share)}，高于全体 {(share - overall) * 100:.1f} 个百分点）" in line


# ---- 3. channels -----------------------------------------------------------------------------

def trades_by_channel(warehouse: Path, start: dt.date, end: dt.date) -> dict[str, dict]:
    frame = query(warehouse, """
        select channel, count(*) as n, sum(amount) as amount, sum(commission) as commission,
            sum(commission - exchange_fee) as net, count(distinct client_id) as clients
        from raw.trades where as_of_date between $start and $end group by channel""",
                  {"start": start, "end": end})
    return {r["channel"]: r for r in frame.iter_rows(named=True)}


CHANNELS = {"online": "网上交易", "phone": "电话委托", "counter": "柜台委托"}


def test_channel_table_equals_raw_trades_month_to_date(example_warehouse, analysis_reports):
    """The report of the run's last session: October to 10-29 by channel, vs all of September."""
    cur = trades_by_channel(example_warehouse, dt.date(2024, 10, 1), LAST)
    prev = trades_by_channel(example_warehouse, dt.date(2024, 9, 1), dt.date(2024, 9, 30))
    html = section(html_of(analysis_reports[LAST]))
    assert "本月至今（2024-10-01 至 2024-10-29）" in html
    rows = {r[0]: r for r in table_rows(html, "channel-table")}
    total = sum(t["amount"] for t in cur.values())
    for code, t in cur.items():
        row = rows[CHANNELS[code]]
        assert row[1:7] == [f"{t['n']:,}", fmt_wan(t["amount"]), fmt_pct(t["amount"] / total),
                            fmt_wan(t["commission"]), fmt_wan(t["net"]), fmt_count(t["clients"])]
        assert row[7] == fmt_change(t["amount"] / prev[code]["amount"] - 1)
        assert row[8] == fmt_change(t["net"] / prev[code]["net"] - 1)
    foot = rows["合计"]
    assert foot[2] == fmt_wan(total) and foot[5] == fmt_wan(sum(t["net"] for t in cur.values()))


def test_channel_table_shows_no_session_after_the_report_day(example_warehouse, analysis_reports):
    """On 10-15 the stored October runs to 10-29: the report shows September, and says why."""
    sept = trades_by_channel(example_warehouse, dt.date(2024, 9, 1), dt.date(2024, 9, 30))
    october = trades_by_channel(example_warehouse, dt.date(2024, 10, 1), LAST)
    html = section(html_of(analysis_reports[DAY]))
    assert "本月渠道数据已计算至 2024-10-29（晚于报告日）" in html
    rows = {r[0]: r for r in table_rows(html, "channel-table")}
    for code, t in sept.items():
        assert rows[CHANNELS[code]][2] == fmt_wan(t["amount"]) and rows[CHANNELS[code]][5] == fmt_wan(t["net"])
        assert fmt_wan(october[code]["amount"]) not in html


# ---- 4. flow ---------------------------------------------------------------------------------

def test_flow_table_equals_the_client_rows(example_warehouse, analysis_reports):
    rows = table_rows(section(html_of(analysis_reports[LAST])), "flow-table")
    assert [r[0] for r in rows] == ["2024年10月 （本月至今）", "2024年9月"]
    for row, (start, end) in zip(rows, [(dt.date(2024, 10, 1), LAST), (dt.date(2024, 9, 1), dt.date(2024, 9, 30))]):
        last = query(example_warehouse, """select max(as_of_date) as d from mart.client_windows
            where as_of_date between $start and $end""", {"start": start, "end": end})["d"][0]
        clients = query(example_warehouse, "select count(*) as n from mart.client_windows where as_of_date = $d",
                        {"d": last})["n"][0]
        closed = query(example_warehouse, """select count(distinct client_id) as n from raw.clients
            where as_of_date between $start and $end and close_date between $start and $end""",
                       {"start": start, "end": end})["n"][0]
        churned = query(example_warehouse, """select count(distinct client_id) as n from mart.client_windows
            where as_of_date between $start and $end and churn_event""", {"start": start, "end": end})["n"][0]
        assert row[1] == last.isoformat()
        assert (row[3], row[4], row[7]) == (fmt_count(closed), fmt_count(churned), fmt_count(clients))
    # the report of 10-15: October is stored to 10-29, so only September
    rows = table_rows(section(html_of(analysis_reports[DAY])), "flow-table")
    assert [r[0] for r in rows] == ["2024年9月"]


# ---- 5. co-holding ---------------------------------------------------------------------------

@pytest.mark.parametrize("day", [DAY, LAST])
def test_coholding_equals_raw_positions(example_warehouse, analysis_reports, day):
    held = query(example_warehouse, """select distinct client_id, market, security_code from raw.positions
        where as_of_date = $day and quantity > 0""", {"day": day})
    names = dict(((m, c), nm) for m, c, nm in query(example_warehouse, """select market, security_code, security_name
        from raw.quotes where as_of_date = $day""", {"day": day}).iter_rows())
    by_sec = defaultdict(set)
    for cid, m, c in held.iter_rows():
        by_sec[(m, c)].add(cid)
    n = len(set(held["client_id"]))
    top = sorted(by_sec, key=lambda k: (-len(by_sec[k]), k))[:5]
    html = section(html_of(analysis_reports[day]))
    shown = re.findall(r"<strong>([^<]+)</strong> <span class=\"muted\">(\d+)</span>", html)
    assert shown == [(names.get(k, k[1]), k[1]) for k in top]
    lifts = []
    for a in top:
        pairs = []
        for b, holders in by_sec.items():
            both = len(by_sec[a] & holders)
            if b != a and both >= 3:
                pairs.append((-(both * n / (len(by_sec[a]) * len(holders))), -both, b))
        lifts += [(names.get(b, b[1]), b[1], -nab, fmt_num(-lift, 2)) for lift, nab, b in sorted(pairs)[:5]]
    cells = [(r[0].rsplit(" ", 1)[0], r[0].rsplit(" ", 1)[1], int(r[2]), r[4]) for r in
             table_rows(html, "coholding-table") if len(r) == 5]
    first = [(r[3].rsplit(" ", 1)[0], r[3].rsplit(" ", 1)[1], int(r[5]), r[7]) for r in
             table_rows(html, "coholding-table") if len(r) == 8]
    assert sorted(cells + first) == sorted(lifts)
    if day == LAST:
        assert lifts  # the example has pairs held by three clients on its last session


# ---- 6. beyond the page: loyalty, movers, industries, trapped together, projection -----------

@pytest.mark.parametrize("day", [DAY, LAST])
def test_loyalty_table_equals_the_scores(example_warehouse, analysis_reports, day):
    """Every client's score of mart.client_loyalty, grouped by its segment and tier of the day:
    counts, medians (statistics.median) and shares as the table shows them."""
    scores = query(example_warehouse, """
        select l.loyalty, coalesce(s.segment, 'none') as segment, w.wealth_tier
        from mart.client_loyalty as l
        inner join mart.client_windows as w using (as_of_date, client_id)
        left join mart.client_segments as s using (as_of_date, client_id)
        where l.as_of_date = $day""", {"day": day}).rows()
    groups = {"全体客户": [x for x, _, _ in scores]}
    for x, seg, tier in scores:
        groups.setdefault(SEGMENTS.get(seg, "未分群"), []).append(x)
        groups.setdefault(TIER_NAMES[tier], []).append(x)
    rows = {r[0].split(" · ")[-1]: r for r in table_rows(section(html_of(analysis_reports[day])), "loyalty-table")}
    assert set(rows) == set(groups)
    for name, xs in groups.items():
        row = rows[name]
        assert row[1] == fmt_count(len(xs))
        assert row[4] == fmt_num(statistics.median(xs), 1)
        assert row[6] == fmt_pct(sum(x < 40 for x in xs) / len(xs))
        assert row[7] == fmt_pct(sum(x >= 70 for x in xs) / len(xs))


def test_movers_are_the_largest_changes_since_september_masked(example_warehouse, analysis_reports):
    """The movers of 10-29 against 09-30, from mart.client_loyalty: the 10 largest rises and
    falls (ties by client number), each name masked as 张* / 张*丰."""
    changes = query(example_warehouse, """
        select n.client_id, k.client_name, o.loyalty as then_, n.loyalty as now_, n.loyalty - o.loyalty as change
        from mart.client_loyalty as n
        inner join mart.client_loyalty as o on o.client_id = n.client_id and o.as_of_date = '2024-09-30'
        inner join raw.clients as k on k.client_id = n.client_id and k.as_of_date = n.as_of_date
        where n.as_of_date = $day and n.loyalty <> o.loyalty""", {"day": LAST}).rows()
    html = section(html_of(analysis_reports[LAST]))
    assert "与上月最后一个交易日（2024-09-30）相比" in html
    for table, sign in (("movers-up", 1), ("movers-down", -1)):
        expected = sorted((c for c in changes if c[4] * sign > 0), key=lambda c: (-abs(c[4]), c[0]))[:10]
        shown = table_rows(html, table)
        assert [r[1] for r in shown] == [c[0] for c in expected]
        assert [r[2] for r in shown] == [mask_name(c[1]) for c in expected]
        assert [r[6] for r in shown] == [f"{c[4]:+.2f}" for c in expected]
        assert all(r[2].count("*") >= 1 and r[2] != c[1] for r, c in zip(shown, expected))


def valued_positions(warehouse: Path, day: dt.date) -> list[tuple[str, str, float, float]]:
    """(client, industry, market value, cost) of each position on `day`: the day's close or the
    latest earlier one, the industry from data/reference/securities.parquet ('未分类' when the
    file lacks the security)."""
    industry = {(m, c): i for m, c, i in pl.read_parquet(ROOT / "data/reference/securities.parquet")
                .select("market", "code", "industry").iter_rows()}
    quotes = query(warehouse, "select as_of_date, market, security_code, close from raw.quotes "
                              "where as_of_date <= $day order by as_of_date", {"day": day}).rows()
    close = {(m, c): x for _, m, c, x in quotes}  # the latest wins
    return [(cid, industry.get((m, c), "未分类"), q * close.get((m, c), 0.0), cost)
            for cid, m, c, q, cost in query(warehouse, """select client_id, market, security_code, quantity, cost_amount
                from raw.positions where as_of_date = $day""", {"day": day}).rows()]


INDUSTRY_LABELS = {"IT设备": "信息技术设备", "未分类": "未分类（行业未知）"}


@pytest.mark.parametrize("day", [DAY, LAST])
def test_top_industries_count_the_clients_positions(example_warehouse, analysis_reports, day):
    """Each client's industry of largest market value (ties by name), counted: the table's rows
    in order (most clients first, then by name), whole numbers."""
    by_client: dict[str, Counter] = defaultdict(Counter)
    for cid, industry, value, _ in valued_positions(example_warehouse, day):
        by_client[cid][industry] += value
    top = Counter(min(v.items(), key=lambda kv: (-kv[1], kv[0]))[0] for v in by_client.values())
    expected = sorted(top.items(), key=lambda kv: (-kv[1], kv[0]))[:12]
    shown = table_rows(section(html_of(analysis_reports[day])), "industry-table")
    assert [(r[0], r[1]) for r in shown] == [(INDUSTRY_LABELS.get(i, i), str(n)) for i, n in expected]
    assert [r[2] for r in shown] == [fmt_pct(n / len(by_client)) for _, n in expected]


def test_industries_trapped_together_equal_the_positions(example_warehouse, analysis_reports):
    """On 10-15: positions with cost > 0 and value <= 0.9 x cost, by industry; pairs of
    industries with at least 3 clients trapped in both, lift = n_ab x N / (n_a x n_b)."""
    trapped: dict[str, set] = defaultdict(set)
    for cid, industry, value, cost in valued_positions(example_warehouse, DAY):
        if cost > 0 and cost - value >= 0.1 * cost - 1e-9:
            trapped[cid].add(industry)
    n = len(trapped)
    count = Counter(i for s in trapped.values() for i in s)
    pairs = Counter((a, b) for s in trapped.values() for a in s for b in s if a < b)
    expected = sorted(((a, b, k, k * n / (count[a] * count[b])) for (a, b), k in pairs.items() if k >= 3),
                      key=lambda p: (-p[3], -p[2], p[0], p[1]))[:10]
    assert expected  # the example has industries trapped together on 10-15
    html = section(html_of(analysis_reports[DAY]))
    assert f"的 {n} 名客户中" in html
    assert [(r[0], r[1], r[2], r[5]) for r in table_rows(html, "trapped-industry-table")] == [
        (a, b, str(k), fmt_num(lift, 2)) for a, b, k, lift in expected]


PROJECTED = """
delete from mart.flow_projection;
insert into mart.flow_projection by name
select * from (values
    (date '2024-06-01', date '2024-06-28', true, 100, 1000.0, 0, null, null, null, null, null, null),
    (date '2024-07-01', date '2024-07-31', true, 110, 1200.0, 1, null, null, null, null, 120.0, 1400.0),
    (date '2024-08-01', date '2024-08-30', true, 130, 1100.0, 2, 120.0, 1400.0, 120 / 130 - 1, 1400 / 1100 - 1,
     145.0, 1150.0),
    (date '2024-09-01', date '2024-09-30', true, 136, 1400.0, 3, 145.0, 1150.0, 145 / 136 - 1, 1150 / 1400 - 1,
     148.0, 1400 + 400 / 3),
    (date '2024-10-01', date '2024-10-29', false, 140, 1500.0, 4, 148.0, 1400 + 400 / 3, null, null, null, null)
) as t(month_start, month_end, complete, clients_end, assets_end, basis_months, projected_clients,
       projected_assets, clients_error, assets_error, next_clients, next_assets)
"""


def test_projection_line_and_its_mean_error(example_warehouse, tmp_path):
    """With the months of tests/analysis' projection by hand stored: on 10-29 (October in
    progress) its projection, 148 clients and 1,400 + 400 / 3 of assets; on 09-30 (September
    complete) the same numbers as the next month's. The errors of August and September:
    |120 / 130 - 1| and |145 / 136 - 1| for clients, |1,400 / 1,100 - 1| and |1,150 / 1,400 - 1|
    for assets, averaged."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(example_warehouse, path)
    with duckdb.connect(str(path)) as con:
        con.execute(PROJECTED)
    clients_mae = (abs(120 / 130 - 1) + abs(145 / 136 - 1)) / 2
    assets_mae = (abs(1400 / 1100 - 1) + abs(1150 / 1400 - 1)) / 2
    tail = f"（过去 2 个月平均误差：客户数 {fmt_pct(clients_mae)}，资产 {fmt_pct(assets_mae)}）。"
    html = section(html_of(render_report(path, LAST, tmp_path / "out")))
    line = re.search(r'id="projection">(.*?)</p>', html).group(1)
    assert re.sub(r"</?strong>", "", line) == f"本月（2024年10月）末预测：客户 148 人，托管资产 {fmt_cny(1400 + 400 / 3)}{tail}"
    with connect(path, read_only=True) as con:
        p = client_analysis(con, dt.date(2024, 9, 30), report_params(dt.date(2024, 9, 30)))["projection"]
    assert (p["month_label"], p["current"], p["clients"], p["error_months"]) == ("2024年10月", False, 148.0, 2)
    assert (p["clients_mae"], p["assets_mae"]) == pytest.approx((clients_mae, assets_mae))
    rows = table_rows(html, "projection-table")
    assert [r[0] for r in rows][:2] == ["2024年10月 （未结束）", "2024年9月"]
    assert rows[1][6:] == ["145", fmt_change(145 / 136 - 1), fmt_wan(1150), fmt_change(1150 / 1400 - 1)]


def test_projection_needs_two_complete_months(analysis_reports):
    """The example starts on 2024-09-18: September is the one complete month, no projection."""
    html = section(html_of(analysis_reports[LAST]))
    assert "月末预测需要此前至少 2 个连续的完整月份，目前不足，暂无预测。" in html


# ---- language, old warehouses, the browser ---------------------------------------------------

@pytest.mark.parametrize("day", [DAY, LAST])
def test_section_reads_in_chinese_only(analysis_reports, day):
    html = section(html_of(analysis_reports[day]))
    text = visible_text(html)
    assert len(text) > 200
    english = [t for t in text if re.search(r"[A-Za-z]{2,}", t)]
    assert english == []
    for label in re.findall(r'aria-label="([^"]*)"', html):
        assert not re.search(r"[A-Za-z]{2,}", label)


def without_movers(html: str) -> str:
    """The section without the loyalty movers' tables (the one place clients are listed)."""
    return re.sub(r'<table class="compact" id="movers-(up|down)">.*?</table>', "", html, flags=re.S)


def test_aggregates_only_but_the_movers_and_never_a_name(example_warehouse, analysis_reports):
    """No client's name anywhere in the section (the movers' are masked), and no client number
    outside the loyalty movers' tables."""
    ids = set(query(example_warehouse, "select distinct client_id from raw.clients")["client_id"])
    names = set(query(example_warehouse, "select distinct client_name from raw.clients")["client_name"])
    for day in (DAY, LAST):
        html = section(html_of(analysis_reports[day]))
        assert not [x for x in names if x and x in html]
        assert not [x for x in ids if x and x in without_movers(html)]
        assert 'id="movers-up"' in html


@pytest.mark.parametrize("how", ["old_file", "no_rows"])
def test_warehouse_without_the_analysis_marts_shows_a_note(example_warehouse, tmp_path, how):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(example_warehouse, path)
    with duckdb.connect(str(path)) as con:
        for t in ANALYSIS_MARTS:
            con.execute(f"drop table mart.{t}" if how == "old_file" else f"delete from mart.{t}")
    report = render_report(path, DAY, tmp_path / "out")
    html = html_of(report)
    part = section(html)
    assert "客户分析数据尚未生成：2024-10-15" in part and "<svg" not in part
    assert not [t for t in visible_text(part) if re.search(r"[A-Za-z]{2,}", t)]
    assert '<section id="quality">' in html  # the rest of the report is there


SVGS_JS = """JSON.stringify(Array.prototype.map.call(document.querySelectorAll('#analysis svg.chart'),
  function (s) { var r = s.getBoundingClientRect(); return {label: s.getAttribute('aria-label'),
    width: r.width, height: r.height, marks: s.querySelectorAll('rect, path, circle').length}; }))"""
SECTION_JS = """JSON.stringify((function () { var r = document.getElementById('analysis').getBoundingClientRect();
  return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height,
          ids: Array.prototype.map.call(document.querySelectorAll('main > section'),
                                        function (s) { return s.id; })}; }()))"""
SORT_TIERS_JS = """(function () {
  var table = document.getElementById('tier-table');
  var th = Array.prototype.filter.call(table.tHead.rows[0].cells,
                                       function (c) { return c.textContent.trim() === '收入（万元）'; })[0];
  th.click(); th.click();
  return JSON.stringify(Array.prototype.map.call(table.tBodies[0].rows,
    function (r) { return Number(r.cells[th.cellIndex].getAttribute('data-v')); }));
}())"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install -y chromium fonts-noto-cjk")
def test_section_in_headless_chromium(analysis_reports, tmp_path):
    browser = Chromium(CHROMIUM, tmp_path)
    try:
        browser.open(analysis_reports[LAST].resolve().as_uri())
        box = json.loads(browser.evaluate(SECTION_JS))
        svgs = json.loads(browser.evaluate(SVGS_JS))
        revenue = json.loads(browser.evaluate(SORT_TIERS_JS))
        browser.screenshot(tmp_path / "analysis.png", {k: box[k] for k in ("x", "y", "width", "height")})
        problems = browser.problems()
    finally:
        browser.close()
    assert problems == []
    assert box["ids"] == ["overview", "segments", "analysis", "rankings", "holdings", "clients", "quality"]
    assert box["height"] > 1000
    labels = [s["label"] for s in svgs]
    for label in ("各资产层级的客户、资产与收入占比（本月至今）", "收入集中度曲线（本月至今）", "客户属性与分群占比",
                  "各属性与分群的关联度", "各交易渠道净佣金", "忠诚度分布（按分群与资产层级）", "客户第一大持仓行业"):
        assert label in labels
    for s in svgs:
        assert s["width"] > 100 and s["height"] > 50 and s["marks"] >= 3, s
    assert revenue == sorted(revenue, reverse=True)
    png = (tmp_path / "analysis.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
