"""Enrichment: newsfacet's Enricher against bare `nlp.pipe` of the same spaCy model, and 2 workers vs 1.

*Bare* is what a user of spaCy alone would run: the same model loaded with the same excluded components
(`search.entities.PIPELINE_EXCLUDE`) and none of newsfacet's (no tokenizer rules, no paragraph marker, no
gazetteer ruler, no analysis component, no tensor dropping), over the same texts, with the same batch size
and the same number of processes as the newsfacet run it is compared with. newsfacet's side is its whole
enrichment (`Enricher.enrich`: spaCy with its components, attribution, entities, dates, the record).

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


def bare_pipeline(model: str, max_length: int):
    """The spaCy model as `spacy.load` gives it, less newsfacet's excluded components, nothing of newsfacet's added."""
    import spacy

    from search.entities import PIPELINE_EXCLUDE

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nlp = spacy.load(model, exclude=PIPELINE_EXCLUDE)
    nlp.max_length = max(nlp.max_length, max_length)
    return nlp


def pipe_batch_size(articles: int, processes: int, batch_size: int) -> int:
    """The batch size `Enricher` hands `nlp.pipe` for a call of `articles` articles (search/enrich.py, `_run`),
    so the bare run with as many processes is fed the same batches."""
    if processes > 1 and articles >= 2 * processes:
        return max(1, min(batch_size, articles // (processes * 8)))
    return batch_size


def enrich_bench(articles: list, chunks: int = 6, batch_size: int = 32) -> dict:
    """Seconds per system over the same articles; ratios of throughput."""
    from search.cache import EnrichCache
    from search.config import Settings
    from search.enrich import Enricher, load_pipeline

    settings = Settings()
    nlp = load_pipeline(settings.model)
    nlp.max_length = max(nlp.max_length, settings.max_chars + 1)
    bare_nlp = bare_pipeline(settings.model, settings.max_chars + 1)
    log(f"enrichment: newsfacet pipeline {nlp.pipe_names}; bare {bare_nlp.pipe_names}")
    words = sum(len(a.text.split()) for a in articles)
    parts = [articles[i::chunks] for i in range(chunks)]
    names = ("bare_1", "newsfacet_1", "bare_2", "newsfacet_2")
    secs = {k: 0.0 for k in names}
    # CPU seconds of this process: the single-process runs' work, unaffected by other jobs on the machine
    cpu = {"bare_1": 0.0, "newsfacet_1": 0.0}
    tmp = Path(tempfile.mkdtemp(prefix="nf-enrich-"))
    produced: list[dict] = []

    def bare(processes):
        def run(part):
            batch = pipe_batch_size(len(part), processes, batch_size)
            n_process = processes if len(part) >= 2 * processes else 1
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                texts = (a.text[:settings.max_chars] for a in part)
                for doc in bare_nlp.pipe(texts, batch_size=batch, n_process=n_process):
                    doc.ents  # noqa: B018 (the entities a user of bare spaCy reads)
        return run

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

    systems = [("bare_1", bare(1)), ("newsfacet_1", newsfacet(1)), ("bare_2", bare(2)), ("newsfacet_2", newsfacet(2))]
    # Warm-up outside the timing: spaCy's first call, dateparser's one-off set-up (~1 s) in newsfacet's date code.
    bare(1)(articles[:2])
    newsfacet(1)(articles[:2])
    produced.clear()
    log(f"enrichment: {len(articles)} articles, {words:,} words, {chunks} interleaved chunks ...")
    per_chunk: list[dict[str, float]] = []
    for i, part in enumerate(parts):
        k = i % len(systems)
        order = systems[k:] + systems[:k]
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
    by_chunk = {
        "enrich_ratio": [c["bare_1"] / c["newsfacet_1"] for c in per_chunk],
        "enrich_ratio_2": [c["bare_2"] / c["newsfacet_2"] for c in per_chunk],
        "workers_speedup": [c["newsfacet_1"] / c["newsfacet_2"] for c in per_chunk],
        "bare_workers_speedup": [c["bare_1"] / c["bare_2"] for c in per_chunk],
    }
    out = {
        "articles": n, "words": words, "chunks": chunks, "batch_size": batch_size,
        "pipelines": {"newsfacet": list(nlp.pipe_names), "bare": list(bare_nlp.pipe_names)},
        "seconds": {k: round(v, 2) for k, v in secs.items()},
        "articles_per_s": {k: round(n / v, 2) for k, v in secs.items()},
        "words_per_s": {k: round(words / v) for k, v in secs.items()},
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "enrich_cpu_ratio": round(cpu["bare_1"] / cpu["newsfacet_1"], 3),
        "enrich_ratio_of_totals": round(secs["bare_1"] / secs["newsfacet_1"], 3),
        "enrich_ratio_2_of_totals": round(secs["bare_2"] / secs["newsfacet_2"], 3),
        "workers_speedup_of_totals": round(secs["newsfacet_1"] / secs["newsfacet_2"], 3),
        "_records": produced,
    }
    for key, values in by_chunk.items():
        out[key] = round(statistics.median(values), 3)
        out[f"{key}_by_chunk"] = [round(r, 3) for r in values]
    return out
