"""Warehouses the client-analysis marts are checked on against the oracle (oracle.py).

- `example_warehouse` (tests/conftest.py): the spec's worked example through Dagster.
- `small_branch` (tests/conftest.py): 600 generated clients
  x 60 sessions by the direct path; the only one with dormant clients.
- `edge_warehouse`: the example with its raw tables altered where neither of the others
  reaches (empty client attributes, missing birth dates, a birthday on a session, trades
  without a channel, stale and missing quotes, codes of the `bj` and `other` boards), then
  every writer rebuilt from raw by the direct path. Only values the loader can write: a
  null where an extract cell is empty, and '' or blanks in the free-text city (a Parquet
  clients file keeps them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from ..conftest import shared_dir

EDGE_CHANGES = """
-- codes of the bj (830xxx, 920xxx) and other (900xxx) boards, renamed in every raw table
update raw.trades set market = 'BJ', security_code = '830799' where market = 'SZ' and security_code = '002201';
update raw.positions set market = 'BJ', security_code = '830799' where market = 'SZ' and security_code = '002201';
update raw.quotes set market = 'BJ', security_code = '830799' where market = 'SZ' and security_code = '002201';
update raw.trades set security_code = '900901' where market = 'SH' and security_code = '603520';
update raw.positions set security_code = '900901' where market = 'SH' and security_code = '603520';
update raw.quotes set security_code = '900901' where market = 'SH' and security_code = '603520';
update raw.trades set market = 'BJ', security_code = '920001' where market = 'SZ' and security_code = '301237';
update raw.positions set market = 'BJ', security_code = '920001' where market = 'SZ' and security_code = '301237';
update raw.quotes set market = 'BJ', security_code = '920001' where market = 'SZ' and security_code = '301237';
-- a held security without a quote on some sessions (an earlier close), one never quoted (0)
delete from raw.quotes where market = 'SZ' and security_code = '000930'
    and as_of_date in (select session_date from ref.sessions where session_idx % 3 = 0);
delete from raw.quotes where market = 'SH' and security_code = '600113';
-- empty client attributes, a birthday on a session (2024-10-15). An empty cell loads as
-- null, except free text from a Parquet file, which keeps '' and blanks (core/extracts.py
-- strips CSV cells only): hence the city as '' and '  ' too
update raw.clients set gender = null where client_id like '%3';
update raw.clients set city = '' where client_id like '%4';
update raw.clients set city = '  ' where client_id like '%0';
update raw.clients set risk_level = null where client_id like '%5';
update raw.clients set channel = null where client_id like '%6';
update raw.clients set birth_date = null where client_id like '%7';
update raw.clients set birth_date = date '1990-10-15' where client_id like '%8';
update raw.clients set city = null where client_id like '%9' and as_of_date >= date '2024-10-15';
-- tenure crosses 365 days on 2024-10-14 (<1y -> 1-3y)
update raw.clients set open_date = date '2023-10-15' where client_id like '%1';
-- the client who closes (and churns) on 2024-10-22 alone in its city: after it leaves, its
-- churn counts in churned_60 for a category no client on D has
update raw.clients set city = '衡阳' where client_id = '0731000005';
-- trades without a channel (an empty or unknown channel always loads as null)
update raw.trades set channel = null where hash(trade_id) % 5 = 0;
-- main_channel ties: one client's trades all of 1,000, alternately by phone and counter
update raw.trades set amount = 1000, channel = t.channel from (
    select trade_id, case when row_number() over (order by trade_id) % 2 = 0 then 'phone' else 'counter' end as channel
    from raw.trades where client_id = '0731000033') as t
where raw.trades.trade_id = t.trade_id;
"""


@pytest.fixture(scope="session")
def edge_warehouse(tmp_path_factory, example_warehouse) -> Path:
    """The example warehouse with EDGE_CHANGES applied to its raw tables and every writer
    after the ingest rebuilt over its sessions (core.build.build without extracts). Read only."""
    def build_edge(folder: Path) -> None:
        from core.build import build
        from core.config import Settings

        path = folder / "warehouse.duckdb"
        shutil.copy(example_warehouse, path)
        with duckdb.connect(str(path)) as con:
            con.execute(EDGE_CHANGES)
            days = [d for (d,) in con.execute(
                "select distinct as_of_date from mart.client_daily order by 1").fetchall()]
        build(path, days, Settings())

    return shared_dir(tmp_path_factory, "analysis_edge", build_edge) / "warehouse.duckdb"
