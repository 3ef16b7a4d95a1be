"""A report connection runs the macros of sql/, never stale ones persisted in the file (by
an older pipeline run, say): core.db.connect loads them as TEMP macros, which win."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from core.db import connect
from reports.queries import fetch

from .conftest import DAY, report_params

# Same name and parameters as sql/staging/stg_session_periods_of_day.sql, same columns,
# wrong rows: one week of the year 2000.
BOGUS = """create macro stg_session_periods_of_day(day) as table
select 'week' as period_type, 1 as ord, 'cur' as which, date '2000-01-03' as d0, date '2000-01-07' as d1"""


def test_a_read_only_report_connection_ignores_a_persisted_macro(example_warehouse, tmp_path):
    path = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, path)
    params = report_params(DAY)
    with connect(path, read_only=True) as con:
        right = fetch(con, "kpi_periods", params)
    assert len(right) == 10 and {r["period_type"] for r in right} == {"week", "month", "quarter", "half", "year"}

    with duckdb.connect(str(path)) as con:  # persisted: not TEMP
        con.execute(BOGUS)
    with duckdb.connect(str(path), read_only=True) as con:  # the stale macro is there and would be used
        assert con.execute("select count(*) from duckdb_functions() where function_name = "
                           "'stg_session_periods_of_day' and database_name <> 'temp'").fetchone() == (1,)
        assert con.execute("select count(*) from stg_session_periods_of_day(?)", [DAY]).fetchone() == (1,)

    with connect(path, read_only=True) as con:
        assert con.execute("select count(*) from stg_session_periods_of_day(?)", [DAY]).fetchone() == (10,)
        again = fetch(con, "kpi_periods", params)
    # equal up to the order DuckDB adds floating-point sums in (a parallel aggregate's)
    assert len(again) == len(right)
    for a, b in zip(again, right):
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == (pytest.approx(b[k], rel=1e-12) if isinstance(b[k], float) else b[k]), k
