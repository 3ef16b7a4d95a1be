"""Broker books, team pages and client cards (reports/books.py) on the worked example with fake
model outputs: each book lists exactly its broker's clients with the marts' numbers (queried
here, independently), names masked, hostile names as text; in Chromium: search, sort, filter
and the card, with no console error and no request."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from core.db import connect
from reports.books import render_books, write_books
from reports.links import book_href, file_id, report_book_href, report_team_href
from reports.formatting import fmt_cny, fmt_wan, fmt_yuan
from reports.masking import mask_name

from ..conftest import query
from .conftest import DAY, EVIL_BROKER, SCRIPT_NAME
from .test_browser import CHROMIUM, Chromium

# Segments on the sessions before DAY (the fake models write DAY only), so that a card has runs;
# a third of DAY's scores marked as the rule's, so that a page shows levels and percentages.
HISTORY = """
insert into mart.client_segments by name
select d.as_of_date, d.client_id,
    case when hash(d.client_id || d.as_of_date::varchar) % 3 = 0 then 'stable'
        when hash(d.client_id) % 2 = 0 then 'aggressive' else 'inactive' end as segment,
    'seg-test-0' as model_version
from mart.client_daily as d
where d.as_of_date < $day and d.as_of_date >= $day - 10;
update mart.churn_scores set model_version = 'rule' where as_of_date = $day and hash(client_id) % 3 = 0
"""
DATA = re.compile(r'<script type="application/json" id="book-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def books_warehouse(models_warehouse, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("books-wh") / "warehouse.duckdb"
    shutil.copy(models_warehouse, path)
    with duckdb.connect(str(path)) as con:
        for statement in HISTORY.split(";"):
            con.execute(statement, {"day": DAY})
    return path


@pytest.fixture(scope="module")
def books(books_warehouse, tmp_path_factory) -> Path:
    """The folder of DAY's books and team pages."""
    out = tmp_path_factory.mktemp("books-out")
    paths = render_books(books_warehouse, DAY, out)
    folder = out / "books"
    assert {p.parent for p in paths if p.suffix == ".html"} == {folder}
    assert [p.name for p in paths if p.suffix == ".xlsx"] == [f"calls-{DAY.isoformat()}.xlsx"]
    return folder


def book_data(path: Path) -> dict:
    """A book's JSON with each client as a dict of its fields, coded values decoded (trade sides,
    holdings' levels and runs' segments too)."""
    data = json.loads(DATA.search(path.read_text(encoding="utf-8")).group(1))
    codes = data["codes"]

    def decode(kind: str, i: int) -> str:
        return codes[kind][i] if i >= 0 else ""

    clients = []
    for row in data["clients"]:
        c = dict(zip(data["fields"], row, strict=True))
        for kind in ("sg", "tl", "rl", "sc", "wt"):
            c[kind] = decode(kind, c[kind])
        c["h"] = [[*h[:5], decode("tl", h[5])] for h in c["h"]]
        c["t"] = [[t[0], decode("side", t[1]), *t[2:]] for t in c["t"]]
        c["g"] = [[decode("sg", g[0]), *g[1:]] for g in c["g"]]
        clients.append(c)
    return {**data, "clients": clients}


def sessions(wh: Path) -> list[dt.date]:
    """The cards' span: the last 60 loaded sessions up to DAY."""
    rows = query(wh, "select as_of_date from mart.branch_daily where as_of_date <= $day order by 1", {"day": DAY})
    return rows["as_of_date"].to_list()[-60:]


def marts(wh: Path) -> dict[str, dict]:
    """Every client of DAY with its broker and the marts' numbers, by client."""
    rows = query(wh, """
        select d.client_id, k.broker_id, k.client_name, d.total_assets, w.revenue_w, w.trapped_level,
            w.is_dormant, w.is_trapped, w.days_since_last_trade, s.segment, c.churn_risk, c.model_version,
            l.loyalty
        from mart.client_daily as d
        left join raw.clients as k on k.as_of_date = d.as_of_date and k.client_id = d.client_id
        left join mart.client_windows as w on w.as_of_date = d.as_of_date and w.client_id = d.client_id
        left join mart.client_segments as s on s.as_of_date = d.as_of_date and s.client_id = d.client_id
        left join mart.churn_scores as c on c.as_of_date = d.as_of_date and c.client_id = d.client_id
        left join mart.client_loyalty as l on l.as_of_date = d.as_of_date and l.client_id = d.client_id
        where d.as_of_date = $day""", {"day": DAY})
    return {r["client_id"]: r for r in rows.iter_rows(named=True)}


