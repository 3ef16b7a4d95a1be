"""Broker books (经纪人客户簿), team pages and client cards: one self-contained HTML file per
broker and per team, for one session, in out_dir/books/ (the last day written).

Why the pages are built this way: a broker has a few thousand clients and a book must stay
under 2 MB and open at once. So every query runs once for all brokers (sql/reports/book_*.sql)
and is grouped here; a book carries its clients as one compact JSON document (numbers already
formatted, the 60-session charts as one character per session: book_series.sql) that an inline
script turns into the table and, on a click, into the client card. No client datum reaches the
page but through `|tojson` (which escapes <, >, & and ') and the script writes it with
textContent, so a hostile name stays text. Names are masked by reports.queries.fetch.

A client is an array in the order of FIELDS (the page carries FIELDS; _book.js.j2 reads by name).
A field marked * holds an index into the page's `codes` list of that name (-1: none), securities
and sessions are indices into `secs` and `dates`:

    id nm     client number, masked name
    sg*       segment
    a at      total assets (rounded to the cent, for sorting) and its text
    rv rvt    revenue of the indicator window, and its text
    ly        loyalty score (one decimal)
    tl*       trapped level (none / light / medium / deep)
    ds dm     sessions since the last trade, dormant (1 / 0)
    rk rt rl* churn risk (for sorting), its text (a level or a percentage), its level
    sc*       what scored it: r the rule (规则评分), c the rule calibrated on a fit's labels, m a model
    rs ac     reasons (churn drivers), suggested actions (indices into ACTIONS)
    ca mv pl  cash, market value, unrealized P&L texts
    wt*       wealth tier
    s         [assets codes, lowest text, highest text, trading codes, largest day text]
    h         holdings: [security, quantity, cost, market value, trapped depth, level (tl*)]
    t         recent trades: [session, side*, security, quantity, price, amount]
    g         segment runs: [segment (sg*), first session, last session]
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import duckdb

from core.config import Settings
from core.db import connect

from . import labels
from .calls import by_broker, call_list, call_outcomes, team_outcomes, write_call_workbook
from .formatting import fmt_cny, fmt_int, fmt_num, fmt_pct, fmt_wan, fmt_yuan
from .links import book_href, books_dir, team_href
from .queries import branch_name, fetch, rankings, report_params
from .render import _write, environment
from .targets import METRICS, completion, load_targets, month_targets

log = logging.getLogger(__name__)
# A client's fields, in the order of its array (the module's docstring says what each holds).
FIELDS = ("id", "nm", "sg", "a", "at", "rv", "rvt", "ly", "tl", "ds", "dm", "rk", "rt", "rl", "sc", "rs", "ac",
          "ca", "mv", "pl", "wt", "s", "h", "t", "g")
# One character per chart level (64 levels); "." marks a session without the client's row.
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
MISSING = "."
# Trades a card lists: 10 would bring a 3,000-client book to ~1.95 MB at 60 sessions, 5 to ~1.7 MB.
RECENT_TRADES = 5
# The suggested actions (key, condition, action) of labels.ACTIONS, in its order; a client with
# none of them gets NO_ACTION.
ACTIONS = [(key, condition, action) for key, (condition, action) in labels.ACTIONS.items()]
NO_ACTION = "常规维护"
SIDES = {"B": "买入", "S": "卖出"}
SCORERS = {"r": labels.SCORERS["rule"], "c": labels.SCORERS["calibrated"], "m": labels.SCORERS["model"]}
PAGE_NAME = re.compile(r"(broker|team)-[^/]+\.html")
# A team page's row of a broker without a ranking row this month (queries.rankings' columns).
NO_RANKING = dict.fromkeys(("rank", "prev_rank", "clients", "effective_clients", "total_assets", "net_inflow",
                            "trade_amount", "net_commission", "revenue", "new_clients", "active_ratio",
                            "churned_clients", "day_revenue"))


def _actions(r: dict) -> list[int]:
    flags = {"churn": r["risk_level"] == "high", "dormant": bool(r["is_dormant"]), "trapped": bool(r["is_trapped"])}
    return [i for i, (key, _, _) in enumerate(ACTIONS) if flags[key]]


def _round(value, digits: int):
    return None if value is None else round(value, digits)


class _Index:
    """Values of one kind numbered in order of first use (codes, securities): a page names each once."""

    def __init__(self):
        self.index: dict = {}

    def __call__(self, value) -> int:
        if value is None or value == "":
            return -1
        return self.index.setdefault(value, len(self.index))

    def values(self) -> list:
        return list(self.index)


class _Page:
    """What one book's clients point to: codes by kind, securities (with a name of the day's quotes)
    and sessions."""

    def __init__(self, dates: list[dt.date]):
        self.codes = defaultdict(_Index)
        self.secs = _Index()
        self.names: dict[tuple, str] = {}
        self.session = {d: i for i, d in enumerate(dates)}

    def security(self, market: str, code: str, name: str | None) -> int:
        if name and (market, code) not in self.names:  # a stale quote has no name: another row may
            self.names[(market, code)] = name
        return self.secs((market, code))

    def document(self, clients: list[list], dates: list[dt.date]) -> dict:
        return {"fields": FIELDS, "codes": {k: v.values() for k, v in self.codes.items()},
                "dates": [d.isoformat() for d in dates], "alphabet": ALPHABET, "missing": MISSING,
                "secs": [f"{self.names.get(k, '')} {k[1]}".strip() for k in self.secs.values()], "clients": clients}


def _scorer(risk: float | None, rule: bool, calibrated: bool) -> str | None:
    return None if risk is None else "r" if rule else "c" if calibrated else "m"


def _client(r: dict, data: dict, page: _Page) -> list:
    """One client of a book, in the order of FIELDS."""
    cid, risk, rule = r["client_id"], r["churn_risk"], bool(r["rule_scored"])
    code = page.codes
    series = data["series"].get(cid)
    holdings = [[page.security(h["market"], h["security_code"], h["security_name"]), fmt_int(h["quantity"]),
                 fmt_yuan(h["cost_amount"]), fmt_yuan(h["market_value"]),
                 "" if h["trapped_depth"] is None else fmt_pct(h["trapped_depth"]), code["tl"](h["trapped_level"])]
                for h in data["holdings"].get(cid, ())]
    trades = [[page.session[t["as_of_date"]], code["side"](t["side"]),
               page.security(t["market"], t["security_code"], t["security_name"]), fmt_int(t["quantity"]),
               fmt_num(t["price"], 3), fmt_yuan(t["amount"])] for t in data["trades"].get(cid, ())]
    runs = [[code["sg"](g["segment"]), g["first_i"] - 1, g["last_i"] - 1] for g in data["segments"].get(cid, ())]
    return [
        cid, r["client_name"] or "", code["sg"](r["segment"]),
        _round(r["total_assets"], 2), fmt_wan(r["total_assets"]), _round(r["revenue_w"], 2), fmt_wan(r["revenue_w"]),
        _round(r["loyalty"], 1), code["tl"](r["trapped_level"]), r["days_since_last_trade"], int(bool(r["is_dormant"])),
        _round(risk, 4), "—" if risk is None else labels.CHURN_LEVELS[r["risk_level"]] if rule else fmt_pct(risk),
        code["rl"](r["risk_level"]), code["sc"](_scorer(risk, rule, r["calibrated_rule"])),
        [labels.driver(x) for x in (r["driver_1"], r["driver_2"], r["driver_3"]) if x], _actions(r),
        fmt_cny(r["cash_balance"]), fmt_cny(r["market_value"]), fmt_cny(r["unrealized_pnl"]), code["wt"](r["wealth_tier"]),
        [series["assets"], fmt_cny(series["lo"]), fmt_cny(series["hi"]), series["trades"], fmt_cny(series["top"])]
        if series else None,
        holdings, trades, runs,
    ]


def load_books(con: duckdb.DuckDBPyConnection, day: dt.date, settings: Settings) -> dict:
    """Every book's data for `day`: each query once for all brokers, grouped by client."""
    params = {**report_params(settings, day),
              "alphabet": ALPHABET, "missing": MISSING, "trades": RECENT_TRADES}
    dates = [r["as_of_date"] for r in fetch(con, "book_sessions", {**params, "sessions": params["trend_sessions"]})]
    if not dates or dates[-1] != day:
        raise LookupError(f"mart.branch_daily has no row for {day}: run the pipeline for that session first")
    params["since"] = dates[0]
    by_client = {}
    for name in ("book_holdings", "book_trades", "book_segments"):
        grouped = defaultdict(list)
        for r in fetch(con, name, params):
            grouped[r["client_id"]].append(r)
        by_client[name] = grouped
    series = {r["client_id"]: r for r in fetch(con, "book_series", params)}
    ranked = rankings(con, day, params)
    return {"dates": dates, "branch_name": branch_name(con, params),
            "clients": fetch(con, "book_clients", params), "series": series,
            "holdings": by_client["book_holdings"], "trades": by_client["book_trades"],
            "segments": by_client["book_segments"], "rankings": ranked,
            "broker_ranking": {r["group_id"]: r for r in ranked["brokers"]},
            "directory": {r["broker_id"]: r for r in fetch(con, "group_names", params)}}


