"""How well churn_risk ranks the clients who churn next, session by session, on fresh warehouses.

    .venv/bin/python -m bench.churn_eval --clients 1500 --sessions 140 --seed 11 --json out.json

For each generator configuration (`CONFIGS`: the default branch, and `fading`, whose leavers
come from every active persona, fade out over 20-60 sessions and withdraw less at a time):
generate a branch (cached under --work), build a new warehouse from its first session by the
direct path (core.build.build: ingest, the indicator marts, the features, churn_scores; the
other writers do not feed churn), then rank each client-day by its stored churn_risk against
"a churn_event within the next 20 sessions" (sql/features/churn_labels.sql, complete labels
only) and report:

* AUC per stretch of 10 sessions (session 1 = the warehouse's first), with what scored it
  (`rule`, `model`, or both within the stretch), over sessions 1-60, and over the sessions
  scored by a fitted model (each by the model in force then: fitted on earlier labels only);
* the rule and the previous rule (0.5 x outflow + 0.3 x idle / 60 + 0.2 x fall) computed
  from the stored features of every session, for comparison, and `planted fade`: the
  generator's own truth "this client has started fading out or selling" (1, else 0), which
  no behaviour-based score can beat by much: a leaver that has not started to fade looks
  like anyone else;
* AUC over the sessions from the first fit compared with the rule (whatever scored them);
* ECE (10 equal-width bins) of the model-scored client-days, and of those scored by the rule
  calibrated on a fit's labels (`rule-<session>`);
* exact ties in each day's top 50 (rows whose churn_risk equals one above them), the worst day;
* the handover log (model.churn_runs: held-out AUC of each fit and of the rule, kept or not);
* the churn_scores writer's time per session, and of the scoring alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from core.build import build
from core.config import Settings
from core.db import connect, run_file, run_sql, sql_text
from generator import Leavers, generate
from generator import branch as generator_branch
from models import churn

CONFIGS = {
    "default": Leavers(),
    # leavers of every active persona, a long gradual fade, smaller and rarer withdrawals
    "fading": Leavers(churner_share=0.04, also_leave=(0.03, 0.04, 0.03), first=0.05, fade=(20, 61),
                      fade_trade=0.1, gradual=True, fade_withdraw=0.06, fade_withdraw_share=(0.1, 0.3),
                      sell_days=(2, 9), close_share=0.5),
}
WRITERS = ["raw_extracts", "client_daily", "client_running", "client_windows", "client_features", "churn_scores"]
STRETCH, FIRST, TOP = 10, 60, 50
MARKER = "_churn_eval.json"


def dataset(work: Path, config: str, clients: int, start: dt.date, sessions: int, seed: int) -> tuple[Path, list]:
    """The generated extracts (cached: same arguments and Leavers, same files)."""
    knobs = hashlib.sha1(repr(CONFIGS[config]).encode()).hexdigest()[:6]
    out = work / "data" / f"{config}-{knobs}_c{clients}_{start}_n{sessions}_seed{seed}"
    if (out / MARKER).exists():
        return out, [dt.date.fromisoformat(d) for d in json.loads((out / MARKER).read_text())["days"]]
    shutil.rmtree(out, ignore_errors=True)
    days = generate(out, clients, start, sessions, seed, leavers=CONFIGS[config])
    (out / MARKER).write_text(json.dumps({"days": [d.isoformat() for d in days]}))
    return out, days


def previous_rule(x: np.ndarray) -> np.ndarray:
    """The rule before Step 12 (0.5 x outflow + 0.3 x days idle / 60 + 0.2 x fall from the peak)."""
    col = {f: x[:, i] for i, f in enumerate(churn.FEATURES)}
    return np.clip(0.5 * np.clip(col["net_outflow_share_w"], 0, 1)
                   + 0.3 * np.clip(col["days_since_last_trade"] / 60, 0, 1)
                   + 0.2 * np.clip(1 - col["assets_to_peak"], 0, 1), 0, 1)


def planted_fade(config: str, clients: int, start: dt.date, sessions: int, seed: int) -> pl.DataFrame:
    """client_id, the session index (0-based) each leaver starts to fade: the generator's
    branch rebuilt with the same seed draws the same schedule (generator.branch.generate)."""
    ref = generator_branch.load_reference()
    _, tix = generator_branch._sessions(start, sessions, ref)
    branch = generator_branch._Branch(np.random.default_rng(seed), ref, tix, clients, CONFIGS[config])
    return pl.DataFrame({"client_id": [f"{generator_branch.BRANCH_ID}{i:06d}" for i in range(clients)],
                         "fade_from": branch.pre_start})


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    return round(float(roc_auc_score(y, s)), 3) if 0 < y.sum() < len(y) else None


def _calibrated_rule() -> pl.Expr:
    """The rule calibrated on a fit's labels scored the row (`rule-<session>`)."""
    return pl.col("model_version").str.starts_with(f"{churn.RULE_VERSION}-")


