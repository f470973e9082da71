"""newsfacet benchmarks: enrichment, indexing, faceted queries, web, peers (SQLite FTS5, Tantivy).

    python bench/run.py --quick                                  # about 10 min: reduced sizes, JSON line last
    python bench/run.py --full --write bench/RESULTS.md          # everything (`make bench`), on a quiet machine
    python bench/run.py --full --only peers --write bench/RESULTS.md   # re-run one section, keep the others
    python bench/run.py --full --reuse --write bench/RESULTS.md  # run only what the last run lacks (resume)

Results of each mode are kept in bench/out/results-{quick,full}.json, section by section, each with when it ran
and how busy the machine was; `--only` replaces the named sections there, `--reuse` skips what is there.
The sections are listed in SECTIONS below; bench/README.md says how to add one.

The corpus ($NEWSFACET_SHARED/corpus/allsides.jsonl.gz) is read for benchmarking only; enriched records and
benchmark indexes are cached under bench/out/ (git-ignored).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import dir_size_mb, log, now, stamp  # noqa: E402
from bench.data import FULL_SIZE, OUT, load_seeds, replicate, sample_articles, seed_path, seed_records  # noqa: E402

TARGETS = {"cluster_enrich_ratio": 0.85, "enrich_ratio": 0.85, "workers_speedup": 1.6, "index_ratio": 0.9, "cache_rebuild_speedup": 10,
           "faceted_vs_plain_p95": 1.5, "groupedby_vs_faceted_p95": 10, "faceted_p95_ms_100k": 200}

# Sizes and counts of each mode. Command-line options override them (small sizes validate a mode end to end).
PRESETS = {
    "quick": {"articles": 300, "seeds": None, "index_docs": 600, "spacy_articles": 80, "sizes": (20_000,),
              "queries": 200, "groupedby_every": 8, "peer_sizes": (20_000,), "quote_docs": 5_000,
              "quote_rebuild_docs": 600},
    "full": {"articles": 300, "seeds": 1500, "index_docs": 1000, "spacy_articles": 100, "sizes": (FULL_SIZE, 100_000),
             "queries": 240, "groupedby_every": 4, "peer_sizes": (20_000, 100_000), "quote_docs": 100_000,
             "quote_rebuild_docs": 20_000},
}
ENRICH_OFFSET = 3  # the enrichment section's articles: every k-th of the corpus from the 4th


class Context:
    """What the sections share: the mode's sizes, the seed records, the benchmark indexes (built once, cached)."""

    def __init__(self, mode: str, **overrides):
        self.mode = mode
        self.p = {**PRESETS[mode], **{k: v for k, v in overrides.items() if v is not None}}
        self._seeds: list[dict] | None = None

    def seeds(self) -> list[dict]:
        """The enriched records every index is replicated from."""
        if self._seeds is None:
            if self.p["seeds"]:
                self._seeds = seed_records(self.p["seeds"], workers=2, log=log)
            elif seed_path(1500).exists():  # a full run's seeds, when there
                self._seeds = load_seeds(seed_path(1500))
            else:  # a fresh clone: the records the enrichment section produced (or enriches now)
                self._seeds = seed_records(self.p["articles"], workers=2, log=log, offset=ENRICH_OFFSET)
        return self._seeds

    def query_index(self, n: int) -> tuple[Path, dict]:
        """The index the queries and web sections search at n documents, and how it was built."""
        if self.mode == "full":
            build = scaled_build(self.seeds(), n)
            return Path(build["index_dir"]), build
        from bench.querybench import build_index

        return build_index(self.seeds(), n)

    def requests(self, index_dir: Path, n: int) -> list[dict]:
        """The faceted requests of a size (the same for every section and engine at that size)."""
        from bench.querybench import make_queries

        qs = make_queries(index_dir, self.seeds(), self.p["queries"])
        (OUT / f"queries-{n}.json").write_text(json.dumps(qs, indent=1))
        return qs


# ------------------------------------------------------------------------------------------------ sections


def run_enrichment(ctx: Context, prev: dict | None) -> dict:
    """newsfacet's enrichment against bare spaCy, and 2 workers against 1."""
    from bench.data import save_seeds
    from bench.enrichbench import enrich_bench

    arts = sample_articles(ctx.p["articles"], offset=ENRICH_OFFSET)
    res = enrich_bench(arts, chunks=6)
    records = res.pop("_records")
    if not seed_path(len(arts), ENRICH_OFFSET).exists():
        save_seeds(records, arts, ENRICH_OFFSET)  # seeds of a quick run on a fresh clone
    return res


