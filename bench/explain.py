"""EXPLAIN ANALYZE of one SQL model on a warehouse: where its time goes, operator by operator.

    .venv/bin/python -m bench.explain WAREHOUSE marts/client_windows 2024-03-29 [END] [--top 12]

Runs the model's SELECT (read-only: nothing is written) with DuckDB's JSON profiler and
prints the wall time and the operators that took longest, with their row counts and
what they are (join keys, window frames, filters). `--text` prints DuckDB's own tree.
A client-analysis table's SQL runs after its writer's temp tables are made (untimed,
core.build.analysis_temps), as the writer runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path


from core import tables
from core.build import analysis_temps
from core.config import AnalysisConfig, IndicatorConfig
from core.db import connect, run_sql, sql_text


def _walk(node: dict, depth: int = 0):
    yield depth, node
    for child in node.get("children", []):
        yield from _walk(child, depth + 1)


def _extra(node: dict) -> str:
    info = node.get("extra_info") or {}
    if isinstance(info, str):
        return info.replace("\n", " ")[:160]
    parts = []
    for k, v in info.items():
        v = " | ".join(v) if isinstance(v, list) else str(v)
        parts.append(f"{k}: {v}")
    return "; ".join(parts).replace("\n", " ")[:200]


def _config_params() -> dict:
    """Every parameter a model may use: indicators, the analysis', and the models' configs when present."""
    params = {**IndicatorConfig().params(), **AnalysisConfig().model_dump()}
    try:
        from models.config import ChurnConfig, SegmentationConfig

        for cfg in (SegmentationConfig(), ChurnConfig()):
            params.update({k: v for k, v in cfg.model_dump().items() if k not in params})
    except ImportError:
        pass
    return params


def profile(warehouse: Path, model: str, start: dt.date, end: dt.date, threads: int | None = None,
            extra: dict | None = None) -> dict:
    params = {**_config_params(), **(extra or {}), "start": start, "end": end}
    sql = sql_text(model)
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    with connect(warehouse, read_only=True) as con, contextlib.ExitStack() as temps:
        if threads:
            con.execute(f"set threads = {threads}")
        if any(t.sql == model and t.writer == "client_analysis" for t in tables.TABLES):
            temps.enter_context(analysis_temps(con, params))
        con.execute("pragma enable_profiling = 'json'")
        con.execute(f"pragma profiling_output = '{out}'")
        con.execute("pragma profiling_mode = 'detailed'")
        t0 = time.perf_counter()
        rows = len(run_sql(con, sql, params).fetchall())
        wall = time.perf_counter() - t0
        con.execute("pragma disable_profiling")
    tree = json.loads(out.read_text())
    os.unlink(out)
    ops = []
    for depth, node in _walk(tree):
        name = node.get("operator_name") or node.get("operator_type") or node.get("name")
        if not name or "operator_timing" not in node:
            continue
        ops.append({"depth": depth, "operator": name.strip(), "seconds": node.get("operator_timing", 0.0),
                    "rows": node.get("operator_cardinality"), "scanned": node.get("operator_rows_scanned"),
                    "extra": _extra(node)})
    return {"model": model, "start": start.isoformat(), "end": end.isoformat(), "rows": rows, "wall": wall,
            "cpu": tree.get("cpu_time"), "operators": ops}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("model", help="e.g. marts/client_windows")
    ap.add_argument("start")
    ap.add_argument("end", nargs="?")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--param", action="append", default=[], help="name=value (number or date) for the SQL")
    a = ap.parse_args(argv)
    start = dt.date.fromisoformat(a.start)
    end = dt.date.fromisoformat(a.end) if a.end else start
    extra = {}
    for kv in a.param:
        k, v = kv.split("=", 1)
        try:
            extra[k] = float(v) if "." in v else int(v)
        except ValueError:
            extra[k] = dt.date.fromisoformat(v)
    p = profile(a.warehouse, a.model, start, end, a.threads, extra)
    print(f"{p['model']} {p['start']}..{p['end']}: {p['rows']:,} rows in {p['wall']:.3f}s "
          f"(operator cpu {p['cpu'] or 0:.3f}s)")
    total = sum(o["seconds"] for o in p["operators"]) or 1.0
    for o in sorted(p["operators"], key=lambda o: -o["seconds"])[: a.top]:
        print(f"  {o['seconds']:7.3f}s {100 * o['seconds'] / total:5.1f}%  {o['operator']:<22} "
              f"rows {o['rows'] or 0:>11,}  {o['extra']}")
    if a.json:
        a.json.write_text(json.dumps(p, indent=1))


if __name__ == "__main__":
    main()
