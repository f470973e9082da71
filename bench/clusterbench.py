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

Standalone: `python bench/clusterbench.py [--articles 300]` prints the results as JSON; with `--acceptance-only`,
only measurement 2 (a quarter of the time).
"""
from __future__ import annotations

import json
import math
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
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

    return cluster_bench(sample_articles(ctx.p["articles"], offset=3))  # the enrichment section's (ENRICH_OFFSET)


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
        out["throughput"], records = _throughput(articles, chunks, one, two)
        out["acceptance"] = _acceptance(src, len(articles), rounds, one.address)
    finally:
        one.stop()
        two.stop()
    out["coordinator"] = _coordinator(articles, records, replicas, work)
    out["estimate"] = _estimate(out)
    shutil.rmtree(work, ignore_errors=True)
    return out


def acceptance_bench(articles: list, rounds: int = 3) -> dict:
    """Measurement 2 alone: `newsfacet enrich`, local single-process against a 1-worker cluster."""
    from dask_cluster import Cluster

    work = OUT / "cluster-acceptance"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src = work / "articles.jsonl"
    _write(articles, src)
    one = Cluster(work / "one").start_scheduler()
    try:
        one.add_worker("a")
        one.wait_for_workers(1)
        _warm(one)
        out = {"articles": len(articles), "acceptance": _acceptance(src, len(articles), rounds, one.address)}
    finally:
        one.stop()
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


def _worker_cpu(cluster) -> float:
    """CPU seconds the cluster's worker processes have used so far."""
    return sum(cluster.client().run(time.process_time).values())


def _throughput(articles: list, chunks: int, one, two) -> tuple[dict, list[dict]]:
    """articles/s of local 1 and 2 processes and clusters of 1 and 2 workers over the same chunks, and CPU seconds
    per article of local 1 process and of the 1-worker cluster's worker and coordinator (the load on this shared
    machine stretches wall time, not CPU time)."""
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
               ("cluster_1", system(scheduler=one.address)), ("cluster_2", system(scheduler=two.address))]
    cpu = {"local_1": 0.0, "cluster_1_worker": 0.0, "cluster_1_coordinator": 0.0}
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
            own, worker = time.process_time(), _worker_cpu(one) if name == "cluster_1" else 0.0
            t = now()
            enrich(part)
            this[name] = now() - t
            secs[name] += this[name]
            if name == "local_1":
                cpu["local_1"] += time.process_time() - own
            elif name == "cluster_1":
                cpu["cluster_1_coordinator"] += time.process_time() - own
                cpu["cluster_1_worker"] += _worker_cpu(one) - worker
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
        "cpu_s_per_article": {k: round(v / n, 4) for k, v in cpu.items()},
        # the worker's CPU per article against local enrichment's: what the cluster adds where spaCy runs
        "worker_vs_local_cpu": round(cpu["cluster_1_worker"] / cpu["local_1"], 3),
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
        with _timed(out, "enrich_to_cache", n):
            got = sum(isinstance(r, dict) for r in enricher.enrich(read_articles([str(src)])))
            enricher.close()
            enricher.cache.close()
        with _timed(out, "rebuild", n):
            report = rebuild([str(src)], Settings(index=work / "index", scheduler=c.address))
        assert got == n and report.indexed == n and report.analysed == n
    finally:
        c.stop()
    with _timed(out, "rebuild_from_cache", n):
        report = rebuild([str(src)], Settings(index=work / "index"))
    assert report.cached == n
    log(f"  {out}")
    return out


@contextmanager
def _timed(out: dict, name: str, n: int):
    """Record name_docs_per_s (wall) and name_docs_per_cpu_s (this process's CPU) of a block over n documents."""
    wall, cpu = now(), time.process_time()
    yield
    out[f"{name}_docs_per_s"] = round(n / (now() - wall), 1)
    out[f"{name}_docs_per_cpu_s"] = round(n / (time.process_time() - cpu), 1)


def _estimate(res: dict) -> dict:
    """On paper: worker cores for a million articles in an hour, and what the coordinator then takes. From CPU
    seconds (what a core of its own would give; wall times here are stretched by the machine's other jobs)."""
    need = ONE_MILLION / ONE_HOUR
    worker_cpu = res["throughput"]["cpu_s_per_article"]["cluster_1_worker"]
    co = res["coordinator"]
    return {
        "articles_per_s_needed": round(need, 1),
        "articles_per_s_per_worker_core": round(1 / worker_cpu, 2),
        "workers_needed": math.ceil(need * worker_cpu),
        "coordinator_keeps_up": co["enrich_to_cache_docs_per_cpu_s"] >= need,
        "hours_enrich_to_cache_at_coordinator_ceiling": round(ONE_MILLION / co["enrich_to_cache_docs_per_cpu_s"] / ONE_HOUR, 2),
        "hours_rebuild_through_cluster": round(ONE_MILLION / co["rebuild_docs_per_cpu_s"] / ONE_HOUR, 2),
        "hours_index_write_from_cache": round(ONE_MILLION / co["rebuild_from_cache_docs_per_cpu_s"] / ONE_HOUR, 2),
    }