def _book_data(clients: list[dict], data: dict) -> dict:
    """The JSON document of one book: its clients with their cards, and what they point to."""
    page = _Page(data["dates"])
    rows = [_client(r, data, page) for r in clients]
    return page.document(rows, data["dates"])


def _labels(settings: Settings) -> dict:
    """The code -> Chinese labels the book's script shows (one copy per page)."""
    return {"segments": labels.SEGMENTS, "segment_colors": labels.SEGMENT_COLORS,
            "trapped": labels.TRAPPED_LEVELS, "risk": labels.CHURN_LEVELS, "risk_class": labels.CHURN_LEVEL_CLASS,
            "tiers": labels.WEALTH_TIERS, "scorers": SCORERS, "sides": SIDES, "actions": [a for _, _, a in ACTIONS],
            "no_action": NO_ACTION, "dormant": "沉寂", "yes": "是", "no": "否",
            "rule_high": settings.churn.rule_high, "rule_medium": settings.churn.rule_medium}


def _summary(clients: list[dict]) -> dict:
    """The book's head figures, summed from its own rows."""
    return {"clients": len(clients),
            "total_assets": sum(r["total_assets"] or 0 for r in clients),
            "revenue_w": sum(r["revenue_w"] or 0 for r in clients),
            "dormant": sum(bool(r["is_dormant"]) for r in clients),
            "high_risk": sum(r["risk_level"] == "high" for r in clients),
            "trapped": sum(bool(r["is_trapped"]) for r in clients)}


