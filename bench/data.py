"""Benchmark data sets: `generator.generate` output, cached under the data root.

A data set is identified by (clients, start, seed, generator.VERSION) and holds `n` sessions; any request
for at most `n` sessions with the same identity reuses it (the bench only runs a prefix).
Generation runs in a child process so that its memory is not counted in the pipeline's.

    python -m bench.data --clients 20000 --sessions 121 --out /tmp/bench/data/...
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import sys
import time
from pathlib import Path

from generator import VERSION

from .mem import hwm_mb, run_child

MARKER = "_bench.json"


def dataset_name(clients: int, start: dt.date, seed: int, sessions: int) -> str:
    return f"c{clients}_{start.isoformat()}_seed{seed}_g{VERSION}_n{sessions}"


def find_dataset(root: Path, clients: int, start: dt.date, seed: int, sessions: int) -> Path | None:
    """A complete cached data set with at least `sessions` sessions (the smallest such)."""
    pattern = re.compile(rf"c{clients}_{re.escape(start.isoformat())}_seed{seed}_g{VERSION}_n(\d+)$")
    found = []
    for p in root.glob(f"c{clients}_*") if root.is_dir() else []:
        m = pattern.match(p.name)
        if m and int(m.group(1)) >= sessions and (p / MARKER).exists():
            found.append((int(m.group(1)), p))
    return min(found)[1] if found else None


def ensure_dataset(root: Path, clients: int, start: dt.date, seed: int, sessions: int) -> dict:
    """Path, days and generation cost of a data set; generates it when not cached."""
    root.mkdir(parents=True, exist_ok=True)
    cached = find_dataset(root, clients, start, seed, sessions)
    if cached is not None:
        info = json.loads((cached / MARKER).read_text())
        return {**info, "path": str(cached), "cached": True}
    out = root / dataset_name(clients, start, seed, sessions)
    if out.exists():
        shutil.rmtree(out)  # an interrupted generation
    cmd = [sys.executable, "-m", "bench.data", "--clients", str(clients), "--start", start.isoformat(),
           "--seed", str(seed), "--sessions", str(sessions), "--out", str(out)]
    code, wall, peak, stdout = run_child(cmd, cwd=str(Path(__file__).resolve().parent.parent))
    if code != 0:
        raise RuntimeError(f"generation failed ({code}): {' '.join(cmd)}")
    info = json.loads(stdout.strip().splitlines()[-1])
    info.update(process_seconds=round(wall, 2), peak_rss_mb=round(info.get("self_peak_rss_mb", peak), 1))
    (out / MARKER).write_text(json.dumps(info, indent=1))
    return {**info, "path": str(out), "cached": False}


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, required=True)
    ap.add_argument("--sessions", type=int, required=True)
    ap.add_argument("--start", default="2024-01-02")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    from generator import generate

    t0 = time.perf_counter()
    days = generate(a.out, clients=a.clients, start=dt.date.fromisoformat(a.start), sessions=a.sessions,
                    seed=a.seed)
    seconds = time.perf_counter() - t0
    print(json.dumps({"clients": a.clients, "start": a.start, "seed": a.seed, "sessions": len(days),
                      "days": [d.isoformat() for d in days], "generate_seconds": round(seconds, 2),
                      "bytes": _bytes(a.out), "self_peak_rss_mb": hwm_mb()}))


if __name__ == "__main__":
    main()
