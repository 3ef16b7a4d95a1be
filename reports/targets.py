"""Targets of teams and brokers (targets.csv) and how far the month has reached them (完成率).

The file is optional and lives beside the configuration file (or where `report.targets` says):

    group,id,period,metric,target
    team,T0,2024-10,revenue,120000
    broker,B001,2024-10,net_inflow,500000

`group` is team or broker, `period` a month (YYYY-MM: the team pages rank month to date), `metric`
a column of the month's ranking (METRICS). Targets are presentation input, so a bad row never
stops a night: it is left out with one warning line naming the file, row and column (as a bad
extract row is rejected), the good rows still count, and a file that cannot be read at all
(wrong header, not UTF-8) means no targets and one warning.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

METRICS = {"revenue": "收入", "net_inflow": "净流入", "trade_amount": "成交额", "total_assets": "托管资产",
           "new_clients": "新开户", "effective_clients": "有效户"}
GROUPS = ("team", "broker")
COLUMNS = ("group", "id", "period", "metric", "target")


def _problem(r: dict) -> tuple[str, str] | None:
    """(column, problem) of the first bad value of a row, None when it reads."""
    if r["group"] not in GROUPS:
        return "group", f"'{r['group']}' is not team or broker"
    if not r["id"]:
        return "id", "empty"
    if r["metric"] not in METRICS:
        return "metric", f"'{r['metric']}' is not one of {', '.join(METRICS)}"
    try:
        dt.date.fromisoformat(f"{r['period']}-01")
    except (TypeError, ValueError):
        return "period", f"'{r['period']}' is not a month YYYY-MM"
    try:
        target = float(r["target"])
    except (TypeError, ValueError):
        return "target", f"'{r['target']}' is not a number"
    if not target > 0:
        return "target", "must be > 0"
    return None


def load_targets(path: Path | None) -> tuple[list[dict], list[str]]:
    """The readable rows of targets.csv as {group, id, period, metric, target}, and one warning
    line per row or file left out; neither without a file. A later row for the same group, id,
    period and metric replaces an earlier one (with a warning)."""
    if path is None or not Path(path).is_file():
        return [], []
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                return [], [f"{path.name}: header lacks {', '.join(missing)} (expected {','.join(COLUMNS)}): "
                             f"no targets"]
            rows: dict[tuple, dict] = {}
            warnings = []
            for n, r in enumerate(reader, start=1):
                bad = _problem(r)
                if bad:
                    warnings.append(f"{path.name}: row {n}, column '{bad[0]}': {bad[1]}: row left out")
                    continue
                key = (r["group"], r["id"], r["period"], r["metric"])
                if key in rows:
                    warnings.append(f"{path.name}: row {n}: repeats row {rows[key]['row']}, replaces it")
                rows[key] = {"group": r["group"], "id": r["id"], "period": r["period"], "metric": r["metric"],
                             "target": float(r["target"]), "row": n}
    except UnicodeDecodeError as e:
        return [], [f"{path.name}: not UTF-8 (byte {e.start}): no targets"]
    return [{k: v for k, v in r.items() if k != "row"} for r in rows.values()], warnings


def month_targets(rows: list[dict], day: dt.date) -> dict[tuple[str, str], dict[str, float]]:
    """The targets of `day`'s month per (group, id): {metric: target}."""
    month = f"{day.year:04d}-{day.month:02d}"
    out: dict[tuple[str, str], dict[str, float]] = {}
    for r in rows:
        if r["period"] == month:
            out.setdefault((r["group"], r["id"]), {})[r["metric"]] = r["target"]
    return out


def completion(actual: float | None, target: float | None) -> float | None:
    """完成率: the month to date's figure over its target (None without either)."""
    if actual is None or target is None:
        return None
    return actual / target
