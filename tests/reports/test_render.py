"""The rendered files: one self-contained report per session, the index, model sections
present or absent, and a clear error for a session without data."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from reports.render import render_report

from .conftest import html_of


def test_report_files_and_index(reports_out):
    names = sorted(p.name for p in reports_out.iterdir())
    assert names == ["engineering-2024-10-15.html", "engineering-2024-10-24.html", "index.html",
                     "report-2024-10-15.html", "report-2024-10-24.html"]
    index = html_of(reports_out / "index.html")
    links = re.findall(r'href="(report-[\d-]+\.html)"', index)
    assert links == ["report-2024-10-24.html", "report-2024-10-15.html"]  # newest first
    html = html_of(reports_out / "report-2024-10-15.html")
    for section in ("overview", "segments", "rankings", "holdings", "clients", "quality"):
        assert f'<section id="{section}">' in html
    for label in ("托管资产", "净流入", "成交额", "佣金", "净佣金", "收入", "佣金率", "市场份额"):
        assert label in html
    assert "2024-10-15" in html and "<svg" in html


def test_report_is_self_contained(reports_out):
    html = html_of(reports_out / "report-2024-10-15.html")
    # nothing is loaded: no external stylesheet, script, image or font
    assert not re.search(r"<link\b|\bsrc\s*=|@import|@font-face|url\(", html)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("#") or h in ("index.html", "engineering-2024-10-15.html")
                         or re.fullmatch(r"books/(broker|team)-[\w~-]+\.html", h) for h in hrefs)
    assert "https://" not in html
    assert set(re.findall(r"http://[^\s\"']+", html)) <= {"http://www.w3.org/2000/svg"}
    assert html.count("<script") == 1  # the inline table sorter


def test_models_absent_sections_say_so(reports_out):
    html = html_of(reports_out / "report-2024-10-15.html")
    assert "分群模型尚未运行" in html
    assert "相关性分析尚未运行" in html
    assert "流失预警模型尚未运行" in html


def test_models_present_sections(models_report):
    html = html_of(models_report)
    assert "尚未运行" not in html
    for text in ("稳健型", "激进型", "分群迁移", "较一个月前", "流失模型"):
        assert text in html
    engineering = html_of(models_report.with_name("engineering-2024-10-15.html"))
    assert "<h2>模型运行记录</h2>" in engineering and "<h3>模型运行记录</h3>" not in html
    for text in ("seg-test-1", "0.830"):  # the model runs' version and metric: for engineers, not analysts
        assert text in engineering and text not in html
    assert 'aria-label="指标相关性（秩相关）"' in html
    assert "年化资金周转率" in html and "距上次交易" in html  # indicator / driver labels in Chinese
    churn = html.split("<h3>流失预警</h3>", 1)[1].split("</section>", 1)[0]
    assert churn.count('<td class="mono">0731') == 40  # every client of the example is scored


def _churn_section(html: str) -> str:
    return html.split("<h3>流失预警</h3>", 1)[1].split("</section>", 1)[0]


def test_a_model_score_is_a_percentage_and_says_so(models_report):
    churn = _churn_section(html_of(models_report))
    assert "模型评分" in churn and "规则评分" not in churn
    assert len(re.findall(r'<span class="risk"[^>]*>\d+(\.\d)?%</span>', churn)) == 40
    assert "流失风险 ≥ 50% 的客户（模型评分）" in html_of(models_report)


def test_a_rule_score_is_a_level_not_a_percentage(models_warehouse, tmp_path):
    """A day scored by the churn rule (model_version 'rule': a rank) shows 高 / 中 / 低 from the
    churn settings' thresholds, says 规则评分, and shows no percentage for the risk."""
    import shutil

    import duckdb

    from .conftest import DAY

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(models_warehouse, path)
    with duckdb.connect(str(path)) as con:
        con.execute("update mart.churn_scores set model_version = 'rule' where as_of_date = $day", {"day": DAY})
        levels = con.execute("""select count(*) filter (where churn_risk >= 0.9), count(*) filter (
            where churn_risk >= 0.7 and churn_risk < 0.9), count(*) filter (where churn_risk < 0.7)
            from mart.churn_scores where as_of_date = $day""", {"day": DAY}).fetchone()
    html = html_of(render_report(path, DAY, tmp_path / "out"))
    churn = _churn_section(html)
    assert "规则评分" in churn and "模型评分" not in churn
    assert '<span class="risk"' not in churn and "风险 ≥ 50%" not in churn
    shown = [churn.count(f'">{label}</span></td>') for label in ("高", "中", "低")]
    assert shown == list(levels) and all(levels)  # every level occurs in the example's 40 clients
    assert f"流失风险等级为高的客户（规则评分）{levels[0]} 人" in html


