"""The holdings (trapped) and data quality sections, and the thresholds they use."""

from __future__ import annotations

from markupsafe import escape

from core.config import IndicatorConfig, Settings
from core.db import connect
from reports.queries import load_report
from reports.render import render_html

from ..conftest import query
from .conftest import REJECTS_DAY, html_of


def test_trapped_and_quality_sections(example_warehouse, reports_out):
    html = html_of(reports_out / "report-2024-10-24.html")
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


def listed(data: dict) -> dict[tuple[str, str], dict]:
    """The trapped clients listed under the top securities, by (security, client)."""
    return {(t["security_code"], c["client_id"]): c for t in data["trapped"]["top"] for c in t["clients"]}


def test_the_report_applies_the_thresholds_of_its_settings(example_warehouse):
    """The trapped clients listed (and their level) follow settings.indicators: a stricter
    trap_threshold lists only the deeper losses, a lower deep_level calls more of them deep."""
    strict = Settings(indicators=IndicatorConfig(trap_threshold=0.25))
    deeper = Settings(indicators=IndicatorConfig(deep_level=0.25))
    with connect(example_warehouse, read_only=True) as con:
        default = listed(load_report(con, REJECTS_DAY, Settings()))
        only_deep = listed(load_report(con, REJECTS_DAY, strict))
        relabelled = listed(load_report(con, REJECTS_DAY, deeper))
        html_default, html_strict = render_html(con, REJECTS_DAY), render_html(con, REJECTS_DAY, strict)
    assert all(c["loss"] >= 0.10 for c in default.values())
    assert any(c["loss"] < 0.25 for c in default.values())  # the stricter threshold has something to drop
    assert only_deep and only_deep == {k: c for k, c in default.items() if c["loss"] >= 0.25}
    assert {k: c["level"] for k, c in relabelled.items()} == {
        k: "deep" if c["loss"] >= 0.25 else "medium" if c["loss"] >= 0.20 else "light" for k, c in default.items()}
    assert {c["level"] for c in default.values() if 0.25 <= c["loss"] < 0.30} == {"medium"}

    def holdings_rows(html: str) -> int:
        return html.split('<section id="holdings">', 1)[1].split("</section>", 1)[0].count('<td class="mono">')
    assert holdings_rows(html_default) == len(default) > holdings_rows(html_strict) == len(only_deep)
