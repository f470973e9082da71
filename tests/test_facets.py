"""newsfacet's array facet counts against Whoosh's own groupedby counting, exactly (no spaCy model needed)."""
from __future__ import annotations

import random
from collections import Counter

import pytest
from whoosh import query as wq
from whoosh import sorting

from search.config import Settings
from search.indexer import index_records, live_generation
from search.query import build_query, open_searcher, parse_request
from search.schema import FACET_FIELDS, MONTH_FIELD
from tests.conftest import TINY, make_record

WORDS = ("alpha beta gamma delta ministry election border budget summit trade climate vote court police "
         "market strike energy health school tax").split()
PEOPLE = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Ken Thompson",
          "Donald Knuth", "Frances Allen"]
PLACES = ["Oslo", "Lima", "Kyoto", "Quito", "Perth", "Porto", "Accra"]
ORGS = ["Acme Corp", "Globex", "Initech", "Hooli", "Umbrella Council"]


def generated_records(n=240, seed=3):
    """Hand-made-style records with random words, facet values (some shared, some absent) and dates."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        words = rnd.choices(WORDS, k=rnd.randint(3, 40))
        persons = rnd.sample(PEOPLE, k=rnd.randint(0, 3))
        speakers = [p for p in persons if rnd.random() < 0.6]
        published = None if i % 17 == 0 else f"{rnd.randint(2015, 2022)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        out.append(make_record(
            f"gen-{i}", " ".join(rnd.choices(WORDS, k=4)).title(), " ".join(words) + ".", published=published,
            speakers=speakers, persons=persons, places=rnd.sample(PLACES, k=rnd.randint(0, 2)),
            organizations=rnd.sample(ORGS, k=rnd.randint(0, 2)),
        ))
    return out


@pytest.fixture(scope="module")
def facet_index(tmp_path_factory):
    """An index of the tiny corpus plus 240 generated records, with a few documents deleted."""
    index_dir = tmp_path_factory.mktemp("facets") / "index"
    records = [dict(r) for r in TINY] + generated_records()
    index_records(records, Settings(index=index_dir))
    # Deleted documents stay in the segment until a merge: counts must skip them.
    from whoosh import index as windex

    ix = windex.open_dir(str(live_generation(index_dir)))
    w = ix.writer()
    for i in (5, 50, 99):
        w.delete_by_term("id", f"gen-{i}")
    w.commit(merge=False)
    return index_dir


def _filter_query(req, skip_facet=None, with_date=True):
    from datetime import datetime

    parts = []
    for facet, field in FACET_FIELDS.items():
        if facet != skip_facet and req.filters.get(facet):
            parts.append(wq.Or([wq.Term(field, v) for v in req.filters[facet]]))
        if req.exclude.get(facet):
            parts.append(wq.Not(wq.Or([wq.Term(field, v) for v in req.exclude[facet]])))
    if with_date and (req.date_from or req.date_to):
        start = datetime.fromisoformat(req.date_from) if req.date_from else None
        end = datetime.fromisoformat(req.date_to).replace(hour=23, minute=59, second=59) if req.date_to else None
        parts.append(wq.DateRange("published", start, end))
    return wq.And(parts) if parts else None


def _grouped(searcher, q, filt, field):
    r = searcher.search(q, filter=filt, limit=None, groupedby={"f": sorting.FieldFacet(field, allow_overlap=True)})
    return {(k.decode() if isinstance(k, bytes) else k): len(v) for k, v in r.groups("f").items() if k}


REQUESTS = [
    {},
    {"q": "alpha"},
    {"q": "alpha beta"},
    {"q": '"alpha beta"'},
    {"q": "gamma OR delta"},
    {"q": "alpha NOT beta"},
    {"q": "bud*"},
    {"q": "title:summit"},
    {"q": "Russia"},
    {"speaker": "Ada Lovelace"},
    {"q": "election", "person": ["Grace Hopper", "Alan Turing"]},
    {"q": "vote", "place": "Oslo", "org": "Globex"},
    {"q": "trade", "not_place": "Lima"},
    {"q": "court", "from": "2017-03", "to": "2020"},
    {"from": "2021", "speaker": "Donald Knuth", "not_org": "Hooli"},
    {"q": "nothingmatchesthis"},
]


@pytest.mark.parametrize("args", REQUESTS, ids=[str(a) for a in REQUESTS])
def test_counts_equal_groupedby(facet_index, args):
    req, _ = parse_request({k: v if isinstance(v, list) else [v] for k, v in args.items()})
    req.facet_size = 10_000
    with open_searcher(facet_index) as s:
        res = s.search(req)
        ws = s._searcher
        q = build_query(req.q, s._ix.schema, []) or wq.Every()
        # every facet is counted under the other filters and the dates, not its own filter
        for facet, field in FACET_FIELDS.items():
            want = _grouped(ws, q, _filter_query(req, skip_facet=facet), field)
            got = {r["value"]: r["count"] for r in res.facets[facet]["results"] if r["count"]}
            assert got == want, facet
        # the date facet: years under every facet filter but not the date range
        months = _grouped(ws, q, _filter_query(req, with_date=False), MONTH_FIELD)
        years = Counter()
        for m, n in months.items():
            years[m[:4]] += n
        got = {r["value"]: r["count"] for r in res.facets["date"]["results"] if r.get("level") == "year"}
        assert got == dict(years)
        # the histogram and the total: under every filter
        months = _grouped(ws, q, _filter_query(req), MONTH_FIELD)
        assert {h["month"]: h["count"] for h in res.histogram if h["count"]} == months
        total = len(ws.search(q, filter=_filter_query(req), limit=None))
        assert res.total == total


@pytest.mark.parametrize("text", ["alpha", "alpha beta", "gamma OR delta", "alpha NOT beta", "title:summit",
                                  "\"alpha beta\"", "\"budget tax vote\"", "\"gamma delta\" summit",
                                  "budget tax vote", "ukraine russia"])
def test_array_matching_equals_whoosh_scores(facet_index, text):
    import numpy as np

    from search.postings import FieldLengths, match_arrays
    from search.query import _AllScores

    with open_searcher(facet_index) as s:
        ws = s._searcher
        q = build_query(text, s._ix.schema, [])
        col = _AllScores.make()
        ws.search_with_collector(q, col)
        mask, scores = match_arrays(q, ws, FieldLengths(), s.facets.size)
        assert sorted(np.flatnonzero(mask).tolist()) == sorted(col.docnums)
        assert len(col.docnums) > 0 or text == '"budget tax vote"'  # a three-word phrase may match nothing
        np.testing.assert_allclose(scores[col.docnums], col.scores, rtol=1e-6)


def test_deleted_documents_are_not_counted(facet_index):
    with open_searcher(facet_index) as s:
        res = s.search(parse_request({})[0])
        ids = {r["id"] for r in s.iter_matching(parse_request({})[0])}
    assert res.total == 5 + 240 - 3
    assert not ids & {"gen-5", "gen-50", "gen-99"}


def test_saved_facet_arrays_equal_computed(tmp_path):
    import numpy as np

    from search.facets import FACET_FILE, FacetData
    from search.indexer import open_whoosh

    index_dir = tmp_path / "index"
    # The arrays are gathered while documents are added (not read back): awkward values must come out as
    # Whoosh indexed them, and a record skipped mid-way must not shift the document numbers after it.
    awkward = [
        make_record("odd-1", "Odd", "Odd values.", published="0999-02-03",
                    persons=["  Zoë   Ångström ", "zoë ångström", "A, B", "A B"], places=["São Paulo", "São Paulo"],
                    organizations=["", " ", "Ärzte ohne Grenzen"], speakers=["officials"]),
        dict(make_record("odd-2", "Bad", "Lone surrogate.", persons=["Skipped Person"], published="2020-01-01"),
             text="Lone \ud800 surrogate."),
        make_record("odd-3", "Old", "Oldest day.", published="0001-01-01", places=["Kyiv"]),
        make_record("odd-4", "Late", "A late one.", published="9999-12-31T23:59:59", persons=["Zoë Ångström"]),
    ]
    index_records(generated_records(30, seed=9) + awkward + generated_records(30, seed=10), Settings(index=index_dir))
    gen = live_generation(index_dir)
    assert (gen / FACET_FILE).exists()
    ix, _ = open_whoosh(index_dir)
    with ix.reader() as r:
        computed = FacetData(r)
        loaded = FacetData.load(gen / FACET_FILE, r.doc_count_all(), r.doc_count())
    assert loaded is not None and loaded.size == 63
    assert "Skipped Person" not in loaded.fields["persons"].values
    assert np.array_equal(loaded.alive, computed.alive) and np.array_equal(loaded.day, computed.day)
    assert np.array_equal(loaded.rank, computed.rank)
    for name, fp in computed.fields.items():
        lp = loaded.fields[name]
        assert lp.values == fp.values
        for attr in ("pair_docs", "pair_vals", "offsets", "doc_vals", "doc_offsets"):
            assert np.array_equal(getattr(lp, attr), getattr(fp, attr)), (name, attr)


@pytest.mark.parametrize("raw", ["a,b", " a , b ", "a,,b", "a, ,b", ",a,", "A B,a b", "Zoë Ångström", ""])
def test_collector_splits_keywords_as_whoosh_indexes_them(raw):
    from whoosh.fields import KEYWORD

    from search.facets import _split_commas, _terms_function
    from search.schema import build_schema

    for field in (build_schema()["persons"], KEYWORD(commas=True, lowercase=True)):
        assert list(_terms_function(field)(raw)) == list(field.process_text(raw, mode="index"))
    assert _terms_function(build_schema()["persons"]) is _split_commas  # the fast path is the one in use


def test_multi_process_writer_index_searches_and_counts_like_the_single_writer(tmp_path):
    """index_records(writer_procs=2): several segments, facet arrays read back, same results and counts."""
    records = [dict(r) for r in TINY] + generated_records(300, seed=5)
    one, two = tmp_path / "one", tmp_path / "two"
    index_records(records, Settings(index=one))
    index_records(records, Settings(index=two), writer_procs=2)
    for args in ({}, {"q": [WORDS[0]]}, {"speaker": [PEOPLE[0]]}, {"q": [f"{WORDS[1]} OR {WORDS[2]}"], "place": [PLACES[0]]},
                 {"q": [WORDS[3]], "sort": ["oldest"], "size": ["100"]}):
        req, _ = parse_request(args)
        with open_searcher(one) as a, open_searcher(two) as b:
            ra, rb = a.search(req), b.search(req)
        assert ra.total == rb.total > 0, args
        assert ra.facets == rb.facets and ra.histogram == rb.histogram, args
        if ra.total <= len(ra.results):  # the whole match fits on the page: the same articles
            assert sorted(r["id"] for r in ra.results) == sorted(r["id"] for r in rb.results), args
    assert len(list(live_generation(two).glob("MAIN_*.pst"))) == 2  # one segment per writer process
    assert len(list(live_generation(one).glob("MAIN_*.pst"))) == 1


# Segments that lack a column or a field altogether: normal in Whoosh (an update adding only undated articles,
# or articles without quotes, writes a segment with no `published` column and no `_quotes_len` column).
DATED = make_record("seg-dated", "Harbour crane", 'Crews fixed the harbour crane. "It works again," Ann Lee said.',
                    published="2021-01-02", speakers=["Ann Lee"], persons=["Ann Lee"],
                    quotes=[{"speaker": "Ann Lee", "text": "It works again,"}])
UNDATED = make_record("seg-undated", "Ferry times", "The harbour ferry runs later on Monday.")
PLACE_ONLY = make_record("seg-place", "", "Snow in the harbour town.", published="2022-03-04", places=["Oslo"])


@pytest.mark.parametrize("segments", [
    [[DATED], [UNDATED]], [[UNDATED], [DATED]], [[UNDATED], [PLACE_ONLY], [DATED]], [[PLACE_ONLY], [UNDATED]],
    [[DATED, UNDATED], [PLACE_ONLY]],
], ids=lambda segs: "|".join(",".join(r["id"][4:] for r in seg) for seg in segs))
def test_segments_without_a_column_or_a_field_read_like_one_segment(tmp_path, segments):
    """Facet arrays, dates and vectorised scores over several segments, each missing something, equal those
    gathered document by document and Whoosh's own scores (they raised `iterator too short`)."""
    import numpy as np
    from whoosh import index as windex

    from search.facets import FacetCollector, FacetData
    from search.postings import FieldLengths, match_arrays
    from search.query import _AllScores
    from search.schema import build_schema, to_document

    ix = windex.create_in(str(tmp_path), build_schema())
    want = FacetCollector(ix.schema)
    for seg in segments:
        w = ix.writer()
        for rec in seg:
            doc = to_document(rec)
            w.add_document(**doc)
            want.add(doc)
        w.commit(merge=False)  # one segment per group
    want = want.facet_data()
    with ix.searcher() as s:
        assert len(s.reader().leaf_readers()) == len(segments)
        got = FacetData(s.reader())
        assert np.array_equal(got.day, want.day) and np.array_equal(got.rank, want.rank)
        for name, fp in want.fields.items():
            assert got.fields[name].values == fp.values, name
            assert np.array_equal(got.fields[name].pair_docs, fp.pair_docs), name
        for text in ("harbour", "quotes:works", "harbour OR monday", "\"harbour crane\"", "title:ferry OR quotes:again"):
            q = build_query(text, ix.schema, [])
            col = _AllScores.make()
            s.search_with_collector(q, col)
            mask, scores = match_arrays(q, s, FieldLengths(), got.size)
            assert sorted(np.flatnonzero(mask).tolist()) == sorted(col.docnums), text
            np.testing.assert_allclose(scores[col.docnums], col.scores, rtol=1e-6)


def test_whoosh_is_the_release_postings_reads_internals_of():
    """search/postings.py and search/facets.py read Whoosh's private structures: another release must be
    re-checked by hand before it is trusted, so this fails loudly and says what to look at."""
    from importlib.metadata import version

    from search.postings import WHOOSH_CHECKED, WHOOSH_INTERNALS

    installed = version("whoosh-reloaded")
    assert installed == WHOOSH_CHECKED, (
        f"whoosh-reloaded {installed} is installed, but search/postings.py and search/facets.py were checked "
        f"against {WHOOSH_CHECKED}. They rely on:\n{WHOOSH_INTERNALS}")