def run_indexing(ctx: Context, prev: dict | None) -> dict:
    """A rebuild from the cache against a bare Whoosh writer, and a rebuild from the cache against spaCy."""
    from bench.indexbench import index_bench

    records = list(replicate(ctx.seeds(), ctx.p["index_docs"]))
    return index_bench(records, rounds=5, spacy_articles=min(ctx.p["spacy_articles"], len(ctx.seeds())))


def run_queries(ctx: Context, prev: dict | None) -> dict:
    """Plain Whoosh search, Whoosh groupedby and newsfacet on the same requests, per index size."""
    from bench.querybench import check_counts, run_queries as run, searcher_open

    out = {"sizes": dict((prev or {}).get("sizes", {}))}
    for n in ctx.p["sizes"]:
        if str(n) in out["sizes"]:
            continue
        index_dir, build = ctx.query_index(n)
        opened = searcher_open(index_dir)
        queries = ctx.requests(index_dir, n)
        log(f"{len(queries)} queries on {n:,} documents (groupedby on 1 in {ctx.p['groupedby_every']}) ...")
        q = run(index_dir, queries, groupedby_every=ctx.p["groupedby_every"])
        q.update(docs=n, queries=len(queries), searcher_open=opened, count_mismatches=check_counts(index_dir, queries),
                 build=build, index_dir=str(index_dir))
        q["measured"] = stamp()
        out["sizes"][str(n)] = q
    return out


def run_web(ctx: Context, prev: dict | None) -> dict:
    """Concurrent clients against `newsfacet serve` at the first size; the server's memory at the others."""
    from bench.webbench import server_rss, web_bench

    sizes = ctx.p["sizes"]
    index_dir, _ = ctx.query_index(sizes[0])
    out = web_bench(index_dir, ctx.requests(index_dir, sizes[0]))
    out["docs"] = sizes[0]
    out["server_peak_rss_mb_by_size"] = {str(sizes[0]): out["server_peak_rss_mb"]}
    for n in sizes[1:]:
        index_dir, _ = ctx.query_index(n)
        out["server_peak_rss_mb_by_size"][str(n)] = server_rss(index_dir, ctx.requests(index_dir, n))
    return out


def run_peers(ctx: Context, prev: dict | None) -> dict:
    """SQLite FTS5 and Tantivy against newsfacet on the same documents and requests, per size."""
    from bench.peers import peer_bench
    from bench.querybench import build_index

    out = {"sizes": dict((prev or {}).get("sizes", {}))}
    for n in ctx.p["peer_sizes"]:
        if str(n) in out["sizes"]:
            continue
        # newsfacet's index built by index_records with 2 writer processes, as the peers are built: from records
        index_dir, build = build_index(ctx.seeds(), n)
        out["sizes"][str(n)] = peer_bench(ctx.seeds(), n, ctx.requests(index_dir, n), index_dir, build)
        out["sizes"][str(n)]["measured"] = stamp()
    return out


@dataclass
class Section:
    """One part of the benchmark: run(ctx, prev) -> results (prev: its earlier results under --reuse, to fill in
    only what they lack); report(results, everything) -> Markdown lines for RESULTS.md."""

    name: str
    run: Callable[[Context, dict | None], dict]
    report: Callable[[dict, dict], list[str]]
    modes: tuple[str, ...] = ("quick", "full")
    fills_in: bool = False  # under --reuse, run with its earlier results to add what they lack (e.g. a new size)


def sections() -> list[Section]:
    """Every section, in the order they run and appear in RESULTS.md."""
    from bench import clusterbench, opensearchbench, quotebench, report

    return [
        Section("enrichment", run_enrichment, report.enrichment_md),
        Section("indexing", run_indexing, report.indexing_md),
        Section("queries", run_queries, report.queries_md, fills_in=True),
        Section("web", run_web, report.web_md, modes=("full",)),
        Section("peers", run_peers, report.peers_md, fills_in=True),
        Section("opensearch", opensearchbench.run, opensearchbench.report, modes=("full",), fills_in=True),
        Section("quotes", quotebench.run, quotebench.report),
        Section("cluster", clusterbench.run, clusterbench.report, modes=("full",)),
    ]


