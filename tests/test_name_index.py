"""The collection name table in the index: facets count, filter and show canonical names; an update and a
rebuild over the same files agree. Articles and names are written for these tests."""
from __future__ import annotations

import json

import pytest

from conftest import make_record
from search.config import Settings
from search.contracts import parse_quote_request, parse_request
from search.indexer import index_records, rebuild, update
from search.query import open_searcher

FACETS = ("speaker", "person", "place", "org")


def _search(ix, **args):
    with open_searcher(ix) as s:
        req, _ = parse_request({k: v if isinstance(v, list) else [v] for k, v in args.items()})
        return s.search(req)


@pytest.fixture
def variants_index(tmp_path):
    recs = [
        make_record("a", "Harbour", "The UK Harbour Board met. Orla Quenby spoke.", organizations=["UK Harbour Board"],
                    persons=["Orla Quenby"], published="2021-03-01"),
        make_record("b", "Harbour", "The U.K. Harbour Board met again.", organizations=["U.K. Harbour Board"],
                    published="2021-03-02"),
        make_record("c", "Harbour", "The UK Harbour Board (UKHB) sat.", organizations=["UK Harbour Board (UKHB"],
                    published="2021-03-03"),
        make_record("d", "Quenby", "Quenby said the port opens. The Lakeview Herald reported it.",
                    persons=["Quenby"], speakers=["Quenby", "the Lakeview Herald"], organizations=["UK Harbour Board"],
                    quotes=[{"speaker": "Quenby", "text": "the port opens"},
                            {"speaker": "the Lakeview Herald", "text": "reported it"}], published="2021-03-04"),
        make_record("e", "Herald", "The Lakeview Herald printed it.", organizations=["Lakeview Herald"],
                    published="2021-03-05"),
        make_record("f", "Herald", "The Lakeview Herald printed more.", organizations=["Lakeview Herald"],
                    published="2021-03-06"),
    ]
    ix = tmp_path / "ix"
    index_records(recs, Settings(index=ix))
    return ix


def test_facets_count_canonical_values(variants_index):
    res = _search(variants_index)
    orgs = {r["value"]: r["count"] for r in res.facets["org"]["results"]}
    assert orgs == {"UK Harbour Board": 4, "Lakeview Herald": 2}
    assert {r["value"]: r["count"] for r in res.facets["person"]["results"]} == {"Orla Quenby": 2}
    assert {r["value"] for r in res.facets["speaker"]["results"]} == {"Orla Quenby", "Lakeview Herald"}


def test_filtering_by_a_canonical_value_matches_every_variant(variants_index):
    assert sorted(r["id"] for r in _search(variants_index, org="UK Harbour Board").results) == ["a", "b", "c", "d"]
    # a variant chooses its canonical value
    res = _search(variants_index, org="U.K. Harbour Board")
    assert res.request.filters["org"] == ["UK Harbour Board"] and res.total == 4
    assert sorted(r["id"] for r in _search(variants_index, person="Quenby").results) == ["a", "d"]
    assert sorted(r["id"] for r in _search(variants_index, not_org="UK Harbour Board").results) == ["e", "f"]


def test_results_article_speaker_page_and_stats_show_canonical_values(variants_index):
    res = _search(variants_index, q="port")
    [hit] = res.results
    assert hit["persons"] == ["Orla Quenby"] and hit["speakers"] == ["Orla Quenby", "Lakeview Herald"]
    assert {q["speaker"] for q in hit["quotes"]} == {"Orla Quenby", "Lakeview Herald"}
    with open_searcher(variants_index) as s:
        art = s.article("c")
        assert art["organizations"] == ["UK Harbour Board"]
        assert s.article("d")["entities"][0]["value"] == "Orla Quenby"
        page = s.speaker("Lakeview Herald")
        assert [q["article"]["id"] for q in page["quotes"]] == ["d"]
        assert s.speaker("the Lakeview Herald")["quotes"] == page["quotes"]
        stats = s.stats()
    assert stats["top_organizations"][0] == {"value": "UK Harbour Board", "count": 4}
    assert stats["distinct_organizations"] == 2


