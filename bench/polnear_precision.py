"""Quote precision against every attribution PolNeAR's annotators marked (direct, indirect, beliefs).

`dev-direct.jsonl` scores recall and speakers on direct quotes only, so it cannot see a quote that is
not one at all. PolNeAR's full annotation can: a predicted quote is right when at least `--inside`
(default 0.5) of its words lie in the content span of one annotated attribution. The figure is the
share of predicted quotes that are right (micro-averaged over articles).

    python bench/polnear_precision.py --gold ../shared/polnear/dev.jsonl --pred pred.jsonl

Predictions: one article a line, `{"id", "quotes": [{"start", "end", ...}]}` with character offsets
into the gold article's text (what `newsfacet enrich` writes).
"""
from __future__ import annotations

import argparse
import json
import re
import sys

WORD = re.compile(r"\w+")


def content_spans(article: dict) -> list[list[tuple[int, int]]]:
    """The character spans of each attribution's content (an attribution may have several pieces)."""
    out = []
    for a in article.get("attributions") or []:
        spans = [(s, e) for s, e in ((a.get("content") or {}).get("spans") or [])]
        if spans:
            out.append(spans)
    return out


def inside_share(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> float:
    """Share of the words of text[start:end] whose characters lie inside one of spans."""
    words = [(start + m.start(), start + m.end()) for m in WORD.finditer(text[start:end])]
    if not words:
        return 0.0
    hit = sum(1 for ws, we in words if any(s <= ws and we <= e for s, e in spans))
    return hit / len(words)


def score(gold: dict[str, dict], pred: dict[str, dict], inside: float = 0.5) -> dict:
    """{'predicted_quotes', 'inside_attribution', 'quote_precision_all_attributions'}."""
    n = ok = 0
    for doc_id, g in gold.items():
        p = pred.get(doc_id) or {}
        text = g["text"]
        attributions = content_spans(g)
        for q in p.get("quotes") or []:
            if not isinstance(q.get("start"), int) or not isinstance(q.get("end"), int):
                continue
            n += 1
            if any(inside_share(text, q["start"], q["end"], spans) >= inside for spans in attributions):
                ok += 1
    return {"predicted_quotes": n, "inside_attribution": ok,
            "quote_precision_all_attributions": round(ok / n, 4) if n else 0.0}


def load(path) -> dict[str, dict]:
    """{id: record} of a JSON Lines file."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    sys.exit(f"{path}:{n}: not JSON: {exc}")
                out[str(rec.get("id"))] = rec
    return out


def main(argv=None) -> int:
    """Print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold", required=True)
    ap.add_argument("--pred", required=True)
    ap.add_argument("--inside", type=float, default=0.5)
    a = ap.parse_args(argv)
    for k, v in score(load(a.gold), load(a.pred), a.inside).items():
        print(f"{k:36} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
