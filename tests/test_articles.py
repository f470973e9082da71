"""Readers per format, per encoding and per kind of bad input; every case is built in tmp_path."""
from __future__ import annotations

import builtins
import gzip
import json
import os
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import articles
from search.articles import Article, Skip, read_articles

BINARY_REASON = ("binary file (it contains NUL bytes); newsfacet reads text, JSON and HTML — "
                 "if it is UTF-16 text, save it with a byte-order mark or as UTF-8")
EMPTY_REASON = "empty file (0 bytes); add the article text or delete the file"
DEEP_REASON = ("JSON nested too deeply to read (thousands of [ or {); an article is one object "
               "with a few fields")
NO_HTML_TEXT = ("no article text found (the page has no body text); save the article page itself, "
                "not an empty, index or script-only page")


def read(*paths, **kwargs) -> list[Article | Skip]:
    """Everything read_articles yields for the paths, as a list."""
    return list(read_articles([str(p) for p in paths], **kwargs))


def write(path: Path, content: str | bytes) -> Path:
    """Write text (UTF-8) or bytes, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def txt_article(path: Path, id: str, title: str, text: str, encoding: str = "utf-8") -> Article:
    """The Article a .txt file should give."""
    return Article(id=id, title=title, text=text, path=str(path), encoding=encoding)


# --- .txt ------------------------------------------------------------------------------------------

def test_txt_headline_becomes_title_and_leaves_the_body(tmp_path):
    p = write(tmp_path / "bridge.txt",
              "Bridge reopens to cyclists\r\nThe council voted on Tuesday to reopen the bridge.\r\n\r\n"
              "Work begins in June.\r\n")
    assert read(tmp_path) == [txt_article(
        p, "bridge", "Bridge reopens to cyclists",
        "The council voted on Tuesday to reopen the bridge.\n\nWork begins in June.")]


def test_txt_headline_may_end_in_question_mark_or_quote(tmp_path):
    write(tmp_path / "a.txt", "Will the bridge open in June?\nThe council thinks so.")
    write(tmp_path / "b.txt", 'Mayor: "We are ready"\nThe council agreed.')
    assert [a.title for a in read(tmp_path)] == ["Will the bridge open in June?", 'Mayor: "We are ready"']


def test_txt_long_first_sentence_is_trimmed_at_a_word(tmp_path):
    # Like the seed article: no headline, the first line is one long sentence.
    first = ("U.S. officials said on Thursday that the old stone bridge over the river would reopen to "
             "cyclists and walkers in June after two years of repairs, the council said.")
    p = write(tmp_path / "long.txt", first + " More follows.\nSecond paragraph here.\n")
    assert read(tmp_path) == [txt_article(
        p, "long",
        "U.S. officials said on Thursday that the old stone bridge over the river would reopen to "
        "cyclists and walkers in June…",
        first + " More follows.\nSecond paragraph here.")]


def test_txt_short_first_sentence_skips_abbreviations(tmp_path):
    write(tmp_path / "a.txt", "Mr. Smith met U.S. officials on Monday. They talked about roads.\nMore.")
    assert [a.title for a in read(tmp_path)] == ["Mr. Smith met U.S. officials on Monday."]


def test_txt_first_line_with_final_period_is_not_a_headline(tmp_path):
    p = write(tmp_path / "a.txt", "The council met.\nIt voted.")
    assert read(tmp_path) == [txt_article(p, "a", "The council met.", "The council met.\nIt voted.")]


def test_txt_hard_wrapped_sentence_is_not_a_headline(tmp_path):
    text = "The council voted on Tuesday to reopen\nthe bridge to cyclists. Work begins soon."
    p = write(tmp_path / "a.txt", text)
    assert read(tmp_path) == [txt_article(
        p, "a", "The council voted on Tuesday to reopen the bridge to cyclists.", text)]


def test_txt_single_short_line_is_title_and_text(tmp_path):
    p = write(tmp_path / "a.txt", "  Bridge reopens  \n\n")
    assert read(tmp_path) == [txt_article(p, "a", "Bridge reopens", "Bridge reopens")]


def test_the_seed_article_has_no_headline():
    seed = Path(__file__).resolve().parent.parent / "seeds" / "000_83b8ae0f96c8195e.txt"
    if not seed.exists():
        pytest.skip("seed article not present")
    [article] = read(seed)
    assert article.id == "000_83b8ae0f96c8195e"
    assert article.title == ("U.S. Secretary of State Antony Blinken said Thursday that while Russia has "
                             "withdrawn some forces from the Ukrainian…")
    assert article.text.startswith("U.S. Secretary of State Antony Blinken said Thursday")


# --- JSON ------------------------------------------------------------------------------------------

def test_json_object_with_every_field(tmp_path):
    p = write(tmp_path / "budget.json", json.dumps({
        "id": 7, "title": "  Budget\npasses ", "body": "The budget passed on Friday.",
        "published": "May 6, 2021 10:30", "date": "2020-01-01", "url": " https://example.org/b ",
        "source": {"name": "Gazette"}, "authors": "Jane Roe, Sam Poe, Jr.; Ann Lee",
        "topic": "money", "tags": ["a", "b"], "nothing": None,
    }))
    assert read(tmp_path) == [Article(
        id="7", title="Budget passes", text="The budget passed on Friday.", published="2021-05-06T10:30:00",
        source="Gazette", url="https://example.org/b", authors=["Jane Roe", "Sam Poe, Jr.", "Ann Lee"],
        metadata={"date": "2020-01-01", "topic": "money", "tags": ["a", "b"]}, path=str(p), encoding="utf-8")]


def test_json_list_ids_from_index_and_title_from_text(tmp_path):
    p = write(tmp_path / "news.json", json.dumps([
        {"id": " a1 ", "title": "One", "text": "First."},
        {"content": "Rain falls on the town\nIt rained all day.", "authors": ["Ann Lee", {"name": "Bo Ek"}]},
    ]))
    assert read(tmp_path) == [
        Article(id="a1", title="One", text="First.", path=str(p), line=0),
        Article(id="news-I1", title="Rain falls on the town", text="Rain falls on the town\nIt rained all day.",
                authors=["Ann Lee", "Bo Ek"], path=str(p), line=1),
    ]


@pytest.mark.parametrize("value, expected", [
    ("2021-05-06", "2021-05-06"),
    ("2021-05-06T10:30:00Z", "2021-05-06T10:30:00"),
    ("2021-05-06T10:30:00+02:00", "2021-05-06T10:30:00"),
    ("2021-05-06 10:30", "2021-05-06T10:30:00"),
    ("May 6, 2021", "2021-05-06"),
    ("6 May 2021", "2021-05-06"),
    ("Thu, 06 May 2021 10:00:00 GMT", "2021-05-06T10:00:00"),
    ("May 2021", "2021-05-01"),
    (1620295200, "2021-05-06T10:00:00"),
    (1620295200000, "2021-05-06T10:00:00"),
    ("", None),
])
def test_dates_are_normalised_to_iso(tmp_path, value, expected):
    write(tmp_path / "a.json", json.dumps({"text": "Words.", "date": value}))
    [article] = read(tmp_path)
    assert article.published == expected


@pytest.mark.parametrize("value, reason", [
    ("someday", "date 'someday' is not a date newsfacet can read; kept the article without a date — use YYYY-MM-DD"),
    ("yesterday", "date 'yesterday' is not a date newsfacet can read; kept the article without a date — use YYYY-MM-DD"),
    (["2021"], "date is a list, not a string; kept the article without a date — use YYYY-MM-DD"),
])
def test_unreadable_date_keeps_the_article_with_a_warning(tmp_path, value, reason):
    p = write(tmp_path / "a.json", json.dumps({"text": "Words.", "published": value}))
    assert read(tmp_path) == [
        Article(id="a", title="Words.", text="Words.", path=str(p)),
        Skip(str(p), reason, warning=True),
    ]


def test_jsonl_broken_line_between_good_lines(tmp_path):
    p = write(tmp_path / "feed.jsonl",
              '{"text": "First good line."}\n{"text": "broken\n\n{"id": "x", "text": "Third line."}\n')
    assert read(tmp_path) == [
        Article(id="feed-L1", title="First good line.", text="First good line.", path=str(p), line=1),
        Skip(str(p), "not valid JSON: Invalid control character (column 17); fix or delete this line", 2),
        Article(id="x", title="Third line.", text="Third line.", path=str(p), line=4),
    ]


def test_jsonl_gz_is_read(tmp_path):
    p = tmp_path / "feed.jsonl.gz"
    with gzip.open(p, "wt", encoding="utf-8") as f:
        f.write('{"title": "Zürich", "text": "Snow fell."}\n[1]\n{"text": "Sun shone."}\n')
    assert read(tmp_path) == [
        Article(id="feed-L1", title="Zürich", text="Snow fell.", path=str(p), line=1),
        Skip(str(p), "this line is a list, not an article object; JSON Lines needs one object per line", 2),
        Article(id="feed-L3", title="Sun shone.", text="Sun shone.", path=str(p), line=3),
    ]


def test_truncated_gz_keeps_the_lines_before(tmp_path):
    lines = "".join(json.dumps({"text": f"Line number {i} is here."}) + "\n" for i in range(2000))
    whole = gzip.compress(lines.encode())
    p = write(tmp_path / "cut.jsonl.gz", whole[: len(whole) // 2])
    items = read(tmp_path)
    good = [i for i in items if isinstance(i, Article)]
    assert good and [g.line for g in good] == list(range(1, len(good) + 1))
    last = items[-1]
    assert isinstance(last, Skip) and last.line == len(good) + 1
    assert last.reason.startswith("the gzip data is truncated or corrupt from here on")


def test_not_gzip_data_in_jsonl_gz(tmp_path):
    p = write(tmp_path / "fake.jsonl.gz", '{"text": "plain"}\n')
    [skip] = read(tmp_path)
    assert skip.path == str(p) and skip.reason.startswith("not a readable gzip file")


def test_jsonl_line_over_the_limit_is_skipped_and_the_rest_read(tmp_path):
    p = write(tmp_path / "f.jsonl", '{"text": "Short."}\n' + json.dumps({"text": "x" * 3000}) + '\n{"text": "End."}\n')
    assert read(tmp_path, max_file_bytes=1000) == [
        Article(id="f-L1", title="Short.", text="Short.", path=str(p), line=1),
        Skip(str(p), "line is over 0.003 MB, more than the limit of 0.001 MB; raise NEWSFACET_MAX_FILE_BYTES "
                     "or split the record", 2),
        Article(id="f-L3", title="End.", text="End.", path=str(p), line=3),
    ]


def test_jsonl_in_utf16_is_streamed(tmp_path):
    p = write(tmp_path / "w.jsonl", '{"text": "Grüße aus Köln."}\n{"text": "Zweite Zeile."}\n'.encode("utf-16"))
    assert [(a.id, a.text, a.encoding) for a in read(tmp_path)] == [
        ("w-L1", "Grüße aus Köln.", "utf-16-le"), ("w-L2", "Zweite Zeile.", "utf-16-le")]
    assert all(isinstance(a, Article) and a.path == str(p) for a in read(tmp_path))


def test_jsonl_line_in_cp1252_is_decoded(tmp_path):
    write(tmp_path / "m.jsonl", '{"text": "ok"}\n'.encode() + '{"text": "Caf\u00e9 \u201copen\u201d"}\n'.encode("cp1252"))
    assert [(a.text, a.encoding) for a in read(tmp_path)] == [("ok", "utf-8"), ("Café “open”", "cp1252")]


# --- HTML ------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><title>Council votes to reopen the bridge | Daily Gazette</title>
<meta name="author" content="Jane Roe; Sam Poe">
<meta property="article:published_time" content="2021-05-06T09:30:00+02:00">
<meta property="og:site_name" content="Daily Gazette">
<link rel="canonical" href="https://example.org/bridge"></head>
<body><nav>Home | News</nav><article><h1>Council votes to reopen the bridge</h1>
<p>The town council voted on Tuesday to reopen the old stone bridge to cyclists. "It is a good day," the mayor said.</p>
<p>Work will begin in June.</p></article><footer>Copyright</footer></body></html>"""


