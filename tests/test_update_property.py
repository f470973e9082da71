"""Any sequence of rebuild / update / delete gives the index one rebuild over the final files gives.

Compared: stats, every facet and histogram under a set of searches, the set of matching ids of each search (the
order too where it does not depend on scores: newest, oldest, or no words), every stored record, and the saved
facet arrays (facets.npz) decoded per article id. Relevance order may differ until Whoosh merges segments
(deleted documents still count in its statistics), so only its set is compared.

The generated cases enrich with a model-free stand-in (tests/rule_pipeline.py) through the real Enricher; one
fixed case runs the real spaCy model.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import rule_pipeline
from rule_pipeline import ORGS, PEOPLE, PLACES
from search.config import Settings
from search.contracts import parse_quote_request
from search.facets import FACET_FILE, FacetData
from search.indexer import live_generation, rebuild, update
from search.query import open_searcher, parse_request
from search.schema import keyword_value

WORDS = "harbour budget ferry council storm library bridge market school river".split()
# Characters a real corpus brings: dashes, accents, emoji, markup, zero-width and right-to-left text.
ODD = ["—", "é", "ß", "🙂", "&amp;", "<b>", "«", "’", "ǅ", "\u200b", "שלום", "½"]
SEARCHES = [
    {}, {"q": ["harbour"]}, {"q": ["harbour OR budget"]}, {"q": ['"harbour budget"']}, {"q": ["harb*"]},
    {"q": ["title:ferry"]}, {"q": ["quotes:storm"]}, {"q": ["budget NOT ferry"]}, {"q": ["🙂 market"]},
    {"speaker": [keyword_value([PEOPLE[0]])]}, {"speaker": [keyword_value([PEOPLE[4]])], "q": ["river"]},
    {"person": [keyword_value([PEOPLE[1]])], "not_place": [PLACES[1]]}, {"place": [PLACES[0], PLACES[3]]},
    {"org": [ORGS[3]], "not_speaker": [keyword_value([PEOPLE[2]])]}, {"from": ["2019"], "to": ["2021-06"]},
    {"q": ["council"], "from": ["2020-03-01"]},
]
SORTS = ("relevance", "newest", "oldest")


# ---------------------------------------------------------------- what an index holds, by article id

def snapshot(index_dir: Path) -> dict:
    """Everything a user can see of an index, keyed so that two indexes of the same articles compare equal."""
    out: dict = {}
    with open_searcher(index_dir) as s:
        stats = s.stats()
        stats.pop("generation")
        out["stats"] = stats
        for args in SEARCHES:
            for sort in SORTS:
                req, messages = parse_request({**args, "sort": [sort], "size": ["100"]})
                req.facet_size = 1000
                res = s.search(req, messages)
                ids = [r["id"] for r in s.iter_matching(req)]
                ranked_by_score = sort == "relevance" and bool(args.get("q"))
                out[json.dumps([args, sort])] = {
                    "total": res.total, "facets": res.facets, "histogram": res.histogram, "messages": res.messages,
                    "ids": sorted(ids) if ranked_by_score else ids,
                    "page": sorted(r["id"] for r in res.results) if ranked_by_score else [r["id"] for r in res.results],
                }
        everything = [r["id"] for r in s.iter_matching(parse_request({})[0])]
        # `indexed` (when newsfacet first saw an article) is history: an article an earlier step indexed keeps
        # that step's time, which one rebuild of the end state cannot know
        out["records"] = {i: {k: v for k, v in s.article(i).items() if k != "indexed"} for i in everything}
        # the quote index: the same quotes, and the same clusters of them (cluster ids are history too)
        qreq, _ = parse_quote_request({"sort": ["oldest"], "size": ["100"]})
        qres = s.quotes(qreq)
        out["quotes"] = {"total": qres.total, "quotes": qres.quotes, "facets": qres.facets,
                         "rows": [(r["id"], r["text"], r["speaker"], r["kind"],
                                   (r["cluster"] or {}).get("quotes"), (r["cluster"] or {}).get("members"))
                                  for r in qres.results]}
        out["facets.npz"] = saved_arrays(index_dir, s._searcher)
    return out


def saved_arrays(index_dir: Path, searcher) -> dict:
    """The live generation's facets.npz, decoded per article id (document numbers differ between indexes)."""
    reader = searcher.reader()
    fd = FacetData.load(live_generation(index_dir) / FACET_FILE, reader.doc_count_all(), reader.doc_count())
    assert fd is not None, "the live generation has no (matching) facets.npz"
    by_id = {}
    alive = np.flatnonzero(fd.alive)
    ids = [searcher.stored_fields(int(d))["id"] for d in alive]
    for d, doc_id in zip(alive, ids):
        entry = {"day": int(fd.day[d])}
        for name, fp in fd.fields.items():
            vals = fp.doc_vals[fp.doc_offsets[d]:fp.doc_offsets[d + 1]]
            entry[name] = sorted(fp.values[v] for v in vals)
        by_id[doc_id] = entry
    # rank orders the live documents as their ids sort
    by_rank = [doc_id for _, doc_id in sorted(zip(fd.rank[alive].tolist(), ids))]
    return {"documents": by_id, "rank_order_is_id_order": by_rank == sorted(ids)}


