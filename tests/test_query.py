"""Search, filters and facet counts over the tiny index (no spaCy model needed)."""
from __future__ import annotations

import pytest

from search.query import SearchRequest, build_query, open_searcher, parse_request


def search(index_dir, **args):
    with open_searcher(index_dir) as s:
        req, messages = parse_request({k: v if isinstance(v, list) else [v] for k, v in args.items()})
        return s.search(req, messages)


def counts(result, facet):
    return [(r["value"], r["count"]) for r in result.facets[facet]["results"]]


def test_no_query_lists_newest_first_with_corpus_facets(tiny_index):
    res = search(tiny_index)
    assert res.total == 5
    assert [r["id"] for r in res.results] == ["nato-summit", "kyiv-talks", "budget-vote", "hostile", "undated"]
    assert counts(res, "place") == [("Russia", 3), ("Ukraine", 3), ("Brussels", 1), ("Kyiv", 1), ("Ottawa", 1)]
    assert counts(res, "date") == [("2020", 1), ("2021", 3)]


def test_speaker_filter_keeps_other_speakers_counted(tiny_index):
    res = search(tiny_index, speaker="Antony Blinken")
    assert [r["id"] for r in res.results] == ["kyiv-talks"]
    # the speaker facet is counted without its own filter: the others stay visible
    assert counts(res, "speaker") == [("Antony Blinken", 1), ("Chrystia Freeland", 1), ("Jens Stoltenberg", 1),
                                      ("Volodymyr Zelenskiy", 1)]
    assert [r["selected"] for r in res.facets["speaker"]["results"]] == [True, False, False, False]
    # other facets are counted under it
    assert counts(res, "place") == [("Kyiv", 1), ("Russia", 1), ("Ukraine", 1)]
    # the speaker's quotes come with the result
    assert res.results[0]["quotes"] == [{"speaker": "Antony Blinken", "text": "cease reckless and aggressive actions.",
                                         "verb": "said", "start": 33, "end": 71, "kind": "direct"}]


def test_or_within_a_facet_and_between_facets(tiny_index):
    res = search(tiny_index, speaker=["Antony Blinken", "Jens Stoltenberg"])
    assert sorted(r["id"] for r in res.results) == ["kyiv-talks", "nato-summit"]
    res = search(tiny_index, speaker=["Antony Blinken", "Jens Stoltenberg"], place="Brussels")
    assert [r["id"] for r in res.results] == ["nato-summit"]


def test_exclusion(tiny_index):
    res = search(tiny_index, not_place="Russia")
    assert sorted(r["id"] for r in res.results) == ["budget-vote", "nato-summit"]
    russia = [r for r in res.facets["place"]["results"] if r["value"] == "Russia"]
    assert russia == [{"value": "Russia", "count": 0, "selected": False, "excluded": True}]


def test_text_query_and_highlight(tiny_index):
    res = search(tiny_index, q="stands")
    assert [r["id"] for r in res.results] == ["nato-summit"]
    assert '<mark class="match term0">stands</mark>' in res.results[0]["snippet"]


def test_snippet_escapes_markup(tiny_index):
    res = search(tiny_index, q="bold")
    (hit,) = res.results
    assert "<script>" not in hit["snippet"] and "<b>" not in hit["snippet"]
    assert "&lt;b&gt;" in hit["snippet"]


def test_snippet_fragments_hold_whole_words():
    """Fragments open and close at whitespace, never inside "Trump's" or "well-known" (whatever the offsets)."""
    import random

    from whoosh import highlight
    from whoosh.analysis import StemmingAnalyzer

    from search.query import _word_fragmenter

    rnd = random.Random(4)
    words = ["Trump's", "well-known", "border", "U.S.-Mexico", "plan", "officials'", "security", "a", "o'clock"]
    analyzer, frag = StemmingAnalyzer(), _word_fragmenter()
    for _ in range(200):
        text = " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 120)))
        tokens = highlight.set_matched_filter(analyzer(text, chars=True, mode="query", removestops=False),
                                              frozenset({"border"}))
        for f in frag.fragment_tokens(text, (t.copy() for t in tokens)):
            assert f.startchar == 0 or text[f.startchar - 1] == " ", (text, f.startchar)
            assert f.endchar == len(text) or text[f.endchar] == " ", (text, f.endchar)


