"""The web UI over the tiny index with Flask's test client: routes, htmx partials, escaping, bad input."""
from __future__ import annotations

import csv
import html
import io
import logging
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from web import create_app
from web.charts import histogram_svg, month_range
from web.marking import mark_text, safe_snippet
from web.state import SearchState


@pytest.fixture
def app(tiny_index):
    return create_app({"INDEX_DIR": tiny_index, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def no_errors_logged(caplog):
    """Fails the test if the app logged an error (a swallowed exception in the search layer)."""
    caplog.set_level(logging.ERROR)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


def text_of(body: bytes) -> str:
    return body.decode("utf-8")


def section(page: str, element_id: str) -> str:
    """Inner HTML of the element with that id (the templates never nest a same-named tag inside it)."""
    m = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>', page)
    assert m, element_id
    tag = m.group(1)
    depth, i = 1, m.end()
    pattern = re.compile(rf"<(/?){tag}\b[^>]*>")
    for t in pattern.finditer(page, m.end()):
        depth += -1 if t.group(1) else 1
        if depth == 0:
            return page[m.end():t.start()]
    raise AssertionError(f"unclosed {element_id}")


# -- the search page -------------------------------------------------------------------------
def test_search_page_is_a_real_get_form_enhanced_with_htmx(client):
    r = client.get("/")
    assert r.status_code == 200
    page = text_of(r.data)
    form = re.search(r'<form id="search-form"[^>]*>', page).group(0)
    assert 'action="/"' in form and 'method="get"' in form
    assert 'hx-get="/"' in form
    # `submit` only (Enter also fires `search`: two requests), queued rather than aborted (htmx logs aborts as errors)
    assert 'hx-trigger="input changed delay:250ms, submit"' in form
    assert 'hx-sync="this:queue last"' in form
    assert 'hx-push-url="true"' in form
    assert re.search(r'<input id="q" name="q" type="search"', page)
    assert '<label for="q"' in page
    # no inline script or style anywhere
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "style=" not in page
    assert '<script src="/static/htmx.min.js" defer></script>' in page


def test_security_headers_on_every_route(client):
    for url in ["/", "/article/kyiv-talks", "/speaker/Antony%20Blinken", "/api/search", "/api/articles/kyiv-talks",
                "/export.csv", "/article/missing", "/static/style.css"]:
        r = client.get(url)
        r.close()
        assert "script-src 'self'" in r.headers["Content-Security-Policy"], url
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert "HX-Request" in r.headers.get("Vary", ""), url


def test_htmx_request_gets_exactly_the_partial_the_full_page_includes(client):
    full = text_of(client.get("/?q=Russia").data)
    r = client.get("/?q=Russia", headers={"HX-Request": "true"})
    partial = text_of(r.data)
    assert r.status_code == 200
    assert "<html" not in partial and "<head" not in partial
    assert r.headers["Vary"] == "HX-Request"
    took = re.compile(r'<span class="took">[\d.]+ ms</span>')
    assert took.sub("", section(full, "search-results")).strip() == took.sub("", partial).strip()


def test_history_restore_gets_the_whole_page(client):
    r = client.get("/?q=Russia", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in text_of(r.data)


def test_no_query_shows_newest_first_and_corpus_facets(client):
    page = text_of(client.get("/").data)
    assert "5 articles" in page
    titles = re.findall(r'<h2 class="result-title"><a href="/article/([^"]+)"', page)
    assert titles == ["nato-summit", "kyiv-talks", "budget-vote", "hostile", "undated"]
    assert 'id="facet-speaker-title"' in page and ">Speakers<" in page
    for name in ["Antony Blinken", "Jens Stoltenberg", "Chrystia Freeland", "Volodymyr Zelenskiy"]:
        assert f'<span class="fv-name" title="{name}">{name}</span>' in page


def test_speaker_filter_narrows_keeps_other_speakers_and_shows_their_quotes(client):
    page = text_of(client.get("/?speaker=Antony+Blinken").data)
    assert "1 article" in page
    assert re.findall(r'<h2 class="result-title"><a href="/article/([^"]+)"', page) == ["kyiv-talks"]
    # the speaker facet is counted without its own filter: the others stay listed
    assert '<span class="fv-name" title="Jens Stoltenberg">Jens Stoltenberg</span>' in page
    # that speaker's quote is shown under the result
    assert "<blockquote>cease reckless and aggressive actions.</blockquote>" in page
    # the active filter is a removable chip, and the hidden form field keeps it while typing
    assert '<input type="hidden" form="search-form" name="speaker" value="Antony Blinken">' in page
    assert 'aria-label="Remove filter: Speaker Antony Blinken"' in page


def test_two_speakers_combine_with_or_and_facets_with_and(client):
    data = client.get("/api/search?speaker=Antony+Blinken&speaker=Jens+Stoltenberg").get_json()
    assert sorted(r["id"] for r in data["results"]) == ["kyiv-talks", "nato-summit"]
    data = client.get("/api/search?speaker=Antony+Blinken&speaker=Jens+Stoltenberg&place=Brussels").get_json()
    assert [r["id"] for r in data["results"]] == ["nato-summit"]


def test_exclusion_filter_removes_matches_and_shows_a_struck_through_chip(client):
    page = text_of(client.get("/?q=Ukraine&not_place=Russia").data)
    ids = re.findall(r'<h2 class="result-title"><a href="/article/([^"]+)"', page)
    assert ids == ["nato-summit"]
    assert '<s class="chip-value">Russia</s>' in page
    assert 'class="fv is-excluded"' in page


def test_facet_links_toggle_include_and_exclude(client):
    page = html.unescape(text_of(client.get("/?q=Ukraine").data))
    assert 'href="/?q=Ukraine&place=Russia"' in page
    assert 'href="/?q=Ukraine&not_place=Russia"' in page
    page = html.unescape(text_of(client.get("/?q=Ukraine&place=Russia").data))
    # choosing it again removes it; excluding it swaps include for exclude
    assert 'href="/?q=Ukraine" aria-current="true"' in page or '<a id="fv-inc-place' in page
    assert 'href="/?q=Ukraine&not_place=Russia"' in page


def test_clear_all_keeps_the_query(client):
    page = html.unescape(text_of(client.get("/?q=Ukraine&place=Russia&not_org=NATO&from=2021").data))
    assert '<a class="clear-all" href="/?q=Ukraine">Clear all</a>' in page


@pytest.mark.parametrize("path, noun", [("/", "articles"), ("/quotes", "quotes")])
def test_an_empty_result_says_so_and_offers_to_drop_the_filters(client, path, noun):
    page = text_of(client.get(path, query_string={"q": "zzyzxnothing", "speaker": "Nobody Known"}).data)
    assert f"No {noun} match." in page
    assert 'Remove all filters</a>' in page and "q=zzyzxnothing" in page.split("Remove all filters")[0][-300:]
    bare = text_of(client.get(path, query_string={"q": "zzyzxnothing"}).data)
    assert f"No {noun} match." in bare and "Remove all filters" not in bare  # nothing to remove


def test_date_facet_years_then_months_in_order_and_histogram_links(client):
    page = html.unescape(text_of(client.get("/").data))
    years = re.findall(r'<span class="fv-name">(\d{4})</span>', page)
    assert years == ["2020", "2021"]
    assert 'href="/?from=2021-01-01&to=2021-12-31"' in page
    page = html.unescape(text_of(client.get("/?from=2021-01-01&to=2021-12-31").data))
    months = re.findall(r'<span class="fv-name">(\w{3} 2021)</span>', page)
    assert months == ["Apr 2021", "May 2021", "Jun 2021"]
    # histogram bars link to their month
    assert ('<a href="/?from=2021-05-01&to=2021-05-31" hx-get="/?from=2021-05-01&to=2021-05-31" hx-push-url="true"'
            ' tabindex="-1" class="bar-link">') in page
    assert '<svg class="histogram"' in page


def test_sort_and_pagination_links(client):
    page = html.unescape(text_of(client.get("/?q=Russia&size=1").data))
    assert 'aria-label="Pages"' in page
    assert 'href="/?q=Russia&size=1&page=2"' in page
    assert 'href="/?q=Russia&sort=newest&size=1"' in page


def test_result_shows_title_date_source_snippet_and_chips(client):
    page = text_of(client.get("/?q=Brussels").data)
    assert '<a href="/article/nato-summit" hx-boost="false">NATO leaders gather in Brussels</a>' in page
    assert '<time datetime="2021-06-14">14 Jun 2021</time>' in page
    assert '<span class="source">Test Wire</span>' in page
    assert re.search(r'<p class="snippet">[^<]*<mark[^>]*>Brussels</mark>', page)
    assert re.search(r'class="chip chip-speaker"[^>]*>.*Jens Stoltenberg</a>', page)


# -- JSON and CSV --------------------------------------------------------------------------
def test_api_search_shape(client):
    data = client.get("/api/search?q=said").get_json()
    assert set(data) >= {"total", "page", "results", "facets", "histogram"}
    assert set(data["facets"]) == {"speaker", "person", "place", "org", "author", "language", "date"}
    assert set(data["results"][0]) == {"id", "title", "published", "source", "url", "snippet", "speakers",
                                       "persons", "places", "organizations", "quotes", "indexed"}
    assert all(set(v) >= {"value", "count", "selected"} for f in data["facets"].values() for v in f)
    assert all(set(h) == {"month", "count"} for h in data["histogram"])


def test_api_speaker_filter_acceptance(client):
    everything = client.get("/api/search?q=said").get_json()
    top = everything["facets"]["speaker"][0]["value"]
    narrowed = client.get("/api/search", query_string={"q": "said", "speaker": top}).get_json()
    assert narrowed["total"] < everything["total"]
    assert all(top in r["speakers"] for r in narrowed["results"])
    assert [v["value"] for v in narrowed["facets"]["speaker"] if v["value"] != top]
    assert [v for v in narrowed["facets"]["speaker"] if v["value"] == top][0]["selected"] is True


def test_api_article_and_missing(client):
    r = client.get("/api/articles/kyiv-talks")
    data = r.get_json()
    assert r.status_code == 200 and data["id"] == "kyiv-talks"
    assert "path" not in data  # server file paths stay private
    assert data["quotes"][0]["speaker"] == "Antony Blinken"
    r = client.get("/api/articles/nope")
    assert r.status_code == 404 and r.get_json() == {"error": "No article with id 'nope'"}


def test_export_csv_streams_every_match_not_one_page(client):
    r = client.get("/export.csv?q=Russia&size=1")
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.is_streamed
    rows = list(csv.DictReader(io.StringIO(text_of(r.data))))
    assert sorted(row["id"] for row in rows) == ["hostile", "kyiv-talks", "undated"]
    kyiv = [row for row in rows if row["id"] == "kyiv-talks"][0]
    assert kyiv["speakers"] == "Antony Blinken; Volodymyr Zelenskiy"
    assert kyiv["places"] == "Kyiv; Ukraine; Russia"


def test_csv_cells_that_look_like_formulas_stay_text():
    from web.views import _csv_cell

    assert _csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _csv_cell(["a", "b"]) == "a; b"
    assert _csv_cell(None) == ""


# -- article and speaker pages -------------------------------------------------------------
def test_article_page_marks_entities_and_quotes(client):
    r = client.get("/article/kyiv-talks")
    assert r.status_code == 200
    page = text_of(r.data)
    assert '<mark class="ent ent-person" title="Person: Antony Blinken">Antony Blinken</mark>' in page
    assert '<mark class="ent ent-place" title="Place: Russia">Russia</mark>' in page
    assert ('<span class="quote quote-direct" id="q-33" title="Quote by Antony Blinken" data-speaker="Antony Blinken">'
            "cease reckless and aggressive actions.</span>") in page
    assert '<a class="jump" href="#q-33">in context' in page
    assert 'title="Quote by Volodymyr Zelenskiy"' in page
    # side lists link to filtered searches and the speaker page
    assert 'href="/?speaker=Antony+Blinken"' in page
    assert 'href="/speaker/Antony%20Blinken"' in page
    assert 'href="/?org=NATO"' in page


def test_speaker_page_lists_quotes_newest_first(client):
    r = client.get("/speaker/Antony%20Blinken")
    assert r.status_code == 200
    page = text_of(r.data)
    assert '<blockquote class="quote-text">cease reckless and aggressive actions.</blockquote>' in page
    # each quote links to itself in its article (the anchor the article page marks)
    assert '<a class="quote-context" href="/article/kyiv-talks#q-33" hx-boost="false">Blinken meets Zelenskiy in Kyiv' in page
    assert '<svg class="histogram"' in page
    # the outlets quoting the speaker, and who is quoted alongside, each a link
    assert re.search(r'<a href="/quotes\?speaker=Antony\+Blinken&amp;source=Test\+Wire">Test Wire</a> <span class="n">1</span>',
                     page)
    assert '<a href="/speaker/Volodymyr%20Zelenskiy">Volodymyr Zelenskiy</a>' in page
    assert client.get("/speaker/Nobody%20At%20All").status_code == 404


def test_missing_article_is_a_friendly_404(client):
    r = client.get("/article/does-not-exist")
    assert r.status_code == 404
    assert "There is no article with the id “does-not-exist”" in text_of(r.data)


@pytest.mark.parametrize("path", ["/article/../../etc/passwd", "/article/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                                  "/api/articles/..%2F..%2Fetc%2Fpasswd", "/article/" + "x" * 5000])
def test_ids_are_looked_up_never_used_as_paths(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert b"root:" not in r.data


# -- escaping --------------------------------------------------------------------------------
def test_hostile_markup_is_shown_as_text_everywhere(client):
    for url in ["/?q=script", "/?q=alert", "/article/hostile", "/?place=Russia", "/?q=%3Cscript%3Ealert(1)%3C/script%3E",
                "/?speaker=%3Cimg%20src=x%20onerror=alert(1)%3E", "/speaker/%3Cscript%3Ealert(1)%3C%2Fscript%3E"]:
        page = text_of(client.get(url).data)
        assert "<script>alert" not in page, url
        assert "<img src=x" not in page, url
        assert "<b>bold</b>" not in page, url
    page = text_of(client.get("/article/hostile").data)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_snippet_is_the_only_markup_passed_through(client):
    page = text_of(client.get("/?q=script").data)
    snippets = re.findall(r'<p class="snippet">(.*?)</p>', page, re.S)
    assert snippets
    for s in snippets:
        assert re.sub(r"</?mark( class=\"[\w ]+\")?>", "", s).count("<") == 0
    assert "&lt;<mark" in snippets[0]


def test_safe_snippet_escapes_anything_but_mark():
    assert str(safe_snippet("a <mark>b</mark> &amp; c")) == "a <mark>b</mark> &amp; c"
    assert str(safe_snippet("<script>x</script>")) == "&lt;script&gt;x&lt;/script&gt;"
    assert str(safe_snippet('<mark onclick="x">b</mark>')) == "&lt;mark onclick=&#34;x&#34;&gt;b&lt;/mark&gt;"
    assert str(safe_snippet(None)) == ""


# -- bad input never gives a 500 -------------------------------------------------------------
BAD_QUERIES = [
    {"q": '"unbalanced'}, {"q": "(unbalanced"}, {"q": "unbalanced)"}, {"q": "AND"}, {"q": "OR"}, {"q": "NOT"},
    {"q": "*"}, {"q": "body:"}, {"q": "title:"}, {"q": "x" * 5000}, {"q": "a " * 2500}, {"page": "-1"},
    {"page": str(10**9)}, {"page": "abc"}, {"speaker": "Nobody Known"}, {"not_place": "Atlantis"},
    {"from": "yesterday"}, {"to": "2021-13-45"}, {"from": "2022-01-01", "to": "2020-01-01"}, {"sort": "sideways"},
    {"q": "\x00"}, {"q": "%"}, {"q": "ü∑´®†¥"}, {"size": "0"}, {"size": "1000000"}, {"q": "*:*"}, {"q": "a:b:c"},
    {"q": "[a TO"}, {"q": "{}"}, {"q": "~"}, {"q": "title:(x"}, {"q": '""'}, {"q": "-"}, {"q": "+"},
]


@pytest.mark.parametrize("params", BAD_QUERIES, ids=lambda p: repr(p)[:40])
@pytest.mark.parametrize("route", ["/", "/api/search", "/export.csv"])
def test_bad_input_never_500(client, no_errors_logged, route, params):
    r = client.get(route, query_string=params)
    assert r.status_code == 200, (route, params, r.status_code)
    body = r.data  # consume a stream fully
    if route == "/api/search":
        data = r.get_json()
        assert isinstance(data["total"], int)
    elif route == "/":
        assert b"Search failed" not in body


def test_bad_input_gives_a_clear_message(client):
    page = text_of(client.get("/?from=yesterday").data)
    assert 'role="alert"' in page and "not a date" in page
    data = client.get("/api/search?page=-1").get_json()
    assert data["messages"] and data["page"] == 1


def test_htmx_partial_with_bad_input(client, no_errors_logged):
    r = client.get("/?q=%22oops", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "was not closed" in text_of(r.data)


# -- missing and changing index ----------------------------------------------------------------
def test_missing_index_is_a_friendly_page(tmp_path):
    app = create_app({"INDEX_DIR": tmp_path / "nowhere", "TESTING": True})
    c = app.test_client()
    r = c.get("/")
    assert r.status_code == 503
    page = text_of(r.data)
    assert "run `newsfacet rebuild` first" in page
    assert f"newsfacet --index {tmp_path / 'nowhere'} rebuild" in page
    assert "<html" in page
    r = c.get("/api/search?q=x")
    assert r.status_code == 503
    assert "newsfacet rebuild" in r.get_json()["error"]
    assert c.get("/export.csv").status_code == 503
    assert c.get("/article/x").status_code == 503


def test_rebuilt_index_is_seen_without_restart(tmp_path, tiny_records):
    from search.config import Settings
    from search.indexer import index_records

    index_dir = tmp_path / "idx"
    index_records(tiny_records[:2], Settings(index=index_dir))
    c = create_app({"INDEX_DIR": index_dir, "TESTING": True}).test_client()
    assert c.get("/api/search").get_json()["total"] == 2
    index_records(tiny_records, Settings(index=index_dir))
    assert c.get("/api/search").get_json()["total"] == 5


def test_serve_uses_waitress(monkeypatch, tiny_index):
    import waitress

    import web

    seen = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: seen.update(kw, app=app))
    web.serve("127.0.0.1", 5099, tiny_index, threads=2)
    assert seen["host"] == "127.0.0.1" and seen["port"] == 5099 and seen["threads"] == 2
    assert seen["app"].config["INDEX_DIR"] == str(tiny_index)


# -- helpers: marking, charts, state -----------------------------------------------------------
class _Balance(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.ok = [], [], True

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.ok = False

    def handle_data(self, data):
        self.text.append(data)


def check_well_formed(markup: str, text: str):
    p = _Balance()
    p.feed(markup)
    p.close()
    assert p.ok and p.stack == [], markup
    assert "".join(p.text) == text


def test_mark_text_nests_quotes_and_entities():
    text = 'Joe Biden said "Paris is lovely" on Monday.'
    assert text.find("Monday") == 36
    out = str(mark_text(
        text,
        entities=[{"label": "person", "start": 0, "end": 9, "value": "Joe Biden"},
                  {"label": "place", "start": 16, "end": 21, "value": "Paris"}],
        date_mentions=[{"start": 36, "end": 42, "text": "Monday"}],
        quotes=[{"speaker": "Joe Biden", "start": 16, "end": 31, "text": "Paris is lovely"}],
    ))
    assert out == (
        '<mark class="ent ent-person" title="Person: Joe Biden">Joe Biden</mark> said &#34;'
        '<span class="quote quote-direct" id="q-16" title="Quote by Joe Biden" data-speaker="Joe Biden">'
        '<mark class="ent ent-place" title="Place: Paris">Paris</mark> is lovely</span>&#34; on '
        '<mark class="ent ent-date" title="Date: Monday">Monday</mark>.'
    )


def test_mark_text_splits_an_entity_crossing_a_quote_edge_and_drops_overlaps():
    text = "abcdefghij"
    out = str(mark_text(text,
                        entities=[{"label": "org", "start": 2, "end": 6, "value": "X"},
                                  {"label": "person", "start": 4, "end": 8, "value": "Y"}],
                        quotes=[{"speaker": None, "start": 4, "end": 9}, {"speaker": "Z", "start": 5, "end": 10}]))
    check_well_formed(out, text)
    assert 'title="Quote, speaker unknown"' in out
    assert "Person: Y" not in out  # overlapped the earlier org: dropped
    assert out.count('title="Organization: X"') == 2  # split at the quote's start


def test_mark_text_survives_bad_offsets_and_escapes():
    text = "<b>&</b>"
    out = str(mark_text(text, entities=[{"label": "person", "start": -5, "end": 99, "value": "<x>"},
                                        {"label": "person", "start": "a", "end": None},
                                        {"label": "weird", "start": 0, "end": 2}, "nonsense"],
                        quotes=[{"start": 3, "end": 2}]))
    assert out == '<mark class="ent ent-person" title="Person: &lt;x&gt;">&lt;b&gt;&amp;&lt;/b&gt;</mark>'


span = st.fixed_dictionaries({"start": st.integers(-3, 40), "end": st.integers(-3, 40),
                              "label": st.sampled_from(["person", "place", "org", "bogus"]),
                              "value": st.text(max_size=5)})
qspan = st.fixed_dictionaries({"start": st.integers(-3, 40), "end": st.integers(-3, 40),
                               "speaker": st.one_of(st.none(), st.text(max_size=5))})


@hsettings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab<>&\"' \n", max_size=30), entities=st.lists(span, max_size=6),
       dates=st.lists(span, max_size=3), quotes=st.lists(qspan, max_size=4))
def test_mark_text_is_always_well_formed_and_keeps_the_text(text, entities, dates, quotes):
    check_well_formed(str(mark_text(text, entities, dates, quotes)), text)


def test_histogram_fills_gaps_and_links_bars():
    svg = str(histogram_svg([{"month": "2020-11", "count": 2}, {"month": "2021-02", "count": 4}],
                            href=lambda m: f"/?m={m}", selected="2021-02"))
    assert svg.count('<rect class="bar') == 4  # Nov, Dec, Jan, Feb
    assert '<a href="/?m=2020-11" tabindex="-1" class="bar-link"><title>Nov 2020: 2 articles</title>' in svg
    assert "/?m=2020-12" not in svg  # no link for an empty month
    assert 'class="bar selected"' in svg
    assert str(histogram_svg([])) == ""
    assert month_range("2024-02") == ("2024-02-01", "2024-02-29")
    assert month_range("2024-13") is None


def test_state_urls():
    s = SearchState(q="oil", include={"speaker": ["A"]}, exclude={"place": ["B"]}, date_from="2020-01-01")
    assert s.url() == "/?q=oil&speaker=A&not_place=B&from=2020-01-01"
    assert s.toggle("speaker", "A") == "/?q=oil&not_place=B&from=2020-01-01"
    assert s.toggle_not("speaker", "A") == "/?q=oil&not_speaker=A&not_place=B&from=2020-01-01"
    assert s.toggle("place", "B") == "/?q=oil&speaker=A&place=B&from=2020-01-01"
    assert s.with_sort("oldest") == "/?q=oil&speaker=A&not_place=B&from=2020-01-01&sort=oldest"
    assert s.url(page=3) == "/?q=oil&speaker=A&not_place=B&from=2020-01-01&page=3"
    assert s.clear_all() == "/?q=oil"
    assert [c["remove_url"] for c in s.chips()] == [
        "/?q=oil&not_place=B&from=2020-01-01", "/?q=oil&speaker=A&from=2020-01-01", "/?q=oil&speaker=A&not_place=B"]


def test_long_facets_get_show_more_and_a_filter_box(tiny_index):
    app = create_app({"INDEX_DIR": tiny_index, "TESTING": True, "FACET_VISIBLE": 2})
    page = text_of(app.test_client().get("/").data)
    assert "<summary>Show 2 more</summary>" in page  # 4 speakers, 2 shown
    assert 'aria-label="Filter the speakers list"' in page


def test_facet_filter_box_asks_the_server(tiny_index):
    app = create_app({"INDEX_DIR": tiny_index, "TESTING": True, "FACET_VISIBLE": 2, "FACET_FETCH": 3})
    c = app.test_client()
    page = html.unescape(text_of(c.get("/?q=said").data))
    box = re.search(r'<input type="search" class="facet-filter"[^>]*aria-label="Filter the speakers list"[^>]*>', page, re.S)
    assert box, page
    assert 'hx-get="/facet/speaker?q=said"' in box.group(0)
    assert 'hx-target="#facet-speaker-list"' in box.group(0)
    assert "<summary>Show 1 more</summary>" in page  # 3 fetched, 2 shown
    assert '<a href="/facet/speaker?q=said" hx-boost="false">All 4 speakers →</a>' in page


def test_facet_values_partial_filters_by_text(client):
    r = client.get("/facet/speaker?q=said&contains=blink", headers={"HX-Request": "true"})
    partial = text_of(r.data)
    assert "<html" not in partial
    assert re.findall(r'<span class="fv-name"[^>]*>([^<]+)</span>', partial) == ["Antony Blinken"]
    r = client.get("/facet/speaker?q=said&contains=zzz", headers={"HX-Request": "true"})
    assert "No speakers match “zzz” here." in text_of(r.data)


def test_facet_values_page_works_without_javascript(client):
    page = html.unescape(text_of(client.get("/facet/place?q=Ukraine&not_org=Parliament").data))
    assert "<html" in page
    assert re.findall(r'<span class="fv-name"[^>]*>([^<]+)</span>', page) == ["Ukraine", "Russia", "Brussels", "Kyiv"]
    # values link back to the search with the filter added, the rest of the state kept
    assert 'href="/?q=Ukraine&place=Russia&not_org=Parliament"' in page
    assert '<input type="hidden" name="not_org" value="Parliament">' in page
    assert '<input id="facet-contains" name="contains" type="search" value=""' in page
    page = text_of(client.get("/facet/place?q=Ukraine&contains=ky").data)
    assert re.findall(r'<span class="fv-name"[^>]*>([^<]+)</span>', page) == ["Kyiv"]
    assert client.get("/facet/nonsense").status_code == 404
    assert client.get("/facet/speaker?contains=" + "x" * 5000).status_code == 200
