"""End-to-end benchmark: generate a branch, run the production pipeline, time every stage.

    .venv/bin/python -m bench.run --clients 200000 --sessions 1 --history 60 --json out.json

1. data: `generator.generate` writes history + sessions sessions (child process,
   timed apart, cached under --data so later runs reuse it);
2. history (optional): the first --history sessions through `pipelines.runner.run_sessions`
   (Dagster, one run per <= 60 sessions) - this is the "backfill" measurement;
3. target: the next --sessions sessions through `run_sessions` again (one Dagster run per
   <= 60 sessions), every asset of the `daily` job; per-stage times come from the run's
   STEP_START / STEP_SUCCESS events, peak memory from a VmRSS sampling thread;
4. direct: the same sessions on a copy of the pre-target warehouse, calling the registry's
   writers (core/tables.py WRITERS, the non-model ones, each on its own connection as the
   assets do) and their checks, then render_report, without Dagster: Dagster's overhead is
   the difference;
5. baselines on the last session: the DuckDB floor (bench/floor.py) and the pandas
   analyst (bench/pandas_baseline.py, checked against the warehouse), as child processes.

Model assets (features, segments, churn) run in the Dagster phase only. Everything lands under --work (default /tmp/bench/runs);
the Dagster instance is the warehouse's, beside it (warehouse.dagster/, pipelines.runner.instance_dir).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path

from . import mem
from .data import ensure_dataset

REPO = Path(__file__).resolve().parent.parent
STAGES = {  # Dagster step key (the registry's writer) -> stage name, in the order of the table
    "raw_extracts": "ingest",
    "client_daily": "client_daily",
    "client_running": "client_running",
    "client_windows": "client_windows",
    "security_trapped": "security_trapped",
    "branch_daily": "branch_daily",
    "branch_period": "branch_period",
    "rankings": "rankings",
    "client_features": "model_features",
    "client_segments": "segmentation",
    "churn_scores": "churn",
    "indicator_correlation": "indicator_correlation",
    "report__daily": "report",
}
# What a day's indicators cost: the writers that replaced the old client_indicators asset.
INDICATOR_STAGES = ("client_daily", "client_running", "client_windows")
PERIOD_TABLES = {"branch_period": ("branch_period",), "rankings": ("broker_ranking", "team_ranking")}


# ---- machine ------------------------------------------------------------------------
def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    mem_total = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    import duckdb
    import pandas
    import polars

    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_total_gb": round(mem_total / 2**20, 1),
            "python": platform.python_version(), "duckdb": duckdb.__version__, "polars": polars.__version__,
            "pandas": pandas.__version__, "kernel": platform.release()}


def cpu_seconds() -> float:
    """User + system CPU time of this process (both cores count: cpu / wall up to 2 here)."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def load1() -> float:
    """1-minute load average: other work on the machine shows here (2 cores)."""
    return os.getloadavg()[0]


# ---- Dagster ------------------------------------------------------------------------
def job_fingerprint() -> tuple[str, list[str]]:
    """A short hash of the daily job's asset keys: a history cache is only reused by the same job."""
    import hashlib

    from pipelines.definitions import build_definitions

    keys = sorted(k.to_user_string() for k in build_definitions().resolve_job_def("daily").asset_layer.executable_asset_keys)
    return hashlib.sha1("|".join(keys).encode()).hexdigest()[:8], keys


def _run_ids(instance) -> set[str]:
    from pipelines.runner import PID_TAG
    import dagster as dg

    return {r.run_id for r in instance.get_runs(filters=dg.RunsFilter(tags={PID_TAG: str(os.getpid())}))}


def run_steps(instance, run_id: str, sampler: mem.Sampler) -> dict:
    """Wall of the run and of each step from the event log (time.time() stamps)."""
    steps: dict[str, dict] = {}
    run = {"run_id": run_id}
    for e in instance.all_logs(run_id):
        ev = e.dagster_event
        if ev is None:
            continue
        kind, key, ts = ev.event_type_value, e.step_key, e.timestamp
        if kind == "PIPELINE_START":
            run["start"] = ts
        elif kind in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE"):
            run["end"] = ts
        if not key:
            continue
        s = steps.setdefault(key, {"events": 0})
        s["events"] += 1
        if kind == "STEP_START":
            s["start"] = ts
        elif kind in ("STEP_OUTPUT", "ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION") and "first_out" not in s:
            s["first_out"] = ts  # the asset body has returned its first result: compute is over
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            s["end"] = ts
    out = {}
    for key, s in steps.items():
        if "start" not in s or "end" not in s:
            continue
        compute_end = s.get("first_out", s["end"])
        out[key] = {"wall": s["end"] - s["start"], "compute": compute_end - s["start"],
                    "bookkeeping": s["end"] - compute_end, "events": s["events"],
                    "peak_rss_mb": sampler.peak(s["start"], s["end"]), "start": s["start"], "end": s["end"]}
    run["steps"] = out
    run["wall"] = run.get("end", 0) - run.get("start", 0)
    return run


