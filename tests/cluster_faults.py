"""Preloaded into test Dask workers (`dask worker --preload`): articles whose enrichment raises, or kills the
worker process, so the tests can show what newsfacet makes of both. Nothing of this is in the product."""
from __future__ import annotations

import os
import signal

RAISES = "Zqxraise"  # words no real article holds
KILLS = "Zqxkill"


def dask_setup(worker) -> None:
    """Called by `dask worker --preload`: every pipeline this worker loads gets the faulty component first."""
    from spacy.language import Language

    import search.cluster

    @Language.component("test_faults")
    def faults(doc):
        if KILLS in doc.text:
            os.kill(os.getpid(), signal.SIGKILL)
        if RAISES in doc.text:
            raise ValueError("a test article enrichment raises on")
        return doc

    plain = search.cluster.pipeline_for

    def with_faults(model, max_chars):
        nlp = plain(model, max_chars)
        if "test_faults" not in nlp.pipe_names:
            nlp.add_pipe("test_faults", first=True)
        return nlp

    search.cluster.pipeline_for = with_faults
