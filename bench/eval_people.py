"""The People facet on the annotated GGT dev articles, and 5-fold cross-validated.

    python bench/eval_people.py [--gold ../shared/eval/quotes-dev.jsonl]

The rules that decide whether a name the NER tagged as a person is one (search/names.py, PERSON_RULES) were
chosen while reading errors on these articles. To say what that choice is worth on articles it was not made
on, the cross-validation makes it again per fold: each fold's articles are scored with the rules kept by the
other four (a rule is kept when switching it off does not raise person F1 on them). The dev figure is what
`newsfacet enrich` gives on all 49 (the collection name table applied over them, as there).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.eval_quotes import DEFAULT_GOLD, load_scorer  # noqa: E402

FOLDS = 5


def parsed(gold_path: Path):
    """(records, Docs) of the gold articles, parsed once by the pipeline without newsfacet's analysis (the parse
    cache of bench/parsed.py)."""
    from bench.parsed import parsed_docs

    return parsed_docs(gold_path)


def persons_under(records, docs, off: frozenset = frozenset()) -> dict[str, list[str]]:
    """{id: persons} with the named PERSON_RULES switched off, as `newsfacet enrich` makes them."""
    from search.enrich import drop_source
    from search.entities import Analysis
    from search.names import PERSON_RULES, count_names, name_table, resolve_record

    saved = dict(PERSON_RULES)
    PERSON_RULES.update({r: False for r in off})
    try:
        analysis = Analysis()
        recs = []
        for rec, doc in zip(records, docs):
            a = dict(analysis(doc).user_data["newsfacet"])
            if rec.get("source"):
                drop_source(a, rec["source"])
            recs.append(a)
    finally:
        PERSON_RULES.clear()
        PERSON_RULES.update(saved)
    table = name_table(count_names(recs))
    return {str(rec["id"]): resolve_record(a, table)["persons"] for rec, a in zip(records, recs)}


def counts(scorer, records, persons: dict[str, list[str]]) -> dict[str, tuple[int, int, int]]:
    """{id: (true positives, predicted, gold)} of the People facet, normalised as the scorer does."""
    out = {}
    for rec in records:
        gold = {scorer.norm_name(x) for x in rec.get("people") or []} - {""}
        pred = {scorer.norm_name(x) for x in persons[str(rec["id"])]} - {""}
        out[str(rec["id"])] = (len(gold & pred), len(pred), len(gold))
    return out


def figures(per_article: dict[str, tuple[int, int, int]], ids) -> dict[str, float]:
    """Micro precision, recall and F1 over the given articles."""
    tp = sum(per_article[i][0] for i in ids)
    pred = sum(per_article[i][1] for i in ids)
    gold = sum(per_article[i][2] for i in ids)
    p = tp / pred if pred else 0.0
    r = tp / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"person_facet_precision": round(p, 4), "person_facet_recall": round(r, 4), "person_facet_f1": round(f, 4)}


def cross_validate(scorer, records, docs, folds: int = FOLDS) -> tuple[dict, list[list[str]]]:
    """Figures of k-fold cross-validation of the rule choice, and the rules each fold dropped."""
    from search.names import PERSON_RULES

    runs: dict[frozenset, dict] = {}

    def run(off: frozenset) -> dict:
        if off not in runs:
            runs[off] = counts(scorer, records, persons_under(records, docs, off))
        return runs[off]

    ids = [str(r["id"]) for r in records]
    merged: dict[str, tuple[int, int, int]] = {}
    dropped = []
    for k in range(folds):
        held = set(ids[k::folds])
        train = [i for i in ids if i not in held]
        base = figures(run(frozenset()), train)["person_facet_f1"]
        off = frozenset(r for r in PERSON_RULES if figures(run(frozenset({r})), train)["person_facet_f1"] > base)
        dropped.append(sorted(off))
        chosen = run(off)
        merged.update({i: chosen[i] for i in held})
    return figures(merged, ids), dropped


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    a = ap.parse_args(argv)
    if not a.gold.exists():
        print(f"No gold file at {a.gold}", file=sys.stderr)
        return 1
    scorer = load_scorer(a.gold)
    records, docs = parsed(a.gold)
    dev = figures(counts(scorer, records, persons_under(records, docs)), [str(r["id"]) for r in records])
    cv, dropped = cross_validate(scorer, records, docs)
    print(f"{'People facet':28}{'GGT dev':>12}{f'{FOLDS}-fold CV':>12}")
    for key in dev:
        print(f"{key:28}{dev[key]:>12}{cv[key]:>12}")
    print("rules dropped per fold: " + "; ".join(", ".join(d) or "none" for d in dropped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
