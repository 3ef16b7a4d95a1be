"""The report's data layer: the SQL of sql/reports/ run against the warehouse with bound
parameters, rows returned as dicts with every PII field already masked (reports.masking).

Everything is aggregated or cut to a top N in DuckDB; Python only reshapes a few hundred
rows at most.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from core.config import AnalysisConfig, Settings
from core.db import fetch_dicts, running_lookup

from . import labels
from .masking import mask_rows


def fetch(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> list[dict]:
    """Rows of sql/reports/<name>.sql as dicts, PII masked."""
    return mask_rows(fetch_dicts(con, f"reports/{name}", params))


def _ratio(cur, prev):
    """this / previous - 1; None when previous is 0 or missing (spec 3)."""
    if cur is None or prev is None or prev == 0:
        return None
    return cur / prev - 1


# KPI rows: (column, label, format kind); 'signed' measures show the difference, not a ratio.
KPIS = [
    ("clients", "客户数", "count"),
    ("effective_clients", "有效户", "count"),
    ("active_clients", "活跃客户", "count"),
    ("new_clients", "新开户", "count"),
    ("total_assets", "托管资产", "cny"),
    ("net_inflow", "净流入", "signed"),
    ("trade_amount", "成交额", "cny"),
    ("commission", "佣金", "cny"),
    ("net_commission", "净佣金", "cny"),
    ("interest_income", "利差收入", "cny"),
    ("revenue", "收入", "cny"),
    ("commission_rate", "佣金率", "permyriad"),
    ("market_share", "市场份额", "share"),
]
DAY_CARDS = ["total_assets", "net_inflow", "trade_amount", "revenue", "net_commission",
             "commission", "commission_rate", "market_share", "clients", "effective_clients",
             "active_clients", "new_clients"]


def _compare(key: str, kind: str, cur: dict | None, prev: dict | None) -> dict:
    c = cur.get(key) if cur else None
    p = prev.get(key) if prev else None
    out = {"key": key, "value": c, "prev": p, "kind": kind, "change": None, "diff": None}
    if kind == "signed":
        out["diff"] = None if c is None or p is None else c - p
    else:
        out["change"] = _ratio(c, p)
    return out


def kpis(con, day: dt.date, params: dict) -> dict:
    """The day's KPIs vs the previous session, and each period to `day` vs the same number of
    sessions at the start of the previous period (no change when either misses sessions)."""
    days = fetch(con, "branch_days", params)
    if not days or days[0]["as_of_date"] != day:
        raise LookupError(f"mart.branch_daily has no row for {day}: run the pipeline for that session first")
    today, before = days[0], (days[1] if len(days) > 1 else None)
    label = {k: (lab, kind) for k, lab, kind in KPIS}
    cards = []
    for key in DAY_CARDS:
        lab, kind = label[key]
        cards.append({"label": lab, **_compare(key, kind, today, before)})
    # mart.branch_period holds the periods to `day` in the report of a run's last session
    rows = fetch(con, "kpi_periods_stored", params) or fetch(con, "kpi_periods", params)
    like = {r["period_type"]: r for r in fetch(con, "kpi_periods_lfl", params)}
    periods = []
    for ptype in labels.PERIODS:
        cur = next(r for r in rows if r["period_type"] == ptype and r["which"] == "cur")
        lfl = like.get(ptype)
        # a change only between periods whose every exchange session is loaded (同期可比)
        complete = cur["sessions"] == cur["calendar_sessions"]
        comparable = complete and lfl is not None and lfl["sessions"] == lfl["calendar_sessions"]
        periods.append({
            "type": ptype,
            "label": labels.PERIODS[ptype],
            "prev_label": labels.PREVIOUS[ptype],
            "start": cur["d0"],
            "first_session": cur["first_session"],
            "end": cur["period_end"],
            "sessions": cur["sessions"],
            "calendar_sessions": cur["calendar_sessions"],
            "complete": complete,
            "comparable": comparable,
            "lfl_start": lfl["first_session"] if lfl else None,
            "lfl_end": lfl["period_end"] if lfl else None,
            "lfl_sessions": lfl["sessions"] if lfl else 0,
            "values": {k: _compare(k, kind, cur, lfl if comparable else None) for k, _, kind in KPIS},
        })
    return {"today": today, "previous_day": before, "cards": cards, "periods": periods,
            "kpi_rows": [{"key": k, "label": lab, "kind": kind} for k, lab, kind in KPIS]}


def trend(con, params: dict) -> list[dict]:
    return fetch(con, "branch_trend", {**params, "sessions": params["trend_sessions"]})


def branch_name(con, params: dict) -> str:
    rows = fetch(con, "branch_info", params)
    return rows[0]["branch_name"] if rows else "营业部"


def rankings(con, day: dt.date, params: dict) -> dict:
    """Teams and brokers: month to `day` (rank vs last month) and the day (rank vs the
    previous session), names from the brokers snapshot of `day`."""
    month_start = day.replace(day=1)
    prev_start = (month_start - dt.timedelta(days=1)).replace(day=1)
    names = fetch(con, "group_names", params)
    broker_names = {r["broker_id"]: r for r in names}
    team_names = {r["team_id"]: r["team_name"] for r in names}
    out = {"month_start": month_start, "prev_month_start": prev_start}
    p = {**params, "period_type": "month", "period_start": month_start, "prev_start": prev_start}
    # the marts hold the month to `day` in the report of a run's last session: read, not recomputed
    month_rows = fetch(con, "ranking_period_stored", p) or fetch(con, "ranking_period", p)
    day_rows = fetch(con, "ranking_day", p)

    def name(group: str, gid: str | None) -> str:
        if group == "broker":
            return labels.group_name(gid, broker_names[gid]["broker_name"] if gid in broker_names else None)
        return labels.group_name(gid, team_names.get(gid))

    for group in ("team", "broker"):
        daily = {r["group_id"]: r for r in day_rows if r["grp"] == group}
        rows = []
        for r in (r for r in month_rows if r["grp"] == group):
            gid = r["group_id"]
            d = daily.get(gid, {})
            row = {**r, "name": name(group, gid), "day_revenue": d.get("revenue"),
                   "day_rank": d.get("rank"), "day_prev_rank": d.get("prev_rank"),
                   "day_trade_amount": d.get("trade_amount")}
            if group == "broker":
                info = broker_names.get(gid)
                row["team_name"] = info["team_name"] if info else "—"
            rows.append(row)
        out[group + "s"] = rows
        out[group + "s_day"] = [{**d, "name": name(group, d["group_id"])} for d in daily.values()]
    return out


def trapped(con, params: dict) -> dict:
    p = {**params, "top": params["top_trapped"], "per_security": params["clients_per_security"]}
    top = fetch(con, "trapped_top", p)
    clients = fetch(con, "trapped_clients", p)
    by_sec: dict[tuple, list] = {}
    for c in clients:
        c["level_label"] = labels.TRAPPED_LEVELS.get(c["level"], c["level"])
        by_sec.setdefault((c["market"], c["security_code"]), []).append(c)
    for t in top:
        t["clients"] = by_sec.get((t["market"], t["security_code"]), [])
    summary = fetch(con, "trapped_summary", p)[0]
    return {"top": top, "summary": summary}


def clients_to_call(con, params: dict) -> dict:
    """Dormant clients and the churn list. A day scored by the churn rule (a rank) shows
    levels (rule_high / rule_medium of the churn settings), a fitted model's percentages."""
    dormant = fetch(con, "dormant_clients", {**params, "top": params["top_dormant"]})
    churn = fetch(con, "churn_clients", {**params, "top": params["top_churn"]})
    for r in dormant:
        r["tier_label"] = labels.WEALTH_TIERS.get(r["wealth_tier"], r["wealth_tier"])
        r["trapped_label"] = labels.TRAPPED_LEVELS.get(r["trapped_level"], r["trapped_level"])
    for r in churn:
        r["reasons"] = [labels.driver(x) for x in (r["driver_1"], r["driver_2"], r["driver_3"]) if x]
        r["segment_label"] = labels.segment(r["segment"]) if r["segment"] else "—"
        r["tier_label"] = labels.WEALTH_TIERS.get(r["wealth_tier"], r["wealth_tier"])
        r["level_label"] = labels.CHURN_LEVELS.get(r["rule_level"], "")
        r["level_class"] = labels.CHURN_LEVEL_CLASS.get(r["rule_level"], "")
        r["scorer"] = labels.SCORERS.get(labels.scorer_kind(r["model_version"]), "")
    summary = fetch(con, "client_summary", params)[0]
    summary["scored_by"] = labels.churn_scorer(summary["rule_scored_clients"], summary["scored_clients"],
                                               summary["calibrated_rule_clients"])
    return {"dormant": dormant, "churn": churn, "summary": summary}