def risk_text(r: dict) -> tuple[str, str]:
    """(text, level) of a churn risk: the rule's level from 0.9 / 0.7, a model's percentage
    with its level from 50 % / 20 %."""
    p = r["churn_risk"]
    high, medium = (0.9, 0.7) if r["model_version"] == "rule" else (0.5, 0.2)
    level = "high" if p >= high else "medium" if p >= medium else "low"
    if r["model_version"] == "rule":
        return {"high": "高", "medium": "中", "low": "低"}[level], level
    return f"{p * 100:.1f}%", level


def test_each_book_lists_its_brokers_clients_with_the_marts_numbers(books, books_warehouse):
    expected = marts(books_warehouse)
    by_broker = defaultdict(set)
    for cid, r in expected.items():
        by_broker[r["broker_id"]].add(cid)
    assert len(by_broker) >= 10
    seen = 0
    for broker_id, ids in by_broker.items():
        data = book_data(books / book_href(broker_id))
        assert {c["id"] for c in data["clients"]} == ids, broker_id
        assert len(data["clients"]) == len(ids)
        for c in data["clients"]:
            r = expected[c["id"]]
            assert c["a"] == pytest.approx(r["total_assets"], abs=0.005)
            assert c["at"] == fmt_wan(r["total_assets"])
            assert c["rv"] == pytest.approx(r["revenue_w"], abs=0.005)
            assert c["ly"] == (None if r["loyalty"] is None else pytest.approx(r["loyalty"], abs=0.05))
            assert c["sg"] == (r["segment"] or "")
            assert c["tl"] == r["trapped_level"]
            assert c["dm"] == int(r["is_dormant"])
            assert c["ds"] == r["days_since_last_trade"]
            assert c["rk"] == pytest.approx(r["churn_risk"], abs=5e-5)
            text, level = risk_text(r)
            assert (c["rt"], c["rl"], c["sc"]) == (text, level, "r" if r["model_version"] == "rule" else "m")
            # actions: high risk -> 挽留, dormant -> 唤醒, trapped -> 提供解套建议, in that order
            wanted = [i for i, flag in enumerate((level == "high", r["is_dormant"], r["is_trapped"])) if flag]
            assert c["ac"] == wanted
            # the fake drivers, translated, Chinese only
            assert c["rs"] == ["距上次交易", "净流出=+0.21", "活跃度"]
            seen += 1
    assert seen == len(expected) >= 40
    scorers = {c["sc"] for b in by_broker for c in book_data(books / book_href(b))["clients"]}
    assert scorers == {"r", "m"}


def test_names_masked_and_no_pii_in_any_page(books, books_warehouse):
    people = query(books_warehouse, "select distinct client_name, id_number, phone from raw.clients")
    brokers = set(query(books_warehouse, "select distinct broker_name from raw.brokers")["broker_name"])
    pages = {p.name: p.read_text(encoding="utf-8") for p in books.iterdir()}
    text = "\n".join(pages.values())
    for name, id_number, phone in people.iter_rows():
        assert id_number not in text and phone not in text
        if name not in brokers and len(name) > 1:
            assert name not in text, name
    expected = marts(books_warehouse)
    for p in books.glob("broker-*.html"):
        for c in book_data(p)["clients"]:
            assert c["nm"] == mask_name(expected[c["id"]]["client_name"])


def test_hostile_names_stay_text(books, books_warehouse):
    hostile = query(books_warehouse, "select client_id, broker_id from raw.clients where as_of_date = $day "
                    "and client_name = $n", {"day": DAY, "n": SCRIPT_NAME}).row(0)
    html = (books / book_href(hostile[1])).read_text(encoding="utf-8")
    assert next(c for c in book_data(books / book_href(hostile[1]))["clients"]
                if c["id"] == hostile[0])["nm"] == "<" + "*" * 23 + ">"
    # in the JSON the masked name's < and > are escaped, so no tag can start there
    assert "\\u003c" + "*" * 23 + "\\u003e" in html
    for page in books.iterdir():
        text = page.read_text(encoding="utf-8")
        assert "alert(1)" not in text and EVIL_BROKER not in text, page.name
        assert text.count("<script") == (4 if page.name.startswith("broker-") else 1), page.name
    evil = (books / book_href("B000")).read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(2)&gt;" in evil


