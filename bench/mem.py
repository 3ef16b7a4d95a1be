"""Memory of this process (and of the children it waits for), without psutil.

* `Sampler`: a thread reading VmRSS from /proc/self/status every `interval` seconds, so
  the peak of any time window (a Dagster step, a direct SQL call) can be read afterwards.
  DuckDB and polars release the GIL while they work, so the thread keeps sampling.
* `reset_hwm` / `hwm_mb`: the kernel's exact high-water mark (VmHWM), reset by writing
  5 to /proc/self/clear_refs (Linux >= 4.0), for whole phases.
* `run_child`: a subprocess whose own peak RSS comes from os.wait4 (children are not in
  VmHWM of this process).
"""

from __future__ import annotations

import bisect
import os
import subprocess
import threading
import time

_STATUS = "/proc/self/status"


def _status_kb(field: str) -> int:
    with open(_STATUS, "rb") as f:
        for line in f:
            if line.startswith(field.encode()):
                return int(line.split()[1])
    return 0


def rss_mb() -> float:
    return _status_kb("VmRSS:") / 1024


def hwm_mb() -> float:
    """Peak RSS of this process since start or since the last reset_hwm()."""
    return _status_kb("VmHWM:") / 1024


def reset_hwm() -> bool:
    """Reset VmHWM to the current RSS; False where /proc/self/clear_refs is not writable."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Sampler:
    """Background sampling of VmRSS (MB) with time.time() stamps (Dagster's event clock)."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.times: list[float] = []
        self.values: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.times.append(time.time())
            self.values.append(rss_mb())
            self._stop.wait(self.interval)

    def peak(self, start: float, end: float) -> float | None:
        """Highest sampled RSS (MB) in [start, end] (time.time() seconds)."""
        lo = bisect.bisect_left(self.times, start)
        hi = bisect.bisect_right(self.times, end)
        window = self.values[max(lo - 1, 0):hi + 1]  # the samples around a short window too
        return max(window) if window else None


def run_child(cmd: list[str], env: dict | None = None, cwd: str | None = None) -> tuple[int, float, float, str]:
    """Run cmd; return (exit code, wall seconds, peak RSS MB of the child, its stdout).

    The rusage peak of a forked child includes the parent's RSS at fork time (Linux keeps
    the pre-exec high-water mark), so children that can should print their own VmHWM
    (`hwm_mb()`) and callers prefer it.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, cwd=cwd, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    return proc.returncode, time.perf_counter() - t0, usage.ru_maxrss / 1024, out