def report(result: dict, res: dict | None = None) -> list[str]:
    """The section's Markdown for bench/RESULTS.md."""
    t, a, co, e = result["throughput"], result["acceptance"], result["coordinator"], result["estimate"]
    aps, cpu = t["articles_per_s"], t["cpu_s_per_article"]
    ok = "met" if a["ratio"] >= 0.85 else "**missed**"
    return [
        "## Enrichment on a Dask cluster", "",
        f"{result['articles']} articles ({result['words']:,} words; the enrichment section's). A `dask scheduler` and "
        "`dask worker --nthreads 1` processes on this machine: on 2 cores a cluster can at best match local "
        "enrichment, so these ratios show what the cluster costs, not what it gains (`bench/clusterbench.py`).", "",
        f"**Acceptance**: `newsfacet enrich` of the {result['articles']} articles, cold cache, 1 worker against local "
        f"single-process, {a['rounds']} alternating rounds: **{a['ratio']:.2f}×** the articles/s (median of the "
        f"rounds {', '.join(map(str, a['ratio_by_round']))}; of the totals {a['ratio_of_totals']}); target ≥ 0.85, "
        f"{ok}. Whole commands: the local one loads spaCy each time ({a['articles_per_s']['local']} articles/s), the "
        f"worker keeps its pipeline ({a['articles_per_s']['cluster']} articles/s).", "",
        "Throughput in one process, pipelines loaded everywhere, each chunk run by every system in rotating order "
        "(ratios: median of the chunks' own):", "",
        "| system | articles/s |", "|---|---|",
        f"| local, 1 process | {aps['local_1']} |",
        f"| local, `--workers 2` | {aps['local_2']} |",
        f"| cluster, 1 worker | {aps['cluster_1']} |",
        f"| cluster, 2 workers | {aps['cluster_2']} |", "",
        f"Cluster of 2 / local `--workers 2`: **{t['cluster_2_vs_local_2']:.2f}**; cluster of 1 / local `--workers 2`: "
        f"{t['cluster_1_vs_local_2']:.2f}; cluster of 1 / local 1 process: {t['cluster_1_vs_local_1']:.2f}; "
        f"2 workers / 1: {t['cluster_2_vs_cluster_1']:.2f}. In CPU seconds, which other jobs on the machine do not "
        f"stretch: local enrichment {cpu['local_1']} s an article, the worker {cpu['cluster_1_worker']} s "
        f"(**{t['worker_vs_local_cpu']:.2f}×**), while the coordinator spends {cpu['cluster_1_coordinator']} s an "
        "article sending texts and taking analyses.", "",
        f"The coordinator alone ({co['docs']:,} articles, through a worker that answers every batch at once; "
        "documents per wall second, and per CPU second of the coordinator process):", "",
        "| coordinator work | docs/s | docs per CPU-s |", "|---|---|---|",
        f"| enrich into the cache (read, key, Dask round trip, cache write) | {co['enrich_to_cache_docs_per_s']} | "
        f"{co['enrich_to_cache_docs_per_cpu_s']} |",
        f"| rebuild through the cluster (the same and the Whoosh writer) | {co['rebuild_docs_per_s']} | "
        f"{co['rebuild_docs_per_cpu_s']} |",
        f"| rebuild from the warm cache (the index write alone) | {co['rebuild_from_cache_docs_per_s']} | "
        f"{co['rebuild_from_cache_docs_per_cpu_s']} |", "",
        f"**On paper** (CPU seconds, so a core of its own each): a million articles in an hour is "
        f"{e['articles_per_s_needed']} articles/s; a worker core enriches {e['articles_per_s_per_worker_core']} "
        f"articles/s of these, so that takes **{e['workers_needed']} worker processes** (one core each)"
        + (f", and the coordinator keeps up ({co['enrich_to_cache_docs_per_cpu_s']} articles per CPU-second into the "
           f"cache; {e['hours_enrich_to_cache_at_coordinator_ceiling']} h for a million at its ceiling). "
           if e["coordinator_keeps_up"] else
           f", but the coordinator takes only {co['enrich_to_cache_docs_per_cpu_s']} articles per CPU-second into the "
           f"cache ({e['hours_enrich_to_cache_at_coordinator_ceiling']} h for a million, whatever the cluster). ")
        + f"Writing the index of the million then takes **{e['hours_index_write_from_cache']} h** (a rebuild from the "
        f"warm cache, one Whoosh writer); a rebuild through the cluster, enriching and writing at once, is bound by "
        f"that writer: {e['hours_rebuild_through_cluster']} h.", "",
    ]


if __name__ == "__main__":
    import argparse

    from bench.data import sample_articles

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--write", type=Path, help="also write the section's Markdown here")
    ap.add_argument("--acceptance-only", action="store_true", help="only `newsfacet enrich`, 1 worker vs local")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if a.acceptance_only:
        res = acceptance_bench(sample_articles(a.articles, offset=3), rounds=a.rounds)
    else:
        res = cluster_bench(sample_articles(a.articles, offset=3), rounds=a.rounds)
    res["seconds"] = round(time.monotonic() - started, 1)
    if not a.acceptance_only:
        (OUT / "results-cluster.json").write_text(json.dumps(res, indent=1))
        if a.write:
            a.write.write_text("\n".join(report(res)) + "\n")
    print(json.dumps(res))
