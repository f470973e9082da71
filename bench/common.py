"""Small helpers shared by the benchmark modules: timing, percentiles, peak RSS, logging."""
from __future__ import annotations

import os
import resource
import sys
import time


def log(*args) -> None:
    """Progress on stderr, so stdout ends with the one JSON line."""
    print(*args, file=sys.stderr, flush=True)


def pct(values, p: float) -> float:
    """The p-th percentile (nearest rank) of values in ms, 0 for none."""
    if not values:
        return 0.0
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100 * len(v) + 0.5)) - 1))
    return float(v[k])


def now() -> float:
    return time.perf_counter()


def stamp() -> dict:
    """When a figure was taken and how busy the machine was then (1-minute load average; 2 cores)."""
    from datetime import datetime, timezone

    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "load_avg": round(os.getloadavg()[0], 1)}


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident set (VmHWM) of a live process, in MB; of this process when pid is None."""
    try:
        with open(f"/proc/{pid or os.getpid()}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """Largest peak RSS of any child process waited for so far, in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def dir_size_mb(path) -> float:
    """Bytes under path, in MB."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total / 1e6