def test_a_calibrated_rule_score_is_a_percentage_that_names_the_rule(models_warehouse, tmp_path):
    """A day scored by the rule calibrated on a fit's labels (model_version 'rule-<session>': a
    probability) shows percentages like a model, against the model's threshold, and says 规则评分（已校准）."""
    import shutil

    import duckdb

    from .conftest import DAY

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(models_warehouse, path)
    with duckdb.connect(str(path)) as con:
        con.execute("update mart.churn_scores set model_version = 'rule-2024-10-08' where as_of_date = $day",
                    {"day": DAY})
        high = con.execute("select count(*) filter (where churn_risk >= 0.5) from mart.churn_scores "
                           "where as_of_date = $day", {"day": DAY}).fetchone()[0]
    html = html_of(render_report(path, DAY, tmp_path / "out"))
    churn = _churn_section(html)
    assert "规则评分（已校准）" in churn and "模型评分" not in churn
    assert len(re.findall(r'<span class="risk"[^>]*>\d+(\.\d)?%</span>', churn)) == 40
    assert f"流失风险 ≥ 50% 的客户（规则评分（已校准））{high} 人" in html


def test_day_without_data_is_a_clear_error(example_warehouse, tmp_path):
    with pytest.raises(LookupError, match="no row for 2024-11-01"):
        render_report(example_warehouse, dt.date(2024, 11, 1), tmp_path)
    assert list(tmp_path.iterdir()) == []


def _visible_text(html: str) -> str:
    """What a reader sees: no script, style or SVG markup, tags removed, entities decoded."""
    import html as html_lib

    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return html_lib.unescape(text)


def test_the_analyst_page_speaks_chinese(models_report):
    """No engineering English on the analyst's page: Latin words are only identifiers (client,
    broker, team, security numbers and markets) and the file names of the definitions."""
    from .conftest import EVIL_BROKER, SCRIPT_NAME

    text = _visible_text(html_of(models_report))
    for hostile in (SCRIPT_NAME, EVIL_BROKER, EVIL_BROKER[:13] + "…"):  # names shown as text (a chart cuts one short)
        text = text.replace(hostile, "")
    words = set(re.findall(r"[A-Za-z][A-Za-z_.\-]*", text))
    identifiers = {w for w in words if re.fullmatch(r"[A-Z]{1,2}|[A-Z]\d*|docs|spec|indicators\.md|client-analysis\.md", w)}
    assert words - identifiers == set()


def test_times_are_beijing_time_and_say_so(models_warehouse):
    from core.db import connect
    from reports.render import render_html

    from .conftest import DAY

    utc = dt.timezone.utc
    before = dt.datetime.now(utc).replace(second=0, microsecond=0)
    with connect(models_warehouse, read_only=True) as con:
        html = render_html(con, DAY)
    after = dt.datetime.now(utc)
    stamp = re.search(r"生成于 (\d{4}-\d\d-\d\d \d\d:\d\d)（北京时间）", html).group(1)
    shown = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert before <= shown <= after


def test_the_index_shows_each_day_with_its_headline_figures(reports_out):
    """Each report's row: its day's total assets in 万元 (from the extract files alone)."""
    from .conftest import DAY, extract_figures

    index = html_of(reports_out / "index.html")
    row = index.split('href="report-2024-10-15.html"', 1)[1].split("</tr>", 1)[0]
    assert "托管资产（万元）" in index
    assert f"{float(extract_figures(DAY)['total_assets']) / 1e4:,.2f}" in row


def test_money_in_a_table_column_has_one_unit(models_report):
    """Every money column says 万元 in its header and its cells carry no unit of their own."""
    html = html_of(models_report)
    rankings = html.split('<section id="rankings">', 1)[1].split("</section>", 1)[0]
    assert "收入（万元）" in rankings
    cells = re.findall(r'<td class="n[^"]*"[^>]*>(?:<span[^>]*>)?([^<]*)', rankings)
    assert cells and not [c for c in cells if "万" in c or "亿" in c]


def test_a_long_broker_ranking_shows_its_top_and_bottom(models_warehouse, tmp_path):
    """ranking_shown = 1: the broker table keeps ranks 1 and the last, and says how many there are."""
    import duckdb

    from core.config import ReportConfig, Settings

    from .conftest import DAY

    with duckdb.connect(str(models_warehouse), read_only=True) as con:
        brokers = con.execute("select count(distinct broker_id) from raw.clients where as_of_date = ?", [DAY]).fetchone()[0]
    assert brokers > 2
    html = html_of(render_report(models_warehouse, DAY, tmp_path, Settings(report=ReportConfig(ranking_shown=1))))
    table = html.split("<h3>经纪人</h3>", 1)[1].split("</table>", 1)[0]
    assert f"共 {brokers} 名经纪人，按本月至今收入列出前 1 名与后 1 名" in table
    ranks = [int(r) for r in re.findall(r'<tr>\s*<td class="n" data-v="(\d+)">', table)]
    assert ranks == [1, brokers]
