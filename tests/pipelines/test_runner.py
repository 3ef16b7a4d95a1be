"""run_sessions: the daily job over a session range through Dagster; a failing blocking check
stops what reads the table."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from core.config import IndicatorConfig, Settings
from pipelines.runner import RunFailed, run_sessions

from ..conftest import EXAMPLE


def test_a_failing_blocking_check_stops_downstream_assets(tmp_path):
    """A file with too many rejects fails raw/trades' check: no mart is computed that run."""
    root = tmp_path / "extracts"
    shutil.copytree(EXAMPLE / "extracts" / "2024-09-19", root / "2024-09-19")
    with pytest.raises(RunFailed, match="raw_reject_share"):
        run_sessions(tmp_path / "w.duckdb", root, dt.date(2024, 9, 19), dt.date(2024, 9, 19),
                     settings=Settings(indicators=IndicatorConfig(max_reject_share=0.1)))
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.trades").fetchone()[0] > 0
        assert con.execute("select count(*) from mart.client_daily").fetchone()[0] == 0