def test_cards_holdings_trades_and_segment_history(books, books_warehouse):
    days = sessions(books_warehouse)
    positions = query(books_warehouse, """
        select p.client_id, p.security_code, p.quantity, p.cost_amount,
            p.quantity * (select q.close from raw.quotes as q where q.market = p.market
                and q.security_code = p.security_code and q.as_of_date <= p.as_of_date
                order by q.as_of_date desc limit 1) as market_value
        from raw.positions as p where p.as_of_date = $day""", {"day": DAY})
    holdings = defaultdict(list)
    for r in positions.iter_rows(named=True):
        holdings[r["client_id"]].append((r["security_code"], f"{r['quantity']:,}", fmt_yuan(r["cost_amount"]),
                                         fmt_yuan(r["market_value"])))
    trades = query(books_warehouse, """
        select client_id, as_of_date, side, security_code, quantity, price, amount from raw.trades
        where as_of_date between $d0 and $day order by client_id, trade_date desc, trade_time desc, trade_id desc""",
        {"d0": days[0], "day": DAY})
    recent = defaultdict(list)
    for r in trades.iter_rows(named=True):
        if len(recent[r["client_id"]]) < 5:
            recent[r["client_id"]].append([r["as_of_date"].isoformat(), r["side"],
                                           r["security_code"], f"{r['quantity']:,}", f"{r['price']:,.3f}",
                                           fmt_yuan(r["amount"])])
    segs = query(books_warehouse, "select client_id, as_of_date, segment from mart.client_segments "
                 "where as_of_date between $d0 and $day", {"d0": days[0], "day": DAY})
    segment_of = {(r[0], r[1]): r[2] for r in segs.iter_rows()}
    with_trades = with_runs = 0
    for p in books.glob("broker-*.html"):
        data = book_data(p)
        assert data["dates"] == [d.isoformat() for d in days]
        for c in data["clients"]:
            cid = c["id"]
            shown = sorted((data["secs"][h[0]].split()[-1], h[1], h[2], h[3]) for h in c["h"])
            assert shown == sorted(holdings[cid]), cid
            assert [[data["dates"][t[0]], t[1], data["secs"][t[2]].split()[-1], *t[3:]] for t in c["t"]] \
                == recent[cid], cid
            with_trades += bool(c["t"])
            runs = []  # [segment, first, last] over consecutive sessions
            for i, d in enumerate(days):
                s = segment_of.get((cid, d))
                if s is not None and runs and runs[-1][0] == s and runs[-1][2] == i - 1:
                    runs[-1][2] = i
                elif s is not None:
                    runs.append([s, i, i])
            assert c["g"] == runs, cid
            with_runs += len(runs) > 1
    assert with_trades >= 10 and with_runs >= 10


def test_charts_follow_the_sessions(books, books_warehouse):
    """Assets: lowest -> first character, highest -> last; trading: none -> first, the largest
    day -> last; '.' where the client had no row."""
    days = sessions(books_warehouse)
    rows = query(books_warehouse, "select client_id, as_of_date, total_assets, trade_amount from mart.client_daily "
                 "where as_of_date between $d0 and $day", {"d0": days[0], "day": DAY})
    daily = {(r[0], r[1]): (r[2], r[3]) for r in rows.iter_rows()}
    checked = 0
    for p in books.glob("broker-*.html"):
        data = book_data(p)
        alphabet, top_level = data["alphabet"], len(data["alphabet"]) - 1
        for c in data["clients"]:
            assets, lo, hi, trading, top = c["s"]
            values = [daily.get((c["id"], d)) for d in days]
            present = [v for v in values if v is not None]
            assert (lo, hi, top) == (fmt_cny(min(v[0] for v in present)), fmt_cny(max(v[0] for v in present)),
                                     fmt_cny(max(v[1] for v in present)))
            span = max(v[0] for v in present) - min(v[0] for v in present)
            biggest = max(v[1] for v in present)
            for ch_a, ch_t, v in zip(assets, trading, values, strict=True):
                if v is None:
                    assert ch_a == ch_t == data["missing"]
                    continue
                if span > 0:
                    want = (v[0] - min(x[0] for x in present)) / span * top_level
                    assert abs(alphabet.index(ch_a) - want) <= 0.5 + 1e-9
                assert (alphabet.index(ch_t) == 0) == (v[1] == 0)
                if biggest > 0 and v[1] == biggest:
                    assert alphabet.index(ch_t) == top_level
            checked += 1
    assert checked >= 40


