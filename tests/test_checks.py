"""The blocking asset checks pass on good data and fail, naming the rows, on planted faults."""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import duckdb
import pytest

from pipelines.checks import MART_CHECKS, RAW_CHECKS
from pipelines.config import IndicatorConfig
from pipelines.runner import run_sessions

from .conftest import EXAMPLE

START, END = dt.date(2024, 9, 18), dt.date(2024, 10, 29)
ALL = {c.name: c for checks in (*RAW_CHECKS.values(), *MART_CHECKS.values()) for c in checks}


@pytest.fixture()
def warehouse(example_warehouse, tmp_path):
    path = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, path)
    con = duckdb.connect(str(path))
    yield con
    con.close()


def evaluate(con, name):
    params = {**IndicatorConfig().params(), "start": START, "end": END}
    return ALL[name].evaluate(con, dg.AssetKey(["x"]), params)


def test_every_check_passes_on_the_worked_example(warehouse):
    failed = [name for name in ALL if not evaluate(warehouse, name).passed]
    assert failed == []


@pytest.mark.parametrize("name,fault", [
    ("raw_cash_reconciles", "update raw.cash set cash_balance = cash_balance + 1 "
                            "where client_id = '0731000001' and as_of_date = '2024-09-20'"),
    ("raw_loads_reconcile", "delete from raw.trades where trade_id = (select min(trade_id) from raw.trades "
                            "where as_of_date = '2024-09-20')"),
    ("raw_reject_share", "update quality.loads set rows_rejected = rows_read "
                         "where file = 'market.csv' and as_of_date = '2024-09-18'"),
    ("raw_no_negative_holdings", "update raw.positions set quantity = -100 where as_of_date = '2024-09-18' "
                                 "and client_id = '0731000000' and security_code = '000930'"),
    ("client_without_cash_row", "delete from raw.cash where client_id = '0731000000' and as_of_date = '2024-09-18'"),
    ("value_share_sums_to_one", "update mart.client_indicators set value_share = value_share * 2 "
                                "where as_of_date = '2024-10-08'"),
    ("trapped_ratio_in_range", "update mart.client_indicators set trapped_ratio = 1.5 "
                               "where client_id = '0731000002' and as_of_date = '2024-10-08'"),
    ("client_daily_key_unique", "insert into mart.client_daily select * from mart.client_daily "
                                "where client_id = '0731000002' and as_of_date = '2024-10-08'"),
])
def test_check_fails_on_a_planted_fault(warehouse, name, fault):
    warehouse.execute(fault)
    result = evaluate(warehouse, name)
    assert not result.passed
    assert result.metadata["violations"].value >= 1
    assert result.severity == dg.AssetCheckSeverity.ERROR


def test_a_failing_blocking_check_stops_downstream_assets(tmp_path):
    """A file with too many rejects fails raw/trades' check: no mart is computed that run."""
    root = tmp_path / "extracts"
    shutil.copytree(EXAMPLE / "extracts" / "2024-09-19", root / "2024-09-19")
    with pytest.raises(Exception, match="raw_reject_share"):
        run_sessions(tmp_path / "w.duckdb", root, dt.date(2024, 9, 19), dt.date(2024, 9, 19),
                     indicators=IndicatorConfig(max_reject_share=0.1))
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.trades").fetchone()[0] > 0
        assert con.execute("select count(*) from mart.client_daily").fetchone()[0] == 0
