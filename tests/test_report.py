"""The daily HTML report: formatting, masking, escaping, period-to-date KPIs, rankings,
model sections present or absent, the Dagster asset, and a headless Chromium check
(no console error, no network request, a screenshot per section).

Chromium: `apt-get install -y chromium fonts-noto-cjk` (the test skips without it).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from markupsafe import escape

from reports.formatting import (
    fmt_change,
    fmt_cny,
    fmt_diff_cny,
    fmt_pct,
    fmt_permyriad,
    fmt_rank_change,
)
from reports.masking import mask_name, mask_number, mask_row
from reports.queries import ReportConfig, fetch, kpis, rankings
from reports.render import render_report

from .conftest import query

DAY = dt.date(2024, 10, 15)          # the KPI day: month to date = 10-08 .. 10-15
REJECTS_DAY = dt.date(2024, 10, 24)  # a day with rejected trade rows
SCRIPT_NAME = "<script>alert(1)</script>"
EVIL_BROKER = "<img src=x onerror=alert(2)>"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


# --------------------------------------------------------------------------- formatting

@pytest.mark.parametrize(("value", "text"), [
    (0, "0.00"),
    (9876.54, "9,876.54"),
    (9999.99, "9,999.99"),
    (9999.996, "1.0万"),            # rounds to 10,000.00: shown in 万
    (10_000, "1.0万"),
    (45_678_000, "4,567.8万"),
    (99_940_000, "9,994.0万"),
    (99_999_999, "1.00亿"),         # 9,999.9999万 rounds to 10,000.0万: shown in 亿
    (100_000_000, "1.00亿"),
    (123_456_789, "1.23亿"),
    (-123_456_789, "-1.23亿"),
    (-45_678, "-4.6万"),
    (-9876.54, "-9,876.54"),
    (-0.004, "0.00"),               # no '-0.00'
    (None, "—"),
    (math.nan, "—"),
])
def test_fmt_cny(value, text):
    assert fmt_cny(value) == text


@pytest.mark.parametrize(("value", "digits", "text"), [
    (0.1234, 1, "12.3%"),
    (0.1234, 2, "12.34%"),
    (-0.0456, 1, "-4.6%"),
    (-0.0004, 1, "0.0%"),
    (5.678e-05, None, "0.00568%"),   # market share: three significant figures
    (1.0668e-06, None, "0.000107%"),
    (0.5, None, "50.00%"),
    (None, 1, "—"),
])
def test_fmt_pct(value, digits, text):
    assert fmt_pct(value, digits) == text


def test_fmt_change_rank_and_rates():
    assert fmt_change(0.123) == "▲12.3%"
    assert fmt_change(-0.045) == "▼4.5%"
    assert fmt_change(0.0004) == "0.0%"
    assert fmt_change(1.5) == "▲150.0%"
    assert fmt_change(None) == "—"
    assert fmt_diff_cny(-12_345) == "▼1.2万"
    assert fmt_diff_cny(800) == "▲800.00"
    assert fmt_permyriad(0.000253) == "万2.53"
    assert fmt_rank_change(2, 5) == "▲3"
    assert fmt_rank_change(5, 2) == "▼3"
    assert fmt_rank_change(3, 3) == "–"
    assert fmt_rank_change(1, None) == "新"


# --------------------------------------------------------------------------- masking

@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"), ("张三丰", "张*丰"), ("欧阳娜娜", "欧**娜"), ("张", "*"), ("", ""), (None, None),
    (SCRIPT_NAME, "<" + "*" * 23 + ">"),
])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_numbers_and_rows():
    assert mask_number("430108117408313314") == "430***********3314"
    assert mask_number("13835371097") == "138****1097"
    assert mask_number("1234567") == "*******"
    assert mask_number(None) is None
    row = mask_row({"client_id": "0731000000", "client_name": "朱丽军",
                    "id_number": "430108117408313314", "phone": "13835371097"})
    assert row == {"client_id": "0731000000", "client_name": "朱*军",
                   "id_number": "430***********3314", "phone": "138****1097"}


def test_report_thresholds_follow_indicator_config():
    from pipelines.config import IndicatorConfig

    assert ReportConfig.from_indicators() == ReportConfig()
    assert ReportConfig.from_indicators(IndicatorConfig(trap_threshold=0.15)).trap_threshold == 0.15


# --------------------------------------------------------------------------- fixtures

FAKE_MODELS = """
update mart.client_indicators
set segment = case when coalesce(days_since_last_trade, 999) > 60 then 'inactive'
        when hash(client_id) % 3 = 0 then 'stable'
        when hash(client_id) % 3 = 1 then 'aggressive' else 'conservative' end,
    churn_risk = (hash(client_id || 'r') % 1000) / 1000.0