def test_team_pages_link_each_of_their_brokers(books, books_warehouse):
    directory = query(books_warehouse, "select broker_id, team_id from raw.brokers where as_of_date = $day",
                      {"day": DAY})
    teams = defaultdict(set)
    for broker_id, team_id in directory.iter_rows():
        teams[team_id].add(broker_id)
    for team_id, brokers in teams.items():
        html = (books / f"team-{file_id(team_id)}.html").read_text(encoding="utf-8")
        links = set(re.findall(r'<a href="broker-([^"]+)\.html">', html))
        assert links == {file_id(b) for b in brokers}, team_id
        assert all((books / f"broker-{b}.html").is_file() for b in links)


def test_file_ids():
    assert file_id("B000") == "B000" and file_id("T-1_a") == "T-1_a"
    assert file_id("../x") == "~" + b"../x".hex() and file_id("经纪人") == "~" + "经纪人".encode().hex()
    assert file_id(None) == "~" and book_href("~") != book_href(None)  # no id shares a file


# ---- in Chromium ------------------------------------------------------------------------

COLUMN_JS = """(function (label) {
  var table = document.getElementById('book');
  var th = Array.prototype.filter.call(table.tHead.rows[0].cells,
                                       function (c) { return c.textContent.trim() === label; })[0];
  var col = th.cellIndex;
  th.click();
  var asc = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return Number(r.cells[col].getAttribute('data-v')); });
  th.click();
  var desc = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return Number(r.cells[col].getAttribute('data-v')); });
  return JSON.stringify({asc: asc, desc: desc});
}('托管资产（万元）'))"""
VISIBLE_JS = """JSON.stringify(Array.prototype.filter.call(document.querySelectorAll('#book tbody tr'),
  function (r) { return !r.hidden; }).map(function (r) { return r.getAttribute('data-id'); }))"""
CARD_JS = """JSON.stringify((function () {
  var card = document.getElementById('card'), out = {hidden: card.hidden};
  Array.prototype.forEach.call(card.querySelectorAll('[data-f]'), function (e) { out[e.getAttribute('data-f')] = e.textContent; });
  out.holdings = card.querySelector('[data-list="h"]').rows.length;
  out.trades = card.querySelector('[data-list="t"]').rows.length;
  out.charts = card.querySelectorAll('svg.chart').length;
  return out; }()))"""


def wait_for(browser: Chromium, condition: str, timeout: float = 5) -> None:
    """Until the page's `condition` holds (a hash change is handled after the click returns)."""
    deadline = time.monotonic() + timeout
    while not browser.evaluate(condition):
        assert time.monotonic() < deadline, condition
        time.sleep(0.05)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install -y chromium fonts-noto-cjk")
def test_book_in_headless_chromium(books, books_warehouse, tmp_path):
    expected = marts(books_warehouse)
    hostile = next(cid for cid, r in expected.items() if r["client_name"] == SCRIPT_NAME)
    broker = expected[hostile]["broker_id"]
    mine = {cid: r for cid, r in expected.items() if r["broker_id"] == broker}
    assert len(mine) >= 3
    target = sorted(mine)[1]
    browser = Chromium(CHROMIUM, tmp_path)
    try:
        browser.open((books / book_href(broker)).resolve().as_uri())
        assert browser.problems() == []
        assert sorted(json.loads(browser.evaluate(VISIBLE_JS))) == sorted(mine)
        # the hostile name is a cell's text, and no element came out of it
        names = browser.evaluate("JSON.stringify(Array.prototype.map.call(document.querySelectorAll('#book tbody tr'),"
                                 " function (r) { return r.cells[1].textContent; }))")
        assert "<" + "*" * 23 + ">" in json.loads(names)
        assert browser.evaluate("document.querySelectorAll('img').length + '/' + document.scripts.length") == "0/4"
        # search: type the client number
        browser.evaluate("document.getElementById('q').focus()")
        browser.call("Input.insertText", page=True, text=target)
        assert json.loads(browser.evaluate(VISIBLE_JS)) == [target]
        browser.evaluate("var q = document.getElementById('q'); q.value = ''; q.dispatchEvent(new Event('input'))")
        assert len(json.loads(browser.evaluate(VISIBLE_JS))) == len(mine)
        # sort by assets, both ways
        order = json.loads(browser.evaluate(COLUMN_JS))
        assert order["asc"] == sorted(order["asc"]) and order["desc"] == sorted(order["desc"], reverse=True)
        assert order["desc"] == pytest.approx(sorted((r["total_assets"] for r in mine.values()), reverse=True), abs=0.005)
        # filter: the clients not dormant
        browser.evaluate("var f = document.getElementById('f-dorm'); f.value = '0'; f.dispatchEvent(new Event('change'))")
        assert sorted(json.loads(browser.evaluate(VISIBLE_JS))) == sorted(c for c, r in mine.items() if not r["is_dormant"])
        # the card: click the client's number
        browser.evaluate(f"document.querySelector('#book tr[data-id=\"{target}\"] a').click()")
        wait_for(browser, "!document.getElementById('card').hidden")
        card = json.loads(browser.evaluate(CARD_JS))
        r = mine[target]
        assert card["hidden"] is False and card["id"] == target
        assert card["at"] == fmt_wan(r["total_assets"]) and card["rvt"] == fmt_wan(r["revenue_w"])
        assert card["nm"] == mask_name(r["client_name"])
        positions = query(books_warehouse, "select count(*) from raw.positions where as_of_date = $day "
                          "and client_id = $c", {"day": DAY, "c": target}).item()
        assert card["holdings"] == positions and card["charts"] == 2
        browser.evaluate("location.hash = '#clients'")
        wait_for(browser, "document.getElementById('card').hidden")
        problems = browser.problems()
    finally:
        browser.close()
    assert problems == []


