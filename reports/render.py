"""The daily HTML report: one self-contained file per session plus an index of all reports.

`render_report(warehouse, day, out_dir)` opens the warehouse read-only, runs the report's
queries (reports/queries.py, PII masked there), draws the charts as inline SVG
(reports/charts.py) and renders reports/templates/report.html.j2 with autoescaping on.
The file needs nothing from the network: CSS and the small table-sorting script are inline.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from . import charts, labels, links
from .formatting import FILTERS, beijing_now, fmt_cny, fmt_count, fmt_num, fmt_pct, fmt_permyriad
from core.config import Settings
from core.db import connect

from .queries import fetch, load_report

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_NAME = re.compile(r"^report-(\d{4}-\d{2}-\d{2})\.html$")
# the columns of sql/reports/index_days.sql: a day without them (no warehouse) shows —
INDEX_FIGURES = ("total_assets", "net_inflow", "trade_amount", "revenue", "active_clients", "market_share")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(labels=labels, cell_shade=charts.cell_shade, book_href=links.report_book_href,
                       team_href=links.report_team_href)
    return env


def report_filename(day: dt.date) -> str:
    return f"report-{day.isoformat()}.html"


def engineering_filename(day: dt.date) -> str:
    return f"engineering-{day.isoformat()}.html"


def _charts(data: dict) -> dict:
    """Every SVG of the report, from the (small, already aggregated) data."""
    trend = data["trend"]
    dates = [r["as_of_date"] for r in trend]
    out = {
        "aum": charts.line_chart(dates, [r["total_assets"] for r in trend], label="托管资产走势",
                                 axis_fmt=fmt_cny, value_fmt=fmt_cny),
        "inflow": charts.bar_chart(dates, [r["net_inflow"] for r in trend], label="净流入走势",
                                   axis_fmt=fmt_cny, value_fmt=fmt_cny),
        "share": charts.line_chart(dates, [r["market_share"] for r in trend], label="市场份额走势",
                                   axis_fmt=lambda v: fmt_pct(v, None),
                                   value_fmt=lambda v: fmt_pct(v, None), color="#8e44ad"),
        "revenue": charts.bar_chart(dates, [r["revenue"] for r in trend], label="收入走势",
                                    axis_fmt=fmt_cny, value_fmt=fmt_cny, pos_color="#3b6fb6"),
    }
    rk = data["rankings"]
    out["teams"] = charts.hbar_chart(
        [(r["name"], r["revenue"], fmt_cny(r["revenue"])) for r in rk["teams"]],
        label="小组收入（本月至今）")
    top = rk["brokers"][:15]
    seen = Counter(r["name"] for r in top)
    out["brokers"] = charts.hbar_chart(
        [(r["name"] if seen[r["name"]] == 1 else f"{r['name']} {r['group_id']}", r["revenue"],
          fmt_cny(r["revenue"])) for r in top],
        label="经纪人收入前15（本月至今）", color="#5b8bd0")
    top = data["trapped"]["top"]
    out["trapped"] = charts.stacked_hbar(
        [f"{r['security_name']} {r['security_code']}" for r in top],
        [(labels.TRAPPED_LEVELS[k], labels.TRAPPED_COLORS[k], [r[f"{k}_holders"] for r in top])
         for k in ("light", "medium", "deep")],
        totals=[f"{r['trapped_holders']}人" for r in top], label="套牢客户最多的证券", width=640,
        label_width=150)
    seg = data["segments"]
    if seg["profile"]:
        prof = seg["profile"]
        colours = [labels.SEGMENT_COLORS.get(r["segment"], "#888") for r in prof]
        out["segment_sizes"] = charts.hbar_chart(
            [(r["label"], r["clients"], f"{fmt_count(r['clients'])}人 · {fmt_pct(r['share'])}") for r in prof],
            label="各分群客户数", color=colours, width=460, label_width=70)
        out["segment_revenue"] = charts.hbar_chart(
            [(r["label"], r["revenue_share"], fmt_pct(r["revenue_share"])) for r in prof],
            label="各分群收入占比", color=colours, width=460, label_width=70)
    if seg["correlation"]:
        c = seg["correlation"]
        out["correlation"] = charts.heatmap(c["labels"], c["matrix"], label="指标相关性（秩相关）")
    out.update(_analysis_charts(data["analysis"]))
    return out


def _analysis_charts(a: dict) -> dict:
    """The client-analysis section's SVGs (reports.queries.client_analysis)."""
    out = {}
    value = a["value"]
    if value:
        tiers = value["tiers"]
        out["tier_shares"] = charts.grouped_bar_chart(
            [r["name"] for r in tiers],
            [("客户占比", "#9aa0a6", [r["client_share"] for r in tiers]),
             ("资产占比", "#7fa7d9", [r["asset_share"] for r in tiers]),
             ("收入占比", "#d9534f", [r["revenue_share"] for r in tiers])],
            label="各资产层级的客户、资产与收入占比（本月至今）", value_fmt=lambda v: fmt_pct(v, 1))
        conc = value["concentration"]
        marks = []
        if conc and conc["clients"]:
            for p in (1, 5, 20):
                k = conc["top_counts"][p]
                share = conc[f"top{p}_share"]
                marks.append((k / conc["clients"], share, f"前{p}%（{k}人）：{fmt_pct(share, 1)}"))
        out["concentration"] = charts.concentration_curve(
            [(r["client_share"], r["revenue_share"]) for r in value["curve"]], marks,
            label="收入集中度曲线（本月至今）", x_title="客户累计占比（按收入从高到低）", y_title="收入累计占比")
    attrs = a["attributes"]
    if attrs:
        groups = [(g["label"], f"关联度 {fmt_num(g['cramers_v'], 2)}",
                   [(c["label"], c["shares"], c["lifts"], f"{fmt_count(c['clients'])}人") for c in g["categories"]])
                  for g in attrs["groups"]]
        # two panels of about the same height, side by side
        sizes = [len(rows) + 1 for _, _, rows in groups]
        cut, run = len(groups), 0
        for i, n in enumerate(sizes):
            run += n
            if run >= sum(sizes) / 2:
                cut = i + 1
                break
        overall = ("全体客户", attrs["overall"], f"{fmt_count(attrs['clients'])}人")
        out["attribute_heat"] = [
            charts.share_heatmap(attrs["segments"], overall, part, label="客户属性与分群占比",
                                 fmt=lambda v: fmt_pct(v, 0))
            for part in (groups[:cut], groups[cut:]) if part]
        out["association"] = charts.hbar_chart(
            [(g["label"], g["cramers_v"], fmt_num(g["cramers_v"], 2)) for g in attrs["association"]],
            label="各属性与分群的关联度", width=460, label_width=96)
    loyalty = a["loyalty"]
    if loyalty:
        groups = loyalty["rows"]
        out["loyalty"] = charts.stacked_hbar(
            [r["label"] for r in groups],
            [(f"低（<{loyalty['low']:g}）", "#d9534f", [r["low_share"] for r in groups]),
             ("中", "#c9cdd2", [r["mid_share"] for r in groups]),
             (f"高（≥{loyalty['high']:g}）", "#3b6fb6", [r["high_share"] for r in groups])],
            totals=[f"中位数 {r['median']:.0f}" for r in groups], label="忠诚度分布（按分群与资产层级）",
            width=560, label_width=80, value_fmt=lambda v: fmt_pct(v, 1))
    industries = a["industries"]
    if industries:
        out["industries"] = charts.hbar_chart(
            [(r["label"], r["clients"], f"{fmt_count(r['clients'])}人 · {fmt_pct(r['client_share'])}")
             for r in industries["rows"]], label="客户第一大持仓行业", width=520, label_width=110, color="#5b8bd0")
    ch = a["channels"]
    if ch:
        colours = [labels.CHANNEL_COLORS.get(r["channel"], "#888") for r in ch["rows"]]
        out["channel_revenue"] = charts.hbar_chart(
            [(r["label"], r["net_commission"], fmt_cny(r["net_commission"]))
             for r in ch["rows"]], label="各交易渠道净佣金", color=colours, width=520, label_width=80)
    return out


