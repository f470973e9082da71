"""Train the source ranker (search/data/source_ranker.json) from PolNeAR's annotated attributions.

    python bench/train_attribution.py            # what `make train` runs: fit on polnear/train, report on polnear/dev

For every quote the rules find in a training article and that lies in an annotated attribution's content,
each candidate source near it (search/quotes/model.py) is an example: positive when it is the head of the
annotated source span. A logistic regression (scikit-learn, the `[train]` extra) is fitted on those;
its plain weights are written as JSON with a note of the data and command. PolNeAR dev only measures
the ranker (top-1 accuracy against the rules' own choice); it is never fitted on.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"


def rule_quotes(docs):
    """(view, quotes) of each Doc as the rules alone find them (no ranker)."""
    import search.entities as entities
    from search.quotes.attribution import find_quotes
    from search.quotes.view import ArticleView

    captured = []

    def capture(doc, mentions, persons):
        view = ArticleView(doc, mentions, persons)
        captured.append((view, find_quotes(view, ranker=None)))
        return []

    analysis = entities.Analysis()
    real = entities.extract_quotes
    entities.extract_quotes = capture
    try:
        for doc in docs:
            analysis(doc)
            yield captured.pop()
    finally:
        entities.extract_quotes = real


def _covered(spans, start: int, end: int) -> int:
    """Characters of start..end inside spans."""
    return sum(max(0, min(e, end) - max(s, start)) for s, e in spans)


def source_heads(view, spans) -> set[int]:
    """Tokens of a source span whose syntactic head lies outside it (the span's roots)."""
    doc = view.doc
    inside = set()
    for s, e in spans:
        span = doc.char_span(s, e, alignment_mode="expand")
        if span is not None:
            inside.update(range(span.start, span.end))
    return {i for i in inside if doc[i].head.i not in inside or doc[i].head.i == i}


def examples(records, docs, with_rule: bool = False):
    """Feature rows, labels and quote ids of the candidates of every quote aligned to an attribution."""
    from search.quotes.model import candidates

    X, y, g, rule = [], [], [], []
    qid = 0
    for rec, (view, quotes) in zip(records, rule_quotes(docs)):
        atts = [a for a in rec.get("attributions") or [] if (a.get("content") or {}).get("spans")]
        for q in quotes:
            if q.post:
                continue
            best, cov = None, 0
            for a in atts:
                c = _covered(a["content"]["spans"], q.start, q.end)
                if c > cov:
                    best, cov = a, c
            if best is None or cov < 0.5 * (q.end - q.start) or not (best.get("source") or {}).get("spans"):
                continue
            heads = source_heads(view, best["source"]["spans"])
            cands = candidates(view, q)
            labels = [t.i in heads for t in cands.tokens]
            if not any(labels):
                continue
            X.append(cands.X)
            y.extend(labels)
            g.extend([qid] * len(labels))
            rule.extend([q.subject is not None and t.i == q.subject.i for t in cands.tokens])
            qid += 1
    return (np.vstack(X) if X else np.zeros((0, 0))), np.array(y, dtype=bool), np.array(g), np.array(rule, dtype=bool)


def top1(scores: np.ndarray, y: np.ndarray, g: np.ndarray) -> float:
    """Share of quotes whose best-scored candidate is a true source."""
    right = total = 0
    for q in np.unique(g):
        m = g == q
        total += 1
        right += bool(y[m][int(np.argmax(scores[m]))])
    return right / total if total else 0.0


def fit(X, y, C: float = 1.0):
    """(weights, bias) of an L2 logistic regression."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=C, max_iter=2000)
    lr.fit(X, y)
    return lr.coef_[0].astype(float), float(lr.intercept_[0])


def main(argv=None) -> int:
    """Fit on polnear/train, report top-1 on polnear/dev, write the weights."""
    from bench.parsed import parsed_docs
    from search.quotes.model import MODEL_PATH, feature_names

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=2, help="spaCy processes for the first parse")
    a = ap.parse_args(argv)
    t = time.time()
    train_recs, train_docs = parsed_docs(a.shared / "polnear" / "train.jsonl", n_process=a.workers)
    dev_recs, dev_docs = parsed_docs(a.shared / "polnear" / "dev.jsonl", n_process=a.workers)
    print(f"parsed (or read from the cache) in {time.time() - t:.0f} s", flush=True)
    X, y, g, _rule = examples(train_recs, train_docs)
    Xd, yd, gd, ruled = examples(dev_recs, dev_docs)
    print(f"train: {len(np.unique(g))} quotes, {len(y)} candidates; dev: {len(np.unique(gd))} quotes", flush=True)
    w, b = fit(X, y, a.C)
    dev_scores = Xd @ w + b
    print(f"dev top-1: ranker {top1(dev_scores, yd, gd):.4f}, rules {top1(ruled.astype(float), yd, gd):.4f}")
    meta = {
        "model": "source ranker: L2 logistic regression over candidate source tokens",
        "version": 1,
        "trained_on": "PolNeAR v1.0 train compartment (../shared/polnear/train.jsonl, 840 articles): quotes the rules "
                      "find inside annotated attribution contents, candidates labelled by the annotated source span",
        "command": "make train  (python bench/train_attribution.py)",
        "C": a.C,
        "trained": datetime.date.today().isoformat(),
        "examples": {"quotes": int(len(np.unique(g))), "candidates": int(len(y))},
        "features": feature_names(),
        "weights": [round(v, 6) for v in w],
        "bias": round(b, 6),
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {a.out} in {time.time() - t:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