def dagster_phase(warehouse: Path, extracts: Path, days: list[dt.date], runs_of: int,
                  sampler: mem.Sampler) -> dict:
    """run_sessions over days (as production does) and the per-step times of its runs."""
    from pipelines.runner import project_instance, run_sessions

    instance = project_instance(warehouse)
    before = _run_ids(instance)
    mem.reset_hwm()
    load_before, c0 = load1(), cpu_seconds()
    t0, w0 = time.perf_counter(), time.time()
    run_sessions(warehouse, extracts, days[0], days[-1], runs_of=runs_of)
    wall, w1 = time.perf_counter() - t0, time.time()
    peak, cpu = mem.hwm_mb(), cpu_seconds() - c0
    instance = project_instance(warehouse)
    new = sorted(_run_ids(instance) - before)
    runs = sorted((run_steps(instance, r, sampler) for r in new), key=lambda r: r.get("start", 0))
    steps: dict[str, dict] = {}
    for r in runs:
        for key, s in r["steps"].items():
            agg = steps.setdefault(key, {"wall": 0.0, "compute": 0.0, "bookkeeping": 0.0, "events": 0,
                                         "peak_rss_mb": 0.0})
            for k in ("wall", "compute", "bookkeeping", "events"):
                agg[k] += s[k]
            agg["peak_rss_mb"] = max(agg["peak_rss_mb"], s["peak_rss_mb"] or 0.0)
    run_walls = sum(r["wall"] for r in runs)
    return {
        "sessions": len(days), "first": days[0].isoformat(), "last": days[-1].isoformat(),
        "wall": wall, "per_session": wall / len(days), "runs": len(runs),
        "run_walls": run_walls,
        "setup": wall - run_walls,  # build_definitions, instance, orphan check, run creation
        "between_steps": run_walls - sum(s["wall"] for s in steps.values()),
        "steps": steps, "peak_rss_mb": peak, "sampled_peak_rss_mb": sampler.peak(w0, w1),
        "cpu_seconds": cpu, "load1_before": load_before, "load1_after": load1(),
        "run_details": [{**{k: v for k, v in r.items() if k != "steps"},
                         "step_walls": {STAGES.get(k, k): round(v["wall"], 3) for k, v in r["steps"].items()}}
                        for r in runs],
    }


# ---- the same work without Dagster --------------------------------------------------
def direct_phase(warehouse: Path, extracts: Path, days: list[dt.date], report_dir: Path,
                 sampler: mem.Sampler) -> dict:
    from core import tables
    from core.build import Job, builder
    from core.checks import run_checks
    from core.config import Settings
    from core.db import connect
    from reports.render import render_report

    settings = Settings()
    rng = {**settings.indicators.params(), "start": days[0], "end": days[-1]}

    stages: dict[str, dict] = {}
    mem.reset_hwm()
    t_all, c0, load_before = time.perf_counter(), cpu_seconds(), load1()

    def timed(stage: str, part: str, fn):
        w0, t0 = time.time(), time.perf_counter()
        result = fn()
        s = stages.setdefault(stage, {"sql": 0.0, "checks": 0.0, "schema": 0.0, "peak_rss_mb": 0.0})
        s[part] += time.perf_counter() - t0
        s["peak_rss_mb"] = max(s["peak_rss_mb"], sampler.peak(w0, time.time()) or 0.0)
        return result

    for w in tables.WRITERS:
        if w.group == "models":
            continue
        stage = STAGES[w.name]
        job = Job(w, settings, extracts)
        con = timed(stage, "schema", lambda: connect(warehouse).__enter__())  # one connection per asset
        try:
            timed(stage, "sql", lambda: builder(w)(con, days, job))
            timed(stage, "checks", lambda: run_checks(con, tables.writer_tables(w.name), rng))
        finally:
            con.close()
    timed("report", "sql", lambda: render_report(warehouse, days[-1], report_dir, settings))
    for s in stages.values():
        s["total"] = s["sql"] + s["checks"] + s["schema"]
    return {"wall": time.perf_counter() - t_all, "stages": stages, "peak_rss_mb": mem.hwm_mb(),
            "cpu_seconds": cpu_seconds() - c0, "load1_before": load_before, "load1_after": load1()}