def test_html_article(tmp_path):
    p = write(tmp_path / "bridge.html", PAGE)
    assert read(tmp_path) == [Article(
        id="bridge", title="Council votes to reopen the bridge",
        text='The town council voted on Tuesday to reopen the old stone bridge to cyclists. '
             '"It is a good day," the mayor said.\nWork will begin in June.',
        published="2021-05-06", source="Daily Gazette", url="https://example.org/bridge",
        authors=["Jane Roe", "Sam Poe"], metadata={"hostname": "example.org"}, path=str(p), encoding="utf-8")]


def test_html_fragment_and_declared_charset(tmp_path):
    write(tmp_path / "a.htm", "<p>Le café est ouvert depuis lundi matin, et les clients sont contents.</p>")
    write(tmp_path / "b.html", '<html><head><meta charset="iso-8859-2"></head><body><p>Łódź ma nowy most '
                               'dla rowerzystów od wtorku.</p></body></html>'.encode("iso-8859-2"))
    assert [(a.id, a.title, a.encoding) for a in read(tmp_path)] == [
        ("a", "Le café est ouvert depuis lundi matin, et les clients sont contents.", "utf-8"),
        ("b", "Łódź ma nowy most dla rowerzystów od wtorku.", "iso-8859-2")]


@pytest.mark.parametrize("html", [
    "<html><head><title>Only a title</title></head></html>",
    "<html><head><title>T</title></head><body>  </body></html>",
    "<html><body><script>var x = 1;</script></body></html>",
])
def test_html_without_body_text(tmp_path, html):
    p = write(tmp_path / "x.html", html)
    assert read(tmp_path) == [Skip(str(p), NO_HTML_TEXT)]


