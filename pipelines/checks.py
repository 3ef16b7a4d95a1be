"""The registry's checks (core/checks.py) as Dagster asset checks: specs and results."""

from __future__ import annotations

import dagster as dg
import polars as pl

from core.checks import Check, Outcome


def spec(check: Check, key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(check.name, asset=key, description=check.description, blocking=True)


def result(outcome: Outcome, key: dg.AssetKey) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=outcome.check.name, asset_key=key, passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"violations": outcome.violations, "sample": dg.MetadataValue.md(_markdown(outcome.sample))},
    )


def _markdown(df: pl.DataFrame) -> str:
    if df.height == 0:
        return "none"
    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    return head + "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in df.iter_rows())