def test_books_are_those_of_the_last_day_written(books_warehouse, tmp_path):
    """One folder of books, the day last written: a broker without clients on that day loses
    the book of an earlier day, and the report's links resolve into the folder."""
    before = dt.date(2024, 10, 14)
    render_books(books_warehouse, before, tmp_path)
    stale = tmp_path / "books" / "broker-GONE.html"
    stale.write_text("an earlier day's broker", encoding="utf-8")
    paths = render_books(books_warehouse, DAY, tmp_path)
    assert sorted(p.name for p in (tmp_path / "books").iterdir()) == sorted(p.name for p in paths if p.suffix == ".html")
    assert f"报告日 <strong>{DAY.isoformat()}</strong>" in (tmp_path / report_book_href("B000")).read_text(encoding="utf-8")
    assert (tmp_path / report_team_href("T0")).is_file()


def test_team_pages_show_completion_against_the_targets(books_warehouse, tmp_path):
    """targets.csv beside the configuration file: the team page shows 收入完成率, the month to
    date's revenue (spec 4: a client counts for its broker of the latest snapshot) over the
    target, for the team and each broker with one; a team without targets has no such column."""
    from core.config import Settings
    from reports.formatting import fmt_pct

    config = tmp_path / "crm.toml"
    config.write_text("[report]\nranking_shown = 20\n", encoding="utf-8")
    (tmp_path / "targets.csv").write_text("group,id,period,metric,target\nteam,T0,2024-10,revenue,1000\n"
                                          "broker,B000,2024-10,revenue,400\nbroker,B000,2024-09,revenue,1\n",
                                          encoding="utf-8")
    render_books(books_warehouse, DAY, tmp_path / "out", Settings.load(config))
    revenue = dict(query(books_warehouse, """
        with owner as (
            select client_id, arg_max(broker_id, as_of_date) as broker_id from raw.clients
            where as_of_date between '2024-10-01' and $day group by 1),
        team as (
            select broker_id, arg_max(team_id, as_of_date) as team_id from raw.brokers
            where as_of_date between '2024-10-01' and $day group by 1)
        select unnest(['B000', 'T0']) as who, unnest([
            sum(d.revenue) filter (where o.broker_id = 'B000'), sum(d.revenue) filter (where t.team_id = 'T0')])
        from mart.client_daily as d join owner as o using (client_id) left join team as t using (broker_id)
        where d.as_of_date between '2024-10-01' and $day""", {"day": DAY}).iter_rows())
    page = (tmp_path / "out" / "books" / "team-T0.html").read_text(encoding="utf-8")
    assert re.search(rf'收入完成率</div><div class="value">{re.escape(fmt_pct(revenue["T0"] / 1000))}</div>', page)
    row = page.split(f'href="{book_href("B000")}"', 1)[1].split("</tr>", 1)[0]
    assert row.rstrip().endswith(f'>{fmt_pct(revenue["B000"] / 400)}</td>')
    others = [p for p in (tmp_path / "out" / "books").glob("team-*.html") if p.name != "team-T0.html"]
    assert others and all("完成率" not in p.read_text(encoding="utf-8") for p in others)