# ------------------------------------------------------------------------------------- scale builds (full)


def scaled_build(seeds: list[dict], n: int) -> dict:
    """`rebuild` from a warm cache of n replicated articles, in a child process: seconds, docs/s, peak RSS, size."""
    from bench.indexbench import fill_cache, write_articles
    from bench.querybench import code_digest
    from search.indexer import live_generation

    base = OUT / f"scale-{n}-{len(seeds)}-{code_digest()}"
    meta = base / "build.json"
    if meta.exists() and live_generation(Path(json.loads(meta.read_text())["index_dir"])) is not None:
        return {**json.loads(meta.read_text()), "this_run": False}
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
    before = stamp()
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
    res.update(docs=n, docs_per_s=round(n / res["seconds"], 1), seconds=round(res["seconds"], 1),
               peak_rss_mb=round(res["peak_rss_mb"], 1), index_mb=round(dir_size_mb(live_generation(index_dir)), 1),
               index_dir=str(index_dir), built_by="rebuild from the cache, 1 writer", **before)
    meta.write_text(json.dumps(res))
    log(f"  {res}")
    return {**res, "this_run": True}


# -------------------------------------------------------------------------------------------------- summary


def summary(res: dict) -> dict:
    """The one-line JSON: headline ratios and latencies of the sections present."""
    sec = res["sections"]
    s: dict = {}
    if "enrichment" in sec:
        e = sec["enrichment"]
        s.update(enrich_ratio=e["enrich_ratio"], enrich_ratio_2=e.get("enrich_ratio_2"),
                 workers_speedup=e["workers_speedup"], enrich_cpu_ratio=e.get("enrich_cpu_ratio"))
    if "indexing" in sec:
        s.update(index_ratio=sec["indexing"]["index_ratio"],
                 cache_rebuild_speedup=sec["indexing"]["cache_rebuild_speedup"])
    qs = sec.get("queries", {}).get("sizes", {})
    if qs:
        key = max(qs, key=int)
        q = qs[key]
        s.update(docs=int(key), plain_p95_ms=q["plain"]["p95_ms"], faceted_p95_ms=q["newsfacet"]["p95_ms"],
                 groupedby_p95_ms=q["groupedby"]["p95_ms"],
                 faceted_vs_plain_p95=round(q["newsfacet"]["p95_ms"] / q["plain"]["p95_ms"], 2),
                 groupedby_vs_faceted_p95=round(q["groupedby"]["p95_ms"] / q["newsfacet_on_groupedby_queries"]["p95_ms"], 1),
                 groupedby_requests=q["groupedby"]["n"], count_mismatches=q["count_mismatches"], queries=q["queries"],
                 searcher_open_ms=q["searcher_open"]["cold_ms"])
    if "web" in sec:
        s.update(web_api_rps=sec["web"]["api_search"]["rps"], web_api_p95_ms=sec["web"]["api_search"]["p95_ms"])
    ps = sec.get("peers", {}).get("sizes", {})
    for n, p in sorted(ps.items(), key=lambda kv: int(kv[0])):
        lat, nf = p["latency"], p["latency"]["newsfacet"]
        for peer in ("fts5", "tantivy"):
            s[f"{peer}_vs_newsfacet_p95_{n}"] = round(lat[peer]["p95_ms"] / nf["p95_ms"], 2)
            s[f"{peer}_totals_agree_{n}"] = f"{p['agreement'][peer]['totals']}/{p['requests']}"
    if "cluster" in sec:
        c = sec["cluster"]
        s.update(cluster_enrich_ratio=c["acceptance"]["ratio"], cluster_2_vs_local_2=c["throughput"]["cluster_2_vs_local_2"],
                 cluster_worker_vs_local_cpu=c["throughput"]["worker_vs_local_cpu"],
                 cluster_workers_for_1m_per_hour=c["estimate"]["workers_needed"],
                 cluster_index_write_1m_hours=c["estimate"]["hours_index_write_from_cache"])
    s["load_avg_1min"] = {name: m.get("load_before") for name, m in res.get("meta", {}).items()}
    return s