where as_of_date = $day;
insert into mart.segment_profile
select i.as_of_date, i.segment, count(*), count(*) / sum(count(*)) over (),
    avg(i.turnover_rate_annual), avg(i.activity), avg(i.concentration), avg(i.cash_ratio),
    avg(i.trade_amount_w / nullif(i.active_days, 0)), 0.02, avg(i.profitability),
    avg(c.total_assets), sum(c.total_assets), sum(i.revenue_w),
    sum(i.revenue_w) / sum(sum(i.revenue_w)) over (), 'seg-test-1'
from mart.client_indicators as i join mart.client_daily as c using (as_of_date, client_id)
where i.as_of_date = $day group by i.as_of_date, i.segment;
insert into mart.segment_transitions
select $day, h.horizon, f.s, t.s, 1 + (hash(f.s || t.s || h.horizon) % 5) + case when f.s = t.s then 9 else 0 end
from (values ('stable'), ('aggressive'), ('conservative'), ('inactive')) as f(s),
     (values ('stable'), ('aggressive'), ('conservative'), ('inactive')) as t(s),
     (values ('month'), ('day')) as h(horizon);
insert into mart.indicator_correlation values
    ($day, 'turnover_rate_annual', 'activity', 0.81, 40), ($day, 'activity', 'cash_ratio', -0.44, 40),
    ($day, 'turnover_rate_annual', 'cash_ratio', -0.37, 40), ($day, 'trapped_ratio', 'activity', 0.05, 40);
insert into mart.churn_drivers
select as_of_date, client_id, churn_risk, 'days_since_last_trade', 'net_outflow=+0.21', 'activity'
from mart.client_indicators where as_of_date = $day;
insert into mart.model_runs values
    ($day::timestamp + interval 20 hour, 'segmentation', 'seg-test-1', $day, $day - 365, $day, 40, 'silhouette', 0.41, 'k-means'),
    ($day::timestamp + interval 20 hour, 'churn', 'churn-test-1', $day, $day - 365, $day, 900, 'roc_auc', 0.83, null);
