"""Speaker errors of quote attribution by kind, on GGT dev and PolNeAR dev-direct.

    python bench/attribution_errors.py [--shared ../shared] [--out bench/out/attribution-errors.md]

Every quote the scorer matches whose speaker is wrong (GGT: not the reference's full name; PolNeAR
dev-direct: the predicted name's last word is not in the source span as written) gets a kind: what the
gold source is (a name, a pronoun, a description, nothing) and what went wrong (no speaker, the source
token was not the annotated one, the right token resolved to the wrong name, ...). Counts by kind are
printed; the file (under bench/out/, git-ignored: it quotes the articles) lists every error with its
context for reading. Docs come from the parse cache (bench/parsed.py).
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
PRONOUNS = {"he", "she", "it", "they", "him", "her", "them", "his", "its", "their", "who", "which", "that", "we", "i"}


def run(path: Path):
    """[(record, analysis dict, {(start, end): internal Quote}, view)] for a corpus from the parse cache."""
    from bench.parsed import parsed_docs
    from search.entities import Analysis
    from search.quotes import attribution

    real = attribution.find_quotes
    seen = []

    def keep(view, models=attribution.Models()):
        quotes = real(view, models)
        seen.append((view, quotes))
        return quotes

    attribution.find_quotes = keep
    try:
        records, docs = parsed_docs(path)
        analysis = Analysis()
        out = []
        for rec, doc in zip(records, docs):
            a = analysis(doc).user_data["newsfacet"]
            view, quotes = seen.pop()
            out.append((rec, a, {(q.start, q.end): q for q in quotes}, view))
        return out
    finally:
        attribution.find_quotes = real


def match(scorer, gold_quotes, pred_quotes):
    """{gold index: pred index}, the scorer's one-to-one matching."""
    from bench.eval_quotes import match_quotes

    return match_quotes(scorer, gold_quotes, [q["text"] for q in pred_quotes])


def written_kind(scorer, speaker: str, reference: str) -> str:
    """What the gold source as written is: empty, a pronoun, a name (its last word in the reference's
    words and capitalised), or a description."""
    s = (speaker or "").strip()
    if not s:
        return "none written"
    if s.lower() in PRONOUNS:
        return "pronoun"
    words = s.replace("’s", "").replace("'s", "").split()
    caps = [w for w in words if w[:1].isupper() and w.lower() not in ("the", "a", "an")]
    if caps and scorer.last_word(s) in scorer.norm_name(reference).split():
        return "name"
    return "description"


def context(text: str, start: int, end: int, width: int = 220) -> str:
    """The quote with text around it, on one line."""
    a, b = max(0, start - width), min(len(text), end + 80)
    return " ".join((text[a:start] + " [[" + text[start:end][:160] + "]] " + text[end:b]).split())


def ggt_errors(scorer, shared: Path, lines: list[str]) -> Counter:
    """Kinds of the speaker errors on the GGT dev articles (strict full-name match)."""
    kinds: Counter = Counter()
    for rec, a, internal, view in run(shared / "eval" / "quotes-dev.jsonl"):
        gq = [q for q in rec.get("quotes") or [] if (q.get("quote") or "").strip()]
        pq = a["quotes"]
        m = match(scorer, gq, pq)
        kinds["gold quotes"] += len(gq)
        kinds["missed quotes"] += len(gq) - len(m)
        kinds["extra quotes"] += len(pq) - len(m)
        for i, j in m.items():
            g, p = gq[i], pq[j]
            ref = g.get("reference") or g.get("speaker") or ""
            if scorer.norm_name(p["speaker"]) == scorer.norm_name(ref):
                continue
            q = internal.get((p["start"], p["end"]))
            gk = written_kind(scorer, g.get("speaker"), ref)
            at = view.text.find(g["quote"].strip())
            if at >= 0 and not (at < p["end"] and p["start"] < at + len(g["quote"].strip())):
                kinds["matched another passage (word overlap)"] += 1
                lines.append(f"- GGT {rec['id']} | other passage | gold {ref!r} | pred {p['speaker']!r}\n  "
                             + context(view.text, p["start"], p["end"]))
                continue
            if not p["speaker"]:
                what = "no speaker (under threshold)" if q is not None and q.speaker else "no speaker"
            elif scorer.last_word(p["speaker"]) == scorer.last_word(ref):
                what = "surname right, full name not"
            elif (p.get("speaker_text") or "").lower() == (g.get("speaker") or "").lower() and g.get("speaker"):
                what = "source as written right, resolved wrong"
            else:
                what = "wrong speaker"
            how = q.how if q is not None else "?"
            kinds[f"gold {gk}: {what}"] += 1
            lines.append(f"- GGT {rec['id']} | gold {gk} {g.get('speaker')!r} -> {ref!r} | pred {p['speaker']!r} "
                         f"({p.get('speaker_text')!r}, {how}, conf {p['confidence']}) | {what}\n  "
                         + context(view.text, p["start"], p["end"]))
    return kinds


