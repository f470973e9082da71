"""Enrichment on a Dask cluster (issue 14): its overhead against local enrichment, the coordinator's ceiling,
and from these, on paper, the cluster that enriches a million articles in an hour.

Everything runs on this machine: a `dask scheduler` and `dask worker --nthreads 1` processes on 127.0.0.1, so on
2 cores a cluster can only match local enrichment; the ratios show what the cluster costs, not what it gains.

1. Throughput: the same articles, in chunks, through local enrichment with 1 and 2 processes and through
   clusters of 1 and 2 workers, each chunk by every system in rotating order (in this process, cold cache,
   pipelines already loaded everywhere).
2. Acceptance: `newsfacet enrich` of the articles, local single-process against the 1-worker cluster, in
   alternating rounds (whole commands: the local one loads spaCy each time; the worker stays up, as it does).
3. The coordinator's ceiling: a worker that answers every batch at once from analyses made before
   (bench/replay_worker.py), so only the coordinator works: reading, cache keys and writes, the Dask round
   trip, and in a rebuild the Whoosh writer. Then a rebuild of the same from the warm cache: the index write.

Standalone: `python bench/clusterbench.py [--articles 300]` prints the results as JSON.
"""
from __future__ import annotations

import json
import math
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests"):  # tests/dask_cluster.py starts the scheduler and worker processes
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench.common import log, now  # noqa: E402
from bench.data import OUT  # noqa: E402

ARTICLE_KEYS = ("id", "title", "text", "published", "source", "url", "authors")
ONE_MILLION, ONE_HOUR = 1_000_000, 3600.0


def run(ctx, prev: dict | None) -> dict:
    """The section's results for bench/run.py (the enrichment section's articles)."""
    from bench.data import sample_articles

    return cluster_bench(sample_articles(ctx.p["articles"], offset=3))


def cluster_bench(articles: list, chunks: int = 3, rounds: int = 3, replicas: int = 10) -> dict:
    """All three measurements and the estimate, as plain data."""
    from dask_cluster import Cluster

    work = OUT / "cluster"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src = work / "articles.jsonl"
    _write(articles, src)
    words = sum(len(a.text.split()) for a in articles)
    one = Cluster(work / "one").start_scheduler()
    two = Cluster(work / "two").start_scheduler()
    try:
        one.add_worker("a")
        two.add_worker("b1")
        two.add_worker("b2")
        one.wait_for_workers(1)
        two.wait_for_workers(2)
        for c in (one, two):
            _warm(c)
        out = {"articles": len(articles), "words": words}
        out["throughput"], records = _throughput(articles, chunks, one.address, two.address)
        out["acceptance"] = _acceptance(src, len(articles), rounds, one.address)
    finally:
        one.stop()
        two.stop()
    out["coordinator"] = _coordinator(articles, records, replicas, work)
    out["estimate"] = _estimate(out)
    shutil.rmtree(work, ignore_errors=True)
    return out


def _write(articles: list, path: Path, copy: int = 0) -> None:
    with open(path, "a" if copy else "w", encoding="utf-8") as f:
        for a in articles:
            row = {k: getattr(a, k) for k in ARTICLE_KEYS if getattr(a, k)}
            if copy:
                row["id"] = f"{a.id}~{copy}"
                row["text"] = f"{a.text}\n\n(Copy {copy}.)"
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _warm(cluster) -> None:
    """Every worker of the cluster loads its pipeline now (a long-lived cluster has it loaded)."""
    from dataclasses import asdict

    from search.cluster import analyse_on_worker, local_versions
    from search.config import Settings, language_models

    settings = Settings()
    models = tuple(language_models(settings).values())
    cluster.client().run(analyse_on_worker, tuple(local_versions(models)), models, asdict(settings),
                         [("The council met on Tuesday, the mayor said.", "Warm-up")])


def _throughput(articles: list, chunks: int, one: str, two: str) -> tuple[dict, list[dict]]:
    """articles/s of local 1 and 2 processes and clusters of 1 and 2 workers over the same chunks."""
    from search.config import Settings
    from search.enrich import Enricher, load_pipeline

    nlp = load_pipeline(Settings().model)
    produced: list[dict] = []

    def system(**settings):
        def enrich(part):
            enricher = Enricher(Settings(**settings), nlp=nlp)
            try:
                recs = [r for r in enricher.enrich(part) if isinstance(r, dict)]
            finally:
                enricher.close()
            assert len(recs) == len(part) and enricher.analysed == len(part), "not every article was enriched"
            if settings.get("workers") == 1:
                produced.extend(recs)
        return enrich

    systems = [("local_1", system(workers=1)), ("local_2", system(workers=2)),
               ("cluster_1", system(scheduler=one)), ("cluster_2", system(scheduler=two))]
    for _, enrich in systems:  # warm-up outside the timing: first calls (language detection, dateparser)
        enrich(articles[:4])
    produced.clear()
    parts = [articles[i::chunks] for i in range(chunks)]
    secs = {name: 0.0 for name, _ in systems}
    per_chunk = []
    log(f"cluster: {len(articles)} articles in {chunks} chunks through local 1/2 processes and 1/2 Dask workers ...")
    for i, part in enumerate(parts):
        this = {}
        for name, enrich in systems[i % len(systems):] + systems[:i % len(systems)]:
            t = now()
            enrich(part)
            this[name] = now() - t
            secs[name] += this[name]
        per_chunk.append(this)
        log("  chunk", i + 1, {k: round(v, 1) for k, v in this.items()})
    n = len(articles)

    def ratio(a, b):  # a's articles/s over b's: the median of the chunks' own ratios
        return round(statistics.median(c[b] / c[a] for c in per_chunk), 3)

    return {
        "seconds": {k: round(v, 2) for k, v in secs.items()},
        "articles_per_s": {k: round(n / v, 2) for k, v in secs.items()},
        "cluster_2_vs_local_2": ratio("cluster_2", "local_2"),
        "cluster_1_vs_local_2": ratio("cluster_1", "local_2"),
        "cluster_1_vs_local_1": ratio("cluster_1", "local_1"),
        "cluster_2_vs_cluster_1": ratio("cluster_2", "cluster_1"),
        "by_chunk": [{k: round(v, 2) for k, v in c.items()} for c in per_chunk],
    }, produced