def _quotes(ix, settings=None, **args):
    from search.query import NewsSearcher

    with NewsSearcher(ix, settings) as s:
        req, _ = parse_quote_request({k: v if isinstance(v, list) else [v] for k, v in args.items()})
        return s.quotes(req)


def _speakers(res) -> dict:
    return {r["value"]: r["count"] for r in res.facets["speaker"]["results"] if r["count"]}


def test_quote_search_counts_filters_and_shows_the_speakers_the_articles_show(variants_index):
    res = _quotes(variants_index)
    assert _speakers(res) == {"Orla Quenby": 1, "Lakeview Herald": 1}
    assert set(_speakers(res)) == set(_speakers(_search(variants_index)))  # one value per speaker in both
    assert {(r["speaker"], r["speaker_text"]) for r in res.results} == {
        ("Orla Quenby", "Quenby"), ("Lakeview Herald", "the Lakeview Herald")}  # what the article said stays
    # filtering by the canonical value matches the quotes of its variants; a variant chooses it
    for asked in ("Lakeview Herald", "the Lakeview Herald"):
        res = _quotes(variants_index, speaker=asked)
        assert res.request.filters["speaker"] == ["Lakeview Herald"]
        assert [(r["speaker"], r["text"]) for r in res.results] == [("Lakeview Herald", "reported it")]
    assert [r["speaker"] for r in _quotes(variants_index, not_speaker="the Lakeview Herald").results] == ["Orla Quenby"]
    with open_searcher(variants_index) as s:
        req, _ = parse_quote_request({"speaker": ["Quenby"]})
        one = s.quote_facet(req, "speaker", 10)
        assert [r["value"] for r in one["facet"]["results"] if r["selected"]] == ["Orla Quenby"] and one["total"] == 1
        assert [r["speaker"] for r in s.iter_quotes(req)] == ["Orla Quenby"]  # the quote export
        page = s.speaker("Quenby")
        assert page["name"] == "Orla Quenby" and [q["text"] for q in page["quotes"]] == ["the port opens"]
        assert page["articles"] == 1 and page["alongside"] == [{"value": "Lakeview Herald", "count": 1}]


def test_a_lone_surname_stays_as_written_in_quotes_whose_article_names_a_full_name_ending_in_it(tmp_path):
    # nine articles name Orla Quenby, one Piet Quenby: "Quenby" alone is Orla, unless the article names a Quenby
    recs = [make_record(f"o{i}", "Depot", "Orla Quenby opened the depot.", persons=["Orla Quenby"],
                        published=f"2021-04-{i + 1:02d}") for i in range(9)]
    recs += [
        make_record("own", "Quenbys", "Piet Quenby came. Quenby said the gate is shut.", persons=["Piet Quenby", "Quenby"],
                    speakers=["Quenby"], quotes=[{"speaker": "Quenby", "text": "the gate is shut"}],
                    published="2021-04-20"),
        make_record("lone", "Depot", "Quenby said the depot is full.", persons=["Quenby"], speakers=["Quenby"],
                    quotes=[{"speaker": "Quenby", "text": "the depot is full"}], published="2021-04-21"),
    ]
    ix = tmp_path / "ix"
    index_records(recs, Settings(index=ix))
    assert _speakers(_quotes(ix)) == {"Orla Quenby": 1, "Quenby": 1} == _speakers(_search(ix))
    assert [r["text"] for r in _quotes(ix, speaker="Orla Quenby").results] == ["the depot is full"]
    assert [(r["speaker"], r["text"]) for r in _quotes(ix, speaker="Quenby").results] == [("Quenby", "the gate is shut")]


