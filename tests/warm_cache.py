"""Test helpers: pre-warm an index's enrichment cache so `newsfacet rebuild/update` never loads spaCy,
and run the real command line in a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from search.articles import Article, read_articles
from search.cache import EnrichCache, cache_path
from search.config import Settings
from search.enrich import Enricher, analysis_key

ROOT = Path(__file__).resolve().parents[1]


def fake_analysis(article: Article) -> dict:
    """An analysis as enrich.finish_analysis returns it: a person per article, so facets have values."""
    return {"persons": [f"Person {article.id}"], "places": ["Halifax"], "organizations": [], "speakers": [],
            "quotes": [], "entities": [], "date_mentions": [], "published": article.published,
            "published_inferred": False, "dates": []}


def prewarm(index_dir: Path, paths) -> int:
    """Put an analysis for every article under paths into index_dir's cache; returns how many."""
    settings = Settings(index=Path(index_dir))
    cache = EnrichCache(cache_path(index_dir))
    try:
        sig = Enricher(settings, cache=cache, aliases={}).signature()
        n = 0
        for item in read_articles([str(p) for p in paths]):
            if isinstance(item, Article):
                cache.put(analysis_key(sig, item, settings.max_chars), fake_analysis(item), version=sig)
                n += 1
    finally:
        cache.close()
    return n


def cli_env(**extra) -> dict:
    """The environment for a newsfacet subprocess: no NEWSFACET_* settings leaking in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFACET_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def newsfacet(*args, env=None, **kw) -> subprocess.Popen:
    """Start `newsfacet ARGS...` (this interpreter's install) as a subprocess."""
    return subprocess.Popen([sys.executable, "-m", "search.cli", *map(str, args)], env=env or cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def run_newsfacet(*args, env=None, timeout=120, **kw) -> subprocess.CompletedProcess:
    """Run `newsfacet ARGS...` to completion."""
    return subprocess.run([sys.executable, "-m", "search.cli", *map(str, args)], env=env or cli_env(),
                          capture_output=True, text=True, timeout=timeout, **kw)