# --- encodings -------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, data, expected", [
    ("utf-8", "Zürich café\nThe lake froze.".encode("utf-8"), "utf-8"),
    ("utf-8-sig", "Zürich café\nThe lake froze.".encode("utf-8-sig"), "utf-8-sig"),
    ("utf-16 LE BOM", "Zürich café\nThe lake froze.".encode("utf-16-le").join([b"\xff\xfe", b""]), "utf-16-le"),
    ("utf-16 BE BOM", b"\xfe\xff" + "Zürich café\nThe lake froze.".encode("utf-16-be"), "utf-16-be"),
    ("latin-1", "Zürich café\nThe lake froze.".encode("latin-1"), "cp1252"),
])
def test_encodings_are_read_with_accents_intact(tmp_path, encoding, data, expected):
    p = write(tmp_path / "z.txt", data)
    assert read(tmp_path) == [txt_article(p, "z", "Zürich café", "The lake froze.", expected)]


def test_cp1252_quotes_and_euro(tmp_path):
    p = write(tmp_path / "q.txt", "“We are back,” said the owner of the €5 café. It reopened.".encode("cp1252"))
    assert read(tmp_path) == [txt_article(p, "q", "“We are back,” said the owner of the €5 café.",
                                          "“We are back,” said the owner of the €5 café. It reopened.", "cp1252")]