def segments(con, params: dict) -> dict:
    profile = fetch(con, "segment_profile", params)
    order = _order({r["segment"] for r in profile})
    profile.sort(key=lambda r: order.index(r["segment"]))
    for r in profile:
        r["label"] = labels.segment(r["segment"])
    transitions = fetch(con, "segment_transitions", params)
    corr = fetch(con, "indicator_correlation", params)
    runs = fetch(con, "model_runs", params)
    for r in runs:
        r["model_label"] = labels.MODELS.get(r["model"], r["model"])
    return {"profile": profile, "transitions": _transition_tables(transitions),
            "correlation": _correlation_matrix(corr), "runs": runs}


def _order(codes) -> list:
    known = [s for s in labels.SEGMENT_ORDER if s in codes]
    return known + sorted(c for c in codes if c not in labels.SEGMENT_ORDER and c is not None) + \
        ([None] if None in codes else [])


def _transition_tables(rows: list[dict]) -> list[dict]:
    """Per horizon, a from x to matrix with row shares; None = new (from) / gone (to)."""
    out = []
    for horizon, title in (("month", "较一个月前"), ("day", "较上一交易日")):
        rs = [r for r in rows if r["horizon"] == horizon]
        if not rs:
            continue
        froms = _order({r["from_segment"] for r in rs})
        tos = _order({r["to_segment"] for r in rs})
        cell = {(r["from_segment"], r["to_segment"]): r["clients"] for r in rs}
        matrix = []
        for f in froms:
            total = sum(cell.get((f, t), 0) for t in tos)
            matrix.append({
                "label": labels.segment(f) if f is not None else "新进入",
                "total": total,
                "cells": [{"clients": cell.get((f, t)), "share": (cell.get((f, t), 0) / total) if total else None,
                           "stay": f == t and f is not None} for t in tos],
            })
        moved = sum(v for (f, t), v in cell.items() if f != t)
        out.append({"horizon": horizon, "title": title, "matrix": matrix, "moved": moved,
                    "columns": [labels.segment(t) if t is not None else "已离开" for t in tos]})
    return out