# ---- rows per stage -----------------------------------------------------------------
def stage_rows(warehouse: Path, days: list[dt.date]) -> dict[str, int | None]:
    import duckdb

    from core.db import connect

    s, e = days[0], days[-1]
    q = {
        "ingest": "select sum(rows_read) from quality.loads where as_of_date between $s and $e",
        "client_daily": "select count(*) from mart.client_daily where as_of_date between $s and $e",
        "client_running": "select count(*) from mart.client_running where as_of_date between $s and $e",
        "client_windows": "select count(*) from mart.client_windows where as_of_date between $s and $e",
        "security_trapped": "select count(*) from mart.security_trapped where as_of_date between $s and $e",
        "branch_daily": "select count(*) from mart.branch_daily where as_of_date between $s and $e",
        "model_features": "select count(*) from mart.client_features where as_of_date between $s and $e",
        "segmentation": "select count(*) from mart.client_segments where as_of_date between $s and $e",
        "churn": "select count(*) from mart.churn_scores where as_of_date between $s and $e",
        "indicator_correlation": "select count(*) from mart.indicator_correlation where as_of_date between $s and $e",
        "report": "select count(*) from mart.client_windows where as_of_date = $e",
    }
    for stage, tables in PERIOD_TABLES.items():
        q[stage] = " + ".join(
            f"(select count(*) from mart.{m} where (period_type, period_start) in (select period_type, "
            "period_start from stg_session_periods() where session_date between $s and $e))" for m in tables)
        q[stage] = f"select {q[stage]}"
    out = {}
    with connect(warehouse, read_only=True) as con:
        for stage, sql in q.items():
            try:
                bound = {k: v for k, v in {"s": s, "e": e}.items() if f"${k}" in sql}
                out[stage] = con.execute(sql, bound).fetchone()[0]
            except duckdb.Error:
                out[stage] = None
    return out


# ---- baselines ----------------------------------------------------------------------
def child_json(module: str, *args: str) -> dict:
    code, wall, peak, out = mem.run_child([sys.executable, "-m", module, *args], cwd=str(REPO))
    lines = out.strip().splitlines()
    res = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    res.update(process_seconds=round(wall, 2), peak_rss_mb=round(res.get("self_peak_rss_mb", peak), 1),
               exit_code=code)
    return res


# ---- report -------------------------------------------------------------------------
def _fmt(v, nd=2) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def build_table(res: dict) -> list[dict]:
    target, direct, rows = res["target"], res.get("direct"), res["rows"]
    n = target["sessions"]
    names = {v: k for k, v in STAGES.items()}
    present = [STAGES.get(k, k) for k in target["steps"]]
    order = [s for s in STAGES.values() if s in present or s in ALWAYS_LISTED]
    order += [s for s in present if s not in order]
    table = []
    for stage in order:
        step = target["steps"].get(names.get(stage, stage))
        d = (direct or {}).get("stages", {}).get(stage)
        r = rows.get(stage) if step else None
        row = {"stage": stage, "dagster_s": step and step["wall"], "compute_s": step and step["compute"],
               "bookkeeping_s": step and step["bookkeeping"], "direct_sql_s": d and d["sql"] + d["schema"],
               "direct_checks_s": d and d["checks"],
               "overhead_s": (step["wall"] - d["total"]) if step and d else None,
               "rows": r, "rows_per_s": (r / step["wall"]) if step and r and step["wall"] > 0 else None,
               "peak_rss_mb": step and step["peak_rss_mb"]}
        row["per_session_s"] = row["dagster_s"] / n if row["dagster_s"] is not None else None
        table.append(row)
    return table


def print_table(table: list[dict], res: dict) -> None:
    cols = [("stage", "stage", 0), ("dagster_s", "dagster s", 2), ("per_session_s", "s/session", 3),
            ("compute_s", "compute s", 2), ("bookkeeping_s", "events s", 2), ("direct_sql_s", "direct sql s", 2),
            ("direct_checks_s", "checks s", 2), ("overhead_s", "overhead s", 2), ("rows", "rows", 0),
            ("rows_per_s", "rows/s", 0), ("peak_rss_mb", "peak MB", 0)]
    cells = [[h for _, h, _ in cols]]
    for row in table:
        cells.append([_fmt(row[k], nd) if not (nd == 0 and isinstance(row[k], float)) else f"{row[k]:,.0f}"
                      for k, _, nd in cols])
    widths = [max(len(r[i]) for r in cells) for i in range(len(cols))]
    for j, r in enumerate(cells):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if j == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for k, v in res["summary"].items():
        print(f"{k:<58} {_fmt(v, 3) if isinstance(v, (int, float)) else v}")