def test_bytes_cp1252_cannot_decode_fall_back_to_latin1(tmp_path):
    p = write(tmp_path / "odd.txt", b"Caf\xe9 \x81 open. More.")
    assert read(tmp_path) == [txt_article(p, "odd", "Café \x81 open.", "Café \x81 open. More.", "latin-1")]


def test_broken_utf16_after_bom(tmp_path):
    p = write(tmp_path / "u.txt", b"\xff\xfeA\x00\x00\xd8")  # a lone high surrogate
    assert read(tmp_path) == [Skip(str(p), "starts with a UTF-16-LE byte-order mark but is not valid UTF-16-LE; "
                                           "re-save it as UTF-8")]


# --- ids, walking, names ---------------------------------------------------------------------------

def test_ids_are_relative_to_the_root_and_stable(tmp_path):
    write(tmp_path / "corpus" / "2021" / "may.jsonl", '{"text": "A."}\n\n{"text": "B."}\n')
    write(tmp_path / "corpus" / "top.txt", "Top story here\nBody.")
    ids = [a.id for a in read(tmp_path / "corpus")]
    assert ids == ["2021/may-L1", "2021/may-L3", "top"]
    assert [a.id for a in read(tmp_path / "corpus" / "2021" / "may.jsonl")] == ["may-L1", "may-L3"]
    # No machine-specific part: the same tree elsewhere gives the same ids.
    with tempfile.TemporaryDirectory() as other:
        write(Path(other) / "c" / "2021" / "may.jsonl", '{"text": "A."}\n\n{"text": "B."}\n')
        write(Path(other) / "c" / "top.txt", "Top story here\nBody.")
        assert [a.id for a in read(Path(other) / "c")] == ids


