"""Parse an annotated corpus with newsfacet's pipeline once and keep the Docs (a DocBin) for later runs.

Training and evaluation of attribution iterate over the same articles many times; the spaCy model's
own work (tagger, parser, NER, the gazetteer) is ~90% of an enrichment and does not change between
iterations, so it is cached under `bench/out/parsed/` (git-ignored), keyed by the pipeline version and
the source of the code that shapes the parse (tokenizer rules, paragraph breaks, gazetteer).

    python bench/parsed.py ../shared/polnear/train.jsonl   # parse and cache (prints the cache file)
"""
from __future__ import annotations

import hashlib
import inspect
import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / "out" / "parsed"


def read_jsonl(path) -> list[dict]:
    """Records of a JSON Lines file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def parse_pipeline(model: str | None = None):
    """The enrichment pipeline without the analysis component (the part worth caching)."""
    import spacy

    from search.config import DEFAULT_MODEL
    from search.entities import PIPELINE_EXCLUDE, configure_pipeline

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nlp = configure_pipeline(spacy.load(model or DEFAULT_MODEL, exclude=PIPELINE_EXCLUDE))
    nlp.remove_pipe("newsfacet_analysis")
    return nlp


def _parse_key(nlp, path: Path) -> str:
    """What decides the cached Docs: the file's bytes, the pipeline, the code that shapes the parse."""
    from search import entities

    h = hashlib.sha256(path.read_bytes())
    h.update(json.dumps([nlp.meta.get("name"), nlp.meta.get("version"), nlp.pipe_names]).encode())
    for fn in (entities.configure_pipeline, entities.mark_paragraphs, entities.gazetteer_places):
        h.update(inspect.getsource(fn).encode())
    return h.hexdigest()[:16]


def parsed_docs(path, nlp=None, n_process: int = 1):
    """(records, Docs) of a JSON Lines corpus, parsed once and then read from the cache."""
    from spacy.tokens import DocBin

    path = Path(path)
    nlp = nlp or parse_pipeline()
    records = read_jsonl(path)
    out = CACHE / f"{path.stem}-{_parse_key(nlp, path)}.spacy"
    if out.exists():
        return records, list(DocBin().from_disk(out).get_docs(nlp.vocab))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        docs = list(nlp.pipe((r["text"] for r in records), batch_size=16, n_process=n_process))
    out.parent.mkdir(parents=True, exist_ok=True)
    DocBin(store_user_data=False, docs=docs).to_disk(out)
    return records, docs


def main(argv=None) -> int:
    """Parse each corpus named on the command line into the cache."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args(argv)
    nlp = parse_pipeline()
    for p in a.paths:
        records, docs = parsed_docs(p, nlp, a.workers)
        print(f"{p}: {len(docs)} docs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
