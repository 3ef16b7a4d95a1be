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
    assert names == ["index.html", "report-2024-10-15.html", "report-2024-10-24.html"]
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
    assert hrefs and all(h.startswith("#") or h == "index.html" for h in hrefs)
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
    for text in ("稳健型", "激进型", "分群迁移", "较一个月前", "seg-test-1", "流失模型", "0.830"):
        assert text in html
    assert 'aria-label="指标相关性（Spearman）"' in html
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


def test_day_without_data_is_a_clear_error(example_warehouse, tmp_path):
    with pytest.raises(LookupError, match="no row for 2024-11-01"):
        render_report(example_warehouse, dt.date(2024, 11, 1), tmp_path)
    assert list(tmp_path.iterdir()) == []
