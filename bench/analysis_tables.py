"""Time the client-analysis writers table by table on a warehouse's last session.

    .venv/bin/python -m bench.analysis_tables WAREHOUSE [--sessions 1] [--reps 3] [--json OUT]

Runs the `client_analysis` and `client_periods` writers (core.build, as the assets do) over
the last --sessions sessions with client_daily rows (one: the nightly run; 20: a backfill's
chunk, core.build.CHUNK_SESSIONS), in one transaction that is rolled back: the file
is left as it was, but open it on a copy all the same (the rollback still writes its WAL).
Prints per table (and per temp table of core.build.ANALYSIS_TEMPS) the median wall and CPU
seconds of this process (DuckDB's threads included) over the repetitions; on a shared
machine CPU is the steadier of the two.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections import defaultdict
from pathlib import Path

WRITERS = ("client_analysis", "client_periods")


def cpu_seconds() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def measure(warehouse: Path, reps: int, sessions: int = 1) -> dict[str, dict[str, float]]:
    import core.build as build
    from core import tables
    from core.config import Settings
    from core.db import connect, hold, release

    runs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    current: dict[str, list[float]] = {}

    def timed(key: str, fn, *args):
        w0, c0 = time.perf_counter(), cpu_seconds()
        result = fn(*args)
        spent = current.setdefault(key, [0.0, 0.0])
        spent[0] += time.perf_counter() - w0
        spent[1] += cpu_seconds() - c0
        return result

    replace, run_sql = build.replace, build.run_sql

    def timed_replace(con, table, params):
        return timed(table.name, replace, con, table, params)

    def timed_run_sql(con, sql, params):
        if sql.startswith("create or replace temp table"):
            return timed("temp " + sql.split()[5], run_sql, con, sql, params)
        return run_sql(con, sql, params)

    build.replace, build.run_sql = timed_replace, timed_run_sql
    try:
        for _ in range(reps):
            current = {}
            with connect(warehouse) as con:
                days = [r[0] for r in con.execute(
                    "select distinct as_of_date from mart.client_daily order by 1 desc limit ?", [sessions]).fetchall()]
                hold(con)
                try:
                    for name in WRITERS:
                        job = build.Job(tables.writer(name), Settings())
                        timed(f"writer {name}", build.builder(job.writer), con, sorted(days), job)
                finally:
                    release(con, commit=False)
            for key, (wall, cpu) in current.items():
                runs[key].append((wall, cpu))
    finally:
        build.replace, build.run_sql = replace, run_sql
    return {k: {"wall": statistics.median(w for w, _ in v), "cpu": statistics.median(c for _, c in v)}
            for k, v in runs.items()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--sessions", type=int, default=1, help="the last N sessions, as one range")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    result = measure(a.warehouse, a.reps, a.sessions)
    for key, v in result.items():
        print(f"{key:<36} wall {v['wall']:6.3f}s  cpu {v['cpu']:6.3f}s")
    if a.json:
        a.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
