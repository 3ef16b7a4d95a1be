"""What the pages of one session cost: the daily report (with its engineering page), the broker
books and team pages with the call workbook, each rendered from an existing warehouse (opened
read-only), timed, and the page sizes (Step 11's limit: the report and each book <= 2 MB).

    .venv/bin/python -m bench.pages WAREHOUSE [DAY] [--out DIR] [--repeat 3] [--json FILE]

DAY defaults to the warehouse's last session. Prints seconds per repeat, the report's size,
and the books' count, largest and median size with their clients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

from core.config import Settings
from core.db import connect
from reports.books import write_books
from reports.render import write_report

LIMIT_MB = 2.0


def measure(warehouse: Path, day: dt.date | None, out: Path, repeat: int) -> dict:
    settings = Settings.load()
    res: dict = {"warehouse": str(warehouse), "report_s": [], "books_s": []}
    with connect(warehouse, read_only=True) as con:
        day = day or con.execute("select max(as_of_date) from mart.branch_daily").fetchone()[0]
        clients = dict(con.execute("select broker_id, count(*) from raw.clients where as_of_date = ? "
                                   "and close_date is null group by 1", [day]).fetchall())
        for _ in range(repeat):
            t0 = time.perf_counter()
            report = write_report(con, day, out, settings)
            res["report_s"].append(round(time.perf_counter() - t0, 3))
            t0 = time.perf_counter()
            pages = write_books(con, day, out, settings)
            res["books_s"].append(round(time.perf_counter() - t0, 3))
    books = [p for p in pages if p.name.startswith("broker-")]
    sizes = sorted((p.stat().st_size / 2**20, p.stem.removeprefix("broker-")) for p in books)
    res.update(day=day.isoformat(), clients=sum(clients.values()), brokers=len(books),
               report_mb=round(report.stat().st_size / 2**20, 3),
               largest_book_mb=round(sizes[-1][0], 3), largest_book_clients=clients.get(sizes[-1][1]),
               median_book_mb=round(statistics.median(s for s, _ in sizes), 3),
               pages_mb=round(sum(p.stat().st_size for p in pages) / 2**20, 1))
    res["within_limit"] = res["report_mb"] <= LIMIT_MB and res["largest_book_mb"] <= LIMIT_MB
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("day", nargs="?")
    ap.add_argument("--out", type=Path, default=None, help="folder for the pages (default: a temporary one)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    day = dt.date.fromisoformat(a.day) if a.day else None
    with tempfile.TemporaryDirectory() as tmp:
        res = measure(a.warehouse, day, a.out or Path(tmp), a.repeat)
    for key, value in res.items():
        print(f"{key:22s} {value}")
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