def _summary(data: dict) -> list[str]:
    """The few sentences at the top of the report."""
    k = {c["key"]: c for c in data["kpi"]["cards"]}
    calls = data["calls"]["summary"]
    out = [
        f"托管资产 {fmt_cny(k['total_assets']['value'])}，当日净流入 {fmt_cny(k['net_inflow']['value'])}，"
        f"成交额 {fmt_cny(k['trade_amount']['value'])}，收入 {fmt_cny(k['revenue']['value'])}，"
        f"佣金率 {fmt_permyriad(k['commission_rate']['value'])}。",
        f"沉寂客户 {fmt_count(calls['dormant_clients'])} 人，合计资产 {fmt_cny(calls['dormant_assets'])}；"
        f"当日流失 {fmt_count(calls['churn_events'])} 人。",
    ]
    if calls["scored_clients"] and calls["rule_scored_clients"]:  # the rule: a rank, shown as a level
        out.append(f"流失风险等级为高的客户（规则评分）{fmt_count(calls['high_risk_clients'])} 人，"
                   f"资产 {fmt_cny(calls['high_risk_assets'])}。")
    elif calls["scored_clients"]:
        out.append(f"流失风险 ≥ {calls['churn_high']:.0%} 的客户（{calls['scored_by']}）{fmt_count(calls['high_risk_clients'])} 人，"
                   f"资产 {fmt_cny(calls['high_risk_assets'])}。")
    return out


