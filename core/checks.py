"""Blocking data checks: queries returning the offending rows (no row: passed).

Each check is a file in sql/checks/, a rule on a model's output, or the uniqueness of a
registered table's grain (core/tables.py says which checks guard which table). They run
right after the table is written, over the written range; a failure stops what reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import polars as pl

from .db import run_sql, sql_text
from .tables import Table

SAMPLE_ROWS = 10


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    sql: str
    message: str = ""  # the failure in one line: a format string over the first offending row




@dataclass(frozen=True)
class Outcome:
    check: Check
    table: str
    violations: int
    sample: pl.DataFrame  # the first offending rows

    @property
    def passed(self) -> bool:
        return self.violations == 0

    def line(self) -> str:
        """The failure in one line: the check's message over the first offending row, else
        the check, the count and that row's columns."""
        first = self.sample.row(0, named=True) if self.violations else {}
        if self.check.message and first:
            return self.check.message.format(**first)
        values = ", ".join(f"{k}={v}" for k, v in first.items())
        return f"check {self.check.name} on {self.table} failed for {self.violations} row(s), first: {values}"


def _from_file(name: str, description: str, message: str = "") -> Check:
    return Check(name, description, sql_text(f"checks/{name}"), message)


def unique_key(table: Table) -> Check:
    """Rows of the table sharing its grain (over the checked sessions when it has them)."""
    cols = ", ".join(table.grain)
    where = "where as_of_date between $start and $end" if "as_of_date" in table.grain else ""
    short = table.name.split(".")[1]
    return Check(f"{short}_key_unique", f"({cols}) is unique in {table.name}",
                 f"select {cols}, count(*) as rows from {table.name} {where} group by {cols} having count(*) > 1")


CHECKS: dict[str, Check] = {c.name: c for c in (
    _from_file("raw_loads_reconcile", "every file: rows read = loaded + rejected, and loaded = rows in raw"),
    _from_file("raw_reject_share", "no file has more rejected rows than max_reject_share",
               "{as_of_date}/{file}: check raw_reject_share failed: {rows_rejected:,} of {rows_read:,} rows "
               "rejected (first: row {first_row}, column '{first_column}': {first_reason}); is it the right file?"),
    _from_file("raw_cash_reconciles", "no session has more than max_unreconciled_share of its clients with cash "
                                      "that transfers, other flows and trades do not explain (within 0.01 CNY)",
               "{as_of_date}: check raw_cash_reconciles failed for {unreconciled_clients:,} of "
               "{clients_compared:,} clients (e.g. {client_id}: cash {cash_balance:,.2f} vs flows "
               "{expected_cash:,.2f})"),
    _from_file("client_without_cash_row", "every client with positions or trades has a cash row"),
    _from_file("raw_no_negative_holdings", "no negative cash, quantities > 0"),
    _from_file("value_share_sums_to_one", "value_share adds up to 1 on every day with revenue"),
    _from_file("trapped_ratio_in_range", "trapped_ratio in [0, 1], trapped_depth in [threshold, 1]"),
    _from_file("segment_filled", "every client of the checked sessions has one of the four segments"),
    _from_file("churn_risk_in_range", "every client of the checked sessions has churn_risk in [0, 1]"),
)}


def table_checks(table: Table) -> list[Check]:
    """The registry's checks of one table, its key check last."""
    return [CHECKS[n] for n in table.checks] + ([unique_key(table)] if table.key_check else [])


def evaluate(con: duckdb.DuckDBPyConnection, check: Check, table: str, params: Mapping[str, object]) -> Outcome:
    bad = run_sql(con, check.sql, params).pl()
    return Outcome(check, table, bad.height, bad.head(SAMPLE_ROWS))


def run_checks(con: duckdb.DuckDBPyConnection, tables: list[Table], params: Mapping[str, object]) -> list[Outcome]:
    """Every check of `tables` over params' start..end."""
    return [evaluate(con, c, t.name, params) for t in tables for c in table_checks(t)]

