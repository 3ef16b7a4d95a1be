"""The Dagster asset report/daily and `crm report`."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import dagster as dg

from core.config import IndicatorConfig, Settings
from core.db import connect
from core.tables import REPORT_READS
from reports.queries import load_report
from reports.render import render_html

from .conftest import card, extract_figures, html_of, wan


def test_daily_report_asset(example_warehouse, tmp_path):
    from pipelines.assets_report import report_asset
    from pipelines.partitions import session_partitions
    from pipelines.resources import WarehouseResource

    partitions = session_partitions(dt.date(2024, 9, 2))
    daily_report = report_asset(partitions)

    spec = daily_report.specs_by_key[dg.AssetKey(["report", "daily"])]
    deps = {d.asset_key for d in spec.deps}
    assert deps == {dg.AssetKey(t.split(".")) for t in REPORT_READS}
    assert deps >= {dg.AssetKey(["mart", k]) for k in
                    ("branch_period", "broker_ranking", "team_ranking", "security_trapped", "client_windows",
                     "client_segments", "churn_scores", "indicator_correlation")}
    assert daily_report.partitions_def == partitions
    assert daily_report.backfill_policy == dg.BackfillPolicy.single_run()
    assert daily_report.op.pool == "duckdb"

    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(example_warehouse, warehouse)
    result = dg.materialize(
        [daily_report],
        resources={"duckdb": WarehouseResource(database=str(warehouse)), "settings": Settings()},
        tags={"dagster/asset_partition_range_start": "2024-10-14",
              "dagster/asset_partition_range_end": "2024-10-16"},
    )
    assert result.success
    out = warehouse.parent / "reports"
    days = ("2024-10-14", "2024-10-15", "2024-10-16")  # a report (and engineering page) per session
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["index.html", *(f"report-{d}.html" for d in days), *(f"engineering-{d}.html" for d in days)])
    assert_day_cards(html_of(out / "report-2024-10-15.html"), dt.date(2024, 10, 15))  # 10-14 has rejected trades
    events = result.get_asset_materialization_events()
    assert {e.materialization.partition for e in events} == {"2024-10-14", "2024-10-15", "2024-10-16"}
    meta = events[-1].materialization.metadata
    path = out / "report-2024-10-16.html"
    assert meta["path"].value == str(path) and meta["date"].value == "2024-10-16"
    assert meta["size_kb"].value == round(path.stat().st_size / 1024, 1) and meta["render_seconds"].value > 0
    # the report of the range's last session, with that session's figures from its extract files
    html = html_of(path)
    assert "<title>长沙五一大道营业部 经营日报 2024-10-16</title>" in html
    assert "较上一交易日（2024-10-15）" in html
    assert_day_cards(html, dt.date(2024, 10, 16))
    # ... and the same report as the direct path renders (but for the time it was made)
    with connect(warehouse, read_only=True) as con:
        direct = render_html(con, dt.date(2024, 10, 16), Settings())
    assert without_timestamp(html) == without_timestamp(direct)
    assert re.findall(r'href="(report-[\d-]+\.html)"', html_of(out / "index.html")) == [
        f"report-{d}.html" for d in reversed(days)]


def without_timestamp(html: str) -> str:
    return re.sub(r"生成于 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", "生成于 …", html)


def assert_day_cards(html: str, day: dt.date) -> None:
    """The overview cards of `day` show the figures worked out from its extract files."""
    figures = extract_figures(day)
    assert card(html, "客户数") == str(figures["clients"])
    assert card(html, "有效户") == str(figures["effective"])
    assert card(html, "活跃客户") == str(figures["active"])
    assert card(html, "托管资产") == wan(figures["total_assets"])
    assert card(html, "成交额") == wan(figures["trade_amount"])


def test_cli_report(example_warehouse, tmp_path):
    """`crm report` writes the report of the session asked for, with that session's figures,
    into --out with the index, prints its path, and applies --config (a stricter trap
    threshold lists fewer trapped clients)."""
    from typer.testing import CliRunner

    from cli.app import app

    def run(out, *extra):
        result = CliRunner().invoke(app, ["report", "--warehouse", str(example_warehouse),
                                          "--date", "2024-10-29", "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        return result

    result = run(tmp_path / "default")
    path = tmp_path / "default" / "report-2024-10-29.html"
    assert sorted(p.name for p in path.parent.iterdir()) == ["books", "calls-2024-10-29.xlsx", "engineering-2024-10-29.html",
                                                             "index.html", "report-2024-10-29.html"]
    assert str(path) in result.stdout
    assert "Traceback" not in result.output
    html = html_of(path)
    assert "<title>长沙五一大道营业部 经营日报 2024-10-29</title>" in html
    assert_day_cards(html, dt.date(2024, 10, 29))
    assert re.findall(r'href="(report-[\d-]+\.html)"', html_of(path.parent / "index.html")) == [path.name]

    config = tmp_path / "strict.toml"
    config.write_text("[indicators]\ntrap_threshold = 0.25\n", encoding="utf-8")
    run(tmp_path / "strict", "--config", str(config))
    with connect(example_warehouse, read_only=True) as con:
        expected = {name: load_report(con, dt.date(2024, 10, 29), settings)["trapped"]["top"] for name, settings in
                    (("default", Settings()), ("strict", Settings(indicators=IndicatorConfig(trap_threshold=0.25))))}
    rows = {name: sum(len(t["clients"]) for t in top) for name, top in expected.items()}
    assert rows["default"] > rows["strict"]
    for name in rows:
        holdings = html_of(tmp_path / name / "report-2024-10-29.html").split('<section id="holdings">', 1)[1]
        assert holdings.split("</section>", 1)[0].count('<td class="mono">') == rows[name]


def test_a_long_rerun_may_report_its_last_session_only(example_warehouse, tmp_path):
    """report.every_session = false: a run's range gets the report of its last session only."""
    from core.config import ReportConfig
    from pipelines.assets_report import report_asset
    from pipelines.partitions import session_partitions
    from pipelines.resources import WarehouseResource

    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(example_warehouse, warehouse)
    result = dg.materialize(
        [report_asset(session_partitions(dt.date(2024, 9, 2)))],
        resources={"duckdb": WarehouseResource(database=str(warehouse)),
                   "settings": Settings(report=ReportConfig(every_session=False))},
        tags={"dagster/asset_partition_range_start": "2024-10-14",
              "dagster/asset_partition_range_end": "2024-10-16"},
    )
    assert result.success
    assert sorted(p.name for p in (warehouse.parent / "reports").iterdir()) == [
        "engineering-2024-10-16.html", "index.html", "report-2024-10-16.html"]
