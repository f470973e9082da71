"""A folder of good articles mixed with every kind of bad file: `newsfacet rebuild` indexes the good ones,
names each bad file (and line) with its reason, exits 0 and keeps its memory bounded on a 20 MB file."""
from __future__ import annotations

import codecs
import json
import os
import re
import resource
import unicodedata
from pathlib import Path

import pytest

from search.config import Settings
from search.indexer import rebuild, update
from search.query import open_searcher, parse_request
from warm_cache import prewarm, run_newsfacet

MAX_CHARS = 2000
BIG_BYTES = 20_000_000
RSS_LIMIT_KB = 1_500_000  # a resource bound, generous: the run measured ~0.75 GB here

# id -> a word only that article contains, to prove it was indexed and can be found.
GOOD = {
    "good one": "harbourlight",
    "café résumé": "ferrymoss",
    "latin1": "croissantine",
    "utf16": "snowplowix",
    "utf16-nobom": "tidewaterix",  # UTF-16 saved without a byte-order mark
    "jl-1": "orchardine",
    "jl-3": "librarywing",
    "typed": "weathervane",
    "same-id": "secondcopy",
    "long": "quibblewhisk",
    "big": "zanzibarquokka",
    "bytes\ufffd name": "bytenamewort",  # a file name that is not valid UTF-8
    "jl-4": "surrogatewort",  # a lone surrogate escape (half an emoji) in JSON
}

# Where (relative to the folder, with :line for records) -> words the reason must contain.
BAD = {
    "empty.txt": "empty file (0 bytes)",
    "binary.txt": "binary file",
    "mixed.jsonl:2": "not valid JSON",
    "numbers.json:0": "element 0 of the list is a number",
    "numbers.json:1": "element 1 of the list is a number",
    "numbers.json:2": "element 2 of the list is a number",
    "deep.json": "nested too deeply",
    "types.json": '"text" is a list, not a string',
    "notext.json": "no text",
    "nobody.html": "no article text found",
    "empty\\xfe.txt": "empty file (0 bytes)",  # named in messages with its undecodable byte as \xfe
}
WARNED = {
    "loop": "symlink loop",
    "sub/up": "symlink loop",
    "dup1.json": "duplicate id 'same-id'",
    "typed.json": "authors is a boolean",  # wrong field types around good text: kept, a warning per field
    "big.txt": f"entities and quotes come from the first {MAX_CHARS:,}",
    "long.txt": f"entities and quotes come from the first {MAX_CHARS:,}",
}


def write(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def make_folder(folder: Path) -> Path:
    """Good articles and every bad kind of file; all sentences made up for this test."""
    folder.mkdir()
    write(folder, "good one.txt", "Harbour lights repaired\n\nCrews in Halifax repaired the harbourlight beacon "
                                  "on Monday, the port authority said.\n")
    write(folder, unicodedata.normalize("NFD", "café résumé.txt"),
          "Ferry service resumes\n\nThe ferry company said boats covered in ferrymoss would sail again on Friday.\n")
    write(folder, "latin1.txt", ("Café owners protest\n\nOwners of the cafés in Montréal said the croissantine "
                                 "rules were unfair, according to Renée Tremblay.\n").encode("latin-1"))
    write(folder, "utf16.txt", codecs.BOM_UTF16_LE + ("Snow closes schools\n\nSchools in Winnipeg closed because the "
                                                       "snowplowix fleet was late, officials said.\n").encode("utf-16-le"))
    write(folder, "utf16-nobom.txt", "Tide tables printed\n\nThe harbour office printed the tidewaterix "
                                     "tables for the season, a clerk said.\n".encode("utf-16-le"))
    write(folder, "empty.txt", b"")
    write(folder, "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    write(folder, "mixed.jsonl", "\n".join([
        json.dumps({"id": "jl-1", "title": "Orchard harvest", "date": "2022-09-01",
                    "text": "Farmers said the orchardine apple harvest came early this year."}),
        '{"id": "jl-2", "title": "Broken line", "text": "this line never ends',
        json.dumps({"id": "jl-3", "title": "Library expands", "date": "2022-09-02",
                    "text": "The city library opened a librarywing for children, the librarian said."}),
        json.dumps({"id": "jl-4", "title": "Half an emoji \ud83d",
                    "text": "A scraper cut an emoji in half \ud83d here; the surrogatewort is still found."}),
    ]) + "\n")
    write(folder, "numbers.json", "[1, 2, 3]")
    write(folder, "deep.json", "[" * 200_000 + "]" * 200_000)
    write(folder, "types.json", json.dumps({"id": "types", "title": 5, "text": ["not", "a", "string"]}))
    write(folder, "typed.json", json.dumps({"id": "typed", "title": "Weather station", "authors": True, "url": 12,
                                            "date": {"year": 2022},
                                            "text": "The weathervane on the town hall was fixed, the clerk said."}))
    write(folder, "notext.json", json.dumps({"id": "notext", "title": "Only a title", "text": "   "}))
    write(folder, "nobody.html", "<html><head><title>Nothing here</title></head></html>")
    write(folder, "dup1.json", json.dumps({"id": "same-id", "title": "First copy", "text": "A firstcopy of a story."}))
    write(folder, "dup2.json", json.dumps({"id": "same-id", "title": "Second copy",
                                           "text": "The secondcopy of the story, which wins."}))
    with open(os.fsencode(folder) + b"/bytes\xff name.txt", "wb") as f:
        f.write(b"Odd file name\n\nThis file name holds a byte that is not UTF-8; its bytenamewort is found.\n")
    with open(os.fsencode(folder) + b"/empty\xfe.txt", "wb"):
        pass
    os.symlink("loop", folder / "loop")
    (folder / "sub").mkdir()
    os.symlink("..", folder / "sub" / "up")
    # Longer than MAX_CHARS: names only in the first part are enriched; the last word is still found.
    filler = "The committee discussed the schedule and the weather for a long while. " * 80
    write(folder, "long.txt", "Council meeting runs long\n\nMayor Jane Porter said the council met in Halifax on "
                              "Tuesday. " + filler + "\n\nLater, Premier Doug Ford spoke in Toronto about quibblewhisk.\n")
    with open(folder / "big.txt", "w", encoding="utf-8") as f:
        f.write("Flood log\n\n")
        para = "The river rose slowly over the weekend while volunteers stacked sandbags along the bank. " * 10
        while f.tell() < BIG_BYTES:
            f.write(para + "\n\n")
        f.write("The last word of the log was zanzibarquokka.\n")
    return folder


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory):
    """One real `newsfacet rebuild` of the folder in a subprocess: (result, index dir, peak RSS in kB)."""
    base = tmp_path_factory.mktemp("bad")
    make_folder(base / "in")
    index_dir = base / "ix"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = run_newsfacet("--index", index_dir, "rebuild", "in", "--max-chars", MAX_CHARS, "--quiet",
                           cwd=base, timeout=600)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return result, index_dir, peak if peak > before else before


