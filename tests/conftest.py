"""Shared fixtures: a tiny index from hand-made enriched records (no spaCy model needed)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from search.config import Settings
from search.indexer import index_records

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("NEWSFACET_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "wikinews.jsonl"
SEEDS = ROOT / "seeds"
CACHE = ROOT / "tests" / ".cache" / "wikinews-enrich.sqlite"


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


# -- the Wikinews corpus indexed with the real pipeline, shared by the browser and backend parity tests ------
HOSTILE = {
    "id": "hostile-markup",
    "title": "<script>window.__pwned = 1</script> Hostile <b>headline</b>",
    "date": "2020-06-15",
    "source": "Test <i>Wire</i>",
    "url": "javascript:alert(1)",
    "text": 'An article with markup: <img src=x onerror="window.__pwned = 2"> and <script>window.__pwned = 3</script>. '
            '"We will not be silenced <b>ever</b>," said Hostile Harry in London.',
}

def _newsfacet() -> list[str]:
    """The installed `newsfacet` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "newsfacet"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from search.cli import main; sys.exit(main())"]


@pytest.fixture(scope="session")
def wikinews_index(tmp_path_factory):
    """An index of the Wikinews corpus plus the seed and one hostile article, built with the real pipeline
    (spaCy on ~290 articles takes a minute or two; the enrichment cache is kept in tests/.cache/)."""
    if not CORPUS.exists():
        pytest.skip(f"Wikinews corpus not found at {CORPUS} (set NEWSFACET_SHARED)")
    work = tmp_path_factory.mktemp("wikinews")
    index_dir = work / "index"
    extra = work / "extra"
    extra.mkdir()
    (extra / "hostile.jsonl").write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    if CACHE.exists() and CACHE.stat().st_size > 50_000_000:
        CACHE.unlink()  # stale analyses of older enrichment code pile up: start afresh
    if CACHE.exists():
        (index_dir / "cache").mkdir(parents=True)
        shutil.copyfile(CACHE, index_dir / "cache" / "enrich.sqlite")
    subprocess.run(
        _newsfacet() + ["--index", str(index_dir), "rebuild", "--quiet", str(CORPUS), str(SEEDS), str(extra)],
        check=True, cwd=ROOT, timeout=1200,
    )
    built_cache = index_dir / "cache" / "enrich.sqlite"
    if built_cache.exists():
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c",
                        "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('VACUUM INTO ?', (sys.argv[2],))",
                        str(built_cache), str(CACHE) + ".tmp"], check=False)
        if Path(str(CACHE) + ".tmp").exists():
            os.replace(str(CACHE) + ".tmp", CACHE)
    return index_dir




def wikinews_paths(index_dir: Path) -> list[Path]:
    """The inputs wikinews_index was built from."""
    return [CORPUS, SEEDS, index_dir.parent / "extra"]


@pytest.fixture(scope="session")
def opensearch_cluster():
    """A one-node OpenSearch cluster for the session (skipped, saying how to run it, without Java/Maven)."""
    from opensearch_cluster import start_cluster

    cluster = start_cluster(1)
    yield cluster
    cluster.close()


@pytest.fixture(scope="session")
def wikinews_opensearch(wikinews_index, opensearch_cluster, tmp_path_factory):
    """(settings, folder) of the Wikinews corpus in OpenSearch, built by `newsfacet --backend opensearch rebuild`
    from a folder that holds only a copy of wikinews_index's enrichment cache (no Whoosh generation)."""
    from dataclasses import replace as _replace

    folder = tmp_path_factory.mktemp("wikinews-os") / "local"
    (folder / "cache").mkdir(parents=True)
    shutil.copyfile(wikinews_index / "cache" / "enrich.sqlite", folder / "cache" / "enrich.sqlite")
    args = ["--index", str(folder), "--backend", "opensearch", "--opensearch-url", opensearch_cluster.urls,
            "--opensearch-index", "wikinews", "rebuild", "--quiet"] + [str(p) for p in wikinews_paths(wikinews_index)]
    subprocess.run(_newsfacet() + args, check=True, cwd=ROOT, timeout=900)
    assert not list(folder.glob("gen-*")) and not (folder / "CURRENT").exists()
    settings = _replace(Settings(index=folder), backend="opensearch", opensearch_url=opensearch_cluster.urls,
                        opensearch_index="wikinews")
    return settings, folder


# Property tests: bounded under `make test`, longer under `make test-long` (NEWSFACET_HYPOTHESIS=long).
from hypothesis import HealthCheck, settings as _hsettings  # noqa: E402

_hsettings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
_hsettings.register_profile("long", max_examples=400, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_hsettings.load_profile(__import__("os").environ.get("NEWSFACET_HYPOTHESIS", "default"))