def summarize(res: dict) -> dict:
    t, n = res["target"], res["target"]["sessions"]
    steps = {STAGES.get(k, k): v for k, v in t["steps"].items()}
    direct = (res.get("direct") or {}).get("stages", {})
    cd_ci = sum(steps[s]["wall"] for s in INDICATOR_STAGES if s in steps) / n
    cd_ci_direct = sum(direct[s]["sql"] for s in INDICATOR_STAGES) / n if direct else None
    ours_day = cd_ci + (steps["ingest"]["wall"] / n if "ingest" in steps else 0)
    floor, pandas = res.get("floor") or {}, res.get("pandas") or {}
    s = {
        "clients": res["args"]["clients"],
        "history sessions (before the target)": res["args"]["history"],
        "target sessions": n,
        "generate s (not counted)": res["data"].get("generate_seconds"),
        "startup s (imports, not counted)": res["startup_seconds"],
    }
    if res.get("history") and "wall" in res["history"]:
        h = res["history"]
        s["history backfill s"] = h["wall"]
        s["history backfill s/session"] = h["per_session"]
    s["target run_sessions wall s"] = t["wall"]
    s["target wall s/session"] = t["per_session"]
    s["target Dagster setup s (defs, instance)"] = t["setup"]
    s["target Dagster between-steps s"] = t["between_steps"]
    s["target peak RSS MB (VmHWM)"] = t["peak_rss_mb"]
    s["target cpu s (2 cores)"] = t["cpu_seconds"]
    s["load average before / after target (2 cores)"] = f"{t['load1_before']:.2f} / {t['load1_after']:.2f}"
    if res.get("direct"):
        only_dagster = sum(v["wall"] for k, v in steps.items() if k not in direct)  # the model assets
        s["direct wall s (sql + checks + report)"] = res["direct"]["wall"]
        s["Dagster wall s of the same stages (run - model steps)"] = t["wall"] - only_dagster
        s["Dagster overhead s/session (same stages)"] = (t["wall"] - only_dagster - res["direct"]["wall"]) / n
    s["client_daily + running + windows s/session (dagster)"] = cd_ci
    if cd_ci_direct is not None:
        s["client_daily + running + windows s/session (direct sql)"] = cd_ci_direct
    if floor.get("seconds"):
        s["floor s (DuckDB, 7 files read once)"] = floor["seconds"]
        s["indicators / floor (dagster)"] = cd_ci / floor["seconds"]
        if cd_ci_direct is not None:
            s["indicators / floor (direct sql)"] = cd_ci_direct / floor["seconds"]
        s["ingest + indicators / floor"] = ours_day / floor["seconds"]
    if pandas.get("day_seconds"):
        s["pandas s (one day: read, daily, window)"] = pandas["day_seconds"]
        s["pandas s (full: window of CSVs)"] = pandas["full_seconds"]
        s["pandas / ours (ingest + indicators)"] = pandas["day_seconds"] / ours_day
        s["pandas full / ours"] = pandas["full_seconds"] / ours_day
        s["pandas peak RSS MB"] = pandas.get("peak_rss_mb")
        agree = pandas.get("agreement")
        s["pandas agrees with warehouse (<= 0.01)"] = (
            f"yes, {agree['columns']} columns, max diff {max(agree['max_abs_diff'].values()):.2g}"
            if agree and agree["ok"] else f"NO: {agree and agree['problems']}")
    return s


