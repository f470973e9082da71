"""Preloaded into a benchmark Dask worker (`dask worker --preload`): it answers each batch at once with analyses
spaCy made earlier, so a rebuild through it measures what the coordinator itself can take (bench/clusterbench.py).

The analyses are read from the JSON file named by NEWSFACET_BENCH_REPLAY: {sha256 of an article's text: analysis}.
A text that ends in a copy mark (bench/clusterbench.py's replicas) is looked up without it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re

COPY_MARK = re.compile(r"\n\n\(Copy \d+\.\)$")


def text_key(text: str) -> str:
    """The lookup key of a text: the sha256 of it without a replica's copy mark."""
    return hashlib.sha256(COPY_MARK.sub("", text).encode("utf-8", "surrogatepass")).hexdigest()


def dask_setup(worker) -> None:
    """Replace this worker's spaCy pass by a lookup (the version check and everything around it stay)."""
    import search.cluster

    with open(os.environ["NEWSFACET_BENCH_REPLAY"], encoding="utf-8") as f:
        table = json.load(f)

    def replay(batch, settings, pipeline):
        for i, (text, _title) in enumerate(batch):
            yield i, "en", table[text_key(text)]

    search.cluster.analyse_batch = replay
