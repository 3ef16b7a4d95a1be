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


def test_day_without_data_is_a_clear_error(example_warehouse, tmp_path):
    with pytest.raises(LookupError, match="no row for 2024-11-01"):
        render_report(example_warehouse, dt.date(2024, 11, 1), tmp_path)
    assert list(tmp_path.iterdir()) == []