update raw.brokers set broker_name = $evil where as_of_date = $day and broker_id = 'B000';
"""


MODEL_OUTPUTS = """
delete from mart.segment_profile; delete from mart.segment_transitions;
delete from mart.indicator_correlation; delete from mart.churn_drivers; delete from mart.model_runs;
update mart.client_indicators set segment = null, churn_risk = null
"""


@pytest.fixture(scope="module")
def bare_warehouse(example_warehouse, tmp_path_factory) -> Path:
    """The example as the marts leave it, before any model output (the models erased)."""
    path = tmp_path_factory.mktemp("bare") / "warehouse.duckdb"
    shutil.copy(example_warehouse, path)
    with duckdb.connect(str(path)) as con:
        for statement in MODEL_OUTPUTS.split(";"):
            con.execute(statement)
    return path


@pytest.fixture(scope="module")
def reports_out(bare_warehouse, tmp_path_factory) -> Path:
    """Reports of the plain example (no model outputs) for DAY and REJECTS_DAY."""
    out = tmp_path_factory.mktemp("reports")
    assert render_report(bare_warehouse, DAY, out) == out / "report-2024-10-15.html"
    render_report(bare_warehouse, REJECTS_DAY, out)
    return out


@pytest.fixture(scope="module")
def models_warehouse(bare_warehouse, tmp_path_factory) -> Path:
    """A copy of the example with plausible model outputs on DAY and a hostile broker name."""
    path = tmp_path_factory.mktemp("models") / "warehouse.duckdb"
    shutil.copy(bare_warehouse, path)
    with duckdb.connect(str(path)) as con:
        for statement in FAKE_MODELS.split(";"):
            if statement.strip():
                params = {"day": DAY, "evil": EVIL_BROKER}
                con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
    return path


@pytest.fixture(scope="module")
def models_report(models_warehouse, tmp_path_factory) -> Path:
    return render_report(models_warehouse, DAY, tmp_path_factory.mktemp("models-out"))


def _html(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the file

def test_report_files_and_index(reports_out):
    names = sorted(p.name for p in reports_out.iterdir())
    assert names == ["index.html", "report-2024-10-15.html", "report-2024-10-24.html"]
    index = _html(reports_out / "index.html")
    links = re.findall(r'href="(report-[\d-]+\.html)"', index)
    assert links == ["report-2024-10-24.html", "report-2024-10-15.html"]  # newest first
    html = _html(reports_out / "report-2024-10-15.html")
    for section in ("overview", "segments", "rankings", "holdings", "clients", "quality"):
        assert f'<section id="{section}">' in html
    for label in ("托管资产", "净流入", "成交额", "佣金", "净佣金", "收入", "佣金率", "市场份额"):
        assert label in html
    assert "2024-10-15" in html and "<svg" in html


def test_report_is_self_contained(reports_out):
    html = _html(reports_out / "report-2024-10-15.html")
    # nothing is loaded: no external stylesheet, script, image or font
    assert not re.search(r"<link\b|\bsrc\s*=|@import|@font-face|url\(", html)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("#") or h == "index.html" for h in hrefs)
    assert "https://" not in html
    assert set(re.findall(r"http://[^\s\"']+", html)) <= {"http://www.w3.org/2000/svg"}
    assert html.count("<script") == 1  # the inline table sorter


def test_models_absent_sections_say_so(reports_out):
    html = _html(reports_out / "report-2024-10-15.html")
    assert "分群模型尚未运行" in html
    assert "相关性分析尚未运行" in html
    assert "流失预警模型尚未运行" in html


def test_models_present_sections(models_report):
    html = _html(models_report)
    assert "尚未运行" not in html
    for text in ("稳健型", "激进型", "分群迁移", "较一个月前", "seg-test-1", "流失模型", "0.830"):
        assert text in html
    assert 'aria-label="指标相关性（Spearman）"' in html
    assert "年化资金周转率" in html and "距上次交易" in html  # indicator / driver labels in Chinese
    churn = html.split("<h3>流失预警</h3>", 1)[1].split("</section>", 1)[0]
    assert churn.count('<td class="mono">0731') == 40  # every client of the example is scored


def test_escaping(models_report):
    html = _html(models_report)
    # the client named <script>alert(1)</script> is listed (churn list), masked and escaped
    assert "&lt;" + "*" * 23 + "&gt;" in html
    assert "<script>alert(1)" not in html
    assert "alert(1)" not in html
    # a broker name is not PII: shown in full, as text
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert EVIL_BROKER not in html
    assert html.count("<script") == 1


def test_no_unmasked_pii(models_report, models_warehouse):
    html = _html(models_report)
    people = query(models_warehouse, "select distinct client_name, id_number, phone from raw.clients")
    brokers = set(query(models_warehouse, "select distinct broker_name from raw.brokers")["broker_name"])
    assert people.height >= 40
    for name, id_number, phone in people.iter_rows():
        assert id_number not in html
        assert phone not in html
        if name not in brokers:
            assert name not in html, name
    # the masked forms are there (the lists above do show these clients)
    shown = [p for p in people["phone"] if mask_number(p) in html]
    assert len(shown) >= 30


# --------------------------------------------------------------------------- numbers

def test_month_to_date_kpis(example_warehouse, reports_out):
    """Month to 2024-10-15 from branch_daily by hand, and its change vs all of September."""
    daily = query(example_warehouse, "select * from mart.branch_daily")
    mtd = daily.filter(pl.col("as_of_date").is_between(dt.date(2024, 10, 1), DAY))
    sept = daily.filter(pl.col("as_of_date").is_between(dt.date(2024, 9, 1), dt.date(2024, 9, 30)))
    assert mtd.height == 6 and sept.height == 9  # 10-08 .. 10-15; 09-18 .. 09-30
    revenue, revenue_sept = mtd["revenue"].sum(), sept["revenue"].sum()
    share = mtd["trade_amount"].sum() / (2 * mtd["market_turnover"].sum())
    traders = query(example_warehouse, """select count(distinct client_id) as n from mart.client_daily
        where trade_count > 0 and as_of_date between '2024-10-01' and '2024-10-15'""")["n"][0]

    with duckdb.connect(str(example_warehouse), read_only=True) as con:
        k = kpis(con, DAY, {**ReportConfig().params(), "day": DAY})
    month = next(p for p in k["periods"] if p["type"] == "month")
    v = month["values"]
    assert month["sessions"] == 6 and month["end"] == DAY
    assert v["revenue"]["value"] == pytest.approx(revenue)
    assert v["revenue"]["prev"] == pytest.approx(revenue_sept)
    assert v["revenue"]["change"] == pytest.approx(revenue / revenue_sept - 1)
    assert v["market_share"]["value"] == pytest.approx(share)
    assert v["active_clients"]["value"] == traders
    assert v["clients"]["value"] == mtd.filter(pl.col("as_of_date") == DAY)["clients"][0]
    assert v["net_inflow"]["diff"] == pytest.approx(mtd["net_inflow"].sum() - sept["net_inflow"].sum())
    # the stored October row runs to 10-29: the report must not show it for 10-15
    stored = query(example_warehouse, """select revenue from mart.branch_period
        where period_type = 'month' and period_start = '2024-10-01'""")["revenue"][0]
    assert abs(stored - revenue) > 1
    html = _html(reports_out / "report-2024-10-15.html")
    table = html.split('<table class="kpi">', 1)[1].split("</table>", 1)[0]
    assert fmt_cny(revenue) in table and fmt_change(revenue / revenue_sept - 1) in table


def test_kpis_read_from_the_mart_at_the_last_session_equal_the_recomputed_ones(example_warehouse):
    """At a run's last session mart.branch_period holds every period to that day: the report
    reads it (kpi_periods_stored) and gets what kpi_periods recomputes; before it, nothing."""
    last = dt.date(2024, 10, 29)
    with duckdb.connect(str(example_warehouse), read_only=True) as con:
        p = {**ReportConfig().params(), "day": last}
        stored, computed = fetch(con, "kpi_periods_stored", p), fetch(con, "kpi_periods", p)
        assert fetch(con, "kpi_periods_stored", {**p, "day": DAY}) == []
    assert len(stored) == len(computed) == 10
    for s, c in zip(stored, computed):
        assert s.keys() == c.keys()
        for key, value in c.items():
            assert s[key] == (pytest.approx(value, rel=1e-9) if isinstance(value, float) else value), key


def test_rankings_to_date_equal_the_marts_at_period_end(example_warehouse):
    """At the month's last loaded session the report's month-to-D ranking is the mart's."""
    last = dt.date(2024, 10, 29)
    with duckdb.connect(str(example_warehouse), read_only=True) as con:
        r = rankings(con, last, {**ReportConfig().params(), "day": last})
    cols = ["rank", "prev_rank", "clients", "effective_clients", "new_clients", "churned_clients"]
    for group, table in (("brokers", "broker_ranking"), ("teams", "team_ranking")):
        key = "broker_id" if group == "brokers" else "team_id"
        mart = query(example_warehouse, f"""select * from mart.{table}
            where period_type = 'month' and period_start = '2024-10-01' order by rank""")
        mine = r[group]
        assert [x["group_id"] for x in mine] == mart[key].to_list()
        for col in cols:
            assert [x[col] for x in mine] == mart[col].to_list(), col
        for col in ("revenue", "total_assets", "net_inflow", "active_ratio"):
            assert [x[col] for x in mine] == pytest.approx(mart[col].to_list()), col