def messages(stderr: str, kind: str) -> dict[str, str]:
    """{where (relative to the folder): reasons} from the `  skipped: where: reason` lines."""
    out = {}
    for line in stderr.splitlines():
        m = re.match(rf"\s*{kind}: (.*?): (.*)$", line)
        if m:
            where = m.group(1)
            where = where.split("/in/", 1)[1] if "/in/" in where else where.removeprefix("in/")
            where = unicodedata.normalize("NFC", where)
            out[where] = f"{out[where]} | {m.group(2)}" if where in out else m.group(2)
    return out


@pytest.mark.slow
def test_rebuild_exits_0_and_indexes_every_good_article(bad_run):
    result, index_dir, _ = bad_run
    assert result.returncode == 0, result.stderr
    assert re.match(rf"Indexed {len(GOOD)} articles, {len(BAD)} skipped", result.stdout), result.stdout
    with open_searcher(index_dir) as s:
        everything = s.search(parse_request({"size": ["100"]})[0])
        assert sorted(r["id"] for r in everything.results) == sorted(GOOD)
        for article_id, word in GOOD.items():
            found = s.search(parse_request({"q": [word]})[0])
            assert [r["id"] for r in found.results] == [article_id], word
        assert s.article("same-id")["title"] == "Second copy"  # the later duplicate wins
        assert (s.article("typed")["authors"], s.article("typed")["url"]) == ([], None)


@pytest.mark.slow
def test_latin1_and_utf16_are_read_with_their_encoding(bad_run):
    _, index_dir, _ = bad_run
    with open_searcher(index_dir) as s:
        latin = s.article("latin1")
        assert (latin["title"], latin["encoding"]) == ("Café owners protest", "cp1252")
        assert "cafés in Montréal" in latin["text"] and "Renée Tremblay" in latin["text"]
        utf16 = s.article("utf16")
        assert (utf16["title"], utf16["encoding"]) == ("Snow closes schools", "utf-16-le")
        nobom = s.article("utf16-nobom")
        assert (nobom["title"], nobom["encoding"]) == ("Tide tables printed", "utf-16-le")
        assert s.article("café résumé")["title"] == "Ferry service resumes"  # NFD file name, NFC id
        assert s.article("jl-4")["title"] == "Half an emoji \ufffd"