def _correlation_matrix(rows: list[dict]) -> dict | None:
    if not rows:
        return None
    names = []
    for r in rows:
        for k in (r["indicator_a"], r["indicator_b"]):
            if k not in names:
                names.append(k)
    idx = {k: i for i, k in enumerate(names)}
    m = [[None] * len(names) for _ in names]
    for i in range(len(names)):
        m[i][i] = 1.0
    for r in rows:
        i, j = idx[r["indicator_a"]], idx[r["indicator_b"]]
        m[i][j] = m[j][i] = r["spearman"]
    return {"codes": names, "labels": [labels.indicator(n) for n in names], "matrix": m,
            "clients": max((r["clients"] or 0) for r in rows)}


def quality(con, params: dict) -> dict:
    loads = fetch(con, "quality_loads", params)
    rejects = fetch(con, "quality_rejects", {**params, "examples": params["reject_examples"]})
    stale = fetch(con, "stale_quotes", params)[0]
    cash = fetch(con, "cash_unreconciled", params)[0]
    return {"loads": loads, "rejects": rejects, "stale": stale, "cash_unreconciled": cash,
            "rows_read": sum(r["rows_read"] or 0 for r in loads),
            "rows_rejected": sum(r["rows_rejected"] or 0 for r in loads)}


# ---- client analysis (docs/spec/client-analysis.md) --------------------------------------