def test_day_ranking_by_revenue(example_warehouse):
    """Brokers ranked by the revenue of D of their clients (clients snapshot of D)."""
    by_hand = query(example_warehouse, """
        select k.broker_id, sum(c.revenue) as revenue
        from mart.client_daily c join raw.clients k using (as_of_date, client_id)
        where c.as_of_date = $day group by k.broker_id order by revenue desc, k.broker_id""",
        {"day": DAY})
    with duckdb.connect(str(example_warehouse), read_only=True) as con:
        r = rankings(con, DAY, {**ReportConfig().params(), "day": DAY})
    day = r["brokers_day"]
    assert [x["group_id"] for x in day] == by_hand["broker_id"].to_list()
    assert [x["rank"] for x in day] == list(range(1, by_hand.height + 1))
    assert [x["revenue"] for x in day] == pytest.approx(by_hand["revenue"].to_list())
    month = {x["group_id"]: x for x in r["brokers"]}
    assert all(month[x["group_id"]]["day_rank"] == x["rank"] for x in day)


def test_trapped_and_quality_sections(example_warehouse, reports_out):
    html = _html(reports_out / "report-2024-10-24.html")
    top = query(example_warehouse, """select t.security_code, q.security_name from mart.security_trapped t
        left join raw.quotes q using (as_of_date, market, security_code)
        where t.as_of_date = $day and t.trapped_holders > 0
        order by t.trapped_holders desc, t.trapped_loss desc, t.market, t.security_code limit 20""",
        {"day": REJECTS_DAY})
    holdings = html.split('<section id="holdings">', 1)[1].split("</section>", 1)[0]
    assert top.height > 0 and holdings.count("<details") == top.height
    for name in top["security_name"]:
        assert name in holdings
    rejects = query(example_warehouse, """select file, reason, count(*) as n, min(row_number) as first_row
        from quality.rejects where as_of_date = $day group by all""", {"day": REJECTS_DAY})
    quality = html.split('<section id="quality">', 1)[1].split("</section>", 1)[0]
    assert rejects.height == 4
    for file, reason, n, first in rejects.iter_rows():
        assert str(escape(reason)) in quality
        assert f'<td class="mono">{first}' in quality
    assert "共读取" in quality and "拒绝 4 行" in quality
    assert "{" not in quality.replace("{{", "")  # no raw_row JSON leaked


