"""One Dagster instance per warehouse, beside its file: a warehouse's runs and materializations
never show on another's; a failed command leaves no empty warehouse or instance behind;
`crm ui` serves exactly one warehouse's instance."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
import yaml
from typer.testing import CliRunner

from cli.app import app
from pipelines.resources import DEFAULT_WAREHOUSE
from pipelines.runner import INSTANCE_YAML, WAREHOUSE_TAG, RunFailed, instance_dir, project_instance, run_sessions

from ..conftest import EXAMPLE, ROOT

TRADES = dg.AssetKey(["raw", "trades"])


def materializations(instance: dg.DagsterInstance, key: dg.AssetKey) -> list[tuple[str, str]]:
    """(run id, partition) of every materialization of `key` the instance holds."""
    records = instance.fetch_materializations(key, limit=10_000).records
    return [(r.run_id, r.partition_key) for r in records]


def test_each_warehouse_has_its_own_instance(example_warehouse, tmp_path):
    """A one-session warehouse next to the worked example's: each instance holds its own runs
    and materializations only (with one shared instance, each would see the other's)."""
    b = tmp_path / "one" / "warehouse.duckdb"
    run_sessions(b, EXAMPLE / "extracts", dt.date(2024, 9, 18), dt.date(2024, 9, 18))
    assert instance_dir(b) == tmp_path / "one" / "warehouse.dagster"
    assert (instance_dir(b) / "dagster.yaml").read_text() == INSTANCE_YAML
    assert (instance_dir(b) / "history" / "runs.db").exists()  # storage inside the folder
    with project_instance(example_warehouse) as ia, project_instance(b) as ib:
        runs_a, runs_b = ia.get_runs(), ib.get_runs()
        assert len(runs_b) == 1 and runs_b[0].tags[WAREHOUSE_TAG] == str(b)
        assert runs_a and {r.tags[WAREHOUSE_TAG] for r in runs_a} == {str(example_warehouse)}
        assert not {r.run_id for r in runs_a} & {r.run_id for r in runs_b}
        assert materializations(ib, TRADES) == [(runs_b[0].run_id, "2024-09-18")]
        seen_a = materializations(ia, TRADES)
        assert len(seen_a) == 25 and {run for run, _ in seen_a} <= {r.run_id for r in runs_a}


def test_the_repo_dagster_yaml_is_the_default_warehouse_instance():
    """Plain `dagster dev` from the repo root (DAGSTER_HOME unset) reads ./dagster.yaml: the
    settings crm writes into every instance, storage in data/warehouse.duckdb's instance."""
    root = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    home = instance_dir(DEFAULT_WAREHOUSE).relative_to(ROOT).as_posix()
    assert root.pop("storage") == {"sqlite": {"base_dir": home}}
    assert root.pop("compute_logs")["config"] == {"base_dir": f"{home}/storage"}  # crm's default
    assert root == yaml.safe_load(INSTANCE_YAML)
    assert yaml.safe_load(INSTANCE_YAML)["concurrency"] == {"pools": {"default_limit": 1},
                                                           "runs": {"max_concurrent_runs": 1}}


def nothing_under(folder: Path) -> bool:
    return not folder.exists() or not any(folder.rglob("*"))


def test_a_failed_command_creates_no_warehouse_and_no_instance(tmp_path):
    new = tmp_path / "new"
    wh = str(new / "w.duckdb")
    ext = str(EXAMPLE / "extracts")
    runner = CliRunner()
    cases = {
        "bad date": ["backfill", "--start", "2024-13-01", "--end", "2024-10-29", "--warehouse", wh, "--extracts", ext],
        "no session": ["backfill", "--start", "2024-10-01", "--end", "2024-10-07", "--warehouse", wh, "--extracts", ext],
        "no asset": ["backfill", "--start", "2024-09-18", "--end", "2024-09-19", "--select", "key:mart/nothing",
                     "--warehouse", wh, "--extracts", ext],
        "no extracts": ["backfill", "--start", "2024-09-18", "--end", "2024-09-19", "--warehouse", wh,
                        "--extracts", str(tmp_path / "missing")],
        "extracts without the range": ["backfill", "--start", "2023-03-01", "--end", "2023-03-03",
                                       "--warehouse", wh, "--extracts", ext],
        "run, no extracts": ["run", "--extracts", str(tmp_path / "missing"), "--warehouse", wh],
        "ui, no extracts": ["ui", "--extracts", str(tmp_path / "missing"), "--warehouse", wh],
    }
    for case, args in cases.items():
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (case, result.output)
        assert "error:" in result.output, case
        assert nothing_under(new), (case, sorted(new.rglob("*")))


def test_a_failed_run_takes_back_the_warehouse_it_created(tmp_path):
    """`crm run` (discard_new): the session's folder is missing, the run fails, and the new
    warehouse, its instance folder and its new parent folder are gone; an existing
    warehouse is never removed."""
    root = tmp_path / "extracts"  # 2024-09-18 and 2024-09-20, not 2024-09-19
    for day in ("2024-09-18", "2024-09-20"):
        shutil.copytree(EXAMPLE / "extracts" / day, root / day)
    wh = tmp_path / "new" / "w.duckdb"
    missing = dt.date(2024, 9, 19)
    with pytest.raises(RunFailed, match="extract folder for 2024-09-19 is missing"):
        run_sessions(wh, root, missing, missing, discard_new=True)
    assert not (tmp_path / "new").exists()
    run_sessions(wh, root, dt.date(2024, 9, 18), dt.date(2024, 9, 18), discard_new=True)
    with pytest.raises(RunFailed):
        run_sessions(wh, root, missing, missing, discard_new=True)
    assert wh.exists() and instance_dir(wh).exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["data"]


def test_crm_ui_shows_its_warehouse_runs_only(example_warehouse, tmp_path):
    """`crm ui` = `dagster dev` on the warehouse's instance, its code location's resources
    pointing at that warehouse and extracts."""
    port = free_port()
    log = open(tmp_path / "ui.log", "wb")
    ui = subprocess.Popen([sys.executable, "-m", "cli.app", "ui", "--warehouse", str(example_warehouse),
                           "--extracts", str(EXAMPLE / "extracts"), "--port", str(port)],
                          cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 180
        while True:
            try:
                runs = graphql(port, "{ runsOrError { ... on Runs { results { runId } } } }")
                break
            except OSError:
                assert ui.poll() is None and time.time() < deadline, (tmp_path / "ui.log").read_text()[-3000:]
                time.sleep(1)
        with project_instance(example_warehouse) as instance:
            expected = {r.run_id for r in instance.get_runs()}
        assert {r["runId"] for r in runs["runsOrError"]["results"]} == expected
        repos = graphql(port, "{ repositoriesOrError { ... on RepositoryConnection { nodes { "
                              "location { name } allTopLevelResourceDetails { name configuredValues { key value } } } } } }")
        node = repos["repositoriesOrError"]["nodes"][0]
        assert node["location"]["name"] == "branch_crm"  # pyproject's, as plain `dagster dev` loads it
        values = {(r["name"], v["key"]): v["value"] for r in node["allTopLevelResourceDetails"]
                  for v in r["configuredValues"]}
        assert json.loads(values[("duckdb", "database")]) == str(example_warehouse)
        assert json.loads(values[("extracts", "root")]) == str(EXAMPLE / "extracts")
    finally:
        os.killpg(ui.pid, signal.SIGINT)  # dagster dev shuts its processes down on an interrupt
        try:
            ui.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait(10)
        log.close()
