"""What an unchanged rerun costs in-process: the plan of `crm run` for sessions whose files
did not change (hash the folders, read quality.published), against the warehouse.

    .venv/bin/python -m bench.rerun WAREHOUSE EXTRACTS FIRST [LAST] [--repeat 3]

Prints the plan line and the seconds of each repeat (the target: <= 3 s at 200k clients).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from core.config import Settings
from core.plan import plan_run
from core.sessions import trading_calendar


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("extracts", type=Path)
    ap.add_argument("first")
    ap.add_argument("last", nargs="?")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    days = trading_calendar().between(dt.date.fromisoformat(a.first), dt.date.fromisoformat(a.last or a.first))
    settings = Settings.load()
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        plan = plan_run(a.warehouse, a.extracts, days, settings)
        seconds = time.perf_counter() - t0
        print(f"{seconds:.3f} s  {plan.line() if plan.changed else f'{len(days)} sessions unchanged'}")


if __name__ == "__main__":
    main()