# --------------------------------------------------------------------------- Dagster, CLI

def test_daily_report_asset(example_warehouse, tmp_path):
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from pipelines.assets_report import daily_report
    from pipelines.config import IndicatorConfig
    from pipelines.partitions import session_partitions

    spec = daily_report.specs_by_key[dg.AssetKey(["report", "daily"])]
    assert {d.asset_key for d in spec.deps} == {
        dg.AssetKey(["mart", k]) for k in
        ("branch_period", "broker_ranking", "team_ranking", "security_trapped", "client_indicators",
         "client_segments", "churn_risk", "indicator_correlation")}
    assert daily_report.partitions_def == session_partitions
    assert daily_report.backfill_policy == dg.BackfillPolicy.single_run()
    assert daily_report.op.pool == "duckdb"

    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(example_warehouse, warehouse)
    result = dg.materialize(
        [daily_report],
        resources={"duckdb": DuckDBResource(database=str(warehouse)), "indicators": IndicatorConfig()},
        tags={"dagster/asset_partition_range_start": "2024-10-14",
              "dagster/asset_partition_range_end": "2024-10-16"},
    )
    assert result.success
    out = warehouse.parent / "reports"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "report-2024-10-16.html"]
    events = result.get_asset_materialization_events()
    assert {e.materialization.partition for e in events} == {"2024-10-14", "2024-10-15", "2024-10-16"}
    meta = events[-1].materialization.metadata
    assert meta["path"].value == str(out / "report-2024-10-16.html")
    assert meta["size_kb"].value > 10 and meta["render_seconds"].value > 0


