"""The floor: DuckDB reads one session's seven CSV files once, one GROUP BY per file.

Nothing that looks at every input row can be faster than this; the pipeline's per-session
cost is reported as a multiple of it. Run in a child process (fresh memory, cold DuckDB):

    python -m bench.floor /tmp/bench/data/<set>/2024-03-29
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

from .mem import hwm_mb

# file -> (group key, aggregates): per client sums where the file is per client.
QUERIES = {
    "clients": ("broker_id", "count(*), count(close_date), min(open_date)"),
    "brokers": ("team_id", "count(*), min(hire_date)"),
    "trades": ("client_id", "count(*), sum(amount), sum(commission), sum(exchange_fee)"),
    "positions": ("client_id", "count(*), sum(quantity), sum(cost_amount)"),
    "cash": ("client_id", "sum(cash_balance), sum(deposit_amount - withdraw_amount)"),
    "quotes": ("market", "count(*), sum(close), sum(prev_close)"),
    "market": ("market", "sum(turnover_amount)"),
}


def floor(folder: Path, threads: int | None = None) -> dict:
    con = duckdb.connect()
    if threads:
        con.execute(f"set threads = {threads}")
    out: dict[str, dict] = {}
    t_all = time.perf_counter()
    for name, (key, aggs) in QUERIES.items():
        path = folder / f"{name}.csv"
        t0 = time.perf_counter()
        rows_in = con.execute(
            f"select sum(n)::bigint, count(*) from (select {key}, count(*) as n, {aggs} "
            f"from read_csv('{path}', header = true) group by {key})").fetchone()
        out[name] = {"seconds": round(time.perf_counter() - t0, 4), "rows": rows_in[0], "groups": rows_in[1],
                     "bytes": path.stat().st_size}
    total = time.perf_counter() - t_all
    con.close()
    return {"seconds": round(total, 4), "rows": sum(f["rows"] for f in out.values()), "self_peak_rss_mb": hwm_mb(),
            "bytes": sum(f["bytes"] for f in out.values()), "files": out}


if __name__ == "__main__":
    print(json.dumps(floor(Path(sys.argv[1]))))
