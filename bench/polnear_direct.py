"""PolNeAR articles in the scorer's gold format, the way `../shared/polnear/dev-direct.jsonl` was made, so the
train compartment can be scored like dev (cross-validation, error counts).

A quote is an attribution whose content holds a quotation mark and whose source, as written, holds a capital
letter and is not a bare pronoun ("Trump", "The commission"; not "he", "the mayor"); its reference is that
source as written. `python bench/polnear_direct.py` checks that this rebuilds dev-direct from dev exactly.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
_MARKS = re.compile("[\"“”]")
_CAPITAL = re.compile("[A-Z]")
_PRONOUNS = frozenset("he she it they i we you who which her his its their them him".split())


def direct_quotes(record: dict) -> list[dict]:
    """The direct quotes with a named (capitalised) source of one PolNeAR article, in the scorer's format."""
    out = []
    for a in record.get("attributions") or []:
        content = (a.get("content") or {}).get("text") or ""
        source = ((a.get("source") or {}).get("text") or "").strip()
        if not _MARKS.search(content) or not _CAPITAL.search(source) or source.lower() in _PRONOUNS:
            continue
        out.append({"quote": content, "speaker": source, "reference": source.strip(" ,"),
                    "verb": (a.get("cue") or {}).get("text") or "", "attribution": a})
    return out


def direct_gold(records: list[dict]) -> dict[str, dict]:
    """{id: gold record} of the articles that have such quotes (what dev-direct holds for dev)."""
    out = {}
    for r in records:
        quotes = direct_quotes(r)
        if quotes:
            out[str(r["id"])] = {"id": r["id"], "text": r["text"], "quotes": quotes}
    return out


def main() -> int:
    """Check the rebuild against dev-direct.jsonl."""
    sys.path.insert(0, str(ROOT))
    from bench.parsed import read_jsonl

    mine = direct_gold(read_jsonl(SHARED / "polnear" / "dev.jsonl"))
    theirs = {str(r["id"]): r for r in read_jsonl(SHARED / "polnear" / "dev-direct.jsonl")}
    same = mine.keys() == theirs.keys() and all(
        sorted((q["quote"], q["reference"]) for q in mine[k]["quotes"])
        == sorted((q["quote"], q["reference"]) for q in theirs[k]["quotes"]) for k in mine)
    print(json.dumps({"articles": len(mine), "quotes": sum(len(g["quotes"]) for g in mine.values()),
                      "same_as_dev_direct": same}))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