# ---------------------------------------------------------------- generated articles and files

@st.composite
def article_text(draw) -> tuple[str, str, str | None]:
    """(title, body, ISO date written in the body or None)."""
    def words(lo, hi):
        return " ".join(draw(st.lists(st.sampled_from(WORDS + ODD), min_size=lo, max_size=hi)))

    title = words(0, 5).strip()
    parts = [words(1, 12).capitalize() + "."]
    for name in draw(st.lists(st.sampled_from(PEOPLE + PLACES + ORGS), max_size=4)):
        parts.append(f"{words(0, 3)} {name} {words(0, 3)}.")
    for _ in range(draw(st.integers(0, 2))):
        who = draw(st.sampled_from(PEOPLE + ["a spokesperson"]))
        parts.append(f"“{words(1, 6)}” said {who}.")
    written = None
    if draw(st.booleans()):
        written = f"{draw(st.integers(2015, 2023))}-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}"
        parts.append(f"Filed {written}.")
    if draw(st.booleans()):
        parts.append("It happened on Monday.")  # a day but no date: undated
    return title, " ".join(parts), written


@st.composite
def article_file(draw, serial: int) -> tuple[str, str]:
    """(file name, content) of a new file: a text file, or JSON Lines with 1-3 records (dated or not)."""
    slug = draw(st.sampled_from(["a", "é", "x y", "日本", "n-1"]))
    if draw(st.booleans()):
        title, body, _ = draw(article_text())
        return f"{serial:03d}-{slug}.txt", (f"{title}\n\n{body}\n" if title else body + "\n")
    lines = []
    for k in range(draw(st.integers(1, 3))):
        title, body, _ = draw(article_text())
        rec = {"id": f"{serial}/{slug}#{k}", "text": body}
        if title:
            rec["title"] = title
        if draw(st.booleans()):
            rec["date"] = f"{draw(st.integers(2015, 2023))}-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}"
        lines.append(json.dumps(rec, ensure_ascii=draw(st.booleans())) + "\n")
    return f"{serial:03d}-{slug}.jsonl", "".join(lines)


def run_sequence(data, tmp: Path, settings: Settings) -> Path:
    """Draw and apply 1-4 steps of file changes, each followed by an update (or a rebuild); returns the folder."""
    folder = tmp / "news"
    folder.mkdir()
    serial = 0
    for step in range(data.draw(st.integers(1, 4), label="steps")):
        files = sorted(p.name for p in folder.iterdir())
        for _ in range(data.draw(st.integers(0 if files else 1, 3), label="added")):
            name, content = data.draw(article_file(serial), label="new file")
            serial += 1
            (folder / name).write_text(content, encoding="utf-8")
        if files:
            for name in data.draw(st.lists(st.sampled_from(files), unique=True, max_size=2), label="deleted"):
                (folder / name).unlink()
            left = [f for f in files if (folder / f).exists() and f.endswith(".txt")]
            for name in data.draw(st.lists(st.sampled_from(left), unique=True, max_size=2) if left else st.just([]),
                                  label="changed"):
                title, body, _ = data.draw(article_text(), label="new text")
                (folder / name).write_text(f"{title}\n\n{body}\n" if title else body + "\n", encoding="utf-8")
        if not any(folder.iterdir()):
            (folder / "zz-last.txt").write_text("A last storm note.\n", encoding="utf-8")
        op = "rebuild" if step == 0 else data.draw(st.sampled_from(["update", "update", "rebuild"]), label="op")
        report = (rebuild if op == "rebuild" else update)([str(folder)], settings)
        assert report.skipped == [] and report.warnings == [], (report.skipped, report.warnings)
        with open_searcher(settings.index) as s:
            assert s.stats()["articles"] == report.total_documents  # every step leaves a usable index
    return folder


