"""Today's call list (经纪人今日联系名单): per broker, the clients to contact and why, ranked by
the revenue at stake (docs/decisions.md, Call list).

Brokers get it as an .xlsx workbook (one sheet per team) and in the broker book. Clients appear
by client number and masked name only: the broker looks them up in the counter system.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core.config import Settings

from . import labels
from .formatting import fmt_cny, fmt_pct
from .queries import fetch, report_params
from .render import write_atomically

MONEY = "#,##0.00"
# (header, row key, number format): numbers stay numbers in the workbook
COLUMNS = [
    ("经纪人编号", "broker_id", None),
    ("经纪人", "broker_name", None),
    ("排名", "rank", "0"),
    ("客户号", "client_id", None),
    ("客户姓名", "client_name", None),
    ("联系原因", "reason_label", None),
    ("说明", "detail", None),
    ("涉及收入（元）", "stake", MONEY),
    ("资产（元）", "total_assets", MONEY),
]
# call_outcomes.sql's counts per broker and reason, which a team's totals add up
OUTCOME_COUNTS = ("listed", "listed_responded", "comparable", "comparable_responded")
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_MAX = 31


def call_list(con: duckdb.DuckDBPyConnection, day: dt.date, settings: Settings) -> list[dict]:
    """The rows of sql/reports/call_list.sql for `day`, names masked, with the reason in Chinese."""
    rows = fetch(con, "call_list", report_params(settings, day))
    for r in rows:
        r["broker_name"] = labels.group_name(r["broker_id"], r["broker_name"])
        r["reason_label"] = labels.CALL_REASONS[r["reason"]]
        r["detail"] = reason_detail(r)
    return rows


def reason_detail(row: dict) -> str:
    """What the broker says the call is about: the security and its loss, the idle sessions and
    the assets, or the churn risk (a level when the rule scored it: a rank, not a probability)."""
    if row["reason"] == "trapped":
        name = row["security_name"] or row["security_code"]
        return f"{name}（{row['security_code']}）浮亏 {fmt_pct(row['loss'])}"
    if row["reason"] == "dormant":
        idle = row["days_since_last_trade"]
        since = "开户以来未交易" if idle is None else f"{idle} 个交易日未交易"
        return f"{since}，资产 {fmt_cny(row['total_assets'])}"
    if row["rule_scored"]:
        return f"流失风险 {labels.CHURN_LEVELS['high']}（规则评分）"
    return f"流失风险 {fmt_pct(row['churn_risk'], 0)}"


def call_outcomes(con: duckdb.DuckDBPyConnection, day: dt.date, settings: Settings) -> dict:
    """Did the lists work (sql/reports/call_outcomes.sql): per broker, one row per reason with
    the listed and comparable clients, how many of each responded, their rates and the
    difference in percentage points; the span of lists judged (none: too few sessions), the
    sessions a response is looked for in and the cap."""
    rows = fetch(con, "call_outcomes", report_params(settings, day))
    brokers: dict[str, list[dict]] = {}
    for r in rows:
        brokers.setdefault(labels.group_id(r["broker_id"]), []).append(outcome_rates(r))
    span = rows[0] if rows else {"first_list": None, "last_list": None, "lists": 0}
    return {"brokers": brokers, "first": span["first_list"], "last": span["last_list"], "lists": span["lists"],
            "sessions": settings.report.call_outcome_sessions, "cap": settings.report.calls_per_broker}


def outcome_rates(r: dict) -> dict:
    """A row of counts with the reason's label, both response rates and their difference in
    percentage points (None where a group is empty)."""
    listed = r["listed_responded"] / r["listed"] if r["listed"] else None
    comparable = r["comparable_responded"] / r["comparable"] if r["comparable"] else None
    return {**r, "reason_label": labels.CALL_REASONS[r["reason"]], "listed_rate": listed,
            "comparable_rate": comparable,
            "lift_pp": (listed - comparable) * 100 if listed is not None and comparable is not None else None}


def team_outcomes(members: list[dict], outcomes: dict) -> list[dict]:
    """The team page's rows: each member broker's rows, then the team's total per reason."""
    rows = [{**r, "broker": b} for b in members for r in outcomes["brokers"].get(b["id"], [])]
    totals = {}
    for r in rows:
        t = totals.setdefault(r["reason"], dict.fromkeys(OUTCOME_COUNTS, 0) | {"reason": r["reason"]})
        for k in OUTCOME_COUNTS:
            t[k] += r[k]
    order = list(labels.CALL_REASONS)
    return rows + [{**outcome_rates(t), "broker": None} for t in sorted(totals.values(), key=lambda t: order.index(t["reason"]))]


def by_broker(rows: list[dict]) -> list[dict]:
    """The rows grouped per broker, in the query's order (team, broker, rank): the broker
    book's tables (templates/_call_list.html.j2)."""
    groups: dict[object, dict] = {}
    for r in rows:
        g = groups.setdefault(r["broker_id"], {
            "broker_id": r["broker_id"], "broker_name": r["broker_name"],
            "team_name": labels.group_name(r["team_id"], r["team_name"]), "rows": []})
        g["rows"].append(r)
    return list(groups.values())


def sheet_title(name: str | None, taken: set[str]) -> str:
    """A valid sheet name from a team's name: no []:*?/\\, at most 31 characters, not quoted
    at its ends, unique in the workbook regardless of case."""
    base = SHEET_FORBIDDEN.sub("_", ILLEGAL_CHARACTERS_RE.sub("", name or "")).strip().strip("'") or labels.UNASSIGNED
    title, n = base[:SHEET_MAX], 1
    while title.lower() in taken:
        n += 1
        suffix = f"({n})"
        title = base[:SHEET_MAX - len(suffix)] + suffix
    taken.add(title.lower())
    return title


def _width(value: object) -> int:
    """Display width of a cell's text: a CJK character takes two columns."""
    text = f"{value:,.2f}" if isinstance(value, float) else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _fill_sheet(ws, rows: list[dict]) -> None:
    ws.append([h for h, _, _ in COLUMNS])
    for row, r in enumerate(rows, start=2):
        for col, (_, key, number_format) in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=row, column=col)
            value = r[key]
            if value is None:
                continue
            if number_format:
                cell.value = value
                cell.number_format = number_format
            else:
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
                cell.data_type = "s"  # text, even when it starts with '=' (openpyxl would make it a formula)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for col, (header, key, _) in enumerate(COLUMNS, start=1):
        widest = max([_width(header)] + [_width(r[key]) for r in rows if r[key] is not None])
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = min(widest + 2, 60)


def write_call_workbook(rows: list[dict], path: Path) -> Path:
    """Write the call list to `path` (.xlsx), one sheet per team, through a temporary file and a
    rename so that a reader of the share never opens half a workbook; return `path`."""
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    teams: dict[object, list[dict]] = {}
    for r in rows:
        teams.setdefault(r["team_id"], []).append(r)
    taken: set[str] = set()
    for team_rows in teams.values():
        first = team_rows[0]
        _fill_sheet(wb.create_sheet(sheet_title(first["team_name"] or first["team_id"], taken)), team_rows)
    if not teams:
        _fill_sheet(wb.create_sheet("联系名单"), [])
    write_atomically(path, wb.save)
    return path
