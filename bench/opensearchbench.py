"""Whoosh against OpenSearch (one node, and two nodes with a replica each) on the same records and requests.

Per size: indexing docs/s (Whoosh's single writer with its quote process, `index_records`; OpenSearch bulk
through the backend, replicas and refresh included; both write the quote index and cluster the quotes), and
p50/p95 of the same faceted requests as article searches and as quote searches, run interleaved query by
query (rotating which engine goes first) so machine noise hits both alike. The records are bench/quotebench.py's
(about ten quotes an article, copies perturbed so that they do not all cluster). Each cluster is started for
the run with scripts/opensearch.sh (its own folder and ports) and stopped after.

    python bench/opensearchbench.py --docs 2000 --queries 40       # a small validation run, JSON on stdout

As a section of bench/run.py: `Section("opensearch", opensearchbench.run, opensearchbench.report, fills_in=True)`.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import log, now, pct, stamp  # noqa: E402
from bench.data import OUT  # noqa: E402
from bench.quotebench import perturbed, same_requests  # noqa: E402

SCRIPT = ROOT / "scripts" / "opensearch.sh"
HEAP = os.environ.get("NEWSFACET_BENCH_OPENSEARCH_HEAP", "1g")


class LocalCluster:
    """N nodes started by scripts/opensearch.sh in a folder of their own, stopped and deleted on exit."""

    def __init__(self, nodes: int, port: int):
        self.nodes = nodes
        self.home = Path(tempfile.mkdtemp(prefix=f"newsfacet-bench-os{nodes}-", dir="/var/tmp"))
        self.home.chmod(0o755)
        self.env = {**os.environ, "NEWSFACET_OPENSEARCH_HOME": str(self.home), "NEWSFACET_OPENSEARCH_PORT": str(port),
                    "NEWSFACET_OPENSEARCH_HEAP": HEAP}
        self.urls = ""

    def __enter__(self):
        proc = subprocess.run(["bash", str(SCRIPT), "start", str(self.nodes)], env=self.env, capture_output=True,
                              text=True, timeout=900)
        if proc.returncode != 0:
            self.__exit__()
            raise SystemExit(f"scripts/opensearch.sh start {self.nodes} failed:\n{proc.stderr[-4000:]}")
        self.urls = proc.stdout.strip().splitlines()[-1]
        return self

    def __exit__(self, *exc):
        subprocess.run(["bash", str(SCRIPT), "stop", "--wipe"], env=self.env, capture_output=True, timeout=300)
        shutil.rmtree(self.home, ignore_errors=True)


def _whoosh_index(seeds: list[dict], n: int) -> tuple[Path, float]:
    """A fresh Whoosh index of n replicated records (single writer and the quote process, as a rebuild writes);
    (folder, docs/s)."""
    from search.config import Settings
    from search.indexer import index_records

    path = OUT / f"os-whoosh-{n}"
    shutil.rmtree(path, ignore_errors=True)
    t = now()
    index_records(perturbed(seeds, n), Settings(index=path))
    return path, n / (now() - t)


def _timed(searcher, kind: str, req) -> tuple[float, int]:
    t = now()
    res = getattr(searcher, kind)(copy.deepcopy(req))
    return (now() - t) * 1000, res.total


def opensearch_bench(seeds: list[dict], sizes, requests_for, nodes=(1, 2), port: int = 29200) -> dict:
    """Figures per size: Whoosh and OpenSearch with each node count. requests_for(whoosh_index, n) gives the
    requests as bench/querybench.make_queries does ({"args": query-string mapping, ...})."""
    from search.backend import get_backend
    from search.config import Settings
    from search.contracts import parse_quote_request, parse_request

    out = {"sizes": {}, "heap_per_node": HEAP}
    for n in sizes:
        log(f"opensearch section, {n:,} documents: Whoosh index ...")
        whoosh_dir, whoosh_rate = _whoosh_index(seeds, n)
        queries = requests_for(whoosh_dir, n)
        # each request as an article search and as a quote search (its words, speakers and dates)
        reqs = [("search", parse_request(q["args"])[0]) for q in queries]
        reqs += [("quotes", parse_quote_request(q["args"])[0]) for q in same_requests(queries)]
        size = {"docs": n, "requests": len(queries), "whoosh": {"index_docs_per_s": round(whoosh_rate, 1)}}
        whoosh = get_backend(Settings(index=whoosh_dir))
        w_times: dict[str, list[float]] = {"search": [], "quotes": []}
        for k in nodes:
            with LocalCluster(k, port + 10 * k) as cluster:
                settings = replace(Settings(index=OUT / f"os-local-{n}"), backend="opensearch",
                                   opensearch_url=cluster.urls, opensearch_index="bench", opensearch_replicas=k - 1)
                backend = get_backend(settings)
                log(f"  {k} node(s): bulk indexing {n:,} documents with their quotes ...")
                t = now()
                report = backend.index_records(perturbed(seeds, n))
                rate = report.total_documents / (now() - t)
                o_times: dict[str, list[float]] = {"search": [], "quotes": []}
                mismatches = 0
                with whoosh.open_searcher() as ws, backend.open_searcher() as os_:
                    for kind, r in reqs[:3] + reqs[-3:]:  # warm both (caches, global ordinals, facet arrays)
                        _timed(ws, kind, r), _timed(os_, kind, r)
                    log(f"  {k} node(s): {len(reqs)} requests, interleaved with Whoosh ...")
                    for i, (kind, r) in enumerate(reqs):
                        first, second = (ws, os_) if i % 2 == 0 else (os_, ws)
                        a = _timed(first, kind, r)
                        b = _timed(second, kind, r)
                        (w_ms, w_total), (o_ms, o_total) = (a, b) if i % 2 == 0 else (b, a)
                        w_times[kind].append(w_ms)
                        o_times[kind].append(o_ms)
                        mismatches += w_total != o_total
                size[f"opensearch_{k}"] = {"nodes": k, "replicas": k - 1, "index_docs_per_s": round(rate, 1),
                                           "quotes": report.quotes, "clusters": report.clusters,
                                           **_percentiles(o_times), "total_mismatches": mismatches}
        size["whoosh"].update(_percentiles(w_times))
        out["sizes"][str(n)] = size
    return out


def _percentiles(times: dict[str, list[float]]) -> dict:
    """p50/p95 of article searches (p50_ms, p95_ms) and of quote searches (quotes_p50_ms, quotes_p95_ms)."""
    out = {}
    for kind, prefix in (("search", ""), ("quotes", "quotes_")):
        if times[kind]:
            out[prefix + "p50_ms"] = round(pct(times[kind], 50), 1)
            out[prefix + "p95_ms"] = round(pct(times[kind], 95), 1)
    return out


def report_lines(res: dict) -> list[str]:
    """A markdown table of the section, and a closing note read off the figures."""
    lines = ["| documents | engine | indexing docs/s (with quotes) | faceted p50 ms | faceted p95 ms | "
             "quote search p50 ms | quote search p95 ms | totals differing |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    wins = []
    for n, size in res["sizes"].items():
        w = size["whoosh"]
        lines.append(f"| {int(n):,} | Whoosh | {w['index_docs_per_s']:,.0f} | {w['p50_ms']} | {w['p95_ms']} | "
                     f"{w.get('quotes_p50_ms', '')} | {w.get('quotes_p95_ms', '')} | |")
        for key in sorted(k for k in size if k.startswith("opensearch_")):
            o = size[key]
            lines.append(f"| {int(n):,} | OpenSearch, {o['nodes']} node{'s' if o['nodes'] > 1 else ''} "
                         f"({o['replicas']} replica{'s' if o['replicas'] != 1 else ''}) | {o['index_docs_per_s']:,.0f} | "
                         f"{o['p50_ms']} | {o['p95_ms']} | {o.get('quotes_p50_ms', '')} | {o.get('quotes_p95_ms', '')} | "
                         f"{o['total_mismatches']} |")
            quotes = o.get("quotes_p95_ms", 0) / w["quotes_p95_ms"] if w.get("quotes_p95_ms") else None
            wins.append((int(n), o["nodes"], o["p95_ms"] / w["p95_ms"], o["index_docs_per_s"] / w["index_docs_per_s"],
                         quotes))
    notes = [f"at {n:,} documents OpenSearch ({k} node{'s' if k > 1 else ''}) has {r:.2f}x Whoosh's faceted p95"
             + (f", {q:.2f}x its quote search p95" if q is not None else "") + f" and indexes at {i:.2f}x its rate"
             for n, k, r, i, q in wins]
    faster = sorted(n for n, k, r, i, q in wins if r < 1.0)
    if faster:
        verdict = (f"OpenSearch answers faceted searches faster from {faster[0]:,} documents on (in this run); below "
                   f"that the embedded Whoosh index is the quicker one.")
    else:
        verdict = ("Whoosh is the quicker at every size measured here (one machine, where OpenSearch's nodes share the "
                   "cores with the benchmark); OpenSearch is for what one machine cannot do: more documents than "
                   "these, replicas that survive a lost node, and many `newsfacet serve` processes on one index.")
    lines += ["", "Read off this run: " + "; ".join(notes) + ". " + verdict]
    return lines


def run(ctx, prev: dict | None) -> dict:
    """bench/run.py's `opensearch` section (full runs): the peers' sizes (20k and 100k; --peer-sizes), on the
    run's seed records and requests; sizes already measured are kept."""
    sizes = ctx.p["peer_sizes"]
    out = {"sizes": dict((prev or {}).get("sizes", {})), "heap_per_node": HEAP}
    todo = [n for n in sizes if str(n) not in out["sizes"]]
    if todo:
        res = opensearch_bench(ctx.seeds(), todo, ctx.requests)
        for n, size in res["sizes"].items():
            size["measured"] = stamp()
            out["sizes"][n] = size
    return out


def report(result: dict, res: dict) -> list[str]:
    """bench/run.py's Markdown for the section."""
    return ["## Whoosh and OpenSearch", "", f"Each OpenSearch node had a {result.get('heap_per_node', HEAP)} heap, "
            "on the same machine as the benchmark.", ""] + report_lines(result) + [""]


def main(argv=None) -> int:
    """A small validation run (or any size), printing the figures as JSON and the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, nargs="+", default=[2000])
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=40, help="articles enriched with spaCy (cached in bench/out)")
    ap.add_argument("--nodes", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    from bench.data import seed_records
    from bench.querybench import make_queries

    seeds = seed_records(args.seeds, workers=1, log=log)
    res = opensearch_bench(seeds, args.docs, lambda d, n: make_queries(d, seeds, args.queries), nodes=args.nodes)
    print("\n".join(report_lines(res)))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