def check_sequences(max_examples: int | None = None) -> None:
    """The property, with the given number of examples (default: the loaded hypothesis profile's)."""
    model = rule_pipeline.register()
    # No deadline: an example indexes several times, and this machine's speed swings.
    chosen = hsettings(max_examples=max_examples, deadline=None) if max_examples else hsettings(deadline=None)

    @chosen
    @given(st.data())
    def updates_equal_one_rebuild(data):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            settings = Settings(index=tmp / "ix", model=model)
            folder = run_sequence(data, tmp, settings)
            once = Settings(index=tmp / "once", model=model)
            rebuild([str(folder)], once)
            assert snapshot(settings.index) == snapshot(once.index)

    updates_equal_one_rebuild()


def test_any_update_sequence_gives_the_index_of_one_rebuild():
    """Bounded for `make test`; the same property runs with many more examples under `make test-long`."""
    check_sequences(max_examples=25)


@pytest.mark.long
def test_any_update_sequence_gives_the_index_of_one_rebuild_many_examples():
    check_sequences()  # NEWSFACET_HYPOTHESIS=long: 400


def test_the_snapshot_sees_a_difference(tmp_path):
    """The comparison is not blind: one article more, or a changed date, makes snapshots differ."""
    model = rule_pipeline.register()
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps({"id": "a", "text": "Harbour budget. Ada Lovelace spoke.",
                                                "date": "2020-01-02"}) + "\n", encoding="utf-8")
    one, two = Settings(index=tmp_path / "one", model=model), Settings(index=tmp_path / "two", model=model)
    rebuild([str(folder)], one)
    rebuild([str(folder)], two)
    assert snapshot(one.index) == snapshot(two.index)
    (folder / "a.jsonl").write_text(json.dumps({"id": "a", "text": "Harbour budget. Ada Lovelace spoke.",
                                                "date": "2020-01-03"}) + "\n", encoding="utf-8")
    update([str(folder)], two)
    assert snapshot(one.index) != snapshot(two.index)


@pytest.mark.model
def test_an_update_sequence_with_the_real_model_gives_the_index_of_one_rebuild(tmp_path):
    """One fixed sequence through spaCy: dated and undated additions, a change, a deletion."""
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "port.jsonl").write_text(json.dumps({
        "id": "port", "title": "Port reopens", "date": "2022-05-03",
        "text": 'Harbour master Ada Lovelace said the port in Halifax would reopen. "We are ready," Lovelace said.'})
        + "\n", encoding="utf-8")
    (folder / "budget.txt").write_text("Council passes budget\n\nThe city council in Zürich passed its budget on "
                                       "March 3, 2021, Mayor Seán O'Neill said.\n", encoding="utf-8")
    settings = Settings(index=tmp_path / "ix")
    rebuild([str(folder)], settings)
    (folder / "ferry.txt").write_text("Ferry runs late\n\nThe ferry will run later on Monday, Grace Hopper of "
                                      "the Harbour Board said. \"Plan ahead,\" Hopper said.\n", encoding="utf-8")
    update([str(folder)], settings)
    (folder / "budget.txt").unlink()
    (folder / "port.jsonl").write_text(json.dumps({
        "id": "port", "title": "Port reopens on time", "date": "2022-05-04",
        "text": 'Harbour master Ada Lovelace said the port in Halifax reopened. "It went well," Lovelace said.'})
        + "\n", encoding="utf-8")
    update([str(folder)], settings)
    once = Settings(index=tmp_path / "once")
    rebuild([str(folder)], once)
    got = snapshot(settings.index)
    assert got == snapshot(once.index)
    assert got["stats"]["articles"] == 2 and got["stats"]["dated"] == 1  # the undated ferry note is in
    assert got["facets.npz"]["documents"]["port"]["speakers"]  # the model found the speaker
