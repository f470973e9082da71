"""Quote search: the quote index, clusters of repeated quotes (rebuild and update), the web pages, API, CSV,
feeds and the CLI. Every article here is written fresh for these tests; no spaCy model is needed."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from hypothesis import given, settings as hsettings, strategies as st

from search import indexer
from search.cli import main
from search.clusters import MIN_WORDS, SIM_THRESHOLD, similarity, words_of
from search.config import Settings
from search.contracts import parse_quote_request
from search.enrich import content_hash
from search.indexer import index_records, live_generation, rebuild, update
from search.query import open_searcher
from tests.conftest import TINY, make_record
from web import create_app

BRIDGE = "We will rebuild every bridge in this valley before the winter floods return."


def report(id, speaker, text, published, source, *more):
    """An article quoting `speaker` saying `text` (and any (speaker, text) pairs in `more`)."""
    pairs = [(speaker, text), *more]
    body = " ".join(f'{s or "A spokesperson"} told reporters: “{t}” The statement came after a meeting.'
                    for s, t in pairs)
    return make_record(id, f"Report {id}", body, published=published, source=source,
                       speakers=sorted({s for s, _ in pairs if s}), persons=sorted({s for s, _ in pairs if s}),
                       quotes=[{"speaker": s, "text": t} for s, t in pairs])


CLUSTERED = [
    report("gazette-1", "Lena Ortiz", BRIDGE, "2022-03-01", "Harbour Gazette"),
    # other quotation marks and a few words changed
    report("courier-1", "Lena Ortiz", '"We will rebuild every bridge in the valley before the winter floods come back."',
           "2022-03-02", "Valley Courier"),
    # a cut, and the speaker left unresolved by the attribution
    report("post-1", None, "We will rebuild every bridge in this valley before the winter floods", "2022-03-04",
           "Northern Post"),
    # the same speaker, many of the same words, another statement
    report("gazette-2", "Lena Ortiz", "Every winter the floods return and every bridge in this valley is tested again.",
           "2022-03-05", "Harbour Gazette"),
    # the very words, said by somebody else
    report("courier-2", "Tomas Reyes", BRIDGE, "2022-03-06", "Valley Courier"),
    # too short to say it was repeated
    report("post-2", "Lena Ortiz", "We will rebuild it.", "2022-03-07", "Northern Post",
           ("Tomas Reyes", "We will rebuild it.")),
    report("post-3", "Lena Ortiz", "We will rebuild it.", None, "Northern Post"),
]


def cluster_sets(index_dir) -> dict[str, set[str]]:
    """cluster id -> quote ids, from the live generation."""
    import sqlite3

    db = sqlite3.connect(live_generation(index_dir) / "clusters.sqlite")
    out: dict[str, set[str]] = {}
    for doc, cluster in db.execute("SELECT doc, cluster FROM quote WHERE cluster IS NOT NULL"):
        out.setdefault(cluster, set()).add(doc)
    db.close()
    return out


def quotes_api(index_dir, **args):
    with open_searcher(index_dir) as s:
        req, messages = parse_quote_request({k: v if isinstance(v, list) else [v] for k, v in args.items()})
        return s.quotes(req, messages).to_dict()


@pytest.fixture
def cluster_index(tmp_path):
    index_dir = tmp_path / "index"
    index_records(copy.deepcopy(CLUSTERED), Settings(index=index_dir))
    return index_dir


# -- the quote index -------------------------------------------------------------------------------------------
def test_every_quote_is_its_own_document_with_its_article(tiny_index):
    d = quotes_api(tiny_index, sort="oldest")
    assert (d["total"], d["quotes"]) == (4, 4)
    first = d["results"][0]
    assert {k: first[k] for k in ("id", "text", "speaker", "kind", "start", "end", "position")} == {
        "id": "budget-vote#0", "text": "This is a plan for growth,", "speaker": "Chrystia Freeland", "kind": "direct",
        "start": 71, "end": 97, "position": 0}
    assert first["article"] == {"id": "budget-vote", "title": "Parliament passes the budget", "published": "2021-04-19",
                                "source": "Test Wire", "url": "https://news.example/budget-vote"}
    assert first["cluster"] is None and first["indexed"]
    assert [r["speaker"] for r in d["results"]] == ["Chrystia Freeland", "Antony Blinken", "Volodymyr Zelenskiy",
                                                     "Jens Stoltenberg"]


def test_quote_search_uses_the_article_query_syntax_facets_and_dates(tiny_index):
    d = quotes_api(tiny_index, q="reckless OR united")
    assert {r["id"] for r in d["results"]} == {"kyiv-talks#0", "nato-summit#0"}
    assert ">reckless</mark>" in [r for r in d["results"] if r["id"] == "kyiv-talks#0"][0]["snippet"]
    # facets: speaker counted under the other filters but not its own (disjunctive), kind and source too
    d = quotes_api(tiny_index, speaker="Antony Blinken")
    assert [r["id"] for r in d["results"]] == ["kyiv-talks#0"]
    assert [(v["value"], v["count"], v["selected"]) for v in d["facets"]["speaker"]] == [
        ("Antony Blinken", 1, True), ("Chrystia Freeland", 1, False), ("Jens Stoltenberg", 1, False),
        ("Volodymyr Zelenskiy", 1, False)]
    assert [(v["value"], v["count"]) for v in d["facets"]["kind"]] == [("direct", 1)]
    d = quotes_api(tiny_index, kind="indirect")
    assert [r["speaker"] for r in d["results"]] == ["Volodymyr Zelenskiy"]
    assert [(v["value"], v["count"]) for v in d["facets"]["kind"]] == [("direct", 3), ("indirect", 1)]
    # dates: the drill-down and the histogram count quotes
    d = quotes_api(tiny_index, **{"from": "2021-05", "to": "2021-06"})
    assert {r["id"] for r in d["results"]} == {"kyiv-talks#0", "kyiv-talks#1", "nato-summit#0"}
    assert d["histogram"] == [{"month": "2021-05", "count": 2}, {"month": "2021-06", "count": 1}]
    # the date facet is counted without the dates: every year stays offered
    # (the range lies inside one year: its months are listed too)
    assert [(v["value"], v["count"]) for v in d["facets"]["date"]] == [("2021", 4), ("2021-04", 1), ("2021-05", 2),
                                                                        ("2021-06", 1)]
    # `quotes:` is the quote's words here too; phrases work as in article search
    assert {r["id"] for r in quotes_api(tiny_index, q='quotes:"plan for growth"')["results"]} == {"budget-vote#0"}


def test_a_quote_index_is_written_the_same_by_a_second_process_and_in_this_one(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    index_records(copy.deepcopy(CLUSTERED), Settings(index=a, quote_procs=2))
    index_records(copy.deepcopy(CLUSTERED), Settings(index=b, quote_procs=1))
    assert sorted(map(sorted, cluster_sets(a).values())) == sorted(map(sorted, cluster_sets(b).values()))
    strip = lambda d: [{k: v for k, v in r.items() if k != "indexed"} for r in d["results"]]  # noqa: E731
    assert strip(quotes_api(a, sort="oldest")) == strip(quotes_api(b, sort="oldest"))


# -- clusters ----------------------------------------------------------------------------------------------------
def test_reworded_repeats_cluster_and_unrelated_quotes_sharing_words_do_not(cluster_index):
    clusters = list(cluster_sets(cluster_index).values())
    # other quote marks, a few words changed, a cut with the speaker unresolved: one cluster
    assert clusters == [{"gazette-1#0", "courier-1#0", "post-1#0"}]
    # the same words by another speaker, another statement sharing words, short quotes: none is in it
    assert similarity(" ".join(words_of(BRIDGE)),
                      " ".join(words_of(CLUSTERED[3]["quotes"][0]["text"]))) < SIM_THRESHOLD
    assert len(words_of("We will rebuild it.")) < MIN_WORDS


def test_a_cluster_is_one_row_with_where_it_first_appeared(cluster_index):
    d = quotes_api(cluster_index, q="bridge", speaker="Lena Ortiz")
    rows = {r["id"]: r for r in d["results"]}
    # the cluster's three quotes are one row (shown by its best match); the other Ortiz statement is its own
    assert d["quotes"] == 3 and d["total"] == 2
    row = next(r for r in d["results"] if r["cluster"])
    c = row["cluster"]
    assert {k: c[k] for k in ("quotes", "articles", "outlets", "more")} == {"quotes": 3, "articles": 3, "outlets": 3,
                                                                           "more": 0}
    assert c["first"] == {"article_id": "gazette-1", "source": "Harbour Gazette", "published": "2022-03-01"}
    assert c["members"] == [
        {"article_id": "gazette-1", "source": "Harbour Gazette", "published": "2022-03-01"},
        {"article_id": "courier-1", "source": "Valley Courier", "published": "2022-03-02"},
        {"article_id": "post-1", "source": "Northern Post", "published": "2022-03-04"}]
    assert rows["gazette-2#0"]["cluster"] is None


def test_a_cluster_lists_its_first_members_and_counts_the_rest(tmp_path):
    outlets = [f"Outlet {i:02d}" for i in range(13)]
    recs = [report(f"r{i:02d}", "Lena Ortiz", BRIDGE, f"2022-04-{i + 1:02d}", outlets[i]) for i in range(13)]
    index_records(recs, Settings(index=tmp_path / "ix"))
    d = quotes_api(tmp_path / "ix")
    assert d["total"] == 1 and d["quotes"] == 13
    c = d["results"][0]["cluster"]
    assert (c["articles"], c["outlets"], len(c["members"]), c["more"]) == (13, 13, 10, 3)
    assert [m["article_id"] for m in c["members"]] == [f"r{i:02d}" for i in range(10)]


# Twelve words; P changes the last three, R the first four, S the first three (as R does): P~Q, Q~R, Q~S, R~S,
# while P is like neither R nor S.
W = "the new harbour bridge will carry trains and cars across the river".split()
P = " ".join(W[:9] + ["over", "a", "canal"])
R = " ".join(["an", "old", "wooden", "crossing"] + W[4:])
S = " ".join(["an", "old", "wooden"] + W[3:])
Q = " ".join(W)


def test_every_pair_of_a_cluster_is_alike_no_chaining(tmp_path):
    sim = lambda a, b: similarity(" ".join(words_of(a)), " ".join(words_of(b)))  # noqa: E731
    assert sim(P, Q) >= SIM_THRESHOLD and sim(Q, R) >= SIM_THRESHOLD and sim(P, R) < SIM_THRESHOLD
    recs = [report("p", "Ada Ng", P, "2022-01-01", "A"), report("r", "Ada Ng", R, "2022-01-02", "B"),
            report("q", "Ada Ng", Q, "2022-01-03", "C"), report("s", "Ada Ng", S, "2022-01-04", "D")]
    index_records(recs, Settings(index=tmp_path / "ix"))
    groups = sorted(map(sorted, cluster_sets(tmp_path / "ix").values()))
    assert groups == [["p#0", "q#0"], ["r#0", "s#0"]]


# -- update -----------------------------------------------------------------------------------------------------
class _Records:
    """Stands in for the spaCy enricher: the record written for each article id (tests need no model)."""

    def __init__(self, records):
        self.by_id = {r["id"]: r for r in records}
        self.analysed = self.cached = 0
        self.cache = self

    def close(self):
        pass

    def enrich(self, items):
        from search.articles import Article

        for a in items:
            if isinstance(a, Article):
                rec = dict(self.by_id[a.id], path=a.path, line=a.line, content_hash=content_hash(a))
                self.analysed += 1
                yield rec
            else:
                yield a


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    """(folder of one JSON file per article, settings, write(records), remove(id)) with a model-free enricher."""
    folder = tmp_path / "articles"
    folder.mkdir()
    known: dict[str, dict] = {}

    def write(*records):
        for r in records:
            known[r["id"]] = r
            (folder / f"{r['id']}.json").write_text(json.dumps(
                {"id": r["id"], "title": r["title"], "text": r["text"], "date": r["published"], "source": r["source"]}),
                encoding="utf-8")

    def remove(*ids):
        for i in ids:
            (folder / f"{i}.json").unlink()

    monkeypatch.setattr(indexer, "_enricher", lambda settings, index_dir, aliases: _Records(list(known.values())))
    return folder, Settings(index=tmp_path / "index"), write, remove


def test_update_joins_leaves_merges_and_keeps_cluster_ids(corpus):
    folder, settings, write, remove = corpus
    p, r, q, s = (report("p", "Ada Ng", P, "2022-01-01", "A"), report("r", "Ada Ng", R, "2022-01-02", "B"),
                  report("q", "Ada Ng", Q, "2022-01-03", "C"), report("s", "Ada Ng", S, "2022-01-04", "D"))
    write(*CLUSTERED[:4])
    rebuild([str(folder)], settings)
    (bridge, members), = cluster_sets(settings.index).items()
    # a new article repeating the quote joins the cluster, which keeps its id
    write(report("herald-1", "Lena Ortiz", BRIDGE.replace("valley", "region"), "2022-03-09", "Coast Herald"))
    rep = update([str(folder)], settings)
    assert (rep.indexed, rep.quotes) == (1, 1)
    assert cluster_sets(settings.index) == {bridge: members | {"herald-1#0"}}
    # a removed article leaves it
    remove("courier-1")
    update([str(folder)], settings)
    assert cluster_sets(settings.index) == {bridge: members - {"courier-1#0"} | {"herald-1#0"}}
    # two clusters ({p, q} and {r, s}) merge when p, which kept them apart, goes: the old id redirects
    write(p, r, q, s)
    update([str(folder)], settings)
    before = cluster_sets(settings.index)
    pq = next(c for c, m in before.items() if m == {"p#0", "q#0"})
    rs = next(c for c, m in before.items() if m == {"r#0", "s#0"})
    remove("p")
    update([str(folder)], settings)
    after = cluster_sets(settings.index)
    assert after[rs] == {"q#0", "r#0", "s#0"} and pq not in after
    with open_searcher(settings.index) as searcher:
        assert searcher.quote_cluster(pq) == {"id": pq, "redirect": rs}
        assert [row["id"] for row in searcher.quote_cluster(rs)["trail"]] == ["r#0", "q#0", "s#0"]
    # a cluster whose repeats are all gone is gone
    remove("gazette-1", "post-1")
    update([str(folder)], settings)
    assert bridge not in cluster_sets(settings.index)
    with open_searcher(settings.index) as searcher:
        assert searcher.quote_cluster(bridge) is None
        assert searcher.quote_cluster(pq) == {"id": pq, "redirect": rs}


def test_a_changed_article_is_reclustered_and_keeps_when_it_was_first_indexed(corpus, monkeypatch):
    folder, settings, write, remove = corpus
    write(*CLUSTERED[:3])
    monkeypatch.setattr(indexer, "_now_iso", lambda: "2030-01-01T00:00:00Z")
    rebuild([str(folder)], settings)
    # the quote of courier-1 is changed into another statement: it leaves the cluster
    changed = report("courier-1", "Lena Ortiz", "Nobody in the council expected the vote to be this close.",
                     "2022-03-02", "Valley Courier")
    write(changed, report("new-1", "Lena Ortiz", BRIDGE, "2022-03-10", "Coast Herald"))
    monkeypatch.setattr(indexer, "_now_iso", lambda: "2030-02-02T00:00:00Z")
    update([str(folder)], settings)
    assert list(cluster_sets(settings.index).values()) == [{"gazette-1#0", "post-1#0", "new-1#0"}]
    with open_searcher(settings.index) as s:
        assert s.article("courier-1")["indexed"] == "2030-01-01T00:00:00Z"
        assert s.article("new-1")["indexed"] == "2030-02-02T00:00:00Z"
    # a rebuild keeps the times too (they live in the manifest of each generation)
    monkeypatch.setattr(indexer, "_now_iso", lambda: "2030-03-03T00:00:00Z")
    rebuild([str(folder)], settings)
    with open_searcher(settings.index) as s:
        assert [s.article(i)["indexed"] for i in ("gazette-1", "new-1")] == ["2030-01-01T00:00:00Z",
                                                                             "2030-02-02T00:00:00Z"]


POOL = [report(f"a{i}", "Ada Ng" if i % 5 else None, t, f"2022-0{1 + i % 9}-{10 + i:02d}", f"Outlet {i % 3}")
        for i, t in enumerate([P, Q, R, S, BRIDGE, BRIDGE.replace("valley", "region"), CLUSTERED[2]["quotes"][0]["text"],
                               CLUSTERED[3]["quotes"][0]["text"], "Nobody expected the council vote to be so close.",
                               "Nobody expected the vote in the council to be this close at all.", Q, BRIDGE])]


@hsettings(max_examples=6)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, len(POOL) - 1)), min_size=1, max_size=8))
def test_update_gives_the_clusters_a_rebuild_gives(tmp_path_factory, ops):
    """Whatever articles come and go, the clusters after updates are those of a rebuild of what is left."""
    base = tmp_path_factory.mktemp("prop")
    folder = base / "articles"
    folder.mkdir()
    settings = Settings(index=base / "updated")
    present: set[int] = {0, 4}

    def sync():
        for p in folder.iterdir():
            p.unlink()
        for i in present:
            r = POOL[i]
            (folder / f"{r['id']}.json").write_text(json.dumps(
                {"id": r["id"], "title": r["title"], "text": r["text"], "date": r["published"],
                 "source": r["source"]}), encoding="utf-8")

    mp = pytest.MonkeyPatch()
    mp.setattr(indexer, "_enricher", lambda settings, index_dir, aliases: _Records(POOL))
    try:
        sync()
        rebuild([str(folder)], settings)
        for add, i in ops:
            (present.add if add else present.discard)(i)
            if not present:
                present.add(i)
            sync()
            update([str(folder)], settings)
        fresh = Settings(index=base / "fresh")
        rebuild([str(folder)], fresh)
    finally:
        mp.undo()
    norm = lambda d: sorted(sorted(m) for m in d.values())  # noqa: E731  (ids may differ, members may not)
    assert norm(cluster_sets(settings.index)) == norm(cluster_sets(fresh.index))
    strip = lambda d: sorted((r["id"], r["text"], r["speaker"], (r["cluster"] or {}).get("articles"))  # noqa: E731
                             for r in d["results"])
    assert strip(quotes_api(settings.index, size="100")) == strip(quotes_api(fresh.index, size="100"))


# -- web -----------------------------------------------------------------------------------------------------------
@pytest.fixture
def client(cluster_index):
    settings = Settings(index=cluster_index, base_url="https://news.example.org/watch/", page_size=2)
    return create_app({"SETTINGS": settings, "TESTING": True}).test_client()


def test_quote_page_tabs_facets_and_cluster_rows(client):
    page = client.get("/quotes?q=bridge&size=10").data.decode()
    assert 'class="tab tab-quotes is-current" href="/quotes?q=bridge&amp;size=10" aria-current="page"' in page
    assert 'class="tab tab-articles" href="/?q=bridge&amp;size=10"' in page
    for key in ("speaker", "source", "kind"):
        assert f'id="facet-{key}-title"' in page
    assert "repeated in 3 articles by 3 outlets" in " ".join(page.split())
    assert 'href="/quote/' in page and 'href="/article/gazette-1"' in page
    assert re.search(r'href="/article/[\w-]+#q-\d+"', page)
    # htmx gets exactly the fragment the page includes
    part = client.get("/quotes?q=bridge&size=10", headers={"HX-Request": "true"}).data.decode()
    took = re.compile(r'<span class="took">[\d.]+ ms</span>')
    assert "<html" not in part and took.sub("", part).strip() in took.sub("", page)


def test_api_quotes_and_csv(client):
    d = client.get("/api/quotes", query_string={"q": "bridge", "size": "10"}).get_json()
    assert set(d) >= {"total", "quotes", "page", "pages", "results", "facets", "facets_truncated", "histogram"}
    assert set(d["facets"]) == {"speaker", "source", "kind", "date"}
    row = next(r for r in d["results"] if r["cluster"])
    assert set(row) == {"id", "text", "snippet", "speaker", "speaker_text", "kind", "verb", "start", "end", "position",
                        "article", "context_url", "indexed", "cluster"}
    assert row["context_url"] == f"/article/{row['article']['id']}#q-{row['start']}"
    lines = client.get("/quotes.csv", query_string={"q": "bridge"}).data.decode().strip().splitlines()
    assert lines[0].split(",")[:3] == ["id", "text", "speaker"]
    assert len(lines) - 1 == d["quotes"]  # one row per quote, repeats included, each with its cluster id
    assert sum(1 for line in lines if row["cluster"]["id"] in line.split(",")) == 3


def test_trail_page_lists_every_repeat_earliest_first_and_merged_ids_redirect(client, cluster_index):
    cid = next(iter(cluster_sets(cluster_index)))
    page = " ".join(client.get(f"/quote/{cid}").data.decode().split())
    assert page.index("Harbour Gazette") < page.index("Valley Courier") < page.index("Northern Post")
    assert "reported 3 times in 3 articles by 3 outlets" in page
    data = client.get(f"/api/quote/{cid}").get_json()
    assert [r["article"]["id"] for r in data["trail"]] == ["gazette-1", "courier-1", "post-1"]
    assert client.get("/quote/c-none").status_code == 404
    import sqlite3

    db = sqlite3.connect(live_generation(cluster_index) / "clusters.sqlite")
    db.execute("INSERT INTO redirect VALUES ('cold', ?)", (cid,))
    db.commit()
    db.close()
    r = client.get("/quote/cold")
    assert r.status_code == 301 and r.headers["Location"].endswith(f"/quote/{cid}")


def test_speaker_page_pages_newest_first_and_links_to_quotes(client):
    first = client.get("/speaker/Lena%20Ortiz").data.decode()
    assert "Quotes by</span> Lena Ortiz" in first
    assert 'href="/speaker/Lena%20Ortiz?page=2"' in first and 'rel="next"' in first
    second = client.get("/speaker/Lena%20Ortiz?page=2").data.decode()
    dates = lambda p: re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', p.split('class="quote-list')[1])  # noqa
    assert dates(first) == sorted(dates(first), reverse=True)
    assert dates(first)[-1] >= dates(second)[0]
    assert 'href="/quotes?speaker=Lena+Ortiz"' in first  # the speaker's quotes in quote search, one click
    assert '<a href="/speaker/Tomas%20Reyes">Tomas Reyes</a>' in first  # quoted alongside
    assert "Valley Courier" in first.split("Outlets quoting")[1]
    by_relevance = client.get("/speaker/Lena%20Ortiz?q=floods").data.decode()
    assert "about <q>floods</q>" in by_relevance
    # from an article search filtered by a speaker, that speaker's quotes are one click away
    assert 'href="/quotes?speaker=Lena+Ortiz">Quotes by Lena Ortiz' in client.get("/?speaker=Lena+Ortiz").data.decode()


@pytest.mark.parametrize("page, feed", [("/?q=bridge", "/feed.atom?q=bridge"),
                                        ("/quotes?q=bridge", "/quotes/feed.atom?q=bridge"),
                                        ("/speaker/Lena%20Ortiz", "/speaker/Lena%20Ortiz/feed.atom")])
def test_every_page_advertises_its_feed_and_the_feed_is_valid_atom(client, page, feed):
    html = client.get(page).data.decode()
    assert f'<link rel="alternate" type="application/atom+xml"' in html
    assert re.search(r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" href="%s">'
                     % re.escape(feed.replace("&", "&amp;")), html)
    assert re.search(r'<a class="feed-link" href="%s"' % re.escape(feed), html)
    r = client.get(feed, headers={"Host": "attacker.example"})
    assert r.status_code == 200 and r.mimetype == "application/atom+xml"
    f = feedparser.parse(r.data)
    assert not f.bozo, f.bozo_exception
    base = "https://news.example.org/watch/"
    assert f.feed.id == base + feed.lstrip("/")
    assert {link.rel: link.href for link in f.feed.links}["alternate"] == base + page.lstrip("/")
    assert f.entries
    for e in f.entries:
        assert e.id.startswith(base + "article/") and e.link == e.id
        assert "attacker" not in e.id + e.link + e.summary
        assert e.updated_parsed is not None and e.published_parsed is not None
    # entries are dated by when newsfacet first indexed them, newest first
    stamps = [e.updated_parsed for e in f.entries]
    assert stamps == sorted(stamps, reverse=True)
    # a conditional request for the same feed of the same index is answered 304
    again = client.get(feed, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    other = client.get(feed + ("&" if "?" in feed else "?") + "q=winter")
    assert other.headers["ETag"] != r.headers["ETag"]


def test_feed_entries_are_dated_by_first_indexing_not_publication(tmp_path, monkeypatch):
    index_dir = tmp_path / "ix"
    monkeypatch.setattr(indexer, "_now_iso", lambda: "2030-05-05T10:00:00Z")
    index_records([report("old", "Lena Ortiz", BRIDGE, "1999-01-01", "Archive"),
                   report("undated", "Lena Ortiz", "Nobody expected the council vote to be so close.", None, "Wire")],
                  Settings(index=index_dir))
    client = create_app({"SETTINGS": Settings(index=index_dir), "TESTING": True}).test_client()
    f = feedparser.parse(client.get("/quotes/feed.atom").data)
    assert [e.updated for e in f.entries] == ["2030-05-05T10:00:00+00:00"] * 2
    assert {e.link.split("/article/")[1].split("#")[0] for e in f.entries} == {"old", "undated"}


# -- the command line --------------------------------------------------------------------------------------------
def test_cli_quotes_and_stats(cluster_index):
    runner = CliRunner()
    out = runner.invoke(main, ["--index", str(cluster_index), "quotes", "bridge", "--speaker", "Lena Ortiz", "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["request"] == {"q": ["bridge"], "speaker": ["Lena Ortiz"]}
    assert any(r["cluster"] and r["cluster"]["articles"] == 3 for r in d["results"])
    assert "<mark>" not in out.output
    text = runner.invoke(main, ["--index", str(cluster_index), "quotes", "bridge"]).output
    assert "repeated in 3 articles by 3 outlets" in text
    stats = runner.invoke(main, ["--index", str(cluster_index), "stats"]).output
    assert "1 cluster of repeated quotes (3 quotes)" in stats
    assert "clusters by articles spanned: 3: 1" in stats
    js = json.loads(runner.invoke(main, ["--index", str(cluster_index), "stats", "--json"]).output)
    assert js["clusters"]["by_articles"] == [{"articles": 3, "clusters": 1}]


def test_an_index_from_before_quotes_is_told_to_rebuild(tiny_index):
    import shutil

    shutil.rmtree(live_generation(tiny_index) / "quotes")
    client = create_app({"SETTINGS": Settings(index=tiny_index), "TESTING": True}).test_client()
    r = client.get("/api/quotes")
    assert r.status_code == 503 and "newsfacet rebuild" in r.get_json()["error"]
    assert client.get("/quotes").status_code == 503
    assert client.get("/").status_code == 200  # article search keeps working
    out = CliRunner().invoke(main, ["--index", str(tiny_index), "quotes", "x"])
    assert out.exit_code == 1 and "no quote index" in out.output


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest", "indexed"])
def test_pages_of_rows_follow_the_full_order_whatever_the_page_size(tmp_path, sort):
    """Rows are found from the first matches in order only; page by page they are those of collapsing every
    match sorted."""
    from search.contracts import FEED_SORT

    recs = copy.deepcopy(CLUSTERED) + [report(f"x{i}", "Ada Ng", t, f"2022-02-{i + 1:02d}", f"O{i % 3}")
                                       for i, t in enumerate([P, Q, R, S, BRIDGE, P, Q])]
    index_records(recs, Settings(index=tmp_path / "ix"))
    with open_searcher(tmp_path / "ix") as s:
        req, _ = parse_quote_request({"q": ["bridge OR river OR rebuild OR winter"], "sort": [sort], "size": ["100"]})
        req.sort = FEED_SORT if sort == "indexed" else req.sort
        qi = s._quote_index()
        _, scores, _, _, _, final = qi.final_mask(req, [])
        expected = [qi.record(int(d))["id"] for d in s._collapse(qi, qi.order(req, final, scores))]
        for size in (1, 2, 3):
            got, page = [], 1
            while True:
                req.page, req.page_size = page, size
                res = s.quotes(req)
                got += [r["id"] for r in res.results]
                if page >= res.pages:
                    break
                page += 1
            assert got == expected and res.total == len(expected)


def test_the_quote_writer_started_from_a_fork_server_writes_the_same(tmp_path, monkeypatch):
    """A process with threads (a CLI rebuild shows a progress bar) starts the writer from a fork server."""
    import multiprocessing

    from search import quoteindex

    monkeypatch.setattr(quoteindex, "start_context", lambda: multiprocessing.get_context("forkserver"))
    a, b = tmp_path / "a", tmp_path / "b"
    index_records(copy.deepcopy(CLUSTERED), Settings(index=a, quote_procs=2))
    index_records(copy.deepcopy(CLUSTERED), Settings(index=b, quote_procs=1))
    assert sorted(map(sorted, cluster_sets(a).values())) == sorted(map(sorted, cluster_sets(b).values()))


def test_a_forked_child_does_not_keep_the_writer_lock(tmp_path):
    """A writer killed with -9 leaves its forked children running for a moment: they must not hold the index."""
    import os
    import time

    from search.indexer import writer_lock

    started_r, started_w = os.pipe()
    with writer_lock(tmp_path):
        pid = os.fork()
        if pid == 0:  # the child outlives the parent's hold on the lock
            os.write(started_w, b"x")  # running: whatever it does at start is done
            time.sleep(3)
            os._exit(0)
        os.read(started_r, 1)
    os.close(started_r)
    os.close(started_w)
    try:
        with writer_lock(tmp_path, wait=0):
            pass
    finally:
        os.waitpid(pid, 0)


def test_the_quote_writer_ends_when_its_parent_is_killed(tmp_path):
    """A rebuild killed with -9 mid-way: its quote writer sees the end of its input and exits, instead of waiting
    for ever (holding the killed command's output open)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    code = ("import sys, time, copy; sys.path[:0] = [%r, %r]\n"
            "from tests.test_quote_search import CLUSTERED\n"
            "from search.quoteindex import QuoteProcess\n"
            "from pathlib import Path\n"
            "p = QuoteProcess(Path(%r))\n"
            "for r in copy.deepcopy(CLUSTERED): p.add(dict(r, indexed='2030-01-01T00:00:00Z'))\n"
            "p._flush()\n"
            "print(p._proc.pid, flush=True)\n"
            "time.sleep(60)\n") % (str(Path(__file__).parents[1]), str(Path(__file__).parent), str(tmp_path))
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the quote writer outlived its killed parent")
