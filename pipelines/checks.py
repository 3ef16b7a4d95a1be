"""Blocking data checks, run by the assets right after they write (one result per run range).

Each check is a query in sql/checks/ (or a generated unique-key query) returning the
offending rows; no row means passed. A failing check stops downstream assets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg
import duckdb

from .warehouse import run_sql, sql_text

SAMPLE_ROWS = 10


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    sql: str

    def spec(self, asset_key: dg.AssetKey) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(self.name, asset=asset_key, description=self.description,
                                 blocking=True)

    def evaluate(self, con: duckdb.DuckDBPyConnection, asset_key: dg.AssetKey,
                 params: Mapping[str, object]) -> dg.AssetCheckResult:
        bad = run_sql(con, self.sql, params).pl()
        return dg.AssetCheckResult(
            check_name=self.name, asset_key=asset_key, passed=bad.height == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"violations": bad.height,
                      "sample": dg.MetadataValue.md(_markdown(bad.head(SAMPLE_ROWS)))},
        )


def _markdown(df) -> str:
    if df.height == 0:
        return "none"
    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    return head + "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in df.iter_rows())


def from_file(name: str, description: str) -> Check:
    return Check(name, description, sql_text(f"checks/{name}"))


def unique_key(table: str, keys: list[str], by_day: bool = True) -> Check:
    """Rows of mart.<table> sharing a key (over the run's days, or the whole table)."""
    where = "where as_of_date between $start and $end" if by_day else ""
    cols = ", ".join(keys)
    return Check(f"{table}_key_unique", f"({cols}) is unique in mart.{table}",
                 f"select {cols}, count(*) as rows from mart.{table} {where} "
                 f"group by {cols} having count(*) > 1")


RAW_CHECKS = {
    "trades": [
        from_file("raw_loads_reconcile", "every file: rows read = loaded + rejected, and loaded = rows in raw"),
        from_file("raw_reject_share", "no file has more rejected rows than max_reject_share"),
    ],
    "cash": [
        from_file("raw_cash_reconciles", "cash change = transfers + trade flows with fees, within 0.01 CNY"),
        from_file("client_without_cash_row", "every client with positions or trades has a cash row"),
    ],
    "positions": [
        from_file("raw_no_negative_holdings", "no negative cash, quantities > 0, costs >= 0"),
    ],
}
MART_CHECKS = {
    "client_daily": [unique_key("client_daily", ["as_of_date", "client_id"])],
    "client_indicators": [
        unique_key("client_indicators", ["as_of_date", "client_id"]),
        from_file("value_share_sums_to_one", "value_share adds up to 1 on every day with revenue"),
        from_file("trapped_ratio_in_range", "trapped_ratio in [0, 1], trapped_depth in [threshold, 1]"),
    ],
    "security_trapped": [unique_key("security_trapped", ["as_of_date", "market", "security_code"])],
    "branch_daily": [unique_key("branch_daily", ["as_of_date"])],
    "branch_period": [unique_key("branch_period", ["period_type", "period_start"], by_day=False)],
    "broker_ranking": [unique_key("broker_ranking", ["period_type", "period_start", "broker_id"], by_day=False)],
    "team_ranking": [unique_key("team_ranking", ["period_type", "period_start", "team_id"], by_day=False)],
}
