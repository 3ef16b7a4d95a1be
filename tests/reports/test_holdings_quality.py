"""The holdings (trapped) and data quality sections, and the thresholds they use."""

from __future__ import annotations

from fractions import Fraction

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
    # the analyst reads the counts; the reasons and rows are on the engineering page it links
    loads = html_of(reports_out / "engineering-2024-10-24.html").split('<section id="loads">', 1)[1]
    assert rejects.height == 4
    for file, reason, n, first in rejects.iter_rows():
        assert str(escape(reason)) in loads and str(escape(reason)) not in quality
        assert f'<td class="mono">{first}' in loads
    assert "共读取" in quality and "拒绝 4 行" in quality and 'href="engineering-2024-10-24.html"' in quality
    assert "{" not in loads.replace("{{", "")  # no raw_row JSON leaked


def listed(data: dict) -> dict[tuple[str, str], str]:
    """The trapped clients listed under the top securities: (security, client) -> level."""
    return {(t["security_code"], c["client_id"]): c["level"] for t in data["trapped"]["top"] for c in t["clients"]}


def positions_of(path, day) -> list[tuple[str, str, Fraction, Fraction]]:
    """(security, client, cost, value) of the day's positions, in exact decimals as the
    extracts wrote them (every position of the example has its close that day)."""
    rows = query(path, """select p.security_code, p.client_id, p.quantity, p.cost_amount, q.close
        from raw.positions p left join raw.quotes q using (as_of_date, market, security_code)
        where p.as_of_date = $day""", {"day": day})
    assert rows["close"].null_count() == 0
    return [(code, cid, Fraction(repr(cost)), quantity * Fraction(repr(close)))
            for code, cid, quantity, cost, close in rows.iter_rows()]


def expected_list(positions, ind: IndicatorConfig, top: int, per_security: int) -> dict[tuple[str, str], str]:
    """spec 2 and 5 worked here: a position is trapped from a loss of trap_threshold (loss =
    1 - value / cost, cost > 0), light / medium / deep from medium_level / deep_level; the
    report lists the `top` securities by trapped holders (then trapped loss) of the stored
    mart (the default thresholds), each with its `per_security` deepest trapped positions."""
    def trapped(cost, value, threshold):
        return cost > 0 and 1 - value / cost >= Fraction(str(threshold))

    default = IndicatorConfig()
    by_security: dict[str, list] = {}
    for code, cid, cost, value in positions:
        by_security.setdefault(code, []).append((cid, cost, value))
    stored = [(sum(trapped(c, v, default.trap_threshold) for _, c, v in held),
               sum(c - v for _, c, v in held if trapped(c, v, default.trap_threshold)), code)
              for code, held in by_security.items()]
    shown = [code for n, loss, code in sorted(stored, key=lambda r: (-r[0], -r[1], r[2])) if n > 0][:top]
    out = {}
    for code in shown:
        deepest = sorted(((c - v, cid, c, v) for cid, c, v in by_security[code] if trapped(c, v, ind.trap_threshold)),
                         key=lambda r: (-r[0], r[1]))[:per_security]
        for _, cid, cost, value in deepest:
            loss = 1 - value / cost
            out[(code, cid)] = ("deep" if loss >= Fraction(str(ind.deep_level)) else
                                "medium" if loss >= Fraction(str(ind.medium_level)) else "light")
    return out


VARIANTS = {
    "default": IndicatorConfig(),
    "stricter trap": IndicatorConfig(trap_threshold=0.25),
    "looser trap": IndicatorConfig(trap_threshold=0.05),
    "lower deep": IndicatorConfig(deep_level=0.25),
    "higher medium": IndicatorConfig(medium_level=0.27),
}


def test_the_report_applies_the_thresholds_of_its_settings(example_warehouse):
    """The trapped clients listed, and their level, follow settings.indicators: each variant's
    list equals the one worked out here from the raw positions and closes, and the variants
    differ from the defaults (so the settings, not the defaults, decide)."""
    positions = positions_of(example_warehouse, REJECTS_DAY)
    limits = Settings().report
    expected = {name: expected_list(positions, ind, limits.top_trapped, limits.clients_per_security)
                for name, ind in VARIANTS.items()}
    with connect(example_warehouse, read_only=True) as con:
        got = {name: listed(load_report(con, REJECTS_DAY, Settings(indicators=ind))) for name, ind in VARIANTS.items()}
        html = {name: render_html(con, REJECTS_DAY, Settings(indicators=VARIANTS[name]))
                for name in ("default", "stricter trap")}
    assert got == expected
    # each variant changes the list: rows dropped, added, or relabelled
    base = expected["default"]
    assert base and set(expected["stricter trap"]) < set(base) < set(expected["looser trap"])
    assert {k: v for k, v in expected["lower deep"].items() if v != base[k]}
    assert {k: v for k, v in expected["higher medium"].items() if v != base[k]}

    def holdings_rows(text: str) -> int:
        return text.split('<section id="holdings">', 1)[1].split("</section>", 1)[0].count('<td class="mono">')
    assert holdings_rows(html["default"]) == len(base) > holdings_rows(html["stricter trap"]) == len(
        expected["stricter trap"])