def _acceptance(src: Path, n: int, rounds: int, one: str) -> dict:
    """`newsfacet enrich` of the articles: local single-process against the 1-worker cluster, alternating."""
    from warm_cache import cli_env

    exe = str(Path(sys.executable).with_name("newsfacet"))
    commands = {"local": [exe, "enrich", str(src), "--no-text", "-o", "/dev/null", "--workers", "1"],
                "cluster": [exe, "enrich", str(src), "--no-text", "-o", "/dev/null", "-q", "--scheduler", one]}
    secs: dict[str, list[float]] = {"local": [], "cluster": []}
    log(f"cluster: `newsfacet enrich` of {n} articles, local vs 1 Dask worker, {rounds} alternating rounds ...")
    for r in range(rounds):
        for name in (("local", "cluster") if r % 2 == 0 else ("cluster", "local")):
            t = now()
            done = subprocess.run(commands[name], env=cli_env(), capture_output=True, text=True, cwd=ROOT)
            secs[name].append(now() - t)
            if done.returncode or f"Enriched {n} articles" not in done.stderr:
                raise RuntimeError(f"{name} enrich failed: {done.stderr[-2000:]}")
        log(f"  round {r + 1}: local {secs['local'][-1]:.1f}s, cluster {secs['cluster'][-1]:.1f}s")
    by_round = [round(loc / clu, 3) for loc, clu in zip(secs["local"], secs["cluster"])]
    return {
        "rounds": rounds,
        "seconds": {k: [round(s, 2) for s in v] for k, v in secs.items()},
        "articles_per_s": {k: round(n * len(v) / sum(v), 2) for k, v in secs.items()},
        "ratio": round(statistics.median(by_round), 3),  # cluster articles/s over local, per round
        "ratio_by_round": by_round,
        "ratio_of_totals": round(sum(secs["local"]) / sum(secs["cluster"]), 3),
    }


def _coordinator(articles: list, records: list[dict], replicas: int, work: Path) -> dict:
    """docs/s of the coordinator alone: enrich into the cache, and rebuild, through a worker that answers at
    once; then a rebuild from the warm cache (the index write by itself)."""
    from dask_cluster import Cluster
    from replay_worker import text_key

    from search.articles import read_articles
    from search.cache import EnrichCache
    from search.config import Settings
    from search.enrich import ANALYSIS_KEYS, Enricher
    from search.indexer import rebuild

    by_id = {r["id"]: r for r in records}
    table = {text_key(a.text): {k: by_id[a.id].get(k) or [] for k in ANALYSIS_KEYS} for a in articles}
    (work / "replay.json").write_text(json.dumps(table))
    src = work / "replicas.jsonl"
    for k in range(replicas):
        _write(articles, src, copy=k + 1)
    n = len(articles) * replicas
    c = Cluster(work / "replay", env={"NEWSFACET_BENCH_REPLAY": str(work / "replay.json")}).start_scheduler()
    out: dict = {"docs": n}
    try:
        c.add_worker("replay", preload=ROOT / "bench" / "replay_worker.py")
        c.wait_for_workers(1)
        log(f"cluster: the coordinator alone on {n:,} articles (a worker that answers at once) ...")
        enricher = Enricher(Settings(scheduler=c.address), cache=EnrichCache(work / "enrich-only" / "cache.sqlite"))
        t = now()
        got = sum(isinstance(r, dict) for r in enricher.enrich(read_articles([str(src)])))
        out["enrich_to_cache_docs_per_s"] = round(got / (now() - t), 1)
        enricher.close()
        enricher.cache.close()
        t = now()
        report = rebuild([str(src)], Settings(index=work / "index", scheduler=c.address))
        out["rebuild_docs_per_s"] = round(report.indexed / (now() - t), 1)
        assert got == n and report.indexed == n and report.analysed == n
    finally:
        c.stop()
    t = now()
    report = rebuild([str(src)], Settings(index=work / "index"))
    out["rebuild_from_cache_docs_per_s"] = round(report.indexed / (now() - t), 1)
    assert report.cached == n
    log(f"  {out}")
    return out


