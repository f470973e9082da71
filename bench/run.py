"""newsfacet benchmarks (issue 5): enrichment, indexing, faceted queries, web, memory.

    python bench/run.py --quick                       # < 10 min: ratios at reduced size, JSON line last
    python bench/run.py --full --write bench/RESULTS.md

The corpus ($NEWSFACET_SHARED/corpus/allsides.jsonl.gz) is read for benchmarking only; enriched records and
benchmark indexes are cached under bench/out/ (git-ignored).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import dir_size_mb, log, now  # noqa: E402
from bench.data import FULL_SIZE, OUT, replicate, sample_articles, seed_records  # noqa: E402

TARGETS = {"enrich_ratio": 0.9, "workers_speedup": 1.6, "index_ratio": 0.9, "cache_rebuild_speedup": 10,
           "faceted_vs_plain_p95": 1.5, "groupedby_vs_faceted_p95": 10, "faceted_p95_ms_100k": 200}


def _save_records(records, path: Path) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def _load_records(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def enrichment(n: int, chunks: int = 6) -> tuple[dict, list[dict]]:
    """The enrichment figures, and the records newsfacet produced (seeds for replication when none are cached)."""
    from bench.enrichbench import enrich_bench

    arts = sample_articles(n, offset=3)
    res = enrich_bench(arts, chunks=chunks)
    return res, res.pop("_records")


def scaled_build(seeds: list[dict], n: int) -> dict:
    """`rebuild` from a warm cache of n replicated articles, in a child process: seconds, docs/s, peak RSS, size."""
    from bench.indexbench import fill_cache, write_articles
    from bench.querybench import code_digest

    base = OUT / f"scale-{n}-{len(seeds)}-{code_digest()}"
    meta = base / "build.json"
    if meta.exists():
        return json.loads(meta.read_text())
    quick_index = OUT / f"index-{n}-{len(seeds)}-{code_digest()}"
    from search.indexer import live_generation

    if live_generation(quick_index) is not None:
        # built by --quick with index_records (same records, multi-process writer): not a rebuild timing
        return {"docs": n, "index_dir": str(quick_index), "built_by": "index_records, 2 writer processes (--quick)",
                "index_mb": round(dir_size_mb(live_generation(quick_index)), 1)}
    for old in OUT.glob(f"scale-{n}-{len(seeds)}-*"):
        __import__("shutil").rmtree(old, ignore_errors=True)
    arts = base / "articles"
    arts.mkdir(parents=True)
    index_dir = base / "index"
    log(f"scale {n:,}: writing replicated articles and filling the enrichment cache ...")
    recs = list(replicate(seeds, n))
    write_articles(recs, arts / "articles.jsonl")
    fill_cache(arts, recs, index_dir)
    del recs
    log(f"scale {n:,}: newsfacet rebuild from the cache (child process) ...")
    code = ("import json,resource,sys,time; sys.path.insert(0, %r)\n"
            "from search.config import Settings\nfrom search.indexer import rebuild\n"
            "t=time.perf_counter(); r=rebuild([%r], Settings(index=%r)); s=time.perf_counter()-t\n"
            "rss=max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "print(json.dumps({'seconds': s, 'indexed': r.indexed, 'analysed': r.analysed, 'peak_rss_mb': rss/1024}))"
            ) % (str(ROOT), str(arts), str(index_dir))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    res = json.loads(out.stdout.strip().splitlines()[-1])
    from search.indexer import live_generation

    res.update(docs=n, docs_per_s=round(n / res["seconds"], 1), seconds=round(res["seconds"], 1),
               peak_rss_mb=round(res["peak_rss_mb"], 1), index_mb=round(dir_size_mb(live_generation(index_dir)), 1),
               index_dir=str(index_dir))
    meta.write_text(json.dumps(res))
    log(f"  {res}")
    return res


def quick() -> dict:
    from bench.indexbench import index_bench
    from bench.querybench import query_bench

    t0 = now()
    enrich, produced = enrichment(300)
    log(f"  {enrich}  [{now() - t0:.0f}s]")
    cached = OUT / "seed-1500.jsonl.gz"
    seeds = _load_records(cached) if cached.exists() else produced
    # 600 documents either way: on a fresh clone the seeds are the 300 articles just enriched, replicated
    idx = index_bench(list(replicate(seeds, 600)), rounds=5, spacy_articles=80)
    log(f"  {idx}  [{now() - t0:.0f}s]")
    q = query_bench(seeds, 20_000, 200, groupedby_every=8)
    log(f"  queries done [{now() - t0:.0f}s]")
    return {"enrichment": enrich, "indexing": idx, "queries": {"20000": q}, "seeds": len(seeds),
            "seconds": round(now() - t0, 1)}


def full(sizes=(FULL_SIZE, 100_000), previous: dict | None = None) -> dict:
    """Everything; with `previous` (an earlier full run's results) only the parts it lacks are run."""
    from bench.indexbench import index_bench
    from bench.querybench import make_queries, run_queries, check_counts, searcher_open
    from bench.webbench import server_rss, web_bench

    t0 = now()
    seeds = seed_records(1500, workers=2, log=log)
    result = dict(previous or {})
    result.setdefault("queries", {})
    result.setdefault("scale", {})
    result["seeds"] = len(seeds)
    if "enrichment" not in result:
        result["enrichment"], _ = enrichment(300)
        log(f"  {result['enrichment']}  [{now() - t0:.0f}s]")
    if "indexing" not in result:
        result["indexing"] = index_bench(seeds[:1000], rounds=5, spacy_articles=100)
        log(f"  {result['indexing']}  [{now() - t0:.0f}s]")
    for n in sizes:
        if str(n) in result["queries"]:
            continue
        every = 4 if n <= FULL_SIZE else 16
        build = scaled_build(seeds, n)
        index_dir = Path(build["index_dir"])
        opened = searcher_open(index_dir)
        queries = make_queries(index_dir, seeds, 240)
        log(f"{len(queries)} queries on {n:,} documents ...")
        q = run_queries(index_dir, queries, groupedby_every=every)
        q.update(docs=n, queries=len(queries), searcher_open=opened, count_mismatches=check_counts(index_dir, queries))
        result["queries"][str(n)] = q
        result["scale"][str(n)] = build
        if "web" not in result:
            result["web"] = web_bench(index_dir, queries)
            result["web"]["docs"] = n
        else:
            result["web_100k_server_peak_rss_mb"] = server_rss(index_dir, queries)
        log(f"  {n:,} done [{now() - t0:.0f}s]")
    result["seconds"] = round(now() - t0, 1)
    return result


def summary(res: dict) -> dict:
    """The one-line JSON: headline ratios and latencies."""
    qs = res["queries"]
    base = {
        "enrich_ratio": res["enrichment"]["enrich_ratio"],
        "workers_speedup": res["enrichment"]["workers_speedup"],
        "enrich_cpu_ratio": res["enrichment"].get("enrich_cpu_ratio"),
        "index_ratio": res["indexing"]["index_ratio"],
        "cache_rebuild_speedup": res["indexing"]["cache_rebuild_speedup"],
    }
    if not qs:
        return base
    key = max(qs, key=int)
    q = qs[key]
    s = {
        **base,
        "docs": int(key),
        "plain_p95_ms": q["plain"]["p95_ms"],
        "faceted_p95_ms": q["newsfacet"]["p95_ms"],
        "groupedby_p95_ms": q["groupedby"]["p95_ms"],
        "faceted_vs_plain_p95": round(q["newsfacet"]["p95_ms"] / q["plain"]["p95_ms"], 2),
        "groupedby_vs_faceted_p95": round(q["groupedby"]["p95_ms"] / q["newsfacet_on_groupedby_queries"]["p95_ms"], 1),
        "plain_p50_ms": q["plain"]["p50_ms"], "faceted_p50_ms": q["newsfacet"]["p50_ms"],
        "groupedby_p50_ms": q["groupedby"]["p50_ms"],
        "searcher_open_ms": q["searcher_open"]["cold_ms"],
        "count_mismatches": q["count_mismatches"],
        "queries": q["queries"],
        "load_avg_1min": [res.get("load_avg", {}).get("start", [0])[0], res.get("load_avg", {}).get("end", [0])[0]],
    }
    if "web" in res:
        s["web_api_rps"] = res["web"]["api_search"]["rps"]
        s["web_api_p95_ms"] = res["web"]["api_search"]["p95_ms"]
    return s


def machine() -> str:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="reduced sizes, under 10 minutes")
    ap.add_argument("--full", action="store_true", help="everything, at 37,554 and 100,000 documents")
    ap.add_argument("--write", type=Path, help="write the Markdown report here")
    ap.add_argument("--reuse", action="store_true",
                    help="--full: keep the figures of the last full run (bench/out/results-full.json), run only what it lacks")
    ap.add_argument("--sizes", default=f"{FULL_SIZE},100000", help="index sizes for --full (comma-separated)")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    prev = None
    if a.full and a.reuse and (OUT / "results-full.json").exists():
        prev = json.loads((OUT / "results-full.json").read_text())
        for k in ("summary", "machine", "date", "load_avg", "seconds"):
            prev.pop(k, None)
    sizes = tuple(int(x) for x in a.sizes.split(",") if x.strip())
    res = full(sizes, prev) if a.full else quick()
    res["load_avg"] = {"start": [round(x, 1) for x in load_start], "end": [round(x, 1) for x in os.getloadavg()]}
    res["machine"] = machine()
    res["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    res["summary"] = summary(res)
    name = "full" if a.full else "quick"
    (OUT / f"results-{name}.json").write_text(json.dumps(res, indent=1))
    if a.write and res["queries"]:
        from bench.report import write_report

        write_report(res, a.write)
        log(f"wrote {a.write}")
    print(json.dumps(res["summary"]))


if __name__ == "__main__":
    main()