def test_names_with_spaces_and_non_ascii_letters(tmp_path):
    p1 = write(tmp_path / "sub dir" / "Zürich news.txt", "Snow in Zürich\nIt snowed.")
    p2 = write(tmp_path / "Café 2.json", '{"text": "Open."}')
    assert read(tmp_path) == [
        Article(id="Café 2", title="Open.", text="Open.", path=str(p2)),
        txt_article(p1, "sub dir/Zürich news", "Snow in Zürich", "It snowed."),
    ]


def test_nfd_file_names_give_nfc_ids(tmp_path):
    write(tmp_path / "Zu\u0308rich.txt", "Snow\nIt snowed.")
    assert [a.id for a in read(tmp_path)] == ["Z\u00fcrich"]


def test_sorted_walk_hidden_skipped_unknown_extensions_reported(tmp_path):
    write(tmp_path / "b.txt", "Bee story\nBody b.")
    write(tmp_path / "a" / "c.TXT", "See story\nBody c.")
    write(tmp_path / ".hidden.txt", "Hidden\nBody.")
    write(tmp_path / ".git" / "x.txt", "Hidden\nBody.")
    notes = write(tmp_path / "notes.md", "# notes")
    bare = write(tmp_path / "README", "readme")
    assert [(type(i).__name__, getattr(i, "id", None) or i.reason) for i in read(tmp_path)] == [
        # Code-point order, the same everywhere: upper case sorts before lower case.
        ("Skip", "file has no extension; use .txt, .json, .jsonl, .jsonl.gz, .html"),
        ("Article", "a/c"), ("Article", "b"), ("Skip", "unsupported file type .md; use .txt, .json, .jsonl, .jsonl.gz, .html"),
    ]
    assert [i.path for i in read(tmp_path) if isinstance(i, Skip)] == [str(bare), str(notes)]


def test_symlink_loop_is_not_followed(tmp_path):
    p = write(tmp_path / "d" / "a.txt", "Loop story\nBody.")
    os.symlink(tmp_path / "d", tmp_path / "d" / "loop")
    assert read(tmp_path / "d") == [
        txt_article(p, "a", "Loop story", "Body."),
        Skip(str(tmp_path / "d" / "loop"), f"symlink loop: leads back to {tmp_path / 'd'}; not followed",
             warning=True),
    ]


def test_self_referencing_symlink(tmp_path):
    os.symlink(tmp_path / "me", tmp_path / "me")
    assert read(tmp_path) == [Skip(str(tmp_path / "me"), "symlink loop (the link points back to itself); "
                                                          "not followed", warning=True)]


def test_symlink_to_a_file_is_read_once(tmp_path):
    real = write(tmp_path / "b_real.txt", "Linked story\nBody.")
    os.symlink(real, tmp_path / "a_link.txt")
    os.symlink(tmp_path / "gone.txt", tmp_path / "c_broken.txt")
    assert read(tmp_path) == [
        txt_article(tmp_path / "a_link.txt", "a_link", "Linked story", "Body."),
        Skip(str(real), f"same file as {tmp_path / 'a_link.txt'}, which was already read; read once", warning=True),
        Skip(str(tmp_path / "c_broken.txt"),
             f"broken symlink: its target {str(tmp_path / 'gone.txt')!r} does not exist; fix or remove the link"),
    ]


def test_missing_path_and_single_path_argument(tmp_path):
    assert list(read_articles(str(tmp_path / "nope"))) == [
        Skip(str(tmp_path / "nope"), "no such file or folder; check the path")]