FLOW_MONTHS = 6           # months of mart.client_flow shown (and of mart.flow_projection's errors averaged)
COHOLDING_TOP = 5         # most-held securities whose co-held securities are shown
MIN_TYPICAL_CLIENTS = 5   # a category is named as a segment's typical trait from this many clients
MOVERS_SHOWN = 10         # loyalty movers shown per direction (mart.loyalty_movers keeps analysis.loyalty_movers)
INDUSTRIES_TOP = 12       # industries held most
TRAPPED_PAIRS_TOP = 10    # industry pairs trapped together
ANALYSIS_TABLES = ("value_by_tier", "value_concentration", "attribute_profile", "attribute_association",
                   "channel_period", "client_flow", "coholding", "client_running")
# beyond the spec's page: each part shown when its table exists (a warehouse of before lacks it)
BEYOND_TABLES = ("loyalty_distribution", "loyalty_movers", "client_habits", "trapped_industries", "flow_projection")
BEYOND_PARTS = ("loyalty", "movers", "industries", "trapped_industries", "projection")


def _month_label(start: dt.date) -> str:
    return f"{start.year}年{start.month}月"


def client_analysis(con, day: dt.date, params: dict) -> dict:
    """The client-analysis section: value by wealth tier and its concentration (month to
    `day`), attributes against segments, trades by channel, the client base's flow and the
    securities held together; beyond the spec's page the loyalty score by group and its
    movers, the industries held and trapped together, and the month-end projection.
    Aggregates only, but the movers (masked). A warehouse without these tables (written
    before they existed) or without their rows for `day` gives empty parts, never an error.
    Period rows (channels, flow) are shown only when they end on or before `day`: the marts
    hold a month to the last session run, and the report of `day` shows no later session."""
    present = {r["table_name"] for r in fetch(con, "analysis_tables", params)}
    if not set(ANALYSIS_TABLES) <= present:
        return {"available": False, "missing": sorted(set(ANALYSIS_TABLES) - present),
                "value": None, "attributes": None, "channels": None, "flow": None, "coholding": None,
                **dict.fromkeys(BEYOND_PARTS)}
    out = {
        "available": True,
        "missing": [],
        "value": _analysis_value(con, params),
        "attributes": _analysis_attributes(con, params),
        "channels": _analysis_channels(con, day, params),
        "flow": _analysis_flow(con, day, params),
        "coholding": None,
        **dict.fromkeys(BEYOND_PARTS),
    }
    if out["value"] or out["attributes"]:  # the client_analysis writer ran for `day`: no pair is a finding
        out["coholding"] = _analysis_coholding(con, params)
    out["available"] = any(out[k] for k in ("value", "attributes", "channels", "flow", "coholding"))
    if not out["available"]:
        return out
    if "loyalty_distribution" in present:
        out["loyalty"] = _analysis_loyalty(con, params)
    if "loyalty_movers" in present and out["loyalty"]:
        out["movers"] = _analysis_movers(con, params)
    if "client_habits" in present:
        out["industries"] = _analysis_industries(con, params)
    if {"trapped_industries", "client_habits"} <= present and out["industries"]:
        out["trapped_industries"] = _analysis_trapped_industries(con, params)
    if "flow_projection" in present:
        out["projection"] = _analysis_projection(con, day, params)
    return out


