"""What an analyst would write in pandas: `client_daily` + `client_indicators` of one session.

Straight from the CSV extracts, no warehouse: for each of the W sessions of the window
(and the one before, for daily_pnl) read cash, positions, quotes, trades and clients with
`pd.read_csv`, merge, group by client; then group the window's client-days by client.
Favourable to pandas: no validation or rejects, no GBK detection, and only the 20-session
indicators (not the 60/121-session dormancy, churn and days_since_last_trade).

Its numbers are compared with the warehouse's for that session (max |difference| per
column must be <= 0.01), so the speed comparison is between equal results. Run as a
child process (own memory):

    python -m bench.pandas_baseline EXTRACTS_ROOT 2024-03-29 [--warehouse W.duckdb]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import IndicatorConfig
from core.sessions import trading_calendar

from .mem import hwm_mb

IDS = {"client_id": str, "security_code": str, "broker_id": str, "market": str}
DAILY_COLS = ["total_assets", "market_value", "cost_amount", "cash_balance", "net_inflow", "trade_amount",
              "net_commission", "interest_income", "revenue", "daily_pnl"]
INDICATOR_COLS = ["present_days", "avg_assets", "trade_amount_w", "turnover_rate", "turnover_rate_annual",
                  "active_days", "activity", "net_commission_w", "interest_income_w", "revenue_w",
                  "profitability", "value_share", "pnl_w", "pnl_rate", "unrealized_pnl", "cash_ratio",
                  "concentration", "trapped_ratio", "trapped_depth"]
TOLERANCE = 0.01


def read_day(folder: Path) -> dict[str, pd.DataFrame]:
    return {
        "cash": pd.read_csv(folder / "cash.csv", dtype=IDS),
        "positions": pd.read_csv(folder / "positions.csv", dtype=IDS),
        "quotes": pd.read_csv(folder / "quotes.csv", dtype=IDS),
        "trades": pd.read_csv(folder / "trades.csv", dtype=IDS),
        "clients": pd.read_csv(folder / "clients.csv", dtype=IDS, usecols=["client_id", "open_date"],
                               parse_dates=["open_date"]),
    }


def value_positions(pos: pd.DataFrame, quotes: pd.DataFrame, last_close: pd.DataFrame) -> pd.DataFrame:
    """Positions with market_value; a security without a quote today takes its last close."""
    pos = pos.merge(quotes[["market", "security_code", "close"]], on=["market", "security_code"], how="left")
    if pos["close"].isna().any() and len(last_close):
        old = pos.merge(last_close, on=["market", "security_code"], how="left", suffixes=("", "_old"))
        pos["close"] = pos["close"].fillna(old["close_old"])
    pos["market_value"] = pos["quantity"] * pos["close"]
    return pos


def client_daily(day: dt.date, f: dict[str, pd.DataFrame], pos: pd.DataFrame, prev: pd.DataFrame | None,
                 next_session: dt.date, spread: float) -> pd.DataFrame:
    hold = pos.groupby("client_id").agg(market_value=("market_value", "sum"), cost_amount=("cost_amount", "sum"))
    tr = f["trades"].groupby("client_id").agg(trade_count=("trade_id", "size"), trade_amount=("amount", "sum"),
                                              commission=("commission", "sum"),
                                              exchange_fee=("exchange_fee", "sum"))
    d = f["cash"].merge(hold, on="client_id", how="left").merge(tr, on="client_id", how="left")
    d = d.merge(f["clients"], on="client_id", how="left")
    d[["market_value", "cost_amount", "trade_count", "trade_amount", "commission", "exchange_fee"]] = d[
        ["market_value", "cost_amount", "trade_count", "trade_amount", "commission", "exchange_fee"]].fillna(0)
    d["total_assets"] = d["cash_balance"] + d["market_value"]
    d["net_inflow"] = d["deposit_amount"] - d["withdraw_amount"]
    d["net_commission"] = d["commission"] - d["exchange_fee"]
    d["interest_income"] = d["cash_balance"] * spread * (next_session - day).days / 360
    d["revenue"] = d["net_commission"] + d["interest_income"]
    if prev is not None:
        d = d.merge(prev[["client_id", "total_assets"]].rename(columns={"total_assets": "prev_assets"}),
                    on="client_id", how="left")
    else:
        d["prev_assets"] = np.nan
    pnl = np.where(d["prev_assets"].isna(), 0.0, d["total_assets"] - d["prev_assets"] - d["net_inflow"])
    d["daily_pnl"] = np.where(d["open_date"] == pd.Timestamp(day), d["total_assets"] - d["net_inflow"], pnl)
    d["as_of_date"] = day
    return d.drop(columns=["prev_assets", "open_date"])


def holdings(pos: pd.DataFrame, trap: float) -> pd.DataFrame:
    """Concentration (HHI) and trapped cost / loss per client on one day."""
    pos = pos.copy()
    pos["weight"] = pos["market_value"] / pos.groupby("client_id")["market_value"].transform("sum")
    loss = np.where(pos["cost_amount"] > 0, 1 - pos["market_value"] / pos["cost_amount"].where(pos["cost_amount"] > 0),
                    np.nan)
    trapped = np.nan_to_num(loss, nan=-1.0) >= trap
    pos["w2"] = pos["weight"] ** 2
    pos["trapped_cost"] = np.where(trapped, pos["cost_amount"], 0.0)
    pos["trapped_loss"] = np.where(trapped, pos["cost_amount"] - pos["market_value"], 0.0)
    return pos.groupby("client_id").agg(concentration=("w2", "sum"), pos_cost=("cost_amount", "sum"),
                                        trapped_cost=("trapped_cost", "sum"),
                                        trapped_loss=("trapped_loss", "sum"))


def indicators(history: pd.DataFrame, day: dt.date, hold: pd.DataFrame, p: dict) -> pd.DataFrame:
    today = history[history["as_of_date"] == day].set_index("client_id")
    g = history.assign(active=history["trade_count"] > 0).groupby("client_id").agg(
        present_days=("total_assets", "size"), avg_assets=("total_assets", "mean"),
        trade_amount_w=("trade_amount", "sum"), active_days=("active", "sum"),
        net_commission_w=("net_commission", "sum"), interest_income_w=("interest_income", "sum"),
        revenue_w=("revenue", "sum"), pnl_w=("daily_pnl", "sum"))
    i = today[["market_value", "cost_amount", "cash_balance", "total_assets"]].join(g, how="left").join(hold)
    avg = i["avg_assets"].replace(0, np.nan)
    i["turnover_rate"] = i["trade_amount_w"] / avg
    i["turnover_rate_annual"] = i["turnover_rate"] * p["annual_sessions"] / i["present_days"]
    i["activity"] = i["active_days"] / i["present_days"]
    i["profitability"] = i["revenue_w"] / avg * p["annual_sessions"] / i["present_days"]
    i["value_share"] = i["revenue_w"] / i["revenue_w"].sum()
    i["pnl_rate"] = i["pnl_w"] / avg
    i["unrealized_pnl"] = i["market_value"] - i["cost_amount"]
    i["cash_ratio"] = i["cash_balance"] / i["total_assets"].replace(0, np.nan)
    i["trapped_ratio"] = (i["trapped_cost"] / i["pos_cost"].replace(0, np.nan)).fillna(0)
    i["trapped_depth"] = i["trapped_loss"] / i["trapped_cost"].replace(0, np.nan)
    i["is_effective"] = i["total_assets"] >= p["effective_assets"]
    i["wealth_tier"] = pd.cut(i["total_assets"], [-np.inf, 1e5, 5e5, 3e6, 1e7, np.inf], right=False,
                              labels=["mass", "affluent", "wealth", "hnw", "uhnw"])
    return i.reset_index()


def run(root: Path, day: dt.date) -> dict:
    """Time the analyst's computation of `day` (and its window) from the CSV files."""
    cal, p = trading_calendar(), IndicatorConfig().params()
    w = p["window"]
    folders = {dt.date.fromisoformat(x.name): x for x in root.iterdir() if x.is_dir() and x.name[0].isdigit()}
    i = cal.index(day)
    window = [d for d in cal.sessions[max(i - w + 1, 0):i + 1] if d in folders]
    first = cal.sessions[max(i - w, 0)]
    days = ([first] if first in folders and first not in window else []) + window
    t_all = time.perf_counter()
    daily, prev, per_day = {}, None, []
    last_close = pd.DataFrame(columns=["market", "security_code", "close"])
    for d in days:
        t0 = time.perf_counter()
        f = read_day(folders[d])
        t_read = time.perf_counter() - t0
        pos = value_positions(f["positions"], f["quotes"], last_close)
        daily[d] = prev = client_daily(d, f, pos, prev, cal.next_session(d), p["cash_spread_rate"])
        last_close = (pd.concat([last_close, f["quotes"][["market", "security_code", "close"]]])
                      .drop_duplicates(["market", "security_code"], keep="last"))
        per_day.append({"day": d.isoformat(), "read_s": t_read, "total_s": time.perf_counter() - t0,
                        "rows": int(sum(len(x) for x in f.values()))})
    t0 = time.perf_counter()
    history = pd.concat([daily[d] for d in window], ignore_index=True)
    ind = indicators(history, day, holdings(pos, p["trap_threshold"]), p)
    t_window = time.perf_counter() - t0
    total = time.perf_counter() - t_all
    last = per_day[-1]
    return {
        "day": day.isoformat(), "window_sessions": len(window), "sessions_read": len(days),
        "full_seconds": round(total, 3),
        "day_seconds": round(last["total_s"] + t_window, 3),  # read + client_daily of D, then the window
        "day_read_seconds": round(last["read_s"], 3),
        "day_client_daily_seconds": round(last["total_s"] - last["read_s"], 3),
        "window_seconds": round(t_window, 3),
        "rows_day": last["rows"], "clients": len(ind),
        "_daily": daily[day], "_indicators": ind,
    }