def test_canonical_names_off_leaves_quote_speakers_as_written(variants_index):
    off = Settings(index=variants_index, canonical_names=False)
    assert _speakers(_quotes(variants_index, off)) == {"the Lakeview Herald": 1, "Quenby": 1}
    assert [r["speaker"] for r in _quotes(variants_index, off, speaker="the Lakeview Herald").results] == [
        "the Lakeview Herald"]
    assert _quotes(variants_index, off, speaker="Lakeview Herald").total == 0


def test_export_rows_show_canonical_values(variants_index):
    with open_searcher(variants_index) as s:
        req, _ = parse_request({"org": ["UK Harbour Board"]})
        rows = list(s.iter_matching(req))
    assert sorted(r["id"] for r in rows) == ["a", "b", "c", "d"]
    assert {v for r in rows for v in r["organizations"]} == {"UK Harbour Board"}
    assert next(r for r in rows if r["id"] == "d")["persons"] == ["Orla Quenby"]
    assert "entities" not in rows[0] and "quotes" not in rows[0]  # the export's shape is its own


def test_stored_records_keep_what_enrichment_wrote(variants_index):
    from whoosh import index as windex

    from search.indexer import live_generation

    with windex.open_dir(str(live_generation(variants_index))).searcher() as s:
        stored = json.loads(s.document(id="c")["record"])
    assert stored["organizations"] == ["UK Harbour Board (UKHB"]


# ---- update and rebuild over the same files agree ------------------------------------------------------

def _article(i: int, text: str) -> dict:
    return {"id": f"n{i}", "title": f"Note {i}", "text": text, "published": f"2022-01-{i + 1:02d}"}


# (text, persons, organizations, places, speakers) per article; the analyses are put in the enrichment cache,
# so rebuild and update read them as if spaCy had found them.
FIRST = [
    ("Orla Quenby opened the Vellmar depot.", ["Orla Quenby"], ["Vellmar"], [], []),
    ("Quenby said the depot opens.", ["Quenby"], ["Green Valley party"], [], ["Quenby"]),
    ("Vellmar staff walked out.", [], ["Vellmar", "Green Valley party"], [], []),
    ("Trains reached Vellmar.", [], ["Green Valley Party"], ["Vellmar"], []),
]
ADDED = [
    ("Piet Quenby visited Vellmar.", ["Piet Quenby"], ["Green Valley Party"], ["Vellmar"], []),
    ("Snow fell on Vellmar.", [], ["Green Valley Party"], ["Vellmar"], []),
]


def _write(folder, rows, start):
    folder.mkdir(exist_ok=True)
    for i, (text, *_rest) in enumerate(rows, start):
        (folder / f"n{i}.json").write_text(json.dumps(_article(i, text)), encoding="utf-8")


