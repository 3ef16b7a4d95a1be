"""What one day's client_daily + client_running + client_windows must at least write, whatever computes them.

    .venv/bin/python -m bench.write_floor WAREHOUSE 2024-04-02 [--repeat 3]

Copies the day's stored rows of mart.client_daily, mart.client_running and
mart.client_windows into scratch tables of the same columns (one committed transaction
each, as the assets do) and times each copy: no value is computed, so this is a lower bound
for the two assets' day. The scratch tables (mart.scratch_*) are dropped at the end; run it
on a copy of a bench warehouse, which it otherwise leaves as it was.
"""

from __future__ import annotations

import argparse
import time

import duckdb

from core.db import WRITE_CONFIG

TABLES = ("client_daily", "client_running", "client_windows")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("warehouse")
    ap.add_argument("day")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    con = duckdb.connect(args.warehouse, config=WRITE_CONFIG)
    try:
        for rep in range(args.repeat):
            times = {}
            for table in TABLES:
                con.execute(f"create or replace table mart.scratch_{table} as select * from mart.{table} limit 0")
                t0 = time.perf_counter()
                con.execute("begin")
                con.execute(f"insert into mart.scratch_{table} select * from mart.{table} where as_of_date = ?",
                            [args.day])
                con.execute("commit")
                times[table] = time.perf_counter() - t0
            print(f"run {rep + 1}: " + ", ".join(f"{t} {s:.3f} s" for t, s in times.items())
                  + f"; all {sum(times.values()):.3f} s", flush=True)
    finally:
        for table in TABLES:
            con.execute(f"drop table if exists mart.scratch_{table}")
        con.close()


if __name__ == "__main__":
    main()