def _analysis_value(con, params: dict) -> dict | None:
    tiers = fetch(con, "analysis_value_tiers", params)
    if not tiers:
        return None
    for r in tiers:
        r["label"] = labels.WEALTH_TIERS.get(r["wealth_tier"], r["wealth_tier"])
        r["name"] = labels.WEALTH_TIER_NAMES.get(r["wealth_tier"], r["wealth_tier"])
    conc = next(iter(fetch(con, "analysis_concentration", params)), None)
    if conc:
        conc["top_tier_name"] = labels.WEALTH_TIER_NAMES.get(conc["top_tier"], conc["top_tier"])
        n = conc["clients"] or 0
        # the number of clients behind each top share: ceil(p x N), as the mart counts them
        conc["top_counts"] = {p: -(-p * n // 100) for p in (1, 5, 20)}
    with running_lookup(con, {**params, "start": params["day"], "end": params["day"]}):
        curve = fetch(con, "analysis_value_curve", params)
    return {"tiers": tiers, "concentration": conc, "curve": curve,
            "sessions": tiers[0]["sessions"], "clients": sum(r["clients"] for r in tiers),
            "revenue": sum(r["revenue"] or 0 for r in tiers),
            "total_assets": sum(r["total_assets"] or 0 for r in tiers)}


SEGMENT_SHARES = [(s, f"{s}_share", f"{s}_overall") for s in labels.SEGMENT_ORDER]


def _analysis_attributes(con, params: dict) -> dict | None:
    rows = fetch(con, "analysis_attributes", params)
    if not rows:
        return None
    groups: dict[str, dict] = {}
    for r in rows:
        a = r["attribute"]
        g = groups.setdefault(a, {
            "attribute": a, "label": labels.ATTRIBUTES.get(a, a), "cramers_v": r["cramers_v"],
            "clients": r["all_clients"], "categories": [],
            "overall": [r[o] for _, _, o in SEGMENT_SHARES]})
        g["categories"].append({
            "code": r["category"], "label": labels.category(a, r["category"]), "clients": r["clients"],
            "shares": [r[c] for _, c, _ in SEGMENT_SHARES],
            "lifts": [None if r[c] is None or r[o] is None else r[c] - r[o] for _, c, o in SEGMENT_SHARES],
            "dormant_share": r["dormant_share"], "churned_60": r["churned_60"],
            "total_assets": r["total_assets"], "revenue_w": r["revenue_w"]})
    order = [a for a in labels.ATTRIBUTES if a in groups] + sorted(a for a in groups if a not in labels.ATTRIBUTES)
    ordered = []
    for a in order:
        g = groups[a]
        g["categories"].sort(key=lambda c: (labels.category_rank(a, c["code"]), -c["clients"], c["code"]))
        ordered.append(g)
    overall = ordered[0]["overall"]
    typical = []
    for k, (seg, _, _) in enumerate(SEGMENT_SHARES):
        best = None
        for g in ordered:
            for c in g["categories"]:
                lift = c["lifts"][k]
                if (c["code"] in labels.NO_VALUE or c["clients"] < MIN_TYPICAL_CLIENTS or lift is None
                        or lift <= 0):
                    continue
                if best is None or lift > best["lift"]:
                    best = {"segment": seg, "segment_label": labels.segment(seg), "attribute_label": g["label"],
                            "category_label": c["label"], "share": c["shares"][k], "overall": overall[k],
                            "lift": lift, "clients": c["clients"]}
        if best:
            typical.append(best)
    association = sorted((g for g in ordered if g["cramers_v"] is not None), key=lambda g: -g["cramers_v"])
    return {"groups": ordered, "overall": overall, "clients": ordered[0]["clients"],
            "segments": [labels.segment(s) for s, _, _ in SEGMENT_SHARES],
            "segment_codes": [s for s, _, _ in SEGMENT_SHARES], "typical": typical,
            "association": association, "min_typical": MIN_TYPICAL_CLIENTS}


def _analysis_channels(con, day: dt.date, params: dict) -> dict | None:
    rows = fetch(con, "analysis_channels", params)
    if not rows:
        return None
    stored_end = rows[0]["stored_end"]
    cur = [r for r in rows if r["which"] == "cur"]
    prev = {r["channel"]: r for r in rows if r["which"] == "prev"}
    start, end = cur[0]["period_start"], cur[0]["period_end"]
    to_day = start == day.replace(day=1) and end == day
    for r in cur:
        p = prev.get(r["channel"])
        r["label"] = labels.TRADE_CHANNELS.get(r["channel"], r["channel"])
        r["prev_trade_amount"] = p["trade_amount"] if p else None
        r["prev_net_commission"] = p["net_commission"] if p else None
        r["trade_amount_change"] = _ratio(r["trade_amount"], r["prev_trade_amount"])
        r["net_commission_change"] = _ratio(r["net_commission"], r["prev_net_commission"])
        r["trade_count_change"] = _ratio(r["trade_count"], p["trade_count"] if p else None)
        r["share_diff"] = None if p is None or r["amount_share"] is None or p["amount_share"] is None \
            else r["amount_share"] - p["amount_share"]

    def total(rs, key):
        vals = [x[key] for x in rs if x[key] is not None]
        return sum(vals) if vals else None

    prev_rows = list(prev.values())
    totals = {k: total(cur, k) for k in ("trade_count", "trade_amount", "commission", "net_commission")}
    prev_totals = {k: total(prev_rows, k) for k in ("trade_count", "trade_amount", "net_commission")}
    totals["trade_amount_change"] = _ratio(totals["trade_amount"], prev_totals["trade_amount"])
    totals["net_commission_change"] = _ratio(totals["net_commission"], prev_totals["net_commission"])
    totals["trade_count_change"] = _ratio(totals["trade_count"], prev_totals["trade_count"])
    prev_start = prev_rows[0]["period_start"] if prev_rows else None
    return {"rows": cur, "totals": totals, "start": start, "end": end, "to_day": to_day,
            "title": ("本月至今" if to_day else _month_label(start)),
            "month_label": _month_label(start), "prev_label": _month_label(prev_start) if prev_start else None,
            "prev_end": prev_rows[0]["period_end"] if prev_rows else None,
            "stored_end": stored_end if stored_end and stored_end > day else None}


def _analysis_flow(con, day: dt.date, params: dict) -> dict | None:
    rows = fetch(con, "analysis_flow", {**params, "months": FLOW_MONTHS})
    if not rows:
        return None
    for r in rows:
        r["label"] = _month_label(r["month_start"])
        r["to_day"] = r["month_start"] == day.replace(day=1) and r["month_end"] == day
    stored_end = rows[0]["stored_end"]
    return {"rows": rows, "stored_end": stored_end if stored_end and stored_end > day else None}


def _analysis_coholding(con, params: dict) -> list[dict] | None:
    rows = fetch(con, "analysis_coholding", {**params, "top": COHOLDING_TOP})
    out: list[dict] = []
    for r in rows:
        if not out or out[-1]["rank"] != r["held_rank"]:
            out.append({"rank": r["held_rank"], "market": r["market"], "security_code": r["security_code"],
                        "security_name": r["security_name"], "holders": r["holders"],
                        "holder_share": r["holders"] / r["n_clients"] if r["n_clients"] else None,
                        "n_clients": r["n_clients"], "pairs": []})
        if r["security_b"] is not None:
            out[-1]["pairs"].append({
                "security_code": r["security_b"], "security_name": r["security_name_b"], "holders": r["n_b"],
                "both": r["n_ab"], "lift": r["lift"],
                "both_share": r["n_ab"] / r["holders"] if r["holders"] else None})
    return out or None


def _analysis_loyalty(con, params: dict) -> dict | None:
    rows = fetch(con, "analysis_loyalty", params)
    if not rows:
        return None
    for r in rows:
        r["label"] = labels.loyalty_group(r["group_type"], r["group_value"])
        r["mid_share"] = 1 - r["low_share"] - r["high_share"]
    return {"rows": rows, "all": rows[0] if rows[0]["group_type"] == "all" else None,
            "segments": [r for r in rows if r["group_type"] == "segment"],
            "tiers": [r for r in rows if r["group_type"] == "wealth_tier"],
            # the thresholds the shares were computed with (the pipeline's settings; the defaults
            # when the caller's parameters lack them)
            "low": params.get("loyalty_low", AnalysisConfig().loyalty_low),
            "high": params.get("loyalty_high", AnalysisConfig().loyalty_high)}


def _analysis_movers(con, params: dict) -> dict:
    """The day's movers per direction (empty lists when the previous month has no session):
    names masked by fetch, as every client list of the report."""
    rows = fetch(con, "analysis_loyalty_movers", {**params, "top": MOVERS_SHOWN})
    return {"up": [r for r in rows if r["direction"] == "up"], "down": [r for r in rows if r["direction"] == "down"],
            "then_date": rows[0]["then_date"] if rows else None}


def _analysis_industries(con, params: dict) -> dict | None:
    rows = fetch(con, "analysis_industries", {**params, "top": INDUSTRIES_TOP})
    if not rows:
        return None
    for r in rows:
        r["label"] = labels.industry(r["industry"])
    return {"rows": rows, "holders": rows[0]["holders"], "window": params["window"]}


def _analysis_trapped_industries(con, params: dict) -> dict:
    rows = fetch(con, "analysis_trapped_industries", {**params, "top": TRAPPED_PAIRS_TOP})
    for r in rows:
        r["label_a"], r["label_b"] = labels.industry(r["industry_a"]), labels.industry(r["industry_b"])
    return {"rows": rows, "trap_threshold": params["trap_threshold"],
            "min_clients": params.get("coholding_min_clients", AnalysisConfig().coholding_min_clients)}


def _analysis_projection(con, day: dt.date, params: dict) -> dict | None:
    """The projection of the first month whose end is not known on `day` (the month after the
    latest complete one, or the month in progress) and the mean absolute error of the
    projections of the complete months shown."""
    rows = fetch(con, "analysis_projection", {**params, "months": FLOW_MONTHS})
    if not rows:
        return None
    for r in rows:
        r["label"] = _month_label(r["month_start"])
    latest = rows[0]
    if latest["complete"]:
        start = (latest["month_start"].replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        clients, assets = latest["next_clients"], latest["next_assets"]
    else:
        start, clients, assets = latest["month_start"], latest["projected_clients"], latest["projected_assets"]
    measured = [r for r in rows if r["clients_error"] is not None and r["assets_error"] is not None]
    return {"rows": rows, "month_label": _month_label(start), "current": not latest["complete"],
            "clients": clients, "assets": assets, "error_months": len(measured),
            "clients_mae": sum(abs(r["clients_error"]) for r in measured) / len(measured) if measured else None,
            "assets_mae": sum(abs(r["assets_error"]) for r in measured) / len(measured) if measured else None}


def report_params(settings: Settings, day: dt.date) -> dict:
    """What report SQL binds for `day` (the report's, the books' and the call list's): the
    indicator thresholds, the analysis and report settings, the churn rule's levels and horizon."""
    return {**settings.indicators.params(), **settings.analysis.model_dump(), **settings.report.model_dump(),
            "rule_high": settings.churn.rule_high, "rule_medium": settings.churn.rule_medium,
            "horizon": settings.churn.horizon, "day": day}


def load_report(con: duckdb.DuckDBPyConnection, day: dt.date, settings: Settings) -> dict:
    """Everything the report shows for `day`, masked: list sizes from settings.report,
    thresholds from settings.indicators."""
    params = report_params(settings, day)
    return {
        "day": day,
        "limits": settings.report.model_dump(),
        "branch_name": branch_name(con, params),
        "kpi": kpis(con, day, params),
        "trend": trend(con, params),
        "segments": segments(con, params),
        "rankings": rankings(con, day, params),
        "trapped": trapped(con, params),
        "calls": clients_to_call(con, params),
        "quality": quality(con, params),
        "analysis": client_analysis(con, day, params),
    }
