"""Train the source ranker (search/data/source_ranker.json) from PolNeAR's annotated attributions.

    python bench/train_attribution.py            # what `make train` runs: fit on polnear/train, report on polnear/dev

For every quote the rules find in a training article and that lies in an annotated attribution's content,
each candidate source near it (search/quotes/model.py) is an example: positive when it is the head of the
annotated source span. An L2 logistic regression (Newton's method in NumPy, fit() below) is fitted on those;
its plain weights are written as JSON with a note of the data and command. PolNeAR dev only measures
the ranker (top-1 accuracy against the rules' own choice); it is never fitted on.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"


def rule_quotes(docs, models=None):
    """(view, quotes) of each Doc as the rules find them, with the given models (model.Models)."""
    import search.entities as entities
    from search.quotes.attribution import find_quotes
    from search.quotes.model import Models
    from search.quotes.view import ArticleView

    captured = []
    models = models or Models()

    def capture(doc, mentions, persons):
        view = ArticleView(doc, mentions, persons)
        captured.append((view, find_quotes(view, models)))
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


def quote_table(records, docs, scorer) -> list[dict]:
    """Per GGT-style article: its quotes as the ranker leaves them, their confidence features, and for each
    quote with a speaker that matches a gold quote (the scorer's one-to-one matching) whether the speaker
    equals the gold reference (None where there is nothing to learn from)."""
    from search.quotes.model import Models, confidence_features, default_partial, default_ranker

    table = []
    for rec, (view, quotes) in zip(records, rule_quotes(docs, Models(default_ranker(), None, default_partial()))):
        gq = [q for q in rec.get("quotes") or [] if (q.get("quote") or "").strip()]
        gt = [scorer.tokens(q["quote"]) for q in gq]
        pt = [scorer.tokens(view.text[q.start:q.end]) for q in quotes]
        pairs = sorted(((scorer.coverage(a, b), i, j) for i, a in enumerate(gt) for j, b in enumerate(pt)
                        if scorer.coverage(a, b) >= 0.3), reverse=True)
        used_g, match = set(), {}
        for _c, i, j in pairs:
            if i not in used_g and j not in match:
                used_g.add(i)
                match[j] = i
        labels = []
        for j, q in enumerate(quotes):
            if not q.speaker or j not in match:
                labels.append(None)
                continue
            ref = gq[match[j]].get("reference") or gq[match[j]].get("speaker") or ""
            labels.append(scorer.norm_name(q.speaker) == scorer.norm_name(ref))
        table.append({"id": str(rec["id"]), "X": confidence_features(view, quotes), "labels": labels,
                      "quotes": [{"text": view.text[q.start:q.end], "speaker": q.speaker, "start": q.start,
                                  "end": q.end, "kind": q.kind} for q in quotes]})
    return table


def labelled(table) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of the quotes of a quote_table that have a label."""
    X = [a["X"][j] for a in table for j, lab in enumerate(a["labels"]) if lab is not None]
    y = [lab for a in table for lab in a["labels"] if lab is not None]
    return np.array(X, dtype=np.float32), np.array(y, dtype=bool)


def partial_examples(records, docs) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of the partial-quote candidates of the articles, labelled by whether at least half of
    the candidate's content lies in an annotated attribution's content."""
    from search.quotes.attribution import partial_candidates
    from search.quotes.model import partial_features

    X, y = [], []
    for rec, (view, quotes) in zip(records, rule_quotes(docs)):
        spans = [a["content"]["spans"] for a in rec.get("attributions") or [] if (a.get("content") or {}).get("spans")]
        taken = [q for q in quotes if q.kind == "indirect"]
        for cand in partial_candidates(view, taken):
            s, e = view.doc[cand.start].idx, view.doc[cand.end - 1].idx + len(view.doc[cand.end - 1].text)
            X.append(partial_features(view, cand))
            y.append(any(_covered(sp, s, e) >= 0.5 * (e - s) for sp in spans))
    return np.array(X, dtype=np.float32), np.array(y, dtype=bool)


def top1(scores: np.ndarray, y: np.ndarray, g: np.ndarray) -> float:
    """Share of quotes whose best-scored candidate is a true source."""
    right = total = 0
    for q in np.unique(g):
        m = g == q
        total += 1
        right += bool(y[m][int(np.argmax(scores[m]))])
    return right / total if total else 0.0


def fit(X, y, C: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """(weights, bias) of an L2-regularised logistic regression (the objective of scikit-learn's
    LogisticRegression(C): 0.5 |w|^2 + C * log-loss, intercept not penalised), by Newton's method."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    reg = np.full(d + 1, 1.0 / C)
    reg[-1] = 0.0
    for _ in range(iterations):
        p = 0.5 * (1.0 + np.tanh(0.5 * (A @ theta)))
        grad = A.T @ (p - y) + reg * theta
        hess = (A * (p * (1 - p))[:, None]).T @ A + np.diag(reg) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return theta[:-1], float(theta[-1])


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
    write_model(a.out, "source ranker: L2 logistic regression over candidate source tokens",
                "PolNeAR v1.0 train compartment (../shared/polnear/train.jsonl, 840 articles): quotes the rules find "
                "inside annotated attribution contents, candidates labelled by the annotated source span",
                {"quotes": int(len(np.unique(g))), "candidates": int(len(y))}, feature_names(), w, b)
    print(f"wrote {a.out} in {time.time() - t:.0f} s")
    train_partial(train_recs, train_docs, dev_recs, dev_docs, a.out.parent / "partial_quotes.json")
    train_confidence(a.shared, a.out.parent / "speaker_confidence.json")
    return 0


def write_model(out: Path, model: str, trained_on: str, examples: dict, features: list[str], w, b: float) -> None:
    """Write a model's plain weights with the note of what it is, what it learned from and how to remake it."""
    meta = {"model": model, "version": 1, "trained_on": trained_on,
            "command": "make train  (python bench/train_attribution.py)", "examples": examples,
            "features": features, "weights": [round(float(v), 6) for v in w], "bias": round(float(b), 6)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def train_partial(train_recs, train_docs, dev_recs, dev_docs, out: Path) -> None:
    """Fit the partial-quote detector on polnear/train; report its precision and recall on polnear/dev."""
    from search.quotes.model import partial_feature_names

    X, y = partial_examples(train_recs, train_docs)
    w, b = fit(X, y)
    Xd, yd = partial_examples(dev_recs, dev_docs)
    keep = (Xd @ w + b) >= 0
    tp = int((keep & yd).sum())
    print(f"partial quotes: {len(y)} train candidates ({int(y.sum())} reported words); dev precision "
          f"{tp / max(1, keep.sum()):.3f}, recall {tp / max(1, yd.sum()):.3f} of {int(yd.sum())}")
    write_model(out, "partial-quote detector: L2 logistic regression, P(a verb's clause around a few quoted words "
                     "is someone's reported words)",
                "PolNeAR v1.0 train compartment (../shared/polnear/train.jsonl, 840 articles): short or cue-less direct "
                "quotes inside narration, labelled by whether the clause lies in an annotated attribution's content",
                {"candidates": int(len(y)), "reported": int(y.sum())}, partial_feature_names(), w, b)

def train_confidence(shared: Path, out: Path) -> None:
    """Fit the confidence model on the 49 GGT dev articles (bench/eval_quotes.py reports its 5-fold CV)."""
    import importlib.util

    from bench.parsed import parsed_docs
    from search.quotes import model
    from search.quotes.model import confidence_feature_names

    model.default_ranker.cache_clear()
    spec = importlib.util.spec_from_file_location("score_quotes", shared / "eval" / "score_quotes.py")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    records, docs = parsed_docs(shared / "eval" / "quotes-dev.jsonl")
    X, y = labelled(quote_table(records, docs, scorer))
    w, b = fit(X, y)
    write_model(out, "speaker confidence: L2 logistic regression, P(the quote's speaker is the annotated one)",
                "the 49 GGT dev articles (../shared/eval/quotes-dev.jsonl): quotes with a speaker that match an annotated "
                "quote, labelled by whether the speaker equals the annotated full name; `make eval` reports 5-fold "
                "cross-validation of it",
                {"quotes": int(len(y)), "right": int(y.sum())}, confidence_feature_names(), w, b)
    print(f"confidence model: {len(y)} quotes ({int(y.sum())} right); wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
