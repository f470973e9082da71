"""No phrase of the annotated articles in ../shared is in the attribution code, its comments or its tests
(the texts belong to their publishers; examples are written fresh)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPORA = [SHARED / "eval" / "quotes-dev.jsonl", SHARED / "polnear" / "dev.jsonl", SHARED / "polnear" / "train.jsonl"]
OURS = sorted((ROOT / "search" / "quotes").glob("*.py")) + sorted((ROOT / "search" / "data").glob("*.json")) + [
    ROOT / "tests" / "test_quotes.py", ROOT / "tests" / "test_quote_rules.py"]
WORD = re.compile(r"[\w'’]+")
N = 6  # six words in a row: common phrases are shorter, a copied sentence is longer

pytestmark = pytest.mark.skipif(not all(p.exists() for p in CORPORA), reason="../shared is not beside the repository")


def grams(text: str) -> set[tuple[str, ...]]:
    """Every run of N words, case-folded."""
    words = [w.casefold() for w in WORD.findall(text)]
    return {tuple(words[i : i + N]) for i in range(len(words) - N + 1)}


def test_no_six_words_of_an_annotated_article_in_our_files():
    ours = {}
    for path in OURS:
        for g in grams(path.read_text(encoding="utf-8")):
            ours.setdefault(g, path.name)
    found = set()
    for corpus in CORPORA:
        with corpus.open(encoding="utf-8") as f:
            for line in f:
                found |= grams(json.loads(line)["text"]) & ours.keys()
    assert not found, sorted((ours[g], " ".join(g)) for g in found)