def _estimate(res: dict) -> dict:
    """On paper: workers for a million articles in an hour, and what the coordinator then takes."""
    per_worker = res["throughput"]["articles_per_s"]["cluster_1"]
    need = ONE_MILLION / ONE_HOUR
    co = res["coordinator"]
    return {
        "articles_per_s_needed": round(need, 1),
        "articles_per_s_per_worker": per_worker,
        "workers_needed": math.ceil(need / per_worker),
        "coordinator_keeps_up": co["enrich_to_cache_docs_per_s"] >= need,
        "hours_enrich_to_cache_at_coordinator_ceiling": round(ONE_MILLION / co["enrich_to_cache_docs_per_s"] / ONE_HOUR, 2),
        "hours_rebuild_through_cluster": round(ONE_MILLION / co["rebuild_docs_per_s"] / ONE_HOUR, 2),
        "hours_index_write_from_cache": round(ONE_MILLION / co["rebuild_from_cache_docs_per_s"] / ONE_HOUR, 2),
    }


def report(result: dict, res: dict | None = None) -> list[str]:
    """The section's Markdown for bench/RESULTS.md."""
    t, a, co, e = result["throughput"], result["acceptance"], result["coordinator"], result["estimate"]
    aps = t["articles_per_s"]
    ok = "met" if a["ratio"] >= 0.85 else "**missed**"
    return [
        "## Enrichment on a Dask cluster", "",
        f"{result['articles']} articles ({result['words']:,} words). A `dask scheduler` and `dask worker --nthreads 1` "
        "processes on this machine: on 2 cores a cluster can at best match local enrichment, so these ratios show "
        "what the cluster costs, not what it gains (`bench/clusterbench.py`).", "",
        f"**Acceptance**: `newsfacet enrich` of the {result['articles']} articles, cold cache, 1 worker against local "
        f"single-process, {a['rounds']} alternating rounds: **{a['ratio']:.2f}×** the articles/s (median of the "
        f"rounds {', '.join(map(str, a['ratio_by_round']))}; of the totals {a['ratio_of_totals']}); target ≥ 0.85, "
        f"{ok}. Whole commands: the local one loads spaCy each time ({a['articles_per_s']['local']} articles/s), the "
        f"worker keeps its pipeline ({a['articles_per_s']['cluster']} articles/s).", "",
        "Throughput in one process, pipelines loaded everywhere, chunks run by every system in rotating order "
        "(ratios: median of the chunks' own):", "",
        "| system | articles/s |", "|---|---|",
        f"| local, 1 process | {aps['local_1']} |",
        f"| local, `--workers 2` | {aps['local_2']} |",
        f"| cluster, 1 worker | {aps['cluster_1']} |",
        f"| cluster, 2 workers | {aps['cluster_2']} |", "",
        f"Cluster of 2 / local `--workers 2`: **{t['cluster_2_vs_local_2']:.2f}**; cluster of 1 / local `--workers 2`: "
        f"{t['cluster_1_vs_local_2']:.2f}; cluster of 1 / local 1 process: {t['cluster_1_vs_local_1']:.2f}; "
        f"2 workers / 1: {t['cluster_2_vs_cluster_1']:.2f}.", "",
        f"The coordinator alone ({co['docs']:,} articles, through a worker that answers every batch at once): "
        f"{co['enrich_to_cache_docs_per_s']} articles/s into the enrichment cache; a rebuild through the cluster "
        f"(cache and Whoosh writer) {co['rebuild_docs_per_s']} documents/s; the same rebuild from the warm cache "
        f"{co['rebuild_from_cache_docs_per_s']} documents/s.", "",
        f"**On paper**: a million articles in an hour is {e['articles_per_s_needed']} articles/s; at "
        f"{e['articles_per_s_per_worker']} articles/s per worker process (one core each, articles like these) that "
        f"is **{e['workers_needed']} workers**"
        + (f", and the coordinator keeps up ({co['enrich_to_cache_docs_per_s']} articles/s into the cache). "
           if e["coordinator_keeps_up"] else
           f", but the coordinator takes only {co['enrich_to_cache_docs_per_s']} articles/s into the cache "
           f"({e['hours_enrich_to_cache_at_coordinator_ceiling']} h for a million, whatever the cluster). ")
        + f"The index write then takes **{e['hours_index_write_from_cache']} h** (a rebuild from the warm cache, one "
        f"Whoosh writer); a rebuild through the cluster, enrichment and writing at once, is bound by the writer: "
        f"{e['hours_rebuild_through_cluster']} h.", "",
    ]


if __name__ == "__main__":
    import argparse

    from bench.data import sample_articles

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--write", type=Path, help="also write the section's Markdown here")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    res = cluster_bench(sample_articles(a.articles, offset=3), rounds=a.rounds)
    res["seconds"] = round(time.monotonic() - started, 1)
    (OUT / "results-cluster.json").write_text(json.dumps(res, indent=1))
    if a.write:
        a.write.write_text("\n".join(report(res)) + "\n")
    print(json.dumps(res))
