"""Shared fixtures: a tiny index from hand-made enriched records (no spaCy model needed)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from search.config import Settings
from search.indexer import index_records

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("NEWSFACET_SHARED", ROOT.parent / "shared"))


def make_record(id, title, text, published=None, speakers=(), persons=(), places=(), organizations=(),
                quotes=(), source="Test Wire", url=None):
    """A plain enriched record, as search/enrich.py produces it."""
    quotes = [dict(q) for q in quotes]
    for q in quotes:
        start = text.find(q["text"])
        q.setdefault("start", max(start, 0))
        q.setdefault("end", max(start, 0) + len(q["text"]))
        q.setdefault("verb", "said")
        q.setdefault("kind", "direct")
        q.setdefault("speaker_text", q.get("speaker"))
    entities = []
    for label, names in (("person", persons), ("place", places), ("org", organizations)):
        for n in names:
            i = text.find(n)
            if i >= 0:
                entities.append({"label": label, "start": i, "end": i + len(n), "text": n, "value": n})
    return {
        "id": id, "title": title, "text": text, "published": published, "source": source,
        "url": url or f"https://news.example/{id}", "authors": [], "metadata": {}, "path": f"/data/{id}.txt",
        "line": None, "encoding": "utf-8", "persons": list(persons), "places": list(places),
        "organizations": list(organizations), "speakers": list(speakers), "quotes": quotes,
        "entities": entities, "date_mentions": [], "dates": [], "published_inferred": False,
        "content_hash": hashlib.sha256((id + text).encode()).hexdigest(), "warnings": [],
    }


TINY = [
    make_record(
        "kyiv-talks", "Blinken meets Zelenskiy in Kyiv",
        'Antony Blinken said Russia must "cease reckless and aggressive actions." Volodymyr Zelenskiy said '
        "Ukraine wants no surprises on its border with Russia.",
        published="2021-05-06", speakers=["Antony Blinken", "Volodymyr Zelenskiy"],
        persons=["Antony Blinken", "Volodymyr Zelenskiy"], places=["Kyiv", "Ukraine", "Russia"],
        organizations=["NATO"],
        quotes=[{"speaker": "Antony Blinken", "text": "cease reckless and aggressive actions."},
                {"speaker": "Volodymyr Zelenskiy", "text": "Ukraine wants no surprises on its border with Russia.",
                 "kind": "indirect"}],
    ),
    make_record(
        "nato-summit", "NATO leaders gather in Brussels",
        'Jens Stoltenberg said the alliance stands with Ukraine. "We are united," Stoltenberg said in Brussels.',
        published="2021-06-14", speakers=["Jens Stoltenberg"], persons=["Jens Stoltenberg"],
        places=["Brussels", "Ukraine"], organizations=["NATO"],
        quotes=[{"speaker": "Jens Stoltenberg", "text": "We are united,"}],
    ),
    make_record(
        "budget-vote", "Parliament passes the budget",
        'The finance minister Chrystia Freeland said the budget protects jobs. "This is a plan for growth," '
        "Freeland said. Antony Blinken was not involved.",
        published="2021-04-19", speakers=["Chrystia Freeland"], persons=["Chrystia Freeland", "Antony Blinken"],
        places=["Ottawa"], organizations=["Parliament"],
        quotes=[{"speaker": "Chrystia Freeland", "text": "This is a plan for growth,"}],
    ),
    make_record(
        "hostile", "<script>alert('x')</script> in a headline",
        "This article contains <script>alert('x')</script> and <b>bold</b> markup that must be shown as text. "
        "Russia was mentioned.",
        published="2020-12-01", places=["Russia"],
    ),
    make_record(
        "undated", "An undated note about Ukraine",
        "Ukraine and Russia were mentioned, without a date.", published=None, places=["Ukraine", "Russia"],
    ),
]


@pytest.fixture
def tiny_records():
    """Copies of the tiny corpus records."""
    import copy

    return copy.deepcopy(TINY)


@pytest.fixture
def tiny_index(tmp_path, tiny_records):
    """An index directory built from TINY records; returns its path."""
    index_dir = tmp_path / "index"
    index_records(tiny_records, Settings(index=index_dir))
    return index_dir


# Property tests: bounded under `make test`, longer under `make test-long` (NEWSFACET_HYPOTHESIS=long).
from hypothesis import HealthCheck, settings as _hsettings  # noqa: E402

_hsettings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
_hsettings.register_profile("long", max_examples=400, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_hsettings.load_profile(__import__("os").environ.get("NEWSFACET_HYPOTHESIS", "default"))