# ---- main ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=1, help="sessions of the measured (target) run")
    ap.add_argument("--history", type=int, default=0, help="sessions loaded before the target run")
    ap.add_argument("--start", default="2024-01-02", help="first generated session")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs-of", type=int, default=60, help="sessions per Dagster run (run_sessions)")
    ap.add_argument("--data", type=Path, default=Path("/tmp/bench/data"), help="cache of generated data sets")
    ap.add_argument("--work", type=Path, default=None, help="warehouses, their Dagster instances, reports "
                    "(default /tmp/bench/runs/c<clients>_h<history>_s<sessions>)")
    ap.add_argument("--cache-history", action="store_true",
                    help="reuse (or save) the warehouse after --history sessions under <data>/_history")
    ap.add_argument("--no-direct", action="store_true", help="skip the direct (no Dagster) run")
    ap.add_argument("--direct-first", action="store_true",
                    help="run the direct sessions before the Dagster ones (default after: Dagster gets the colder "
                         "caches, so its overhead is an upper bound)")
    ap.add_argument("--no-baselines", action="store_true", help="skip the floor and pandas baselines")
    ap.add_argument("--keep", action="store_true", help="keep the warehouses under --work")
    ap.add_argument("--json", type=Path, help="write all measurements here")
    a = ap.parse_args(argv)

    work = (a.work or Path(f"/tmp/bench/runs/c{a.clients}_h{a.history}_s{a.sessions}")).resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    start = dt.date.fromisoformat(a.start)
    cwd = os.getcwd()

    with mem.Sampler() as sampler:
        t0 = time.perf_counter()
        import pipelines.definitions  # noqa: F401 - what `crm run` imports before any work
        import pipelines.runner  # noqa: F401
        startup = time.perf_counter() - t0

        print(f"data: {a.clients} clients x {a.history + a.sessions} sessions ...", flush=True)
        data = ensure_dataset(a.data.resolve(), a.clients, start, a.seed, a.history + a.sessions)
        extracts = Path(data["path"])
        days = [dt.date.fromisoformat(d) for d in data["days"]][: a.history + a.sessions]
        history_days, target_days = days[: a.history], days[a.history:]
        print(f"  {extracts} ({'cached' if data['cached'] else 'generated'} "
              f"in {data['generate_seconds']}s)", flush=True)

        def save() -> None:  # after every phase: a killed run keeps what it measured
            if a.json:
                a.json.parent.mkdir(parents=True, exist_ok=True)
                a.json.write_text(json.dumps(res, indent=1, default=str))

        res: dict = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(a).items()},
                     "machine": machine(), "data": {k: v for k, v in data.items() if k != "days"},
                     "startup_seconds": startup, "history": None}
        warehouse = work / "warehouse.duckdb"
        fingerprint, asset_keys = job_fingerprint()
        res["job"] = {"fingerprint": fingerprint, "assets": asset_keys}
        cache = a.data.resolve() / "_history" / f"{extracts.name}_h{a.history}_job{fingerprint}"
        if history_days:
            if a.cache_history and (cache / "warehouse.duckdb").exists():
                print(f"history: {a.history} sessions from cache {cache}", flush=True)
                shutil.copytree(cache, work, dirs_exist_ok=True)
                res["history"] = {"cached": str(cache)}
            else:
                print(f"history: {a.history} sessions through Dagster ...", flush=True)
                res["history"] = dagster_phase(warehouse, extracts, history_days, a.runs_of, sampler)
                os.chdir(cwd)
                print(f"  {res['history']['wall']:.1f}s", flush=True)
                save()
                if a.cache_history:
                    if cache.exists():
                        shutil.rmtree(cache)
                    cache.mkdir(parents=True)
                    shutil.copy(warehouse, cache / "warehouse.duckdb")  # fitted models are inside
        direct_wh = work / "direct" / "warehouse.duckdb"
        if not a.no_direct:
            direct_wh.parent.mkdir(parents=True)
            if warehouse.exists():
                shutil.copy(warehouse, direct_wh)

        def run_direct():
            print("direct: same sessions without Dagster ...", flush=True)
            res["direct"] = direct_phase(direct_wh, extracts, target_days, direct_wh.parent / "reports", sampler)
            print(f"  {res['direct']['wall']:.1f}s", flush=True)
            save()
            if not a.keep:
                shutil.rmtree(direct_wh.parent)

        if not a.no_direct and a.direct_first:
            run_direct()
        print(f"target: {len(target_days)} session(s) {target_days[0]}..{target_days[-1]} through Dagster ...",
              flush=True)
        res["target"] = dagster_phase(warehouse, extracts, target_days, a.runs_of, sampler)
        os.chdir(cwd)
        print(f"  {res['target']['wall']:.1f}s", flush=True)
        save()
        res["rows"] = stage_rows(warehouse, target_days)
        if not a.no_direct and not a.direct_first:
            run_direct()

        if not a.no_baselines:
            last = target_days[-1]
            print("baselines: floor and pandas ...", flush=True)
            res["floor"] = child_json("bench.floor", str(extracts / last.isoformat()))
            res["pandas"] = child_json("bench.pandas_baseline", str(extracts), last.isoformat(),
                                       "--warehouse", str(warehouse))
        res["process_peak_rss_mb"] = mem.hwm_mb()

    if a.json:  # the raw measurements first, whatever happens below
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(res, indent=1, default=str))
    res["summary"] = summarize(res)
    res["table"] = build_table(res)
    print()
    print_table(res["table"], res)
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(res, indent=1, default=str))
        print(f"\njson -> {a.json}")
    if not a.keep:
        for p in (warehouse, work / "reports"):
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
    if res.get("pandas", {}).get("exit_code"):
        raise SystemExit("the pandas baseline failed or disagrees with the warehouse (see its agreement)")
    return res


if __name__ == "__main__":
    main()