def _prefill(index_dir, rows):
    """Put the analyses of rows in the index's enrichment cache under the keys enrichment will look up."""
    from search.articles import Article
    from search.cache import EnrichCache, cache_path
    from search.enrich import Enricher, analysis_key

    settings = Settings(index=index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    cache = EnrichCache(cache_path(index_dir))
    sig = Enricher(settings).signature()
    for i, (text, persons, orgs, places, speakers) in enumerate(rows):
        art = Article(id=f"n{i}", title=f"Note {i}", text=text, published=f"2022-01-{i + 1:02d}")
        quotes = [{"speaker": s, "text": "the depot opens", "start": 0, "end": 5, "kind": "indirect"} for s in speakers]
        cache.put(analysis_key(sig, art, settings.max_chars), {
            "persons": persons, "places": places, "organizations": orgs, "speakers": speakers, "quotes": quotes,
            "entities": [], "date_mentions": [], "credits": [], "published": art.published,
            "published_inferred": False, "dates": [], "language": "en"})
    cache.flush()
    cache.close()


def _facets(ix):
    with open_searcher(ix) as s:
        fd = s.facets
        out = {f: [(r["value"], r["count"]) for r in fd.top(f, fd.alive, 1000)["results"]] for f in FACETS}
    out["quote speaker"] = sorted(_speakers(_quotes(ix)).items())
    return out


def test_update_with_new_articles_agrees_with_a_rebuild(tmp_path):
    folder = tmp_path / "articles"
    updated, rebuilt = tmp_path / "updated", tmp_path / "rebuilt"
    for ix in (updated, rebuilt):
        _prefill(ix, FIRST + ADDED)
    _write(folder, FIRST, 0)
    rebuild([str(folder)], Settings(index=updated))
    before = _facets(updated)
    assert ("Orla Quenby", 2) in before["person"]  # "Quenby" alone: the one full name ending in it
    # an organisation in two articles, a place in one: an organisation in all three; the lower-case spelling leads
    assert ("Vellmar", 3) in before["org"] and ("Green Valley party", 3) in before["org"]
    _write(folder, ADDED, len(FIRST))
    report = update([str(folder)], Settings(index=updated))
    assert report.indexed == 2 and report.unchanged == 4 and report.analysed == 0
    rebuild([str(folder)], Settings(index=rebuilt))
    after = _facets(updated)
    assert after == _facets(rebuilt)
    # the new articles changed the collection's names: every one follows, in the old articles too
    assert ("Vellmar", 5) in after["place"] and all(v != "Vellmar" for v, _ in after["org"])
    assert ("Green Valley Party", 5) in after["org"]
    assert ("Quenby", 1) in after["person"] and ("Orla Quenby", 1) in after["person"]
    assert after["speaker"] == [("Quenby", 1)] and after["quote speaker"] == [("Quenby", 1)]


def test_canonical_names_off_shows_the_values_as_written(variants_index):
    from search.query import NewsSearcher

    with NewsSearcher(variants_index, Settings(index=variants_index, canonical_names=False)) as s:
        res = s.search(parse_request({})[0])
        assert s.article("c")["organizations"] == ["UK Harbour Board (UKHB"]
    assert {r["value"] for r in res.facets["org"]["results"]} == {
        "UK Harbour Board", "U.K. Harbour Board", "UK Harbour Board (UKHB", "Lakeview Herald"}
    # ... and the canonical view of the same generation is not disturbed by it
    assert {r["value"] for r in _search(variants_index).facets["org"]["results"]} == {"UK Harbour Board", "Lakeview Herald"}


def test_web_pages_choose_a_variant_s_canonical_name(variants_index):
    from web import create_app

    client = create_app({"INDEX_DIR": variants_index, "TESTING": True}).test_client()
    data = client.get("/api/quotes?speaker=the+Lakeview+Herald").get_json()
    assert [r["value"] for r in data["facets"]["speaker"] if r["selected"]] == ["Lakeview Herald"]
    assert [(r["speaker"], r["speaker_text"]) for r in data["results"]] == [("Lakeview Herald", "the Lakeview Herald")]
    # the result card shows the chosen speaker's quote, and the page's chips and links carry the canonical name
    page = client.get("/?speaker=the+Lakeview+Herald").get_data(as_text=True)
    assert 'aria-label="Quotes by Lakeview Herald"' in page and "<blockquote>reported it</blockquote>" in page
    assert "speaker=the+Lakeview" not in page
    page = client.get("/quotes?speaker=the+Lakeview+Herald").get_data(as_text=True)
    assert "reported it" in page and "speaker=the+Lakeview" not in page
    page = client.get("/speaker/the Lakeview Herald").get_data(as_text=True)
    assert "<title>Lakeview Herald: quotes" in page and "reported it" in page
    feed = client.get("/speaker/the Lakeview Herald/feed.atom").get_data(as_text=True)
    assert "quotes by Lakeview Herald" in feed


def test_cli_quotes_filter_by_a_variant_gets_the_canonical_speaker(variants_index):
    from click.testing import CliRunner

    from search.cli import main

    res = CliRunner().invoke(main, ["--index", str(variants_index), "quotes", "--speaker", "the Lakeview Herald",
                                    "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["request"]["speaker"] == ["Lakeview Herald"]
    assert [(r["speaker"], r["text"]) for r in data["results"]] == [("Lakeview Herald", "reported it")]