def _broker_info(broker_id: str, data: dict) -> dict:
    info = data["directory"].get(broker_id)
    ranking = data["broker_ranking"].get(broker_id)
    team_id = labels.group_id(info["team_id"] if info else None)
    return {"id": broker_id, "name": labels.group_name(broker_id, info["broker_name"] if info else None),
            "team_id": team_id, "team_name": labels.group_name(team_id, info["team_name"] if info else None),
            "ranking": ranking}


def write_books(con: duckdb.DuckDBPyConnection, day: dt.date, out_dir: Path,
                settings: Settings | None = None, warn: Callable[[str], None] = log.warning) -> list[Path]:
    """Write the broker books and team pages of `day` into out_dir/books/ (a broker in the
    day's directory, ranking or client list gets a book, a team in the directory or ranking a
    page, so that every link of the report resolves), each book with its broker's call list of
    the day, and the day's call workbook out_dir/calls-YYYY-MM-DD.xlsx; remove the pages of
    brokers and teams gone since; return the paths written. A row of targets.csv that cannot
    be read is left out and passed to `warn` (one line naming its row and column)."""
    settings = settings or Settings()
    data = load_books(con, day, settings)
    folder = books_dir(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    env = environment()
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "separators": (",", ":")}
    env.globals.update(book_href=book_href, team_href=team_href, shown_id=labels.shown_id, completion=completion, target_labels=METRICS)
    common = {"day": day, "branch_name": data["branch_name"], "window": settings.indicators.window,
              "sessions": len(data["dates"]), "trades_shown": RECENT_TRADES, "labels_map": _labels(settings),
              "actions": ACTIONS, "no_action": NO_ACTION, "model_high": settings.report.churn_high,
              "model_medium": settings.report.churn_medium,
              "horizon": settings.churn.horizon, "calls_cap": settings.report.calls_per_broker}
    clients_of = defaultdict(list)
    for r in data["clients"]:
        clients_of[labels.group_id(r["broker_id"])].append(r)
    brokers = set(clients_of) | set(data["directory"]) | set(data["broker_ranking"])
    calls = call_list(con, day, settings)
    call_groups = {labels.group_id(g["broker_id"]): g for g in by_broker(calls)}
    paths = [write_call_workbook(calls, Path(out_dir) / f"calls-{day.isoformat()}.xlsx")]
    outcomes = call_outcomes(con, day, settings)
    book = env.get_template("book.html.j2")
    for broker_id in sorted(brokers):
        clients = clients_of.get(broker_id, [])
        html = book.render(**common, broker=_broker_info(broker_id, data), summary=_summary(clients),
                           book=_book_data(clients, data),
                           call_groups=[call_groups[broker_id]] if broker_id in call_groups else [])
        paths.append(folder / book_href(broker_id))
        _write(paths[-1], html)
    teams = defaultdict(list)
    for broker_id in brokers:
        info = _broker_info(broker_id, data)
        teams[info["team_id"]].append(info)
    team_rows = {r["group_id"]: r for r in data["rankings"]["teams"]}
    rows, problems = load_targets(settings.report.targets)
    for problem in problems:
        warn(problem)
    targets = month_targets(rows, day)
    team = env.get_template("team.html.j2")
    for team_id in sorted(set(teams) | set(team_rows)):
        members = sorted(teams.get(team_id, []), key=lambda b: (b["ranking"] is None,
                                                               b["ranking"]["rank"] if b["ranking"] else 0,
                                                               b["id"]))
        name = next((m["team_name"] for m in members if m["team_id"] == team_id), labels.group_name(team_id))
        goals = {"team": targets.get(("team", team_id), {}),
                 **{m["id"]: targets.get(("broker", m["id"]), {}) for m in members}}
        html = team.render(**common, team={"id": team_id, "name": name, "ranking": team_rows.get(team_id)},
                           goals=goals, goal_metrics=[k for k in METRICS if any(k in g for g in goals.values())],
                           brokers=members, month_start=data["rankings"]["month_start"], no_ranking=NO_RANKING,
                           outcomes=outcomes, outcome_rows=team_outcomes(members, outcomes))
        paths.append(folder / team_href(team_id))
        _write(paths[-1], html)
    for page in folder.iterdir():
        if PAGE_NAME.fullmatch(page.name) and page not in paths:
            page.unlink()
    return paths


def render_books(warehouse: Path, day: dt.date, out_dir: Path, settings: Settings | None = None,
                 warn: Callable[[str], None] = log.warning) -> list[Path]:
    """write_books on the warehouse opened read-only (`crm report --date`)."""
    with connect(warehouse, read_only=True) as con:
        return write_books(con, day, out_dir, settings, warn)