def polnear_errors(scorer, shared: Path, lines: list[str], part: str = "dev") -> Counter:
    """Kinds of the speaker errors on PolNeAR direct quotes with named sources (dev-direct for dev; the same
    selection of train with part="train"): the predicted name's last word not in the source span as written."""
    from bench.polnear_direct import direct_quotes

    kinds: Counter = Counter()
    for rec, a, internal, view in run(shared / "polnear" / f"{part}.jsonl"):
        gq = direct_quotes(rec)
        pq = a["quotes"]
        m = match(scorer, gq, pq)
        kinds["gold quotes"] += len(gq)
        kinds["missed quotes"] += len(gq) - len(m)
        for i, j in m.items():
            g, p = gq[i], pq[j]
            ref = g["reference"]
            lw = scorer.last_word(p["speaker"] or "")
            if lw and lw in scorer.norm_name(ref).split():
                continue
            att = g["attribution"]
            spans = att["source"]["spans"]
            q = internal.get((p["start"], p["end"]))
            subj = q.subject if q is not None else None
            in_span = subj is not None and any(s <= subj.idx < e for s, e in spans)
            gk = written_kind(scorer, g["speaker"], ref)
            content = att["content"]["spans"]
            if not any(s < p["end"] and p["start"] < e for s, e in content):
                kinds["matched another passage (word overlap)"] += 1
                lines.append(f"- PolNeAR {rec['id']} | other passage | gold {ref!r} | pred {p['speaker']!r}\n  "
                             + context(view.text, p["start"], p["end"]))
                continue
            toks = [t for s, e in spans for t in (view.doc.char_span(s, e, alignment_mode="expand") or [])]
            has_ent = any(t.i in view.ent_of for t in toks)
            if gk == "name" and not has_ent:
                gk = "name the NER missed"
            if gk == "description" and len(ref.split()) > 3:
                gk = "long description"
            if not p["speaker"]:
                if q is not None and q.speaker:
                    what = "under threshold (right token)" if in_span else "under threshold (wrong token)"
                elif subj is None:
                    what = "no source token"
                else:
                    what = "token " + ("in span" if in_span else "elsewhere") + ", unresolved"
            elif subj is None:
                what = "carried over (" + (q.how if q else "?") + ")"
            elif in_span:
                what = "right token, resolved to another name"
            else:
                what = "wrong token (" + ("pronoun" if subj.lower_ in PRONOUNS else subj.pos_) + ")"
            kinds[f"gold {gk}: {what}"] += 1
            lines.append(f"- PolNeAR {rec['id']} | gold {gk} {ref!r} | pred {p['speaker']!r} ({p.get('speaker_text')!r}, "
                         f"{q.how if q else '?'}, conf {p['confidence']}, token {subj.text if subj is not None else None!r})"
                         f" | {what}\n  " + context(view.text, p["start"], p["end"]))
    return kinds


def missed_polnear(shared: Path, lines: list[str], part: str = "dev") -> Counter:
    """Gold direct quotes (PolNeAR, as in dev-direct) that no predicted quote overlaps, by what became of the
    quotation marks there: dropped (words in narration), absorbed, or no quotation found."""
    from bench.polnear_direct import direct_quotes

    kinds: Counter = Counter()
    for rec, a, _internal, view in run(shared / "polnear" / f"{part}.jsonl"):
        for g in direct_quotes(rec):
            spans = g["attribution"]["content"]["spans"]
            if any(s < p["end"] and p["start"] < e for p in a["quotes"] for s, e in spans):
                continue
            dq = [q for q in view.direct if any(s < q.end and q.start < e for s, e in spans)]
            state = ",".join(sorted({"absorbed" if q.absorbed else "dropped" if q.drop else "kept" for q in dq}))
            state = state or "no quotation marks found"
            kinds[f"{state} ({'3 words or fewer' if len(g['quote'].split()) <= 3 else 'longer'})"] += 1
            lines.append(f"- PolNeAR {rec['id']} | missed, {state} | {g['reference']!r}\n  "
                         + context(view.text, spans[0][0], spans[-1][1]))
    return kinds


def main(argv=None) -> int:
    """Count and list the speaker errors."""
    from bench.eval_quotes import load_scorer

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "attribution-errors.md")
    ap.add_argument("--polnear", default="dev", help="PolNeAR part to count on: dev (dev-direct) or train")
    a = ap.parse_args(argv)
    scorer = load_scorer(a.shared / "eval" / "quotes-dev.jsonl")
    lines: list[str] = []
    report = []
    sets = (("GGT dev", ggt_errors), (f"PolNeAR {a.polnear}-direct",
                                         lambda s, sh, ln: polnear_errors(s, sh, ln, a.polnear)))
    for name, fn in sets:
        kinds = fn(scorer, a.shared, lines)
        report.append(f"## {name}")
        report += [f"{n:5}  {k}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))]
    kinds = missed_polnear(a.shared, lines, a.polnear)
    report.append(f"## PolNeAR {a.polnear}-direct quotes no predicted quote overlaps")
    report += [f"{n:5}  {k}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))]
    print("\n".join(report))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(report) + "\n\n# every error\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
