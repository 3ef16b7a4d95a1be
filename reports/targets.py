"""Targets of teams and brokers (targets.csv) and how far the month has reached them (完成率).

The file is optional and lives beside the configuration file (or where `report.targets` says):

    group,id,period,metric,target
    team,T0,2024-10,revenue,120000
    broker,B001,2024-10,net_inflow,500000

`group` is team or broker, `period` a month (YYYY-MM: the team pages rank month to date), `metric`
a column of the month's ranking (METRICS). A bad row stops the page with one line naming the
file, row and column, as a bad extract would.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

METRICS = {"revenue": "收入", "net_inflow": "净流入", "trade_amount": "成交额", "total_assets": "托管资产",
           "new_clients": "新开户", "effective_clients": "有效户"}
GROUPS = ("team", "broker")
COLUMNS = ("group", "id", "period", "metric", "target")


class TargetsError(ValueError):
    """A row of targets.csv that cannot be read: the message names the file, row and column."""


def _row_error(path: Path, row: int, column: str, problem: str) -> TargetsError:
    return TargetsError(f"{path.name}: row {row}, column '{column}': {problem}")


def load_targets(path: Path | None) -> list[dict]:
    """Every row of targets.csv as {group, id, period, metric, target}; none without a file."""
    if path is None or not Path(path).is_file():
        return []
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise TargetsError(f"{path.name}: header lacks {', '.join(missing)} (expected {','.join(COLUMNS)})")
        rows = []
        for n, r in enumerate(reader, start=1):
            if r["group"] not in GROUPS:
                raise _row_error(path, n, "group", f"'{r['group']}' is not team or broker")
            if r["metric"] not in METRICS:
                raise _row_error(path, n, "metric", f"'{r['metric']}' is not one of {', '.join(METRICS)}")
            try:
                dt.date.fromisoformat(f"{r['period']}-01")
            except ValueError:
                raise _row_error(path, n, "period", f"'{r['period']}' is not a month YYYY-MM") from None
            try:
                target = float(r["target"])
            except ValueError:
                raise _row_error(path, n, "target", f"'{r['target']}' is not a number") from None
            if target <= 0:
                raise _row_error(path, n, "target", "must be > 0")
            rows.append({"group": r["group"], "id": r["id"], "period": r["period"], "metric": r["metric"],
                         "target": target})
    return rows


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
