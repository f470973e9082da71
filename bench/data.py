"""Benchmark data: a sample of the shared corpus, its enriched records (cached in bench/out), replicas.

The corpus is read from $NEWSFACET_SHARED/corpus/allsides.jsonl.gz (default ../shared). Nothing of it is
ever written inside the repository except under bench/out/, which git ignores.
"""
from __future__ import annotations

import copy
import gzip
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
FULL_SIZE = 37_554


def shared_dir() -> Path:
    """$NEWSFACET_SHARED, else ../shared next to the repository."""
    return Path(os.environ.get("NEWSFACET_SHARED") or (ROOT.parent / "shared")).resolve()


def corpus_path() -> Path:
    """The AllSides corpus (benchmark only)."""
    p = shared_dir() / "corpus" / "allsides.jsonl.gz"
    if not p.exists():
        raise SystemExit(f"No corpus at {p}; set NEWSFACET_SHARED to the folder holding corpus/allsides.jsonl.gz")
    return p


def sample_articles(n: int, offset: int = 0) -> list:
    """n articles spread evenly over the corpus (every k-th, starting at offset), in corpus order."""
    from search.articles import Article, read_articles

    step = max(1, FULL_SIZE // max(n, 1))
    out = []
    for i, item in enumerate(a for a in read_articles([corpus_path()]) if isinstance(a, Article)):
        if i >= offset and (i - offset) % step == 0:
            out.append(item)
            if len(out) >= n:
                break
    return out


def seed_path(n: int, offset: int = 0) -> Path:
    """Where the enriched records of n sampled articles (from `offset`) are kept."""
    return OUT / (f"seed-{n}.jsonl.gz" if not offset else f"seed-{n}-at{offset}.jsonl.gz")


def save_seeds(records: list[dict], articles: list, offset: int = 0) -> Path:
    """Keep enriched records of sampled articles (in corpus order) for later runs and sections."""
    order = {a.id: i for i, a in enumerate(articles)}
    records = sorted(records, key=lambda r: order[r["id"]])
    path = seed_path(len(articles), offset)
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def load_seeds(path: Path) -> list[dict]:
    """Enriched records saved by save_seeds."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def seed_records(n: int, workers: int = 2, log=print, offset: int = 0) -> list[dict]:
    """Enriched records of n sampled articles: read from bench/out when there, else enriched once with spaCy."""
    from search.cache import EnrichCache
    from search.config import Settings
    from search.enrich import Enricher

    path = seed_path(n, offset)
    if path.exists():
        return load_seeds(path)
    arts = sample_articles(n, offset)
    log(f"enriching {len(arts)} sampled articles with spaCy ({workers} workers; cached in {OUT}) ...")
    started = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    cache = EnrichCache(OUT / "cache" / "enrich.sqlite")
    enricher = Enricher(Settings(workers=workers), cache=cache)
    recs = [r for r in enricher.enrich(arts) if isinstance(r, dict)]
    cache.close()
    save_seeds(recs, arts, offset)
    log(f"  {len(recs)} records in {time.monotonic() - started:.0f}s -> {path}")
    return load_seeds(path)


def replicate(seeds: list[dict], n: int):
    """n records from the seeds: copy k of seed s gets id '<id>~k' and a published date shifted by k*37 days."""
    for i in range(n):
        s = seeds[i % len(seeds)]
        k = i // len(seeds)
        if k == 0:
            yield s
            continue
        r = copy.copy(s)
        r["id"] = f"{s['id']}~{k}"
        pub = s.get("published")
        if pub:
            try:
                d = date.fromisoformat(str(pub)[:10]) - timedelta(days=37 * k)
                r["published"] = d.isoformat()
            except ValueError:
                pass
        r["content_hash"] = f"{s.get('content_hash', '')}~{k}"
        yield r


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Enrich and cache the benchmark seed records.")
    ap.add_argument("-n", type=int, default=1500)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    print(len(seed_records(a.n, a.workers)), "seed records")
