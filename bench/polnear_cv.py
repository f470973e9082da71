"""Cross-validation on PolNeAR's train compartment: what the models fitted on PolNeAR carry over to articles
they were not fitted on, beyond the one dev split.

    python bench/polnear_cv.py [--folds 5]

The 840 train articles are cut into folds (article i goes to fold i mod k). For each fold, the models fitted on
PolNeAR (source ranker, partial-quote detector) are refitted on the other folds exactly as `make train` fits
them, and the fold's articles are analysed with those models (the confidence model stays the committed one: it
is fitted on GGT, not PolNeAR). The held-out predictions of all folds are scored together like dev-direct
(quote recall, speaker in source span: bench/polnear_direct.py) and like dev precision against every
attribution (bench/polnear_precision.py).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"


@contextlib.contextmanager
def models_in_use(models):
    """Run the analysis with the given search.quotes.model.Models instead of the committed ones."""
    from search.quotes import attribution

    real = attribution.default_models
    attribution.default_models = lambda: models
    try:
        yield
    finally:
        attribution.default_models = real


def fit_models(per_article, keep) -> object:
    """Models(ranker, committed confidence, partial) fitted on the articles whose index is in keep."""
    from bench.train_attribution import fit, stack, stack_antecedents, stack_partial
    from search.quotes.model import (LogisticModel, Models, SourceRanker, antecedent_feature_names, default_confidence,
                                     partial_feature_names)

    X, y, _g, _r = stack([q for i in keep for q in per_article[i][0]])
    w, b = fit(X, y)
    Xp, yp = stack_partial([r for i in keep for r in per_article[i][1]])
    wp, bp = fit(Xp, yp)
    Xa, ya = stack_antecedents([r for i in keep for r in per_article[i][2]])
    wa, ba = fit(Xa, ya)
    return Models(SourceRanker(w, b), default_confidence(), LogisticModel(wp, bp, partial_feature_names()),
                  LogisticModel(wa, ba, antecedent_feature_names()))


def predictions(records, docs) -> dict:
    """{id: prediction} of the analysis as it stands (models patched in by the caller)."""
    from search.entities import Analysis

    analysis = Analysis()
    out = {}
    for rec, doc in zip(records, docs):
        a = analysis(doc).user_data["newsfacet"]
        out[str(rec["id"])] = {"id": str(rec["id"]), "speakers": a["speakers"],
                               "quotes": [{"text": q["text"], "speaker": q["speaker"], "start": q["start"],
                                           "end": q["end"]} for q in a["quotes"]]}
    return out


def cross_validate(shared: Path = SHARED, folds: int = 5) -> dict:
    """Held-out figures of the PolNeAR-fitted models over the train compartment's folds."""
    from bench import polnear_precision
    from bench.eval_quotes import load_scorer
    from bench.parsed import parsed_docs
    from bench.polnear_direct import direct_gold

    from bench.train_attribution import per_article_examples

    records, docs = parsed_docs(shared / "polnear" / "train.jsonl")
    per_article = per_article_examples(records, docs)
    preds = {}
    for k in range(folds):
        keep = [i for i in range(len(records)) if i % folds != k]
        held = [i for i in range(len(records)) if i % folds == k]
        with models_in_use(fit_models(per_article, keep)):
            preds.update(predictions([records[i] for i in held], [docs[i] for i in held]))
    scorer = load_scorer(shared / "eval" / "quotes-dev.jsonl")
    direct = scorer.score(direct_gold(records), preds)
    precision = polnear_precision.score({str(r["id"]): r for r in records}, preds)
    return {"folds": folds, "articles": len(records), "gold_direct_quotes": direct["gold_quotes"],
            "quote_recall": direct["quote_recall"],
            "speaker_accuracy_in_reference": direct["speaker_accuracy_in_reference"],
            "predicted_quotes": precision["predicted_quotes"],
            "quote_precision_all_attributions": precision["quote_precision_all_attributions"]}


def main(argv=None) -> int:
    """Print the cross-validated figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--folds", type=int, default=5)
    a = ap.parse_args(argv)
    t = time.time()
    figures = cross_validate(a.shared, a.folds)
    print(json.dumps(figures, indent=1))
    print(f"({time.time() - t:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
