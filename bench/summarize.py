"""Markdown tables from bench/run.py JSON files (what docs/performance.md shows).

    .venv/bin/python -m bench.summarize /tmp/bench/out/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _n(v, nd=2) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, (int,)) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return str(v)


def stage_table(res: dict) -> str:
    head = ("| stage | Dagster step s | compute s | events s | direct SQL s | checks s | overhead s | rows | rows/s "
            "| peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for r in res["table"]:
        lines.append("| " + " | ".join([
            r["stage"], _n(r["dagster_s"]), _n(r["compute_s"]), _n(r["bookkeeping_s"]), _n(r["direct_sql_s"]),
            _n(r["direct_checks_s"]), _n(r["overhead_s"]), _n(r["rows"]),
            _n(r["rows_per_s"], 0), _n(r["peak_rss_mb"], 0)]) + " |")
    return "\n".join(lines)


def scale_row(res: dict) -> dict:
    t, a = res["target"], res["args"]
    steps = {k.split("__")[-1]: v["wall"] for k, v in t["steps"].items()}
    return {
        "clients": a["clients"], "history": a["history"], "sessions": t["sessions"],
        "wall": t["wall"], "per_session": t["per_session"],
        "ingest": steps.get("raw_extracts"), "client_daily": steps.get("client_daily"),
        "client_indicators": sum(steps.get(k, 0) for k in ("client_indicators", "client_running", "client_windows")),
        "period_marts": sum(steps.get(k, 0) for k in ("branch_period", "rankings")),
        "models": sum(steps.get(k, 0) for k in ("client_features", "client_segments", "churn_risk",
                                                                  "churn_scores", "indicator_correlation")),
        "report": steps.get("daily"), "peak": t["peak_rss_mb"], "load": t.get("load1_before"),
        "direct": (res.get("direct") or {}).get("wall"),
    }


def main(paths: list[str]) -> None:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    print("| clients | history | sessions | wall s | s/session | ingest | client_daily | running + windows "
          "| period marts | models | report | direct (no Dagster) s | peak RSS MB | load avg |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for res in runs:
        r = scale_row(res)
        print("| " + " | ".join(_n(r[k], 1 if k not in ("per_session",) else 2) for k in (
            "clients", "history", "sessions", "wall", "per_session", "ingest", "client_daily",
            "client_indicators", "period_marts", "models", "report", "direct", "peak", "load")) + " |")
    for p, res in zip(paths, runs):
        print(f"\n### {Path(p).name}\n")
        print(stage_table(res))
        print()
        for k, v in res["summary"].items():
            print(f"- {k}: {_n(v, 3) if isinstance(v, float) else _n(v)}")


if __name__ == "__main__":
    main(sys.argv[1:])