# --- bad input -------------------------------------------------------------------------------------

def test_zero_byte_and_whitespace_only_files(tmp_path):
    e = write(tmp_path / "empty.txt", b"")
    w = write(tmp_path / "white.txt", " \n\t\n")
    j = write(tmp_path / "white.json", "  \n")
    assert read(tmp_path) == [
        Skip(str(e), EMPTY_REASON),
        Skip(str(j), "no JSON: the file holds only whitespace; add an article object or delete the file"),
        Skip(str(w), "no text: the file holds only whitespace; add the article text or delete the file"),
    ]


def test_binary_files(tmp_path):
    a = write(tmp_path / "a.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    b = write(tmp_path / "b.jsonl", b"\x00\x01\x02\x03")
    c = write(tmp_path / "c.html", b"\x01\x02\x03\x04\x05\x06\x07\x08" * 20)
    assert read(tmp_path) == [
        Skip(str(a), BINARY_REASON),
        Skip(str(b), BINARY_REASON),
        Skip(str(c), "binary file (mostly control characters, not text); leave it out or convert it to text"),
    ]


def test_json_array_of_numbers(tmp_path):
    p = write(tmp_path / "nums.json", "[1, 2.5, true]")
    reason = '; each element must be an object with a "text" field'
    assert read(tmp_path) == [
        Skip(str(p), "element 0 of the list is a number, not an article object" + reason, 0),
        Skip(str(p), "element 1 of the list is a number, not an article object" + reason, 1),
        Skip(str(p), "element 2 of the list is a boolean, not an article object" + reason, 2),
    ]


def test_json_top_level_scalar_and_empty_list_and_syntax_error(tmp_path):
    a = write(tmp_path / "a.json", '"just a string"')
    b = write(tmp_path / "b.json", "[]")
    c = write(tmp_path / "c.json", '{\n  "text": "x",\n  "title": }')
    assert read(tmp_path) == [
        Skip(str(a), "the JSON is a string; expected an article object or a list of them"),
        Skip(str(b), "the JSON list is empty; no articles to read"),
        Skip(str(c), "not valid JSON: Expecting value (line 3, column 12); fix the file "
                     "(python -m json.tool shows where)", 3),
    ]


def test_deeply_nested_json_file_and_line(tmp_path):
    deep = write(tmp_path / "deep.json", "[" * 200_000)
    lines = write(tmp_path / "deep.jsonl", '{"text": "Before."}\n' + "[" * 200_000 + '\n{"text": "After."}\n')
    assert read(tmp_path) == [
        Skip(str(deep), DEEP_REASON),
        Article(id="deep-L1", title="Before.", text="Before.", path=str(lines), line=1),
        Skip(str(lines), DEEP_REASON, 2),
        Article(id="deep-L3", title="After.", text="After.", path=str(lines), line=3),
    ]


def test_wrong_field_types(tmp_path):
    p = write(tmp_path / "t.jsonl", "\n".join(json.dumps(r) for r in [
        {"text": 42},
        {"text": ["a", "b"]},
        {"body": {"p": "x"}},
        {"text": "Fine text.", "title": 2021},
        {"text": "Fine text.", "title": ["x"], "url": 5, "source": [1], "authors": 3.5},
        {"id": "  ", "text": "Has an empty id."},
        {"id": {"a": 1}, "text": "Has an object id."},
        {"id": 12, "text": "Has a number id."},
    ]))
    s = str(p)
    assert read(tmp_path) == [
        Skip(s, '"text" is a number, not a string; put the article text in "text" as a string', 1),
        Skip(s, '"text" is a list, not a string; put the article text in "text" as a string', 2),
        Skip(s, '"body" is an object, not a string; put the article text in "body" as a string', 3),
        Article(id="t-L4", title="2021", text="Fine text.", path=s, line=4),
        Article(id="t-L5", title="Fine text.", text="Fine text.", authors=["3.5"], path=s, line=5),
        Skip(s, '"title" is a list, not a string; used the start of the text instead', 5, warning=True),
        Skip(s, '"source" is a list, not a name; left it out', 5, warning=True),
        Skip(s, '"url" is a number, not a string; left it out', 5, warning=True),
        Skip(s, '"id" is empty; give the record a non-empty id or leave the field out', 6),
        Skip(s, '"id" is an object, not a string or number; fix the id or leave the field out', 7),
        Article(id="12", title="Has a number id.", text="Has a number id.", path=s, line=8),
    ]


def test_no_text_or_whitespace_text(tmp_path):
    p = write(tmp_path / "n.json", json.dumps([{"title": "Only a title"}, {"text": " \n ", "body": None}, {}]))
    s = str(p)
    assert read(tmp_path) == [
        Skip(s, 'no text: the record has no "text" (or "body"/"content") field; add the article text', 0),
        Skip(s, 'no text: "text" is empty or only whitespace; add the article text or drop the record', 1),
        Skip(s, 'no text: the record has no "text" (or "body"/"content") field; add the article text', 2),
    ]


def test_nan_in_json_becomes_null(tmp_path):
    write(tmp_path / "n.json", '{"text": "Words.", "score": NaN, "rank": 1}')
    [article] = read(tmp_path)
    assert article.metadata == {"rank": 1}


def test_file_over_the_size_limit(tmp_path):
    p = write(tmp_path / "big.txt", "word " * 300_000)
    j = write(tmp_path / "big.json", json.dumps({"text": "word " * 300_000}))
    assert read(tmp_path, max_file_bytes=1_000_000) == [
        Skip(str(j), "file is 1.5 MB, over the limit of 1 MB; raise NEWSFACET_MAX_FILE_BYTES or split it"),
        Skip(str(p), "file is 1.5 MB, over the limit of 1 MB; raise NEWSFACET_MAX_FILE_BYTES or split it"),
    ]


def test_unreadable_file(tmp_path, monkeypatch):
    p = write(tmp_path / "secret.txt", "Secret story\nBody.")
    ok = write(tmp_path / "z.txt", "Open story\nBody.")
    if os.geteuid() == 0:  # root reads anything: make open() refuse this one file instead
        def refusing_open(path, *args, **kwargs):
            if str(path) == str(p):
                raise PermissionError(13, "Permission denied", str(path))
            return builtins.open(path, *args, **kwargs)
        monkeypatch.setattr(articles, "open", refusing_open, raising=False)
    else:
        p.chmod(0)
    assert read(tmp_path) == [
        Skip(str(p), "permission denied; make the file readable (chmod +r) or leave it out"),
        txt_article(ok, "z", "Open story", "Body."),
    ]


def test_fifo_is_not_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    assert read(tmp_path) == [Skip(str(tmp_path / "pipe.txt"),
                                   "not a regular file (a pipe, socket or device); leave it out")]


def test_unexpected_error_in_one_file_does_not_stop_the_run(tmp_path, monkeypatch):
    bad = write(tmp_path / "a.txt", "Story one\nBody.")
    good = write(tmp_path / "b.txt", "Story two\nBody.")
    real = articles._title_and_body

    def flaky(text):
        if text.startswith("Story one"):
            raise ValueError("boom")
        return real(text)
    monkeypatch.setattr(articles, "_title_and_body", flaky)
    assert read(tmp_path) == [
        Skip(str(bad), "unexpected error while reading (ValueError: boom); please report it with the file"),
        txt_article(good, "b", "Story two", "Body."),
    ]


def test_20_mb_text_is_read_in_bounded_memory(tmp_path):
    para = "The council met again on Tuesday and talked about the bridge for a long time.\n\n"
    p = tmp_path / "big.txt"
    with open(p, "w", encoding="utf-8") as f:
        f.write("A long day at the council\n")
        for _ in range(20_000_000 // len(para) + 1):
            f.write(para)
    size = p.stat().st_size
    tracemalloc.start()
    try:
        [article] = read(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert article.title == "A long day at the council"
    assert len(article.text) == size - len("A long day at the council\n") - 2
    # The bytes and the decoded text exist together once; nothing more.
    assert peak < 2.2 * size


def test_mixed_folder_keeps_every_good_article(tmp_path):
    write(tmp_path / "good one.txt", "Good news\nAll is well.")
    write(tmp_path / "empty.txt", b"")
    write(tmp_path / "bin.txt", b"\x00\x01")
    write(tmp_path / "latin.txt", "Été à Paris\nIl fait chaud.".encode("latin-1"))
    write(tmp_path / "utf16.txt", "Winter in Oslo\nIt is cold.".encode("utf-16"))
    write(tmp_path / "lines.jsonl", '{"text": "A."}\n{oops}\n{"text": "B."}\n')
    write(tmp_path / "nums.json", "[1, 2, 3]")
    write(tmp_path / "deep.json", "[" * 200_000)
    write(tmp_path / "nobody.html", "<html><head><title>x</title></head></html>")
    os.symlink(tmp_path, tmp_path / "loop")
    items = read(tmp_path)
    assert sorted(a.id for a in items if isinstance(a, Article)) == [
        "good one", "latin", "lines-L1", "lines-L3", "utf16"]
    assert sorted(s.where().replace(str(tmp_path) + "/", "") for s in items if isinstance(s, Skip)) == [
        "bin.txt", "deep.json", "empty.txt", "lines.jsonl:2", "loop", "nobody.html",
        "nums.json:0", "nums.json:1", "nums.json:2"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), ext=st.sampled_from([".txt", ".json", ".jsonl", ".jsonl.gz", ".html"]))
def test_any_bytes_give_articles_or_skips_never_an_exception(data, ext):
    with tempfile.TemporaryDirectory() as d:
        Path(d, "f" + ext).write_bytes(data)
        for item in read_articles([d]):
            assert isinstance(item, (Article, Skip))
            if isinstance(item, Article):
                assert item.text.strip() and item.title
                json.dumps(item.metadata)
            else:
                assert item.reason


@pytest.mark.parametrize("name, data", [
    ("u.jsonl", '{"text": "One."}\n{"text": "Two."}\n'.encode("utf-16")),
    ("g.jsonl.gz", gzip.compress(b'{"text": "One."}\n{"text": "Two."}\n')),
    ("p.jsonl", b'{"text": "One."}\n{"text": "Two."}\n'),
])
def test_stopping_early_closes_files_cleanly(tmp_path, name, data):
    write(tmp_path / name, data)
    gen = read_articles([str(tmp_path)])
    assert next(gen).text == "One."
    gen.close()  # a ResourceWarning here would fail the test (filterwarnings = error)
    import gc
    gc.collect()


def test_article_path_is_under_the_resolved_root(tmp_path):
    p = write(tmp_path / "real" / "a.txt", "Alias story\nBody.")
    os.symlink(tmp_path / "real", tmp_path / "alias")
    os.symlink(p, tmp_path / "link.txt")
    assert [a.path for a in read(tmp_path / "alias")] == [str(p)]
    assert [a.path for a in read(tmp_path / "alias" / "a.txt")] == [str(p)]
    assert [(a.id, a.path) for a in read(tmp_path / "link.txt")] == [("link", str(p))]


def test_unlistable_folder_is_reported_and_the_rest_read(tmp_path, monkeypatch):
    write(tmp_path / "locked" / "a.txt", "Locked story\nBody.")
    ok = write(tmp_path / "open" / "b.txt", "Open story\nBody.")
    real_listdir = os.listdir

    def listdir(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_listdir(path)
    monkeypatch.setattr(articles.os, "listdir", listdir)
    assert read(tmp_path) == [
        Skip(str(tmp_path / "locked"), "cannot list this folder: Permission denied; make it readable or leave it out"),
        txt_article(ok, "open/b", "Open story", "Body."),
    ]


def test_long_unreadable_date_is_quoted_short(tmp_path):
    p = write(tmp_path / "a.json", json.dumps({"text": "Words.", "date": "in the 12th month of a year " * 5}))
    assert read(tmp_path)[1] == Skip(
        str(p), "date 'in the 12th month of a year in the 12th…' is not a date newsfacet can read; kept the "
                "article without a date — use YYYY-MM-DD", warning=True)