def _rule_scored() -> pl.Expr:
    """The rule scored the row: `rule` (a rank) or calibrated."""
    return (pl.col("model_version") == churn.RULE_VERSION) | _calibrated_rule()


def _ece(rows: pl.DataFrame) -> float | None:
    if not rows.height:
        return None
    y = rows["label"].to_numpy().astype(float)
    return round(churn.expected_calibration_error(y, rows["churn_risk"].to_numpy(), np.ones(rows.height)), 4)


def top_ties(scores: pl.DataFrame) -> pl.DataFrame:
    """Per day: rows of the top TOP whose churn_risk equals the one above them."""
    return (scores.sort(["as_of_date", "churn_risk", "client_id"], descending=[False, True, False])
            .group_by("as_of_date", maintain_order=True).head(TOP)
            .group_by("as_of_date").agg(ties=(pl.col("churn_risk").diff() == 0).sum(),
                                        rule=_rule_scored().all()))


def measure(warehouse: Path, settings: Settings, fade: pl.DataFrame) -> dict:
    with connect(warehouse, read_only=True) as con:
        days = [r[0] for r in con.execute("select distinct as_of_date from mart.churn_scores order by 1").fetchall()]
        labels = run_file(con, "features/churn_labels", {"start": days[0], "end": days[-1], "known_until": days[-1],
                                                          "horizon": settings.churn.horizon}).pl()
        scores = con.execute("select as_of_date, client_id, churn_risk, model_version from mart.churn_scores").pl()
        feats = run_sql(con, sql_text("features/churn_features"), {"start": days[0], "end": days[-1]}).pl()
        runs = con.execute("select as_of_date, version, metric_name, metric_value, note from model.churn_runs "
                           "where metric_name <> 'rows_scored' order by as_of_date, metric_name").pl()
    session = {d: i + 1 for i, d in enumerate(days)}
    x = feats.select(churn.FEATURES).to_numpy().astype(float)
    feats = feats.select("as_of_date", "client_id", "churned_recently").with_columns(
        rule=churn.rule_score(x, settings.churn), previous_rule=previous_rule(x))
    rows = (labels.filter("complete").join(scores, on=["as_of_date", "client_id"])
            .join(feats, on=["as_of_date", "client_id"], how="left")
            .with_columns(session=pl.col("as_of_date").replace_strict(session, return_dtype=pl.Int64))
            .with_columns(stretch=(pl.col("session") - 1) // STRETCH * STRETCH + 1)
            .join(fade, on="client_id", how="left")
            .with_columns(fade=((pl.col("session") - 1 >= pl.col("fade_from")) & (pl.col("churned_recently") == 0))
                          .cast(pl.Float64)))
    model = ~_rule_scored()

    def aucs(frame: pl.DataFrame) -> dict:
        y = frame["label"].to_numpy()
        return {"rows": frame.height, "positives": int(y.sum()), "auc": _auc(y, frame["churn_risk"].to_numpy()),
                "rule": _auc(y, frame["rule"].to_numpy()), "previous_rule": _auc(y, frame["previous_rule"].to_numpy()),
                "planted_fade": _auc(y, frame["fade"].to_numpy())}

    stretches = []
    for (start,), part in sorted(rows.group_by("stretch"), key=lambda g: g[0]):
        kinds = set(np.where(part.select(_rule_scored()).to_series(), "rule", "model"))
        stretches.append({"sessions": f"{start}-{start + STRETCH - 1}",
                          "scored_by": "+".join(sorted(kinds)), **aucs(part)})
    modelled = rows.filter(model)
    ties = top_ties(scores)
    compared = runs.filter(pl.col("metric_name") == "handover")["as_of_date"]
    first_fit = session[compared.min()] if len(compared) else None
    out = {
        "sessions": len(days), "labelled_sessions": rows["session"].max(),
        "stretches": stretches,
        "first_60": aucs(rows.filter(pl.col("session") <= FIRST)),
        "first_60_rule_scored": aucs(rows.filter((pl.col("session") <= FIRST) & ~model)),
        "model_scored": aucs(modelled) if modelled.height else None,
        "first_fit_session": first_fit,
        "after_first_fit": aucs(rows.filter(pl.col("session") >= first_fit)) if first_fit else None,
        "first_model_session": int(modelled["session"].min()) if modelled.height else None,
        "ece_model": _ece(modelled),
        "ece_calibrated_rule": _ece(rows.filter(_calibrated_rule())),
        "top50_ties_max": {"rule": int(ties.filter("rule")["ties"].max() or 0),
                           "model": int(ties.filter(~pl.col("rule"))["ties"].max() or 0)},
        "fits": [{"day": str(d), **{r["metric_name"]: round(r["metric_value"], 4) for r in part.iter_rows(named=True)
                                    if r["metric_name"] in ("auc", "auc_rule", "handover", "ece")}}
                 for (d,), part in runs.group_by("as_of_date", maintain_order=True)],
    }
    return out


def scoring_seconds(warehouse: Path, settings: Settings, day: dt.date) -> dict:
    """The day's scoring alone (rule and model in force), repeated: what a session costs
    besides reading its features and writing its rows."""
    from models import artefacts

    with connect(warehouse, read_only=True) as con:
        feats = run_sql(con, sql_text("features/churn_features"), {"start": day, "end": day}).pl()
        fitted = artefacts.model_in_force(con, "churn", day + dt.timedelta(days=1))
    x = feats.select(churn.FEATURES).to_numpy().astype(float)
    ids = feats["client_id"].to_list()
    out = {"rows": len(x)}
    for name, m in (("rule", churn.rule_model("bench")), ("model", fitted)):
        if m is None:
            continue
        t0 = time.perf_counter()
        for _ in range(5):
            risk = m.score(x, settings.churn)
            churn.drivers_frame(m, ids, x, risk, settings.churn)
        out[name] = round((time.perf_counter() - t0) / 5, 4)
    return out


def run_config(work: Path, config: str, a, settings: Settings) -> dict:
    extracts, days = dataset(work, config, a.clients, a.start, a.sessions, a.seed)
    warehouse = work / "runs" / f"{config}_c{a.clients}_n{a.sessions}_seed{a.seed}.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    warehouse.unlink(missing_ok=True)
    seconds: dict[str, float] = {}
    t = [time.perf_counter()]

    def timed(name, written, outcomes):
        now = time.perf_counter()
        seconds[name] = round(now - t[0], 1)
        t[0] = now

    build(warehouse, days, settings, extracts=extracts, writers=WRITERS, on_writer=timed)
    result = measure(warehouse, settings, planted_fade(config, a.clients, a.start, a.sessions, a.seed))
    result["config"] = config
    result["writer_seconds"] = seconds
    result["churn_seconds_per_session"] = round(seconds["churn_scores"] / len(days), 3)
    result["scoring_seconds"] = scoring_seconds(warehouse, settings, days[-1])
    return result


def report(r: dict) -> str:
    lines = [f"## {r['config']} ({r['sessions']} sessions, labels known for 1-{r['labelled_sessions']})", "",
             "| sessions | scored by | positives | AUC churn_risk | rule | previous rule | planted fade |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for s in r["stretches"] + [{"sessions": "1-60", "scored_by": "", **r["first_60"]},
                               {"sessions": f"{r['first_fit_session']}-: after the first fit", "scored_by": "",
                                **(r["after_first_fit"] or {})},
                               {"sessions": "model-scored", "scored_by": "model", **(r["model_scored"] or {})}]:
        lines.append(f"| {s['sessions']} | {s['scored_by']} | {s.get('positives', '')} | {s.get('auc')} | "
                     f"{s.get('rule')} | {s.get('previous_rule')} | {s.get('planted_fade')} |")
    lines += ["", f"first model-scored session {r['first_model_session']}; ECE (model-scored) {r['ece_model']}, "
              f"(calibrated rule) {r['ece_calibrated_rule']}; "
              f"top-50 ties, worst day: rule {r['top50_ties_max']['rule']}, model {r['top50_ties_max']['model']}",
              f"fits: {r['fits']}",
              f"churn_scores writer {r['writer_seconds']['churn_scores']} s "
              f"({r['churn_seconds_per_session']} s a session); "
              f"scoring + drivers of one session: {r['scoring_seconds']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=1500)
    ap.add_argument("--sessions", type=int, default=140)
    ap.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2024, 1, 2))
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--work", type=Path, default=Path("/tmp/churn_eval"))
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    settings = Settings.load()  # $CRM_CONFIG: e.g. another handover_margin
    results = []
    for config in a.configs.split(","):
        results.append(run_config(a.work, config, a, settings))
        print(report(results[-1]) + "\n", flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