@pytest.mark.slow
def test_every_bad_file_and_line_is_named_with_its_reason(bad_run):
    result, _, _ = bad_run
    skipped = messages(result.stderr, "skipped")
    assert set(skipped) == set(BAD), result.stderr
    for where, reason in BAD.items():
        assert reason in skipped[where], (where, skipped[where])
    warned = messages(result.stderr, "warning")
    for where, reason in WARNED.items():
        assert reason in warned.get(where, ""), (where, result.stderr)
    assert '"url" is a number' in warned["typed.json"] and "date is an object" in warned["typed.json"]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_memory_stays_bounded_on_the_20mb_file(bad_run):
    _, _, peak_kb = bad_run
    assert peak_kb < RSS_LIMIT_KB, f"peak RSS {peak_kb / 1e6:.2f} GB"


@pytest.mark.slow
def test_long_articles_are_indexed_in_full_but_enriched_on_their_first_part(bad_run):
    _, index_dir, _ = bad_run
    with open_searcher(index_dir) as s:
        rec = s.article("long")
        assert len(rec["text"]) > MAX_CHARS
        assert rec["entities"], "the first part was enriched"
        assert all(e["end"] <= MAX_CHARS for e in rec["entities"] + rec["quotes"])
        assert "Doug Ford" not in rec["persons"]
        assert any("come from the first" in w for w in rec["warnings"])
        big = s.article("big")
        assert len(big["text"]) > BIG_BYTES - 100 and big["text"].endswith("zanzibarquokka.")


def test_update_keeps_articles_of_a_file_that_cannot_be_read_this_time(tmp_path):
    """A file that breaks between runs (half-copied, a bad line) must not cost the articles indexed from it."""
    folder = tmp_path / "news"
    folder.mkdir()
    feed = write(folder, "feed.jsonl", "".join(json.dumps(
        {"id": f"f{i}", "title": f"Item {i}", "text": f"Story number {i} about the ferrymoss."}) + "\n" for i in range(3)))
    other = write(folder, "other.json", json.dumps({"id": "o1", "text": "A separate story about a bridge."}))
    settings = Settings(index=tmp_path / "ix")
    prewarm(settings.index, [folder])
    assert rebuild([str(folder)], settings).total_documents == 4

    lines = feed.read_text(encoding="utf-8").splitlines()
    feed.write_text(lines[0] + "\n" + '{"id": "f1", "text": "cut off' + "\n" + lines[2] + "\n", encoding="utf-8")
    report = update([str(folder)], settings)
    assert (report.removed, [s.where() for s in report.skipped]) == (0, [f"{folder}/feed.jsonl:2"])
    assert any("kept its 1 indexed article" in w.reason for w in report.warnings)

    feed.write_bytes(b"\x00\x01binary garbage\x00" * 10)  # the whole file unreadable
    other.unlink()  # really gone: removed
    report = update([str(folder)], settings)
    assert report.removed == 1
    with open_searcher(settings.index) as s:
        assert s.stats()["articles"] == 3
        assert s.article("f1")["title"] == "Item 1" and s.article("o1") is None


def test_odd_dates_and_huge_tokens_never_break_search(tmp_path):
    """One article with a mistyped year (0201) or a 300,000-character word must not break every search."""
    from conftest import make_record
    from search.indexer import index_records
    from web import create_app

    records = [
        make_record("ancient", "Mistyped year", "A harbour story dated 0201 by mistake.", published="0201-05-06"),
        make_record("far", "Far future", "A harbour story dated 9999.", published="9999-12-31"),
        make_record("huge", "x" * 70_000, "harbour " + "y" * 300_000, published="2021-05-06",
                    persons=["P" * 5000]),
        make_record("ok", "Fine", "A fine harbour story.", published="2021-05-07"),
    ]
    settings = Settings(index=tmp_path / "ix")
    index_records(records, settings)
    with open_searcher(settings.index) as s:
        res = s.search(parse_request({"q": ["harbour"], "sort": ["oldest"]})[0])
        assert [r["id"] for r in res.results] == ["ancient", "huge", "ok", "far"]
        assert [h["month"] for h in res.histogram][:1] == ["0201-05"]
        assert s.stats()["first"] == "0201-05-06"
    client = create_app({"INDEX_DIR": str(settings.index), "TESTING": True}).test_client()
    for url in ("/", "/?q=harbour", "/api/search?from=0201&to=0201", "/article/ancient", "/export.csv"):
        assert client.get(url).status_code == 200, url


def test_a_record_that_utf8_cannot_hold_is_skipped_not_the_run(tmp_path):
    """Records from elsewhere (index_records) with a lone surrogate: that one is skipped, the rest indexed."""
    from conftest import make_record
    from search.indexer import index_records

    bad = make_record("bad", "Broken \ud800 title", "A harbour story with a broken title.")
    report = index_records([make_record("ok", "Fine", "A harbour story."), bad], Settings(index=tmp_path / "ix"))
    assert (report.indexed, [s.reason[:40] for s in report.skipped]) == (1, ["holds characters that are not valid Unic"])
    with open_searcher(tmp_path / "ix") as s:
        assert [r["id"] for r in s.search(parse_request({"q": ["harbour"]})[0]).results] == ["ok"]
