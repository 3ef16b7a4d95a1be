"""The layers' floors: core, models and reports import without Dagster.

Each check runs in a fresh interpreter where any import of dagster (or a dagster_*
package) raises, so a module importing it anywhere, even behind a try, is caught.
"""

from __future__ import annotations

import json
import subprocess
import sys

from ..conftest import ROOT

BLOCKED = r'''
import importlib, json, pkgutil, sys

attempts = []


class NoDagster:
    """A meta path finder refusing dagster and its integration packages."""

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top == "dagster" or top.startswith("dagster_"):
            attempts.append(name)
            raise ImportError(f"dagster is blocked in this interpreter: {name}")
        return None


sys.meta_path.insert(0, NoDagster())
'''

WALK = BLOCKED + r'''
imported, failed = [], {}


def load(name):
    try:
        module = importlib.import_module(name)
        imported.append(name)
        return module
    except Exception as exc:  # noqa: BLE001 - reported to the test
        failed[name] = repr(exc)


for package in ("core", "models", "reports"):
    top = load(package)
    for m in pkgutil.walk_packages(top.__path__, package + ".") if top else ():
        load(m.name)
print(json.dumps({"imported": imported, "failed": failed, "attempts": attempts,
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0].startswith("dagster"))}))
'''

CONVERSE = BLOCKED + r'''
try:
    import pipelines.definitions  # noqa: F401
    outcome = "imported"
except ImportError as exc:
    outcome = repr(exc)
print(json.dumps({"outcome": outcome, "attempts": attempts}))
'''


def run(code: str) -> dict:
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_core_models_and_reports_import_without_dagster():
    got = run(WALK)
    assert got["failed"] == {}
    assert got["attempts"] == [] and got["loaded"] == []
    for module in ("core.db", "core.build", "core.tables", "core.checks", "core.config", "core.ingest",
                   "models.segment_sessions", "models.churn_sessions", "models.artefacts",
                   "reports.queries", "reports.render"):
        assert module in got["imported"]


def test_the_block_works_pipelines_need_dagster():
    got = run(CONVERSE)
    assert got["outcome"] != "imported"
    assert "dagster is blocked" in got["outcome"]
    assert got["attempts"] and got["attempts"][0].split(".")[0] == "dagster"