def compare(warehouse: Path, day: dt.date, daily: pd.DataFrame, ind: pd.DataFrame) -> dict:
    """Max |pandas - warehouse| per column for `day`; raises if any exceeds TOLERANCE."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        wd = con.execute("select * from mart.client_daily where as_of_date = ?", [day]).df()
        wi = con.execute("select * from mart.client_indicators where as_of_date = ?", [day]).df()
    out, bad = {}, []
    for name, ours, theirs, cols in (("client_daily", wd, daily, DAILY_COLS),
                                     ("client_indicators", wi, ind, INDICATOR_COLS)):
        if len(ours) != len(theirs):
            bad.append(f"{name}: {len(theirs)} pandas rows vs {len(ours)} in the warehouse")
        m = ours.merge(theirs, on="client_id", suffixes=("_wh", "_pd"), how="outer", indicator=True)
        if (m["_merge"] != "both").any():
            bad.append(f"{name}: {(m['_merge'] != 'both').sum()} clients in one side only")
        for c in cols:
            a, b = m[f"{c}_wh"].astype(float), m[f"{c}_pd"].astype(float)
            nulls = int((a.isna() != b.isna()).sum())
            diff = float(np.nanmax(np.abs(a - b))) if (a.notna() & b.notna()).any() else 0.0
            out[f"{name}.{c}"] = diff
            if nulls or diff > TOLERANCE:
                bad.append(f"{name}.{c}: max |diff| {diff:.6g}, {nulls} null mismatches")
    return {"max_abs_diff": out, "columns": len(out), "ok": not bad, "problems": bad}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("root", type=Path)
    ap.add_argument("day")
    ap.add_argument("--warehouse", type=Path, help="compare with mart.* of this DuckDB file")
    a = ap.parse_args(argv)
    day = dt.date.fromisoformat(a.day)
    res = run(a.root, day)
    daily, ind = res.pop("_daily"), res.pop("_indicators")
    res["self_peak_rss_mb"] = hwm_mb()  # before the comparison reads the warehouse
    if a.warehouse:
        res["agreement"] = compare(a.warehouse, day, daily, ind)
    print(json.dumps(res))
    if a.warehouse and not res["agreement"]["ok"]:
        raise SystemExit("pandas baseline disagrees with the warehouse: " + "; ".join(res["agreement"]["problems"]))


if __name__ == "__main__":
    main()
