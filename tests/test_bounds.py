"""Resource and size bounds: searchers closed on every path, one facet at a time, facets that fail or pass their
time limit without failing the page, a paged speaker, a capped export that never decodes whole records."""
from __future__ import annotations

import re
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


def busy(seconds: float) -> None:
    """Spend this much CPU time (the facet time limit counts CPU time, so sleeping would not use it up)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def req(**args):
    return parse_request({k: v if isinstance(v, list) else [v] for k, v in args.items()})[0]


# ---------------------------------------------------------------- searchers closed on every path

def test_a_searcher_whose_facet_arrays_fail_to_load_is_closed(tiny_index, monkeypatch, open_searchers):
    import search.query

    def broken(*_args, **_kwargs):
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

@pytest.fixture
def place_facet_fails(monkeypatch):
    """Counting the place facet raises; every other facet works."""
    from search.facets import FacetData

    top = FacetData.top

    def failing(self, facet, *args, **kwargs):
        if facet == "place":
            raise RuntimeError("a broken facet")
        return top(self, facet, *args, **kwargs)

    monkeypatch.setattr(FacetData, "top", failing)


def test_a_facet_that_raises_fails_alone(tiny_index, place_facet_fails, caplog):
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
            busy(0.12)
            return counts(*args, **kwargs)

        monkeypatch.setattr(slow_field, "counts", slow)
        res = s.search(req())
    assert res.facets["org"]["failed"] == "took longer than the 50 ms time limit; narrow the search to see it"
    assert res.facets["org"]["results"] == []
    assert all(res.facets[f]["results"] and "failed" not in res.facets[f] for f in ("speaker", "person", "place",
                                                                                   "date"))
    assert res.total == 5 and len(res.results) == 5


def test_counting_stops_between_chunks_once_the_deadline_passed(tiny_index, monkeypatch):
    import numpy as np

    import search.facets
    from search.facets import FacetTimeout, facet_clock

    monkeypatch.setattr(search.facets, "COUNT_CHUNK", 2)  # many chunks over the tiny index's pairs
    with open_searcher(tiny_index) as s:
        fp = s.facets.field("place")
        everything = np.ones(s.facets.size, dtype=bool)
        assert fp.counts(everything, deadline=facet_clock() + 60).sum() == len(fp.pair_docs)
        with pytest.raises(FacetTimeout):
            fp.counts(everything, deadline=facet_clock() - 1)


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


def test_a_speaker_page_decodes_only_its_own_quotes(speaker_index, monkeypatch):
    """The speaker page is made from the quote index (issue 13): one page of quote rows, newest first; only that
    page's quotes are decoded, and no article record at all."""
    with open_searcher(speaker_index) as s:
        decoded, articles = [], []
        qi = s._quote_index()
        record = qi.record
        monkeypatch.setattr(qi, "record", lambda d: decoded.append(d) or record(d))
        monkeypatch.setattr(s, "_record", lambda d: articles.append(d))
        sp = s.speaker("Ada Lovelace", page=2, page_size=3)
    assert (sp["total"], sp["quotes_total"], sp["articles"], sp["page"], sp["pages"], sp["page_size"]) == \
        (14, 14, 7, 2, 5, 3)
    assert len(decoded) == 3 and articles == []
    # newest first: talk-6 (2021-01-07) ...; an article's two quotes in the order of the quote ids
    order = sorted(range(7), key=lambda n: f"2021-{n % 3 + 1:02d}-{n + 1:02d}", reverse=True)
    rows = [f"talk-{n}#{i}" for n in order for i in (0, 1)]
    assert [q["id"] for q in sp["quotes"]] == rows[3:6]
    assert sp["histogram"] == [{"month": "2021-01", "count": 6}, {"month": "2021-02", "count": 4},
                               {"month": "2021-03", "count": 4}]  # quotes per month, all pages
    with open_searcher(speaker_index) as s:
        past = s.speaker("Ada Lovelace", page=99, page_size=3)
        assert (past["page"], len(past["quotes"])) == (5, 2)
        assert s.speaker("Nobody", page=1)["quotes_total"] == 0


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
                           "places": ["Kyiv", "Ukraine", "Russia"], "organizations": ["NATO"], "authors": [],
                           "language": []}
        assert rows[4]["published"] is None
        assert [r["id"] for r in s.iter_matching(req(sort="oldest"), limit=2)] == ["hostile", "budget-vote"]


# ---------------------------------------------------------------- the same bounds through the web app

def client_for(index_dir, **settings):
    from web import create_app

    app = create_app({"SETTINGS": Settings(index=index_dir, **settings), "TESTING": True})
    return app.test_client()


def section(page: str, css_class: str) -> str:
    """The <section> of a facet in the sidebar."""
    start = page.index(f'<section class="facet {css_class}"')
    return page[start:page.index("</section>", start)]


def test_an_export_whose_stream_never_starts_closes_its_searcher(tiny_index, open_searchers):
    """As a WSGI server sees it: the app returns the body's iterable, the client goes away before the first
    byte, the server closes the iterable without reading it (Werkzeug's test client always reads a little)."""
    from werkzeug.test import EnvironBuilder

    from web import create_app

    app = create_app({"SETTINGS": Settings(index=tiny_index), "TESTING": True})
    started = []
    body = app(EnvironBuilder(path="/export.csv").get_environ(), lambda status, headers: started.append(status))
    assert started == ["200 OK"] and len(open_searchers()) == 1  # the export's own searcher, waiting to stream
    body.close()
    assert open_searchers() == []
    body = app(EnvironBuilder(path="/export.csv").get_environ(), lambda status, headers: None)
    assert b"".join(body).startswith(b"id,title,published")
    body.close()
    assert open_searchers() == []