def machine() -> str:
    """Cores, CPU model, memory, kernel and Python of this machine."""
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> dict:
    """Run the chosen sections of a mode, keep their results, write the report; prints the summary line."""
    names = [s.name for s in sections()]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="reduced sizes, about 10 minutes (the default)")
    mode.add_argument("--full", action="store_true", help="everything, at full sizes (on a quiet machine)")
    ap.add_argument("--only", help=f"comma-separated sections to (re-)run, keeping the others' last results: {', '.join(names)}")
    ap.add_argument("--reuse", action="store_true",
                    help="skip what the mode's last results (bench/out/results-MODE.json) already hold")
    ap.add_argument("--write", type=Path, help="write the Markdown report here (quick runs: bench/out/RESULTS-quick.md)")
    ap.add_argument("--sizes", help="index sizes of the queries and web sections (comma-separated)")
    ap.add_argument("--peer-sizes", help="index sizes of the peers section (comma-separated)")
    ap.add_argument("--seeds", type=int, help="enriched articles the indexes are replicated from (full: 1500)")
    ap.add_argument("--articles", type=int, help="articles of the enrichment section (300)")
    ap.add_argument("--index-docs", type=int, help="documents of the indexing section (quick 600, full 1000)")
    ap.add_argument("--queries", type=int, help="requests per size (quick 200, full 240)")
    ap.add_argument("--quote-docs", type=int, help="articles of the quote search index (quick 5,000, full 100,000)")
    ap.add_argument("--quote-rebuild-docs", type=int, help="articles rebuilt with and without quotes (quick 600, full 20,000)")
    a = ap.parse_args(argv)
    mode_name = "full" if a.full else "quick"
    ints = lambda s: tuple(int(x) for x in s.split(",") if x.strip()) if s else None  # noqa: E731
    ctx = Context(mode_name, sizes=ints(a.sizes), peer_sizes=ints(a.peer_sizes), seeds=a.seeds, articles=a.articles,
                  index_docs=a.index_docs, queries=a.queries, spacy_articles=None, quote_docs=a.quote_docs,
                  quote_rebuild_docs=a.quote_rebuild_docs)
    chosen = [s for s in sections() if mode_name in s.modes]
    if a.only:
        wanted = [x.strip() for x in a.only.split(",") if x.strip()]
        unknown = [x for x in wanted if x not in names]
        if unknown:
            ap.error(f"unknown section {', '.join(unknown)}; sections: {', '.join(names)}")
        other_mode = [x for x in wanted if x not in [s.name for s in chosen]]
        if other_mode:
            ap.error(f"section {', '.join(other_mode)} is not part of a {mode_name} run")
        chosen = [s for s in chosen if s.name in wanted]
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"results-{mode_name}.json"
    res = {"sections": {}, "meta": {}}
    if (a.reuse or a.only) and path.exists():
        res = json.loads(path.read_text())
        res.setdefault("sections", {})
        res.setdefault("meta", {})
    started = now()
    command = "python bench/run.py " + " ".join(shlex.quote(x) for x in (argv if argv is not None else sys.argv[1:]))
    for sec in chosen:
        prev = res["sections"].get(sec.name) if a.reuse else None
        if a.reuse and prev is not None and not sec.fills_in:
            log(f"[{sec.name}] kept from {res['meta'].get(sec.name, {}).get('date', 'an earlier run')}")
            continue
        log(f"[{sec.name}] ...")
        before = stamp()
        t = now()
        result = sec.run(ctx, prev)
        res["sections"][sec.name] = result
        if result == prev:
            log(f"[{sec.name}] nothing lacked: kept from {res['meta'].get(sec.name, {}).get('date', 'an earlier run')}")
            continue
        res["meta"][sec.name] = {
            "date": before["date"], "seconds": round(now() - t, 1), "load_before": before["load_avg"],
            "load_after": round(os.getloadavg()[0], 1), "command": command, "mode": mode_name,
        }
        log(f"[{sec.name}] done in {now() - t:.0f}s [{now() - started:.0f}s]")
        res["machine"] = machine()
        res["seeds"] = len(ctx.seeds()) if ctx._seeds is not None else res.get("seeds")
        path.write_text(json.dumps(res, indent=1))  # after every section: an interrupted run resumes with --reuse
    res["machine"] = machine()
    res["summary"] = summary(res)
    path.write_text(json.dumps(res, indent=1))
    target = a.write or (OUT / "RESULTS-quick.md" if mode_name == "quick" else None)
    if target:
        from bench.report import write_report

        write_report(res, target, sections())
        log(f"wrote {target}")
    print(json.dumps(res["summary"]))
    return res


if __name__ == "__main__":
    main()
