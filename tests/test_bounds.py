"""Resource and size bounds: searchers closed on every path, one facet at a time, facets that fail or pass their
time limit without failing the page, a paged speaker, a capped export that never decodes whole records."""
from __future__ import annotations

import time

import pytest

from conftest import make_record
from search.config import Settings
from search.contracts import parse_request
from search.indexer import index_records
from search.query import NewsSearcher, open_searcher


@pytest.fixture
def open_searchers(monkeypatch):
    """Returns a function listing the Whoosh searchers opened since the test began and not closed."""
    from whoosh.searching import Searcher

    made = []
    init = Searcher.__init__

    def recording(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(Searcher, "__init__", recording)
    # per-segment sub-searchers have a parent and share its reader: only top-level ones hold files
    return lambda: [s for s in made if s.parent is None and not s.is_closed]


def req(**args):
    return parse_request({k: v if isinstance(v, list) else [v] for k, v in args.items()})[0]


# ---------------------------------------------------------------- searchers closed on every path

def test_a_searcher_whose_facet_arrays_fail_to_load_is_closed(tiny_index, monkeypatch, open_searchers):
    import search.query

    def broken(key, reader):
        raise MemoryError("facet arrays too large")

    monkeypatch.setattr(search.query, "facet_data", broken)
    with pytest.raises(MemoryError):
        NewsSearcher(tiny_index)
    assert open_searchers() == []
    monkeypatch.undo()


def test_a_searcher_used_and_closed_leaves_nothing_open(tiny_index, open_searchers):
    with open_searcher(tiny_index) as s:
        s.search(req(q="russia"))
        assert len(open_searchers()) == 1
    assert open_searchers() == []


# ---------------------------------------------------------------- one facet, on its own

def test_one_facet_is_counted_alone_under_the_other_filters(tiny_index, monkeypatch):
    with open_searcher(tiny_index) as s:
        whole = s.search(req(q="ukraine", place="Kyiv"))
        dates = s.search(req(q="ukraine")).facets["date"]

        def no_results(*args):
            raise AssertionError("one facet must not build results or other facets")

        monkeypatch.setattr(s, "_result", no_results)
        one = s.facet(req(q="ukraine", place="Kyiv"), "person", size=50)
        assert one["total"] == whole.total == 1
        assert one["facet"] == whole.facets["person"]
        place = s.facet(req(q="ukraine", place="Kyiv"), "place", size=50)  # its own filter does not apply
        assert place["facet"] == whole.facets["place"]
        assert s.facet(req(q="ukraine"), "date", size=50)["facet"] == dates
        with pytest.raises(ValueError, match="unknown facet 'nope'"):
            s.facet(req(), "nope", size=5)


def test_the_contains_filter_is_done_in_the_search_layer(tiny_index):
    with open_searcher(tiny_index) as s:
        got = s.facet(req(), "person", size=50, contains="  LINK ")["facet"]
        assert [(r["value"], r["count"]) for r in got["results"]] == [("Antony Blinken", 2)]
        assert (got["distinct"], got["truncated"]) == (1, False)
        # an active choice stays listed only when it matches the text too
        got = s.facet(req(person=["Jens Stoltenberg"], not_person=["Chrystia Freeland"]), "person", size=50,
                      contains="stolt")["facet"]
        assert [(r["value"], r["selected"], r["excluded"]) for r in got["results"]] == [
            ("Jens Stoltenberg", True, False)]
        got = s.facet(req(), "place", size=1, contains="r")["facet"]  # Russia, Brussels, Ukraine... top 1
        assert ([r["value"] for r in got["results"]], got["truncated"], got["distinct"]) == (["Russia"], True, 3)


# ---------------------------------------------------------------- a failing facet does not fail the page

def test_a_facet_that_raises_fails_alone(tiny_index, monkeypatch, caplog):
    from search.facets import FacetData

    top = FacetData.top

    def failing(self, facet, *args, **kwargs):
        if facet == "place":
            raise RuntimeError("a broken facet")
        return top(self, facet, *args, **kwargs)

    monkeypatch.setattr(FacetData, "top", failing)
    with open_searcher(tiny_index) as s:
        res = s.search(req(q="russia"))
    assert res.total == 3 and len(res.results) == 3
    assert res.facets["place"] == {"name": "place", "label": "Places", "results": [], "truncated": False,
                                   "distinct": None,
                                   "failed": "could not be counted (an error on the server, logged there)"}
    assert res.facets["person"]["results"] and res.facets["date"]["results"]
    assert res.to_dict()["facets_failed"] == {"place": res.facets["place"]["failed"]}
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == ["facet place could not be counted"]


def test_a_facet_past_its_time_limit_fails_alone(tiny_index, monkeypatch):
    settings = Settings(index=tiny_index, facet_time_limit_ms=50)
    with open_searcher(tiny_index, settings) as s:
        slow_field = s.facets.fields["organizations"]
        counts = slow_field.counts

        def slow(*args, **kwargs):
            time.sleep(0.12)
            return counts(*args, **kwargs)

        monkeypatch.setattr(slow_field, "counts", slow)
        res = s.search(req())
    assert res.facets["org"]["failed"] == "took longer than its time limit (50 ms); narrow the search to see it"
    assert res.facets["org"]["results"] == []
    assert all(res.facets[f]["results"] and "failed" not in res.facets[f] for f in ("speaker", "person", "place",
                                                                                   "date"))
    assert res.total == 5 and len(res.results) == 5


def test_counting_stops_between_chunks_once_the_deadline_passed(tiny_index, monkeypatch):
    import numpy as np

    import search.facets
    from search.facets import FacetTimeout

    monkeypatch.setattr(search.facets, "COUNT_CHUNK", 2)  # many chunks over the tiny index's pairs
    with open_searcher(tiny_index) as s:
        fp = s.facets.field("place")
        everything = np.ones(s.facets.size, dtype=bool)
        assert fp.counts(everything, deadline=time.perf_counter() + 60).sum() == len(fp.pair_docs)
        with pytest.raises(FacetTimeout):
            fp.counts(everything, deadline=time.perf_counter() - 1)


# ---------------------------------------------------------------- a speaker, page by page

@pytest.fixture
def speaker_index(tmp_path):
    records = [make_record(f"talk-{n}", f"Talk {n}", f'"Point {n}," Ada Lovelace said. "And {n}," she said.',
                           published=f"2021-{n % 3 + 1:02d}-{n + 1:02d}", speakers=["Ada Lovelace"],
                           quotes=[{"speaker": "Ada Lovelace", "text": f"Point {n},"},
                                   {"speaker": "Ada Lovelace", "text": f"And {n},"}])
               for n in range(7)]
    index_records(records, Settings(index=tmp_path / "ix"))
    return tmp_path / "ix"


def test_a_speaker_page_decodes_only_its_own_articles(speaker_index, monkeypatch):
    with open_searcher(speaker_index) as s:
        decoded = []
        record = s._record
        monkeypatch.setattr(s, "_record", lambda d: decoded.append(d) or record(d))
        sp = s.speaker("Ada Lovelace", page=2, page_size=3)
    assert (sp["total"], sp["page"], sp["pages"], sp["page_size"]) == (7, 2, 3, 3)
    assert len(decoded) == 3
    # newest first: talk-6 (2021-01-07) ... the second page holds the 4th to 6th newest
    order = sorted(range(7), key=lambda n: f"2021-{n % 3 + 1:02d}-{n + 1:02d}", reverse=True)
    assert [q["article"]["id"] for q in sp["quotes"]] == [f"talk-{n}" for n in order[3:6] for _ in (0, 1)]
    assert sp["histogram"] == [{"month": "2021-01", "count": 3}, {"month": "2021-02", "count": 2},
                               {"month": "2021-03", "count": 2}]  # articles per month, all pages
    with open_searcher(speaker_index) as s:
        past = s.speaker("Ada Lovelace", page=99, page_size=3)
        assert (past["page"], len(past["quotes"])) == (3, 2)
        assert s.speaker("Nobody", page=1)["total"] == 0


# ---------------------------------------------------------------- export rows

def test_export_rows_are_capped_and_read_without_decoding_records(tiny_index, monkeypatch):
    with open_searcher(tiny_index) as s:
        def no_record(d):
            raise AssertionError("the export must not decode whole records")

        monkeypatch.setattr(s, "_record", no_record)
        rows = list(s.iter_matching(req(sort="oldest")))
        assert [r["id"] for r in rows] == ["hostile", "budget-vote", "kyiv-talks", "nato-summit", "undated"]
        assert rows[2] == {"id": "kyiv-talks", "title": "Blinken meets Zelenskiy in Kyiv", "published": "2021-05-06",
                           "source": "Test Wire", "url": "https://news.example/kyiv-talks",
                           "speakers": ["Antony Blinken", "Volodymyr Zelenskiy"],
                           "persons": ["Antony Blinken", "Volodymyr Zelenskiy"],
                           "places": ["Kyiv", "Ukraine", "Russia"], "organizations": ["NATO"]}
        assert rows[4]["published"] is None
        assert [r["id"] for r in s.iter_matching(req(sort="oldest"), limit=2)] == ["hostile", "budget-vote"]
