"""Dagster pipeline of the branch CRM: extracts -> DuckDB warehouse -> marts -> report."""

import warnings

import dagster as dg

# single_run backfill policies and pools are marked beta in Dagster 1.13; we rely on them.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from . import event_log  # noqa: E402,F401  (Dagster's SQLite event log: no flush per event, batched writes)
