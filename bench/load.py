"""Load run: N concurrent clients for T seconds against `/` and `/api/search` of a running newsfacet server.

    python bench/load.py --index bench/out/index-37000-...     # starts `newsfacet serve` on a free port
    python bench/load.py --url http://127.0.0.1:5000            # an already running server (loopback only)
    python bench/load.py --index /tmp/wn --clients 16 --seconds 60 --json

Queries are drawn (seeded) from the index itself: words from its titles, its top speakers, people,
places and organisations as facet filters (and exclusions), date ranges from its date facet, every sort
order and a second page. Each client keeps one HTTP/1.1 connection, like a browser. The run is bounded in
time (--seconds) and in count (--max-requests per client). Prints requests/s, p50/p95/p99 latency and
errors per route; an error is any status other than 200, or a failed request.
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
STOPWORDS = set("the a an of in on at to for and or but with from by as is are was were be been has have had "
                "it its this that these those after over into new says said up out about not no than".split())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: Path, threads: int) -> tuple[subprocess.Popen, str]:
    """`newsfacet serve` over index_dir on a free loopback port; returns (process, base URL) once it answers."""
    port = free_port()
    exe = Path(sys.executable).with_name("newsfacet")
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "search.cli"]),
           "--index", str(index_dir), "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"newsfacet serve exited with {proc.returncode}; is {index_dir} an index?")
        try:
            status, _ = get(base, "/api/search?size=1", timeout=60)
            if status == 200:
                return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("newsfacet serve did not answer within 120 s")


def get(base: str, path: str, timeout: float = 30) -> tuple[int, bytes]:
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def build_paths(base: str, seed: int, count: int = 400) -> tuple[list[tuple[str, str]], dict]:
    """(route, path) pairs drawn from what the index holds, and a description of the index."""
    status, body = get(base, "/api/search?size=100&sort=newest", timeout=120)
    if status != 200:
        raise SystemExit(f"/api/search answered {status}")
    first = json.loads(body)
    facets = first.get("facets") or {}
    values = {k: [v["value"] for v in facets.get(k) or [] if v.get("count")] for k in ("speaker", "person", "place", "org")}
    years = [v["value"] for v in facets.get("date") or [] if len(str(v.get("value"))) == 4]
    words = []
    for r in first.get("results") or []:
        for w in str(r.get("title") or "").split():
            w = w.strip(".,:;!?\"'()[]“”‘’").lower()
            if len(w) > 3 and w.isalpha() and w not in STOPWORDS and w not in words:
                words.append(w)
    words = words or ["news", "government", "police", "president"]
    rng = random.Random(seed)

    def query() -> list[tuple[str, str]]:
        kind = rng.random()
        if kind < 0.45:
            return [("q", rng.choice(words))]
        if kind < 0.65:
            return [("q", " ".join(rng.sample(words, min(2, len(words)))))]
        if kind < 0.72:
            return [("q", f"{rng.choice(words)} OR {rng.choice(words)}")]
        if kind < 0.78:
            return [("q", f'"{rng.choice(words)} {rng.choice(words)}"')]
        return []  # browse: no words, facets and dates only

    paths = []
    for _ in range(count):
        params = query()
        for key, vals in values.items():
            if vals and rng.random() < 0.2:
                params.append((key, rng.choice(vals[:10])))
            if vals and rng.random() < 0.04:
                params.append((f"not_{key}", rng.choice(vals[:10])))
        if years and rng.random() < 0.25:
            y = rng.choice(years)
            params += [("from", f"{y}-01-01"), ("to", f"{y}-{rng.randint(1, 12):02d}-28")]
        if rng.random() < 0.3:
            params.append(("sort", rng.choice(["newest", "oldest", "relevance"])))
        if rng.random() < 0.1:
            params.append(("page", "2"))
        route = "/" if rng.random() < 0.5 else "/api/search"
        paths.append((route, route + ("?" + urllib.parse.urlencode(params) if params else "")))
    info = {"articles": first.get("total"), "words": len(words),
            "facet_values": {k: len(v) for k, v in values.items()}}
    return paths, info


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile, in ms."""
    if not values:
        return 0.0
    v = sorted(values)
    return v[max(0, min(len(v) - 1, int(round(p / 100 * len(v) + 0.5)) - 1))]


