"""Train the attribution models in search/data from the annotated articles (what `make train` runs).

    python bench/train_attribution.py [--shared ../shared]

One pass of the rules over PolNeAR train (and dev, to report) gives the examples of three models, each an L2
logistic regression (Newton's method in NumPy, fit() below) written as plain JSON weights with a note of its data
and command (write_model):
- source ranker: for every quote the rules find inside an annotated attribution's content, each candidate source
  near it (search/quotes/model.py) is an example, positive when it heads the annotated source span;
- partial-quote detector: the clause of a verb around a few quoted words, positive when it lies in an annotated
  content;
- antecedent ranker: an annotated source that names someone named earlier in the article, read as if it were an
  anaphor; the entities named before it are the candidates, the one it names is the answer.
Then the confidence model is fitted on the GGT dev articles (bench/eval_quotes.py reports its 5-fold CV).
PolNeAR dev only measures (top-1, precision and recall against simple baselines); nothing is fitted on it.
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


def aligned(rec, quotes):
    """(quote, attribution) for each quote found (embedded posts aside) that lies at least half in an annotated
    attribution's content, the attribution covering most of it, when that attribution has a source span."""
    atts = [a for a in rec.get("attributions") or [] if (a.get("content") or {}).get("spans")]
    for q in quotes:
        if q.post:
            continue
        best, cov = None, 0
        for a in atts:
            c = _covered(a["content"]["spans"], q.start, q.end)
            if c > cov:
                best, cov = a, c
        if best is not None and cov >= 0.5 * (q.end - q.start) and (best.get("source") or {}).get("spans"):
            yield q, best


def article_examples(rec, view, quotes):
    """(X, y, rule) of the candidates of each quote of one article aligned to an attribution: a list of
    (feature rows, labels, whether each candidate is the rules' choice), one per quote."""
    from search.quotes.model import candidates

    out = []
    for q, best in aligned(rec, quotes):
        heads = source_heads(view, best["source"]["spans"])
        cands = candidates(view, q)
        labels = [t.i in heads for t in cands.tokens]
        if not any(labels):
            continue
        out.append((cands.X, np.array(labels, dtype=bool),
                    np.array([q.subject is not None and t.i == q.subject.i for t in cands.tokens], dtype=bool)))
    return out