def test_date_range_and_drilldown(tiny_index):
    res = search(tiny_index, **{"from": "2021-05", "to": "2021-06"})
    assert sorted(r["id"] for r in res.results) == ["kyiv-talks", "nato-summit"]
    res = search(tiny_index, **{"from": "2021", "to": "2021"})
    assert res.total == 3
    assert counts(res, "date") == [("2020", 1), ("2021", 3), ("2021-04", 1), ("2021-05", 1), ("2021-06", 1)]
    assert res.histogram == [{"month": "2021-04", "count": 1}, {"month": "2021-05", "count": 1},
                             {"month": "2021-06", "count": 1}]


def test_sorting(tiny_index):
    assert [r["id"] for r in search(tiny_index, sort="oldest").results][:2] == ["hostile", "budget-vote"]
    assert search(tiny_index, sort="oldest").results[-1]["id"] == "undated"


@pytest.mark.parametrize("q", ['"unbalanced', "(open", "close)", "AND", "OR", "NOT", "*", "title:", "body:",
                               ":", '"', "x" * 5000, "\x00", "<script>", "title:(", "a*", "~", "^2", "[a TO"])
def test_malformed_queries_never_raise(tiny_index, q):
    res = search(tiny_index, q=q)
    assert res.total >= 0
    assert isinstance(res.messages, list)


def test_messages_for_bad_parameters(tiny_index):
    res = search(tiny_index, page="-1", sort="sideways", **{"from": "yesterday"})
    assert res.messages == ["Ignored from='yesterday': not a date; use YYYY-MM-DD, YYYY-MM or YYYY.",
                            "Unknown sort 'sideways'; use relevance, newest or oldest.",
                            "page=-1 is out of range; using 1."]
    res = search(tiny_index, page=str(10**9))
    assert res.page == res.pages == 1
    res = search(tiny_index, q="AND")
    assert res.total == 0 and res.messages


def test_unknown_facet_value_gives_empty_result(tiny_index):
    res = search(tiny_index, speaker="Nobody Known")
    assert res.total == 0
    assert counts(res, "speaker")[-1] == ("Nobody Known", 0)


def test_long_query_is_cut_with_a_message(tiny_index):
    res = search(tiny_index, q="russia " * 1000)
    assert res.messages[0].startswith("Your query was 6,999 characters")


def test_pagination(tiny_index):
    with open_searcher(tiny_index) as s:
        req, _ = parse_request({"size": ["2"], "page": ["3"]})
        res = s.search(req)
    assert (res.total, res.pages, res.page, [r["id"] for r in res.results]) == (5, 3, 3, ["undated"])


def test_article_speaker_stats_and_export(tiny_index):
    with open_searcher(tiny_index) as s:
        assert s.article("kyiv-talks")["persons"] == ["Antony Blinken", "Volodymyr Zelenskiy"]
        assert s.article("../etc/passwd") is None
        sp = s.speaker("Jens Stoltenberg")
        assert [q["text"] for q in sp["quotes"]] == ["We are united,"]
        assert sp["histogram"] == [{"month": "2021-06", "count": 1}]
        req, _ = parse_request({"place": ["Ukraine"], "sort": ["oldest"]})
        assert [r["id"] for r in s.iter_matching(req)] == ["kyiv-talks", "nato-summit", "undated"]
        st = s.stats()
    assert (st["articles"], st["first"], st["last"]) == (5, "2020-12-01", "2021-06-14")


def test_to_dict_shape(tiny_index):
    d = search(tiny_index, q="russia").to_dict()
    assert set(d) >= {"total", "page", "results", "facets", "histogram"}
    assert set(d["facets"]) == {"speaker", "person", "place", "org", "author", "language", "date"}
    assert set(d["facets"]["date"][0]) == {"value", "count", "selected"}


def test_request_round_trip():
    req, _ = parse_request({"q": ["x"], "speaker": ["A", "A", "B"], "not_place": ["P"], "sort": ["newest"]})
    assert req.to_params() == {"q": ["x"], "speaker": ["A", "B"], "not_place": ["P"], "sort": ["newest"]}
    assert isinstance(req, SearchRequest)


def test_build_query_everything():
    from search.schema import build_schema

    assert build_query("*", build_schema(), []) is None


@pytest.mark.parametrize("q", ["russ*", "ukr?ine", "title:budg*"])
def test_prefix_and_wildcard_queries_search(tiny_index, q):
    res = search(tiny_index, q=q)
    assert res.total > 0 and not res.messages, (res.total, res.messages)