def test_cli_report(example_warehouse, tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli import app

    result = CliRunner().invoke(app, ["report", "--warehouse", str(example_warehouse),
                                      "--date", "2024-10-29", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report-2024-10-29.html").is_file()


# --------------------------------------------------------------------------- browser

class Chromium:
    """Headless Chromium driven over --remote-debugging-pipe (CDP messages, NUL-delimited)."""

    def __init__(self, binary: str, profile: Path, width: int = 1400, height: int = 1000):
        to_child, self._w = os.pipe()
        self._r, from_child = os.pipe()

        def pipes():  # in the child: Chromium reads commands on fd 3, answers on fd 4
            a, b = os.dup(to_child), os.dup(from_child)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.stderr_path = profile / "chromium.stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             f"--user-data-dir={profile / 'profile'}", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
             "--enable-logging=stderr", "--v=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
            preexec_fn=pipes, close_fds=False)
        os.close(to_child)
        os.close(from_child)
        self._buf, self._id, self.events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", page=True)
        self.call("Network.emulateNetworkConditions", page=True, offline=True, latency=0,
                  downloadThroughput=-1, uploadThroughput=-1)
        self.call("Emulation.setDeviceMetricsOverride", page=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def _recv(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, page: bool = False, timeout: float = 20, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if page:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._recv(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def open(self, url: str, timeout: float = 20) -> None:
        mark = len(self.events)  # events are kept for problems(); wait for this page's load
        self.call("Page.navigate", page=True, url=url)
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events[mark:]):
            self.events.append(self._recv(deadline))

    def evaluate(self, expression: str):
        r = self.call("Runtime.evaluate", page=True, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in r, r["exceptionDetails"]
        return r["result"].get("value")

    def screenshot(self, path: Path, clip: dict) -> None:
        r = self.call("Page.captureScreenshot", page=True, format="png", captureBeyondViewport=True,
                      clip={**clip, "scale": 1})
        path.write_bytes(base64.b64decode(r["data"]))

    def problems(self) -> list[str]:
        """Uncaught exceptions, console errors and warnings, failed or non-local requests."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(f"uncaught: {p['exceptionDetails']}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                out.append(f"console.{p['type']}: {p.get('args')}")
            elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"log: {p['entry']}")
            elif m == "Network.loadingFailed":
                out.append(f"request failed: {p}")
            elif m == "Network.requestWillBeSent" and not p["request"]["url"].startswith(("file:", "data:", "about:")):
                out.append(f"network request: {p['request']['url']}")
        return out

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        self._stderr.close()


SECTIONS_JS = """JSON.stringify(Array.prototype.map.call(document.querySelectorAll('main > section'),
  function (s) { var r = s.getBoundingClientRect();
    return {id: s.id, x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; }))"""
SORT_JS = """(function () {
  var section = document.getElementById('rankings');
  var table = section.querySelectorAll('table.sortable')[1];          // brokers
  var th = Array.prototype.filter.call(table.tHead.rows[0].cells,
                                       function (c) { return c.textContent.trim() === '客户数'; })[0];
  var col = th.cellIndex;
  function values() { return Array.prototype.map.call(table.tBodies[0].rows,
                        function (r) { return Number(r.cells[col].getAttribute('data-v')); }); }
  th.click(); var asc = values(); th.click(); var desc = values();
  return JSON.stringify({asc: asc, desc: desc, sort: th.getAttribute('aria-sort')});
}())"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install -y chromium fonts-noto-cjk")
def test_report_in_headless_chromium(models_report, tmp_path):
    browser = Chromium(CHROMIUM, tmp_path)
    try:
        browser.open(models_report.resolve().as_uri())
        assert browser.problems() == []
        sections = json.loads(browser.evaluate(SECTIONS_JS))
        assert [s["id"] for s in sections] == ["overview", "segments", "rankings", "holdings",
                                                "clients", "quality"]
        shots = tmp_path / "screenshots"
        shots.mkdir()
        for s in sections:
            assert s["height"] > 100, s
            browser.screenshot(shots / f"{s['id']}.png", {k: s[k] for k in ("x", "y", "width", "height")})
        assert browser.evaluate("document.querySelectorAll('svg.chart').length") >= 8
        assert browser.evaluate("document.title").endswith("经营日报 2024-10-15")
        sort = json.loads(browser.evaluate(SORT_JS))
        assert sort["asc"] == sorted(sort["asc"]) and sort["desc"] == sorted(sort["desc"], reverse=True)
        assert sort["sort"] == "descending"
        browser.open((models_report.parent / "index.html").resolve().as_uri())
        assert browser.evaluate("document.querySelectorAll('a[href^=\"report-\"]').length") == 1
        problems = browser.problems()
    finally:
        browser.close()
    assert problems == []
    stderr = browser.stderr_path.read_text(errors="replace")
    assert "Uncaught" not in stderr and "ERR_" not in stderr, stderr[-2000:]
    for s in sections:
        png = (shots / f"{s['id']}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


def test_day_without_data_is_a_clear_error(example_warehouse, tmp_path):
    with pytest.raises(LookupError, match="no row for 2024-11-01"):
        render_report(example_warehouse, dt.date(2024, 11, 1), tmp_path)
    assert list(tmp_path.iterdir()) == []