def stack(per_quote) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, quote ids, rule choice) of a list of article_examples() items."""
    if not per_quote:
        return np.zeros((0, 0)), np.zeros(0, dtype=bool), np.zeros(0, dtype=int), np.zeros(0, dtype=bool)
    X = np.vstack([x for x, _y, _r in per_quote])
    y = np.concatenate([yy for _x, yy, _r in per_quote])
    g = np.concatenate([np.full(len(yy), k) for k, (_x, yy, _r) in enumerate(per_quote)])
    rule = np.concatenate([r for _x, _y, r in per_quote])
    return X, y, g, rule


def quote_table(records, docs, scorer) -> list[dict]:
    """Per GGT-style article: its quotes as the ranker leaves them, their confidence features, and for each
    quote with a speaker that matches a gold quote (the scorer's one-to-one matching) whether the speaker
    equals the gold reference (None where there is nothing to learn from)."""
    from bench.eval_quotes import match_quotes
    from search.quotes.model import Models, confidence_features, default_antecedent, default_partial, default_ranker

    table = []
    models = Models(default_ranker(), None, default_partial(), default_antecedent())
    for rec, (view, quotes) in zip(records, rule_quotes(docs, models)):
        gq = [q for q in rec.get("quotes") or [] if (q.get("quote") or "").strip()]
        match = {j: i for i, j in match_quotes(scorer, gq, [view.text[q.start:q.end] for q in quotes]).items()}
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


def article_partial_examples(rec, view, quotes) -> list[tuple[np.ndarray, bool]]:
    """(feature row, label) of the partial-quote candidates of one article: labelled by whether at least half
    of the candidate's content lies in an annotated attribution's content."""
    from search.quotes.attribution import partial_candidates
    from search.quotes.model import partial_features

    spans = [a["content"]["spans"] for a in rec.get("attributions") or [] if (a.get("content") or {}).get("spans")]
    taken = [q for q in quotes if q.kind == "indirect"]
    out = []
    for cand in partial_candidates(view, taken):
        s, e = view.doc[cand.start].idx, view.doc[cand.end - 1].idx + len(view.doc[cand.end - 1].text)
        out.append((partial_features(view, cand), any(_covered(sp, s, e) >= 0.5 * (e - s) for sp in spans)))
    return out


def stack_partial(rows) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of (feature row, label) pairs."""
    from search.quotes.model import partial_feature_names

    if not rows:
        return np.zeros((0, len(partial_feature_names())), dtype=np.float32), np.zeros(0, dtype=bool)
    return np.array([x for x, _y in rows], dtype=np.float32), np.array([y for _x, y in rows], dtype=bool)


def article_antecedent_examples(rec, view, quotes) -> list[tuple[np.ndarray, np.ndarray]]:
    """Antecedent ranker examples from one article's named sources, each read as if it were a pronoun: for a
    quote aligned to an attribution whose source is a person or organisation named earlier in the article,
    the entities named before the source are the candidates and the one it names is the answer. Gender is
    that person's as the article tells it; the discourse is what the rules found before it."""
    from search.quotes.model import antecedent_candidates
    from search.quotes.speakers import infer_gender

    genders = infer_gender(view)
    turns = sorted((q.subject.i, q.speaker, q.label) for q in quotes
                   if q.subject is not None and q.speaker and not q.post)
    out = []
    for q, best in aligned(rec, quotes):
        heads = sorted(source_heads(view, best["source"]["spans"]))
        ents = [view.ent_of[i] for i in heads if i in view.ent_of and view.ent_of[i].label in ("person", "org")]
        if not ents:
            continue
        ent = ents[0]
        span = view.doc.char_span(*best["source"]["spans"][0], alignment_mode="expand")
        before = min(ent.start, span.start if span is not None else ent.start)
        cands = antecedent_candidates(view, before, (ent.label,), genders.get(ent.value) if ent.label == "person" else None,
                                      genders, turns, (q.t0, q.t1) if q.kind == "indirect" else None)
        labels = np.array([v == ent.value for v in cands.values], dtype=bool)
        if len(labels) >= 2 and labels.any():
            out.append((cands.X, labels))
    return out


def stack_antecedents(items) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a list of article_antecedent_examples() items."""
    from search.quotes.model import antecedent_feature_names

    if not items:
        return np.zeros((0, len(antecedent_feature_names())), dtype=np.float32), np.zeros(0, dtype=bool)
    return np.vstack([x for x, _y in items]), np.concatenate([y for _x, y in items])


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


def per_article_examples(records, docs) -> list[tuple[list, list, list]]:
    """For each article, from one pass of the rules: (source ranker examples per quote, partial-quote examples,
    antecedent examples)."""
    return [(article_examples(rec, view, quotes), article_partial_examples(rec, view, quotes),
             article_antecedent_examples(rec, view, quotes)) for rec, (view, quotes) in zip(records, rule_quotes(docs))]


def main(argv=None) -> int:
    """Fit on polnear/train, report on polnear/dev, write the weights; then the confidence model on GGT."""
    from bench.parsed import parsed_docs
    from search.quotes.model import MODEL_PATH

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--workers", type=int, default=2, help="spaCy processes for the first parse")
    a = ap.parse_args(argv)
    t = time.time()
    train_recs, train_docs = parsed_docs(a.shared / "polnear" / "train.jsonl", n_process=a.workers)
    dev_recs, dev_docs = parsed_docs(a.shared / "polnear" / "dev.jsonl", n_process=a.workers)
    print(f"parsed (or read from the cache) in {time.time() - t:.0f} s", flush=True)
    train = per_article_examples(train_recs, train_docs)
    dev = per_article_examples(dev_recs, dev_docs)
    print(f"examples in {time.time() - t:.0f} s", flush=True)
    train_ranker([q for art in train for q in art[0]], [q for art in dev for q in art[0]], a.out)
    train_partial([r for art in train for r in art[1]], [r for art in dev for r in art[1]],
                  a.out.parent / "partial_quotes.json")
    train_antecedents([r for art in train for r in art[2]], [r for art in dev for r in art[2]],
                      a.out.parent / "antecedent_ranker.json")
    train_confidence(a.shared, a.out.parent / "speaker_confidence.json")
    print(f"done in {time.time() - t:.0f} s")
    return 0


def train_ranker(train, dev, out: Path) -> None:
    """Fit the source ranker on train's quotes; report its top-1 on dev's against the rules' own choice."""
    from search.quotes.model import feature_names

    X, y, g, _rule = stack(train)
    Xd, yd, gd, ruled = stack(dev)
    w, b = fit(X, y)
    print(f"source ranker: {len(train)} train quotes, {len(y)} candidates; dev top-1 {top1(Xd @ w + b, yd, gd):.4f} "
          f"(rules {top1(ruled.astype(float), yd, gd):.4f}) on {len(dev)} quotes")
    write_model(out, "source ranker: L2 logistic regression over candidate source tokens",
                "PolNeAR v1.0 train compartment (../shared/polnear/train.jsonl, 840 articles): quotes the rules find "
                "inside annotated attribution contents, candidates labelled by the annotated source span",
                {"quotes": len(train), "candidates": int(len(y))}, feature_names(), w, b)


def train_antecedents(train, dev, out: Path) -> None:
    """Fit the antecedent ranker on train's named sources read as anaphors; report top-1 on dev's against
    choosing the entity named last."""
    from search.quotes.model import antecedent_feature_names

    X, y = stack_antecedents(train)
    w, b = fit(X, y)
    near = antecedent_feature_names().index("log_tokens")
    acc = np.mean([yy[int(np.argmax(x @ w + b))] for x, yy in dev]) if dev else 0.0
    last = np.mean([yy[int(np.argmin(x[:, near]))] for x, yy in dev]) if dev else 0.0
    print(f"antecedent ranker: {len(train)} train anaphors ({len(y)} candidates); dev top-1 {acc:.4f} "
          f"(entity named last {last:.4f}) on {len(dev)}")
    write_model(out, "antecedent ranker: L2 logistic regression, P(an entity named before is the one a description "
                     "of a person refers to)",
                "PolNeAR v1.0 train compartment (../shared/polnear/train.jsonl, 840 articles): annotated sources that "
                "name a person or organisation named earlier, read as if they were anaphors; candidates are the "
                "entities named before them", {"anaphors": len(train), "candidates": int(len(y))},
                antecedent_feature_names(), w, b)


def write_model(out: Path, model: str, trained_on: str, examples: dict, features: list[str], w, b: float) -> None:
    """Write a model's plain weights with the note of what it is, what it learned from and how to remake it."""
    meta = {"model": model, "version": 1, "trained_on": trained_on,
            "command": "make train  (python bench/train_attribution.py)", "examples": examples,
            "features": features, "weights": [round(float(v), 6) for v in w], "bias": round(float(b), 6)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def train_partial(train, dev, out: Path) -> None:
    """Fit the partial-quote detector on train's candidates; report its precision and recall on dev's."""
    from search.quotes.model import partial_feature_names

    X, y = stack_partial(train)
    w, b = fit(X, y)
    Xd, yd = stack_partial(dev)
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

    for cached in (model.default_ranker, model.default_partial, model.default_antecedent):
        cached.cache_clear()  # the models just written, not the ones read before
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