def run(base: str, paths: list[tuple[str, str]], clients: int, seconds: float, max_requests: int, seed: int) -> dict:
    """Every client walks its own seeded order of paths until the time or its request bound runs out."""
    u = urllib.parse.urlsplit(base)
    lat: dict[str, list[float]] = {"/": [], "/api/search": []}
    errors: dict[str, list[str]] = {"/": [], "/api/search": []}
    lock = threading.Lock()
    start = threading.Event()
    deadline = [0.0]

    def client(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        order = paths[:]
        rng.shuffle(order)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        mine = {"/": [], "/api/search": []}
        bad = {"/": [], "/api/search": []}
        start.wait()
        for i in range(max_requests):
            if time.monotonic() >= deadline[0]:
                break
            route, path = order[i % len(order)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    bad[route].append(f"HTTP {resp.status} {path}")
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            except Exception as exc:  # noqa: BLE001 -- every failure is a counted error
                bad[route].append(f"{type(exc).__name__}: {exc} {path}")
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            mine[route].append((time.perf_counter() - t0) * 1000)
        conn.close()
        with lock:
            for r in lat:
                lat[r].extend(mine[r])
                errors[r].extend(bad[r])

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    t_start = time.monotonic()
    deadline[0] = t_start + seconds
    start.set()
    for t in threads:
        t.join(timeout=seconds + 120)
    elapsed = time.monotonic() - t_start
    out = {"clients": clients, "seconds": round(elapsed, 1), "routes": {}}
    for route in lat:
        v = lat[route]
        out["routes"][route] = {
            "requests": len(v), "rps": round(len(v) / elapsed, 1), "p50_ms": round(pct(v, 50), 1),
            "p95_ms": round(pct(v, 95), 1), "p99_ms": round(pct(v, 99), 1), "errors": len(errors[route]),
            "first_errors": errors[route][:5],
        }
    allv = lat["/"] + lat["/api/search"]
    out["total"] = {"requests": len(allv), "rps": round(len(allv) / elapsed, 1), "p50_ms": round(pct(allv, 50), 1),
                    "p95_ms": round(pct(allv, 95), 1), "p99_ms": round(pct(allv, 99), 1),
                    "errors": len(errors["/"]) + len(errors["/api/search"])}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--index", type=Path, help="start `newsfacet serve` over this index on a free loopback port")
    where.add_argument("--url", help="base URL of a running server (loopback only)")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--max-requests", type=int, default=100_000, help="per client, a bound besides the time")
    p.add_argument("--threads", type=int, default=8, help="server worker threads (with --index)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if not 1 <= args.clients <= 256 or not 0 < args.seconds <= 3600:
        p.error("--clients must be 1..256 and --seconds 0..3600")

    proc = None
    if args.index:
        if not (args.index / "CURRENT").exists():
            p.error(f"no index at {args.index} (no CURRENT file)")
        proc, base = start_server(args.index, args.threads)
    else:
        host = urllib.parse.urlsplit(args.url).hostname or ""
        if host not in LOOPBACK:
            p.error("--url must be a loopback address (127.0.0.1, localhost, ::1)")
        base = args.url.rstrip("/")
    try:
        paths, info = build_paths(base, args.seed)
        for _, path in paths[:20]:  # warm-up: facet arrays and caches, not measured
            get(base, path, timeout=120)
        res = run(base, paths, args.clients, args.seconds, args.max_requests, args.seed)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    res["index"] = {"path": str(args.index) if args.index else base, **info}
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"index {res['index']['path']}: {info['articles']} articles; {args.clients} clients for "
              f"{res['seconds']} s")
        print(f"{'route':<12} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for route, r in list(res["routes"].items()) + [("all", res["total"])]:
            print(f"{route:<12} {r['requests']:>9} {r['rps']:>8} {r['p50_ms']:>8} {r['p95_ms']:>8} "
                  f"{r['p99_ms']:>8} {r['errors']:>7}")
        for route, r in res["routes"].items():
            for e in r.get("first_errors") or []:
                print(f"  error {route}: {e}")
    return 1 if res["total"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
