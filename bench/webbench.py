"""Web: requests/s and p95 with concurrent clients against `newsfacet serve` (waitress), and its peak RSS."""
from __future__ import annotations

import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from bench.common import log, pct, peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: Path, threads: int = 8):
    """`newsfacet serve` on a free port; returns (process, port) once it answers."""
    port = free_port()
    exe = Path(sys.executable).with_name("newsfacet")
    cmd = [str(exe), "--index", str(index_dir), "serve", "--host", "127.0.0.1", "--port", str(port),
           "--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("GET", "/api/search?q=the")
            c.getresponse().read()
            return proc, port
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start")


def load(port: int, paths: list[str], clients: int = 8, seconds: float = 30.0) -> dict:
    """`clients` threads with keep-alive connections requesting paths round-robin for `seconds`."""
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(k):
        rnd = random.Random(k)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while time.monotonic() < stop:
            p = rnd.choice(paths)
            t = time.perf_counter()
            try:
                conn.request("GET", p)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.append((time.perf_counter() - t) * 1000)
        with lock:
            lat.extend(mine)

    started = time.monotonic()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.monotonic() - started
    return {"requests": len(lat), "rps": round(len(lat) / took, 1), "p50_ms": round(pct(lat, 50), 1),
            "p95_ms": round(pct(lat, 95), 1), "errors": errors[0]}


def web_bench(index_dir: Path, queries: list[dict], seconds: float = 30.0, clients: int = 8) -> dict:
    """/api/search and / under load; the server's peak RSS afterwards."""
    proc, port = start_server(index_dir)
    try:
        qs = ["?" + urllib.parse.urlencode(q["args"], doseq=True) for q in queries]
        out = {}
        for name, prefix in (("api_search", "/api/search"), ("page", "/")):
            log(f"web: {name} with {clients} clients for {seconds:.0f}s ...")
            out[name] = load(port, [prefix + q for q in qs], clients, seconds)
        out["server_peak_rss_mb"] = round(peak_rss_mb(proc.pid), 1)
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def server_rss(index_dir: Path, queries: list[dict], seconds: float = 10.0) -> float:
    """Peak RSS of a server that answered a short burst of searches."""
    proc, port = start_server(index_dir)
    try:
        qs = ["/api/search?" + urllib.parse.urlencode(q["args"], doseq=True) for q in queries]
        load(port, qs, 8, seconds)
        return round(peak_rss_mb(proc.pid), 1)
    finally:
        proc.terminate()
        proc.wait(10)
