"""The Dagster asset report/daily and `crm report`."""

from __future__ import annotations

import shutil

import dagster as dg

from core.config import Settings
from core.tables import REPORT_READS


def test_daily_report_asset(example_warehouse, tmp_path):
    from pipelines.assets_report import daily_report
    from pipelines.partitions import session_partitions
    from pipelines.resources import WarehouseResource

    spec = daily_report.specs_by_key[dg.AssetKey(["report", "daily"])]
    deps = {d.asset_key for d in spec.deps}
    assert deps == {dg.AssetKey(t.split(".")) for t in REPORT_READS}
    assert deps >= {dg.AssetKey(["mart", k]) for k in
                    ("branch_period", "broker_ranking", "team_ranking", "security_trapped", "client_windows",
                     "client_segments", "churn_scores", "indicator_correlation")}
    assert daily_report.partitions_def == session_partitions
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
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "report-2024-10-16.html"]
    events = result.get_asset_materialization_events()
    assert {e.materialization.partition for e in events} == {"2024-10-14", "2024-10-15", "2024-10-16"}
    meta = events[-1].materialization.metadata
    assert meta["path"].value == str(out / "report-2024-10-16.html")
    assert meta["size_kb"].value > 10 and meta["render_seconds"].value > 0


def test_cli_report(example_warehouse, tmp_path):
    from typer.testing import CliRunner

    from cli.app import app

    result = CliRunner().invoke(app, ["report", "--warehouse", str(example_warehouse),
                                      "--date", "2024-10-29", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report-2024-10-29.html").is_file()