def test_the_export_is_capped_and_says_so_in_its_last_line(tiny_index):
    text = client_for(tiny_index, export_max_rows=2).get("/export.csv?sort=oldest").get_data(as_text=True)
    lines = text.splitlines()
    assert [line.split(",")[0] for line in lines[1:3]] == ["hostile", "budget-vote"]
    assert lines[3:] == ["# export stopped at 2 rows, the export cap (NEWSFACET_EXPORT_MAX_ROWS): more articles "
                         "match; narrow the search, or raise the cap"]
    text = client_for(tiny_index, export_max_rows=5).get("/export.csv?sort=oldest").get_data(as_text=True)
    assert len(text.splitlines()) == 6 and "#" not in text  # exactly the cap: every article, no note


def test_the_export_cap_comes_from_the_environment(tiny_index, monkeypatch):
    from search.config import load_settings

    monkeypatch.setenv("NEWSFACET_EXPORT_MAX_ROWS", "1")
    monkeypatch.setenv("NEWSFACET_FACET_TIME_LIMIT_MS", "75")
    settings = load_settings(index=tiny_index)
    assert (settings.export_max_rows, settings.facet_time_limit_ms) == (1, 75)
    from web import create_app

    text = create_app({"SETTINGS": settings}).test_client().get("/export.csv").get_data(as_text=True)
    assert len(text.splitlines()) == 3 and text.splitlines()[-1].startswith("# export stopped at 1 rows")


def test_the_speaker_page_is_paged(speaker_index):
    client = client_for(speaker_index, page_size=3)
    page = client.get("/speaker/Ada Lovelace?page=2").get_data(as_text=True)
    assert "in 7 articles quoting Ada Lovelace; page 2 of 5." in page
    assert len(re.findall(r'<li class="quote-row">', page)) == 3
    nav = page[page.index('<nav class="pagination"'):]
    assert 'href="/speaker/Ada%20Lovelace" rel="prev"' in nav and 'href="/speaker/Ada%20Lovelace?page=3" rel="next"' in nav
    assert 'aria-current="page" aria-label="Page 2, current"' in nav
    assert "page 1 of 5." in client.get("/speaker/Ada Lovelace?page=x").get_data(as_text=True)
    last = client.get("/speaker/Ada Lovelace?page=999").get_data(as_text=True)
    assert "page 5 of 5" in last and len(re.findall(r'<li class="quote-row">', last)) == 2
    assert client.get("/speaker/Nobody").status_code == 404


def test_a_failing_facet_is_shown_as_failed_in_the_page_and_the_json(tiny_index, place_facet_fails, caplog):
    client = client_for(tiny_index)
    r = client.get("/?q=russia")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Not shown: this list could not be counted (an error on the server, logged there)." in section(
        page, "facet-place")
    assert "Kyiv" not in section(page, "facet-place") and "Antony Blinken" in section(page, "facet-person")
    assert page.count('<li class="result">') == 3
    data = client.get("/api/search?q=russia").get_json()
    assert data["facets_failed"] == {"place": "could not be counted (an error on the server, logged there)"}
    assert data["facets"]["place"] == [] and data["facets"]["person"] and data["total"] == 3


def test_a_facet_past_its_time_limit_is_shown_as_such_and_the_rest_render(tiny_index, monkeypatch):
    from search.facets import FieldPairs

    counts = FieldPairs.counts

    def slow_for_organisations(self, *args, **kwargs):
        if "NATO" in self.values:
            busy(0.12)
        return counts(self, *args, **kwargs)

    monkeypatch.setattr(FieldPairs, "counts", slow_for_organisations)
    client = client_for(tiny_index, facet_time_limit_ms=50)
    page = client.get("/").get_data(as_text=True)
    assert "Not shown: this list took longer than the 50 ms time limit; narrow the search to see it." in section(
        page, "facet-org")
    assert "Kyiv" in section(page, "facet-place") and "2021" in section(page, "facet-date")
    data = client.get("/api/search").get_json()
    assert data["facets_failed"] == {"org": "took longer than the 50 ms time limit; narrow the search to see it"}
    assert data["facets"]["place"] and data["total"] == 5
    # the "all values" page of that facet says so too
    page = client.get("/facet/org").get_data(as_text=True)
    assert "Not shown: this list took longer than the 50 ms time limit" in page


def test_the_facet_filter_box_counts_only_its_facet(tiny_index, monkeypatch):
    from search.facets import FacetData
    from search.query import NewsSearcher

    asked = []
    top = FacetData.top

    def counting(self, facet, *args, **kwargs):
        asked.append((facet, kwargs.get("contains")))
        return top(self, facet, *args, **kwargs)

    def no_search(*args, **kwargs):
        raise AssertionError("the filter box must not run a whole search")

    monkeypatch.setattr(FacetData, "top", counting)
    monkeypatch.setattr(NewsSearcher, "search", no_search)
    r = client_for(tiny_index).get("/facet/person?q=said&contains=blink", headers={"HX-Request": "true"})
    assert re.findall(r'<span class="fv-name"[^>]*>([^<]+)</span>', r.get_data(as_text=True)) == ["Antony Blinken"]
    assert asked == [("person", "blink")]


def test_the_command_line_says_which_facet_was_not_shown(tiny_index, place_facet_fails):
    from click.testing import CliRunner

    from search.cli import main

    out = CliRunner().invoke(main, ["--index", str(tiny_index), "search", "russia"], catch_exceptions=False).output
    assert "Places: not shown: this list could not be counted (an error on the server, logged there)" in out
    assert "People: Antony Blinken (1), Volodymyr Zelenskiy (1)" in out