def test_a_bad_target_row_is_left_out_with_a_warning(tmp_path):
    """Targets are presentation input: a bad row is left out with one line naming its row and
    column, the good rows count, a repeated row replaces the earlier one."""
    from reports.targets import load_targets

    path = tmp_path / "targets.csv"
    path.write_text("group,id,period,metric,target\nteam,T0,2024-10,revenue,1000\nteam,T1,2024-10,profit,5\n"
                    "broker,B1,2024-13,revenue,5\nbroker,B1,2024-10,revenue,-3\nbroker,B2,2024-10,revenue\n"
                    "team,T0,2024-10,revenue,1200\n", encoding="utf-8")
    rows, warnings = load_targets(path)
    assert rows == [{"group": "team", "id": "T0", "period": "2024-10", "metric": "revenue", "target": 1200.0}]
    assert warnings == [
        "targets.csv: row 2, column 'metric': 'profit' is not one of revenue, net_inflow, trade_amount, "
        "total_assets, new_clients, effective_clients: row left out",
        "targets.csv: row 3, column 'period': '2024-13' is not a month YYYY-MM: row left out",
        "targets.csv: row 4, column 'target': must be > 0: row left out",
        "targets.csv: row 5, column 'target': 'None' is not a number: row left out",
        "targets.csv: row 6: repeats row 1, replaces it"]


def test_an_unreadable_targets_file_means_no_targets_and_one_warning(books_warehouse, tmp_path):
    """A targets.csv with a wrong header does not stop the books: they are written without
    完成率 and the warning names the file and what is wrong."""
    from core.config import Settings

    config = tmp_path / "crm.toml"
    config.write_text("", encoding="utf-8")
    (tmp_path / "targets.csv").write_text("team,id,month,metric,target\nT0,T0,2024-10,revenue,1000\n",
                                          encoding="utf-8")
    warnings: list[str] = []
    paths = render_books(books_warehouse, DAY, tmp_path / "out", Settings.load(config), warnings.append)
    assert warnings == ["targets.csv: header lacks group, period (expected group,id,period,metric,target): "
                        "no targets"]
    teams = [p for p in paths if p.name.startswith("team-")]
    assert teams and all("完成率" not in p.read_text(encoding="utf-8") for p in teams)

def test_clients_without_a_broker_and_brokers_without_a_team_get_one_page_each(books_warehouse, tmp_path):
    """The rankings call a missing broker or team 'UNASSIGNED'; the books use the same id, so a
    client without a broker (raw) and the ranking's UNASSIGNED row share one book, and a broker
    without a team is on the one 未分配 team page: no second page named '~'."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(books_warehouse, path)
    with duckdb.connect(str(path)) as con:
        client, broker = con.execute(
            "select client_id, broker_id from raw.clients where as_of_date = $day order by client_id limit 1",
            {"day": DAY}).fetchone()
        con.execute("update raw.clients set broker_id = null where client_id = $c", {"c": client})
        con.execute("update raw.brokers set team_id = null, team_name = null where broker_id = $b", {"b": broker})
        for table, key in (("broker_ranking", "broker_id"), ("team_ranking", "team_id")):
            con.execute(f"insert into mart.{table} by name select * replace ('UNASSIGNED' as {key}) "
                        f"from mart.{table} where period_type = 'month' and period_start = '2024-10-01' limit 1")
    render_books(path, DAY, tmp_path / "out")
    pages = sorted(p.name for p in (tmp_path / "out" / "books").iterdir())
    assert "broker-~.html" not in pages and "team-~.html" not in pages
    assert {"broker-UNASSIGNED.html", "team-UNASSIGNED.html"} <= set(pages)
    book = book_data(tmp_path / "out" / "books" / "broker-UNASSIGNED.html")
    assert [c["id"] for c in book["clients"]] == [client]
    team = (tmp_path / "out" / "books" / "team-UNASSIGNED.html").read_text(encoding="utf-8")
    assert f'href="{book_href(broker)}"' in team
    for page in ("broker-UNASSIGNED.html", "team-UNASSIGNED.html"):
        text = re.sub(r"<script.*?</script>|<[^>]+>", " ", (tmp_path / "out" / "books" / page).read_text(encoding="utf-8"),
                      flags=re.S)
        assert "UNASSIGNED" not in text and "未分配" in text
