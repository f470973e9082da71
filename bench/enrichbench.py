"""Enrichment: newsfacet's Enricher against bare nlp.pipe over the same texts and pipeline, and 2 workers vs 1.

Articles are split in chunks; every chunk runs through each system in rotating order, so machine noise
(teammates' jobs on this 2-core box) falls on all of them alike. No cache hits: each run has an empty cache.
"""
from __future__ import annotations

import statistics
import tempfile
import time
import warnings
from pathlib import Path

from bench.common import log, now


def enrich_bench(articles: list, chunks: int = 6, batch_size: int = 32) -> dict:
    """Seconds per system over the same articles; ratios of throughput."""
    from search.cache import EnrichCache
    from search.config import Settings
    from search.enrich import Enricher, load_pipeline

    nlp = load_pipeline(Settings().model)
    nlp.max_length = max(nlp.max_length, Settings().max_chars + 1)
    words = sum(len(a.text.split()) for a in articles)
    parts = [articles[i::chunks] for i in range(chunks)]
    secs = {"bare_1": 0.0, "newsfacet_1": 0.0, "newsfacet_2": 0.0}
    # CPU seconds of this process: the single-process runs' work, unaffected by other jobs on the machine
    cpu = {"bare_1": 0.0, "newsfacet_1": 0.0}
    tmp = Path(tempfile.mkdtemp(prefix="nf-enrich-"))
    produced: list[dict] = []

    def bare(part):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for doc in nlp.pipe((a.text for a in part), batch_size=batch_size, n_process=1):
                doc.user_data.get("newsfacet")

    def newsfacet(workers):
        def run(part):
            cache = EnrichCache(tmp / f"cache-{workers}-{id(part)}-{now()}.sqlite")
            e = Enricher(Settings(workers=workers, batch_size=batch_size), cache=cache, nlp=nlp)
            recs = [r for r in e.enrich(part) if isinstance(r, dict)]
            n = len(recs)
            cache.close()
            if workers == 1:
                produced.extend(recs)
            assert n == len(part) and e.analysed == n
        return run

    systems = [("bare_1", bare), ("newsfacet_1", newsfacet(1)), ("newsfacet_2", newsfacet(2))]
    # Warm-up outside the timing: spaCy's first call, dateparser's one-off set-up (~1 s) in newsfacet's date code.
    bare(articles[:2])
    newsfacet(1)(articles[:2])
    produced.clear()
    log(f"enrichment: {len(articles)} articles, {words:,} words, {chunks} interleaved chunks ...")
    per_chunk: list[dict[str, float]] = []
    for i, part in enumerate(parts):
        order = systems[i % 3:] + systems[:i % 3]
        this = {}
        for name, fn in order:
            t, c = now(), time.process_time()
            fn(part)
            this[name] = now() - t
            secs[name] += this[name]
            if name in cpu:
                cpu[name] += time.process_time() - c
        per_chunk.append(this)
        log("  chunk", i + 1, {k: round(v, 1) for k, v in this.items()})
    n = len(articles)
    # This VM's speed swings by ±20% over seconds, and a slow spell that hits one system's run of one chunk moves
    # a ratio of totals by as much: the headline ratios are the median over chunks of each chunk's own ratio.
    enrich_by_chunk = [c["bare_1"] / c["newsfacet_1"] for c in per_chunk]
    workers_by_chunk = [c["newsfacet_1"] / c["newsfacet_2"] for c in per_chunk]
    return {
        "articles": n, "words": words,
        "seconds": {k: round(v, 2) for k, v in secs.items()},
        "articles_per_s": {k: round(n / v, 2) for k, v in secs.items()},
        "words_per_s": {k: round(words / v) for k, v in secs.items()},
        "enrich_ratio": round(statistics.median(enrich_by_chunk), 3),
        "enrich_ratio_by_chunk": [round(r, 3) for r in enrich_by_chunk],
        "enrich_ratio_of_totals": round(secs["bare_1"] / secs["newsfacet_1"], 3),
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "enrich_cpu_ratio": round(cpu["bare_1"] / cpu["newsfacet_1"], 3),
        "workers_speedup": round(statistics.median(workers_by_chunk), 3),
        "workers_speedup_by_chunk": [round(r, 3) for r in workers_by_chunk],
        "workers_speedup_of_totals": round(secs["newsfacet_1"] / secs["newsfacet_2"], 3),
        "_records": produced,
    }