def write_atomically(path: Path, save: Callable[[str], None]) -> None:
    """Write `path` through a temporary file (`save` writes it) and a rename, so that a reader
    of the share never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; readers of the share need to open it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(path: Path, text: str) -> None:
    write_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def render_index(out_dir: Path, con: duckdb.DuckDBPyConnection | None = None) -> Path:
    """out_dir/index.html: every report-YYYY-MM-DD.html in out_dir, newest first, with the
    day's headline figures from mart.branch_daily when a warehouse connection is given."""
    out_dir = Path(out_dir)
    reports = {}
    for p in out_dir.iterdir():
        m = REPORT_NAME.match(p.name)
        if m and p.is_file():
            day = dt.date.fromisoformat(m.group(1))
            reports[day] = {"date": day, "file": p.name, "size_kb": p.stat().st_size / 1024,
                            **dict.fromkeys(INDEX_FIGURES)}
    if con is not None and reports:
        for r in fetch(con, "index_days", {"days": sorted(reports)}):
            reports[r["as_of_date"]].update(r)
    html = environment().get_template("index.html.j2").render(
        reports=sorted(reports.values(), key=lambda r: r["date"], reverse=True), generated_at=beijing_now())
    path = out_dir / "index.html"
    _write(path, html)
    return path


def render_html(con: duckdb.DuckDBPyConnection, day: dt.date, settings: Settings | None = None) -> str:
    """The report of `day` as an HTML string."""
    return _report_html(load_report(con, day, settings or Settings()), day, beijing_now())


def _files(day: dt.date) -> dict:
    return {"report_file": report_filename(day), "engineering_file": engineering_filename(day)}


@functools.cache
def _pages() -> Environment:
    """One environment for the daily pages: it keeps their compiled templates across sessions."""
    return environment()


def _report_html(data: dict, day: dt.date, now: str) -> str:
    return _pages().get_template("report.html.j2").render(
        **data, **_files(day), charts=_charts(data), summary=_summary(data), generated_at=now)


def _engineering_html(data: dict, day: dt.date, now: str) -> str:
    """The engineering page of `day`: model runs and loads (what analysts need not read)."""
    return _pages().get_template("engineering.html.j2").render(
        **_files(day), day=day, branch_name=data["branch_name"], runs=data["segments"]["runs"],
        quality=data["quality"], generated_at=now)


def render_report(warehouse: Path, day: dt.date, out_dir: Path,
                  settings: Settings | None = None) -> Path:
    """Write out_dir/report-YYYY-MM-DD.html (and its engineering page) for `day` and refresh
    out_dir/index.html; return the report's path."""
    with connect(warehouse, read_only=True) as con:
        return write_report(con, day, out_dir, settings)


def write_report(con: duckdb.DuckDBPyConnection, day: dt.date, out_dir: Path,
                 settings: Settings | None = None, index: bool = True) -> Path:
    """render_report on an open connection (a pipeline run's, before it commits); `index`:
    refresh index.html too (a run writing many days does it once, at the end)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data, now = load_report(con, day, settings or Settings()), beijing_now()
    _write(out_dir / engineering_filename(day), _engineering_html(data, day, now))
    path = out_dir / report_filename(day)
    _write(path, _report_html(data, day, now))
    if index:
        render_index(out_dir, con)
    return path
