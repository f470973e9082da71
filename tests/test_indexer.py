"""Index generations: atomic rebuild, incremental update, locking, duplicate ids."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.config import Settings
from search.indexer import (IndexBusy, IndexMissing, index_records, live_generation, rebuild, update,
                            writer_lock)
from search.query import open_searcher, parse_request
from tests.conftest import make_record

pytestmark = pytest.mark.model  # rebuild/update run spaCy on small articles


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


ARTICLES = [
    {"id": "a1", "title": "Council votes on budget", "date": "2022-03-01",
     "text": "Mayor Jane Porter said the council approved the budget on Tuesday. \"It is a good day,\" Porter said."},
    {"id": "a2", "title": "Storm hits the coast", "date": "2022-03-02",
     "text": "Heavy rain fell on Halifax. Officials said roads were closed."},
    {"id": "a3", "title": "School opens", "date": "2022-03-03",
     "text": "A new school opened in Toronto. Principal Omar Haddad said students were excited."},
]


def ids(index_dir) -> list[str]:
    with open_searcher(index_dir) as s:
        req, _ = parse_request({"sort": ["oldest"], "size": ["100"]})
        return [r["id"] for r in s.search(req).results]


def test_rebuild_then_search(tmp_path):
    src = write_jsonl(tmp_path / "news.jsonl", ARTICLES)
    settings = Settings(index=tmp_path / "ix")
    report = rebuild([str(src)], settings)
    assert (report.indexed, report.skipped, report.total_documents) == (3, [], 3)
    assert ids(settings.index) == ["a1", "a2", "a3"]
    # A second rebuild takes every analysis from the cache.
    again = rebuild([str(src)], settings)
    assert (again.analysed, again.cached) == (0, 3)


def test_failed_rebuild_keeps_previous_index(tmp_path):
    src = write_jsonl(tmp_path / "news.jsonl", ARTICLES)
    settings = Settings(index=tmp_path / "ix")
    rebuild([str(src)], settings)
    live = live_generation(settings.index)
    write_jsonl(src, ARTICLES + [{"id": "a4", "title": "New", "text": "Something new happened in Ottawa."}])
    with pytest.raises(RuntimeError, match="injected failure"):
        rebuild([str(src)], settings, _fail_after=2)
    assert live_generation(settings.index) == live
    assert ids(settings.index) == ["a1", "a2", "a3"]
    assert not list(Path(settings.index).glob("gen-*.tmp"))
    # and the next run succeeds with no clean-up by hand
    assert rebuild([str(src)], settings).total_documents == 4


def test_stale_half_built_generation_is_cleaned(tmp_path):
    src = write_jsonl(tmp_path / "news.jsonl", ARTICLES)
    settings = Settings(index=tmp_path / "ix")
    rebuild([str(src)], settings)
    stale = Path(settings.index) / "gen-00000000000000000001.tmp"
    stale.mkdir()
    (stale / "junk").write_text("half a segment")
    rebuild([str(src)], settings)
    assert not stale.exists()
    assert ids(settings.index) == ["a1", "a2", "a3"]


def test_old_generations_outlive_their_retirement_by_a_grace_period(tmp_path, monkeypatch):
    import search.indexer as indexer

    settings = Settings(index=tmp_path / "ix")
    made = []
    for n in range(4):  # four quick switches: all within the grace period
        index_records([make_record(f"r{n}", f"Record {n}", "Text.")], settings)
        made.append(live_generation(settings.index).name)
    gens = sorted(p.name for p in Path(settings.index).glob("gen-*"))
    assert gens == made  # none removed yet: a request may have opened any of them seconds ago
    monkeypatch.setattr(indexer, "RETIRE_GRACE_SECONDS", 0.0)
    index_records([make_record("r4", "Record 4", "Text.")], settings)
    gens = sorted(p.name for p in Path(settings.index).glob("gen-*"))
    assert gens == [made[-1], live_generation(settings.index).name]  # the live one and the one before
    assert ids(settings.index) == ["r4"]


def test_update_adds_changes_and_removes(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    other = tmp_path / "other"
    other.mkdir()
    for a in ARTICLES:
        write_jsonl(folder / f"{a['id']}.jsonl", [a])
    write_jsonl(other / "x.jsonl", [{"id": "x1", "title": "Elsewhere", "text": "A story from another folder about Paris."}])
    settings = Settings(index=tmp_path / "ix")
    rebuild([str(folder), str(other)], settings)
    assert ids(settings.index) == ["a1", "a2", "a3", "x1"]

    (folder / "a2.jsonl").unlink()  # removed
    changed = dict(ARTICLES[0], title="Council approves budget")
    write_jsonl(folder / "a1.jsonl", [changed])  # changed
    write_jsonl(folder / "a4.jsonl", [{"id": "a4", "title": "Bridge reopens", "date": "2022-03-04",
                                       "text": "The bridge in Montreal reopened, officials said."}])  # added
    report = update([str(folder)], settings)
    assert (report.indexed, report.unchanged, report.removed) == (2, 1, 1)
    assert sorted(ids(settings.index)) == ["a1", "a3", "a4", "x1"]  # x1 from the other folder untouched
    with open_searcher(settings.index) as s:
        assert s.article("a1")["title"] == "Council approves budget"
        assert s.article("a2") is None


def test_update_without_index_builds_one(tmp_path):
    src = write_jsonl(tmp_path / "news.jsonl", ARTICLES[:1])
    settings = Settings(index=tmp_path / "ix")
    assert update([str(src)], settings).total_documents == 1


def test_duplicate_ids_last_one_wins(tmp_path):
    src = write_jsonl(tmp_path / "news.jsonl", [ARTICLES[0], dict(ARTICLES[0], title="Second version")])
    settings = Settings(index=tmp_path / "ix")
    report = rebuild([str(src)], settings)
    assert report.total_documents == 1
    assert [w.line for w in report.warnings if "duplicate id" in w.reason] == [1]
    with open_searcher(settings.index) as s:
        assert s.article("a1")["title"] == "Second version"


def test_second_writer_is_refused_with_a_clear_message(tmp_path):
    settings = Settings(index=tmp_path / "ix")
    with writer_lock(Path(settings.index)):
        with pytest.raises(IndexBusy, match="being written by pid"):
            index_records([], settings)


def test_missing_index_message(tmp_path):
    with pytest.raises(IndexMissing, match=r"No index at .* - run `newsfacet rebuild` first"):
        open_searcher(tmp_path / "nothing")


# An article with no date anywhere (metadata or text): its segment has no `published` column.
UNDATED_TXT = "Library hours extended\n\nThe library will stay open until nine on Monday, the librarian said.\n"
DATED = {"id": "dated", "title": "Crane repaired", "date": "2023-02-01",
         "text": "Engineers repaired the harbour crane in Halifax, the port authority said."}


@pytest.mark.parametrize("undated_first", [False, True], ids=["dated-then-undated", "undated-then-dated"])
def test_update_with_an_undated_article_keeps_the_index_usable(tmp_path, undated_first):
    """Issue 12: after `update` added an undated text file, every stats/search/web request failed
    (`iterator too short`), and the updated generation had no facets.npz."""
    from search.facets import FACET_FILE, FacetData
    from web import create_app
    from warm_cache import run_newsfacet

    folder = tmp_path / "news"
    folder.mkdir()

    def add_undated():
        (folder / "library.txt").write_text(UNDATED_TXT, encoding="utf-8")

    def add_dated():
        write_jsonl(folder / "crane.jsonl", [DATED])

    settings = Settings(index=tmp_path / "ix")
    (add_undated if undated_first else add_dated)()
    rebuild([str(folder)], settings)
    (add_dated if undated_first else add_undated)()
    report = update([str(folder)], settings)
    assert (report.indexed, report.unchanged, report.warnings) == (1, 1, [])

    with open_searcher(settings.index) as s:
        stats = s.stats()
        assert (stats["articles"], stats["dated"], stats["first"]) == (2, 1, "2023-02-01")
        res = s.search(parse_request({"q": ["library OR crane"], "sort": ["newest"]})[0])
        assert [r["id"] for r in res.results] == ["dated", "library"]  # undated ones last
        assert [f["value"] for f in res.facets["date"]["results"]] == ["2023", "2023-02"]
    gen = live_generation(settings.index)
    assert (gen / FACET_FILE).exists()
    from whoosh import index as windex

    with windex.open_dir(str(gen)).reader() as r:
        assert FacetData.load(gen / FACET_FILE, r.doc_count_all(), r.doc_count()) is not None
    done = run_newsfacet("--index", settings.index, "stats", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["articles"] == 2
    client = create_app({"INDEX_DIR": settings.index, "TESTING": True}).test_client()
    for url in ("/", "/?q=library", "/api/search?sort=oldest", "/export.csv", "/article/library"):
        assert client.get(url).status_code == 200, url


def test_a_facet_file_that_cannot_be_written_is_reported_not_swallowed(tmp_path, monkeypatch, caplog):
    import search.facets

    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "crane.jsonl", [DATED])
    settings = Settings(index=tmp_path / "ix")
    rebuild([str(folder)], settings)
    (folder / "library.txt").write_text(UNDATED_TXT, encoding="utf-8")

    def broken(gen_dir):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(search.facets, "write_facet_file", broken)
    report = update([str(folder)], settings)
    assert report.indexed == 1
    assert [w.reason for w in report.warnings] == [
        "the facet arrays could not be saved (OSError: [Errno 28] No space left on device); searches will "
        "compute them, more slowly; please report it"]
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "search.indexer"] == [
        ("ERROR", f"could not save the facet arrays of {report.generation}.tmp")]
    with open_searcher(settings.index) as s:  # the index is complete: the arrays are computed from it
        assert s.stats()["articles"] == 2
