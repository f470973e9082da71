"""Read articles from .txt, .json, .jsonl(.gz) and .html files into plain Article records.

Ids. A record's own ``id`` field (coerced to str, stripped) wins. Otherwise the id is built from the
file's path relative to its *root* -- the folder given on the command line, or the folder holding a
file given directly -- with "/" separators, NFC-normalised, without the extension (``.jsonl.gz``
counts as one extension), plus ``-L<line>`` (1-based) for a JSON Lines record or ``-I<index>``
(0-based) for an element of a JSON list. No absolute path ever enters an id, so ids are the same on
every run and machine:

    seeds/000_83b8ae0f96c8195e.txt via root seeds/   -> 000_83b8ae0f96c8195e
    corpus/2021/may.jsonl, line 3, via root corpus/  -> 2021/may-L3
    news.json, element 0, given as a file            -> news-I0

``Skip.path`` is the path as walked from the command-line argument (what the user typed, plus the
part below it). ``Article.path`` is absolute: the resolved root joined with that lower part (links
inside the tree are kept as walked; a file given directly is fully resolved), so it lies under
``Path(root).resolve()`` and the indexer can tell which files under a root are gone.
``Skip.line`` / ``Article.line`` is the 1-based line in JSON Lines and the 0-based index in a JSON list.
"""
from __future__ import annotations

import codecs
import contextlib
import errno
import gzip
import io
import json
import logging
import os
import re
import shlex
import stat
import sys
import unicodedata
import warnings
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

# Read by search/enrich.py (analysis_sources): why this module's source stays out of the enrichment cache key.
ANALYSIS_NEUTRAL = ("what the analysis sees of an article, its text and date, is itself in the enrichment "
                    "cache key")


@dataclass
class Article:
    """One article as read from disk, before any NLP."""

    id: str
    title: str
    text: str
    published: str | None = None  # ISO date "YYYY-MM-DD" (or datetime) from metadata, else None
    source: str | None = None
    url: str | None = None
    authors: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)  # other fields of JSON records, html meta
    path: str = ""  # absolute path of the file it came from
    line: int | None = None  # 1-based line in JSON Lines, index in a JSON list
    encoding: str = "utf-8"


@dataclass
class Skip:
    """A file (or line) that could not be read, and why, in words a user can act on."""

    path: str
    reason: str
    line: int | None = None
    warning: bool = False  # True: the article was still read (e.g. duplicate id, truncated)

    def where(self) -> str:
        """file[:line] for messages (printable even when the file name is not valid UTF-8)."""
        path = printable(self.path)
        return f"{path}:{self.line}" if self.line is not None else path


def printable(path: str) -> str:
    """A path as text that can be printed, stored and JSON-encoded: undecodable bytes of a file name
    (surrogate escapes, which no UTF-8 stream, index or JSON file accepts) shown as \\xNN."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        try:
            return os.fsencode(path).decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return path.encode("utf-8", "replace").decode("utf-8")


SUPPORTED = (".txt", ".json", ".jsonl", ".jsonl.gz", ".html", ".htm")
_UNSUPPORTED_HINT = "use .txt, .json, .jsonl, .jsonl.gz, .html"
# Only this much of a file is looked at to decide "binary": NULs near the start are the tell.
_SNIFF_BYTES = 8192
_TEXT_KEYS = ("text", "body", "content")
_DATE_KEYS = ("published", "date")
_AUTHOR_KEYS = ("authors", "author")
_HEADLINE_MAX = 150
_TITLE_MAX = 120


class ReaderUnavailable(RuntimeError):
    """A library a reader needs will not import: no file of that kind can be read until it is installed.

    Not a Skip: it is the same for every such file, so it stops the run with one message (naming the command
    that fixes it) instead of one "unexpected error" per file."""


def _unavailable(exc: ImportError, what: str) -> ReaderUnavailable:
    """The ReaderUnavailable for a failed import: what cannot be read, what is missing, the command that fixes it."""
    text = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else "no message"
    # lxml >= 5.2 raises a plain ImportError (no .name) from its lxml.html.clean stub when the
    # separate lxml_html_clean package is absent (trafilatura -> jusText -> lxml.html.clean).
    module = "lxml_html_clean" if "lxml_html_clean" in str(exc) else (exc.name or "").partition(".")[0]
    python = shlex.quote(sys.executable)
    if module:
        fix = f"{python} -m pip install {module}"
        missing = f"the Python package {module} is missing or broken"
    else:
        fix = f"{python} -m pip install --force-reinstall newsfacet  (in a checkout: make install)"
        missing = "a library it needs does not import"
    return ReaderUnavailable(f"cannot read {what}: {missing} ({type(exc).__name__}: {text}). "
                             f"Install it with:\n    {fix}")


class _Bad(Exception):
    """A problem with one file or record; its message is the Skip reason."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def read_articles(paths, max_file_bytes: int = 50_000_000) -> Iterator[Article | Skip]:
    """Yield an Article for every readable article under paths, a Skip for everything else."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    seen_dirs: dict[str, str] = {}  # real path -> path it was first entered by
    seen_files: dict[str, str] = {}
    for arg in paths:
        arg = os.fsdecode(arg)
        try:
            st = os.stat(arg)
        except OSError as e:
            yield Skip(arg, _stat_problem(arg, e))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(arg, max_file_bytes, seen_dirs, seen_files)
        else:
            yield from _read_file(arg, os.path.basename(arg), os.path.realpath(arg), max_file_bytes, seen_files)


def _stat_problem(path: str, err: OSError) -> str:
    """Why a path cannot even be looked at, in words a user can act on."""
    if err.errno == errno.ELOOP:
        return "symlink loop (the link points back to itself); not followed"
    if isinstance(err, FileNotFoundError):
        if os.path.islink(path):
            return f"broken symlink: its target {printable(os.readlink(path))!r} does not exist; fix or remove the link"
        return "no such file or folder; check the path"
    if isinstance(err, PermissionError):
        return "permission denied; make it readable (chmod +r) or leave it out"
    return f"cannot open it: {err.strerror or err}"


def _walk(top: str, max_file_bytes: int, seen_dirs: dict, seen_files: dict) -> Iterator[Article | Skip]:
    """Depth-first walk of one root folder, entries in sorted order, each real folder entered once."""
    real_top = os.path.realpath(top)
    seen_dirs.setdefault(real_top, top)
    # An explicit stack rather than recursion: a very deep tree must not hit Python's recursion limit.
    stack: list[tuple[str, str]] = [(top, "")]
    while stack:
        path, rel = stack.pop()
        if rel:  # the root itself was checked by the caller
            try:
                st = os.stat(path)
            except OSError as e:
                yield Skip(path, _stat_problem(path, e), warning=e.errno == errno.ELOOP)
                continue
            if not stat.S_ISDIR(st.st_mode):
                yield from _read_file(path, rel, os.path.join(real_top, rel), max_file_bytes, seen_files)
                continue
            real = os.path.realpath(path)
            if real in seen_dirs:
                # A link back to an ancestor would walk forever; a second link to a folder would read it twice.
                parent = os.path.realpath(os.path.dirname(path))
                if parent == real or parent.startswith(real.rstrip(os.sep) + os.sep):
                    why = f"symlink loop: leads back to {printable(seen_dirs[real])}; not followed"
                else:
                    why = f"leads to {printable(seen_dirs[real])}, which is already read; not read twice"
                yield Skip(path, why, warning=True)
                continue
            seen_dirs[real] = path
        try:
            names = sorted(os.listdir(path))
        except OSError as e:
            yield Skip(path, f"cannot list this folder: {e.strerror or e}; make it readable or leave it out")
            continue
        children = [(os.path.join(path, n), f"{rel}/{n}" if rel else n) for n in names if not n.startswith(".")]
        stack.extend(reversed(children))


def _extension(name: str) -> str:
    """The file's extension in lower case, treating .jsonl.gz as one."""
    lower = name.lower()
    if lower.endswith(".jsonl.gz"):
        return ".jsonl.gz"
    return os.path.splitext(lower)[1]


def _base_id(rel: str) -> str:
    """Stable id from a root-relative path: no extension, '/' separators, NFC (macOS writes NFD names)."""
    rel = rel.replace(os.sep, "/")
    rel = rel[: len(rel) - len(_extension(rel))]
    # Names that are not valid UTF-8 arrive with surrogate escapes, which no index or JSON can store.
    rel = os.fsencode(rel).decode("utf-8", "replace")
    return unicodedata.normalize("NFC", rel)


def _mb(n: int) -> str:
    """Bytes as a short decimal MB figure ("1.5", "50")."""
    x = n / 1_000_000
    return f"{x:.1f}".rstrip("0").rstrip(".") if x >= 0.1 else f"{x:.2g}"


def _read_file(path: str, rel: str, abspath: str, max_file_bytes: int, seen_files: dict
               ) -> Iterator[Article | Skip]:
    """Every Article/Skip from one file; no exception escapes, whatever the file holds."""
    ext = _extension(os.path.basename(path))
    if ext not in SUPPORTED:
        what = f"unsupported file type {ext}" if ext else "file has no extension"
        yield Skip(path, f"{what}; {_UNSUPPORTED_HINT}")
        return
    try:
        st = os.stat(path)
    except OSError as e:
        yield Skip(path, _stat_problem(path, e))
        return
    if not stat.S_ISREG(st.st_mode):
        # Reading a fifo or a device would block or never end.
        yield Skip(path, "not a regular file (a pipe, socket or device); leave it out")
        return
    real = os.path.realpath(path)
    if real in seen_files:
        yield Skip(path, f"same file as {printable(seen_files[real])}, which was already read; read once",
                   warning=True)
        return
    seen_files[real] = path
    if st.st_size == 0:
        yield Skip(path, "empty file (0 bytes); add the article text or delete the file")
        return
    # JSON Lines is streamed, so only a single line is held against the limit (see _read_jsonl).
    if ext != ".jsonl" and ext != ".jsonl.gz" and st.st_size > max_file_bytes:
        yield Skip(path, _too_big(st.st_size, max_file_bytes))
        return
    # Article.path goes into the index, its manifest and JSON: it must be valid text.
    where = _Where(path=path, abspath=printable(abspath), base_id=_base_id(rel))
    if ext == ".txt":
        gen = _read_txt(where, max_file_bytes)
    elif ext == ".json":
        gen = _read_json(where, max_file_bytes)
    elif ext in (".jsonl", ".jsonl.gz"):
        gen = _read_jsonl(where, max_file_bytes, gz=ext == ".jsonl.gz")
    else:
        gen = _read_html(where, max_file_bytes)
    try:
        yield from gen
    except ReaderUnavailable:
        raise  # the same for every file of this kind: one message for the run, not a Skip per file
    except _Bad as e:
        yield Skip(path, e.reason, e.line)
    except PermissionError:
        yield Skip(path, "permission denied; make the file readable (chmod +r) or leave it out")
    except OSError as e:
        yield Skip(path, f"cannot read the file: {e.strerror or e}; check the disk or copy the file again")
    except RecursionError:
        yield Skip(path, "nested too deeply to read; flatten the data (an article is one object with a few fields)")
    except Exception as e:  # noqa: BLE001 -- one bad file must never stop the run
        yield Skip(path, f"unexpected error while reading ({type(e).__name__}: {e}); please report it with the file")


def _too_big(size: int, limit: int) -> str:
    """The over-the-limit message, with how to get past it."""
    return (f"file is {_mb(size)} MB, over the limit of {_mb(limit)} MB; "
            "raise NEWSFACET_MAX_FILE_BYTES or split it")


@dataclass
class _Where:
    """Where records come from: what to name in messages, what to store, what ids derive from."""

    path: str
    abspath: str
    base_id: str


def _read_bytes(where: _Where, max_file_bytes: int) -> bytes:
    """The whole file, refusing to read past the limit even if it grew since os.stat."""
    with open(where.path, "rb") as f:
        # read(n) allocates n bytes up front, so ask for what the file holds, not for the limit.
        expected = min(os.fstat(f.fileno()).st_size, max_file_bytes) + 1
        data = f.read(expected)
        if len(data) == expected and expected <= max_file_bytes:  # it grew since stat
            data += f.read(max_file_bytes + 1 - len(data))
    if len(data) > max_file_bytes:
        raise _Bad(_too_big(os.path.getsize(where.path), max_file_bytes))
    if not data:
        raise _Bad("empty file (0 bytes); add the article text or delete the file")
    return data


# --- decoding ------------------------------------------------------------------------------------

def _latin1_for_undefined(err: UnicodeDecodeError):
    """Codec error handler: cp1252 leaves 5 bytes undefined; read those as Latin-1 rather than fail."""
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("newsfacet-latin1", _latin1_for_undefined)

_BOMS = (  # UTF-32 first: its little-endian BOM begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _bom(head: bytes) -> tuple[str, int] | None:
    """(encoding, BOM length) when the bytes start with a byte-order mark."""
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc, len(bom)
    return None


def _legacy_decode(data: bytes) -> tuple[str, str]:
    """cp1252, with Latin-1 for the bytes cp1252 leaves undefined; names the encoding used."""
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("cp1252", "newsfacet-latin1"), "latin-1"


_BINARY_HINT = ("binary file (it contains NUL bytes); newsfacet reads text, JSON and HTML — "
                "if it is UTF-16 text, save it with a byte-order mark or as UTF-8")


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NULs sit in every other byte, as in UTF-16 of Latin-script text
    saved without a byte-order mark (some Windows tools); None otherwise."""
    half = len(head) // 2
    if half < 8:  # too little to tell
        return None
    even, odd = head[0 : 2 * half : 2], head[1 : 2 * half : 2]
    if odd.count(0) >= 0.4 * half and even.count(0) <= 0.05 * half:
        return "utf-16-le"
    if even.count(0) >= 0.4 * half and odd.count(0) <= 0.05 * half:
        return "utf-16-be"
    return None


def _decode(data: bytes, fallback: str | None = None) -> tuple[str, str]:
    """Bytes to text: BOM, else UTF-8, else the declared fallback, else cp1252/Latin-1."""
    bom = _bom(data[:4])
    if bom:
        enc, n = bom
        try:
            text = data[n:].decode(enc)
        except UnicodeDecodeError:
            raise _Bad(f"starts with a {enc.upper()} byte-order mark but is not valid {enc.upper()}; "
                       "re-save it as UTF-8") from None
        return _check_text(text), enc
    if b"\x00" in data[:_SNIFF_BYTES]:
        enc = _utf16_without_bom(data[:_SNIFF_BYTES])
        if enc:
            try:
                return _check_text(data.decode(enc)), enc
            except UnicodeDecodeError:
                pass
        raise _Bad(_BINARY_HINT)
    try:
        return _check_text(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    if fallback:
        try:
            return _check_text(data.decode(fallback)), fallback
        except (UnicodeDecodeError, LookupError):
            pass
    text, enc = _legacy_decode(data)
    return _check_text(text), enc


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _check_text(text: str) -> str:
    """Reject text that decoded but is mostly control characters (binary data without NULs)."""
    sample = text[:_SNIFF_BYTES]
    if sample and len(_CONTROL.findall(sample)) > len(sample) // 10:
        raise _Bad("binary file (mostly control characters, not text); leave it out or convert it to text")
    return text


def _normalise(text: str) -> str:
    """One newline convention, no NULs, no outer whitespace."""
    # Checks first: on a 20 MB text each replace would copy the whole string.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text.strip()


# --- titles --------------------------------------------------------------------------------------

_CLOSERS = "\"'”’»)]"
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm gov sen rep pres rev hon no nos vs etc "
    "inc ltd co corp dept univ est approx fig jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_SENTENCE_END = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=\s|$)")


def _squash(text: str) -> str:
    """Collapse runs of whitespace to single spaces."""
    return " ".join(text.split())


def _is_headline(line: str, next_line: str) -> bool:
    """A short first line without a final period, followed by a new paragraph, is a headline."""
    if not line or len(line) >= _HEADLINE_MAX or not next_line:
        return False
    if line.rstrip(_CLOSERS).endswith((".", "…")):
        return False
    # A lower-case next line means a hard-wrapped sentence, not a headline above a paragraph.
    return not next_line[0].islower()


def _first_sentence(paragraph: str) -> str:
    """The paragraph up to the first sentence end that is not an abbreviation like "U.S." or "Mr."."""
    for m in _SENTENCE_END.finditer(paragraph):
        if m.group().startswith(".") and len(m.group().rstrip(_CLOSERS)) == 1:
            before = paragraph[: m.start()].rsplit(None, 1)
            word = before[-1].lstrip(_CLOSERS + "(“‘") if before else ""
            if "." in word or (len(word) == 1 and word.isalpha()) or word.lower() in _ABBREVIATIONS:
                continue
        rest = paragraph[m.end():].lstrip()
        if rest and rest[0].islower():
            continue
        return paragraph[: m.end()]
    return paragraph


def _trim(text: str, limit: int = _TITLE_MAX) -> str:
    """At most `limit` characters, cut at a word boundary and marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit // 2 else text[:limit]
    return cut.rstrip(" ,;:-–—") + "…"


def _title_and_body(text: str) -> tuple[str, str]:
    """(title, body) of a normalised text: a headline line is taken off the body, a sentence is not."""
    head = text[:4000]  # titles live at the top; never scan a 20 MB text for them
    end = head.find("\n")
    first = head if end < 0 else head[:end]
    rest_head = "" if end < 0 else head[end + 1 :].lstrip()
    next_line = rest_head.split("\n", 1)[0].strip()
    line = _squash(first)
    if _is_headline(line, next_line):
        start = end + 1
        while start < len(text) and text[start].isspace():
            start += 1
        return line, text[start:]
    paragraph = _squash(re.split(r"\n\s*\n", head, maxsplit=1)[0])
    return _trim(_first_sentence(paragraph)), text


def _title_from_text(text: str) -> str:
    """The title the .txt rule would give this text."""
    return _title_and_body(text)[0]


# --- dates ---------------------------------------------------------------------------------------

_TIME_GIVEN = re.compile(r"\d:\d\d|\d\s*[ap]\.?m\b|T\d\d", re.IGNORECASE)
_dateparser = None


class _BadDate(Exception):
    """A date value that cannot be read; the article is kept without a date."""


def _shown(value: str) -> str:
    """A value cut short enough to quote in a message."""
    return _trim(_squash(value), 40)


def _iso(dt: datetime, with_time: bool) -> str:
    """YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS when the source gave a time (publisher's wall-clock time)."""
    dt = dt.replace(tzinfo=None, microsecond=0)
    return dt.isoformat() if with_time else dt.date().isoformat()


def _from_timestamp(value: float) -> str:
    """Unix seconds (or milliseconds) as a UTC datetime string."""
    if abs(value) > 1e11:  # no article is from the year 5000: this is milliseconds
        value /= 1000
    try:
        return _iso(datetime.fromtimestamp(value, timezone.utc), True)
    except (OverflowError, OSError, ValueError):
        raise _BadDate(f"date {value!r} is not a timestamp newsfacet can read") from None


def _normalise_date(value: Any) -> str | None:
    """ISO date (or datetime, when a time is given) from a metadata value; None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _BadDate(f"date is {_kind(value)}, not a string")
    if isinstance(value, (int, float)):
        return _from_timestamp(value)
    s = value.strip()
    if not s:
        return None
    if s.isdigit() and len(s) in (10, 13):
        return _from_timestamp(int(s))
    try:
        return _iso(datetime.fromisoformat(s), bool(_TIME_GIVEN.search(s)) and len(s) > 10)
    except ValueError:
        pass
    if not any(c.isdigit() for c in s):
        # A year is required, and years are written in digits; this also spares dateparser's
        # slow first-time language detection on words like "someday".
        raise _BadDate(f"date {_shown(s)!r} is not a date newsfacet can read")
    global _dateparser
    with warnings.catch_warnings():
        # dateparser (and pytz/regex under it) warn about their own internals; nothing a user can act on.
        warnings.simplefilter("ignore")
        if _dateparser is None:
            try:
                import dateparser
            except ImportError as exc:
                raise _unavailable(exc, "dates other than YYYY-MM-DD") from exc

            _dateparser = dateparser
        try:
            dt = _dateparser.parse(s[:200], settings={
                # No relative dates ("yesterday") and no filled-in current year: the result
                # must not depend on the day the index was built.
                "PARSERS": ["custom-formats", "absolute-time"],
                "REQUIRE_PARTS": ["year", "month"],
                "PREFER_DAY_OF_MONTH": "first",
                "RETURN_AS_TIMEZONE_AWARE": False,
            })
        except Exception:  # noqa: BLE001 -- dateparser raises assorted errors on odd input
            dt = None
    if dt is None:
        raise _BadDate(f"date {_shown(s)!r} is not a date newsfacet can read")
    return _iso(dt, bool(_TIME_GIVEN.search(s)))


# --- JSON records --------------------------------------------------------------------------------

def _kind(value: Any) -> str:
    """A JSON-ish name for a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _nan_to_none(constant: str) -> None:
    """NaN/Infinity are not JSON; read them as null so metadata stays serialisable."""
    return None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(value: Any) -> Any:
    """Lone surrogates ("\\ud83d" escaped in JSON, half an emoji cut by a scraper) as U+FFFD: no UTF-8
    index or file can store them, and one must not fail the whole run."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if _LONE_SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    return value


def _loads(text: str, line: int | None = None) -> Any:
    """json.loads with messages a user can act on."""
    try:
        value = json.loads(text, parse_constant=_nan_to_none)
        return _without_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value
    except json.JSONDecodeError as e:
        msg = e.msg.removesuffix(" at")  # some of json's messages end in "at", expecting a position
        if line is not None:
            raise _Bad(f"not valid JSON: {msg} (column {e.colno}); fix or delete this line", line) from None
        raise _Bad(f"not valid JSON: {msg} (line {e.lineno}, column {e.colno}); fix the file "
                   "(python -m json.tool shows where)", e.lineno) from None
    except RecursionError:
        # e.g. 200,000 "[": Python's parser gives up on deep nesting; no article looks like that.
        raise _Bad("JSON nested too deeply to read (thousands of [ or {); an article is one object "
                   "with a few fields", line) from None


_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d.", "md", "m.d."})


def _authors(value: Any) -> tuple[list[str], str | None]:
    """(names, warning): a string is split on commas/semicolons, a list taken item by item."""
    if value is None:
        return [], None
    names: list[str] = []
    warning = None
    if isinstance(value, str):
        for part in re.split(r"\s*[;,]\s*", value):
            part = _squash(part)
            if part.lower() in _SUFFIXES and names:  # "John Smith, Jr." is one person
                names[-1] += f", {part}"
            elif part:
                names.append(part)
    elif isinstance(value, (list, tuple)):
        for item in value:
            name = _name_of(item)
            if name:
                names.append(name)
            elif item is not None:
                warning = f"an author is {_kind(item)}, not a name; left it out"
    else:
        name = _name_of(value)
        if name:
            names.append(name)
        else:
            warning = f"authors is {_kind(value)}, not a name or a list of names; left it out"
    unique = list(dict.fromkeys(names))
    return unique, warning


def _name_of(value: Any) -> str | None:
    """A plain name from a string, number or {"name": ...} object (as news APIs give sources/authors)."""
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        value = str(value)
    if isinstance(value, str):
        return _squash(value) or None
    return None


def _record_id(value: Any, default: str) -> str:
    """The record's own id (str, stripped), else the path-based default."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Bad(f'"id" is {_kind(value)}, not a string or number; fix the id or leave the field out')
    ident = str(value).strip()
    if not ident:
        raise _Bad('"id" is empty; give the record a non-empty id or leave the field out')
    return ident


def _record(obj: dict, where: _Where, default_id: str, line: int | None, encoding: str
            ) -> Iterator[Article | Skip]:
    """One Article from a JSON object, plus warning Skips for fields that had to be dropped."""
    warnings_: list[str] = []
    used: set[str] = {"id"}
    ident = _record_id(obj.get("id"), default_id)

    text = None
    empty_key = None
    for key in _TEXT_KEYS:
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _Bad(f'"{key}" is {_kind(value)}, not a string; put the article text in "{key}" as a string',
                       line)
        if value.strip():
            text = _normalise(value)
            used.add(key)
            break
        empty_key = empty_key or key
    if text is None:
        if empty_key:
            raise _Bad(f'no text: "{empty_key}" is empty or only whitespace; add the article text or drop the record',
                       line)
        raise _Bad('no text: the record has no "text" (or "body"/"content") field; add the article text', line)

    title_value = obj.get("title")
    used.add("title")
    if isinstance(title_value, (int, float)) and not isinstance(title_value, bool):
        title_value = str(title_value)
    if isinstance(title_value, str) and title_value.strip():
        title = _squash(title_value)
    else:
        if title_value is not None and not isinstance(title_value, str):
            warnings_.append(f'"title" is {_kind(title_value)}, not a string; used the start of the text instead')
        title = _title_from_text(text)

    published = None
    for key in _DATE_KEYS:
        if obj.get(key) is not None:
            used.add(key)
            try:
                published = _normalise_date(obj[key])
            except _BadDate as e:
                warnings_.append(f"{e}; kept the article without a date — use YYYY-MM-DD")
            break

    source = url = None
    if obj.get("source") is not None:
        used.add("source")
        source = _name_of(obj["source"])
        if source is None:
            warnings_.append(f'"source" is {_kind(obj["source"])}, not a name; left it out')
    if obj.get("url") is not None:
        used.add("url")
        if isinstance(obj["url"], str):
            url = obj["url"].strip() or None
        else:
            warnings_.append(f'"url" is {_kind(obj["url"])}, not a string; left it out')

    authors: list[str] = []
    for key in _AUTHOR_KEYS:
        if obj.get(key) is not None:
            used.add(key)
            authors, warning = _authors(obj[key])
            if warning:
                warnings_.append(warning)
            break

    metadata = {k: v for k, v in obj.items() if k not in used and v is not None}
    yield Article(id=ident, title=title, text=text, published=published, source=source, url=url,
                  authors=authors, metadata=metadata, path=where.abspath, line=line, encoding=encoding)
    for message in warnings_:
        yield Skip(where.path, message, line, warning=True)


def _records(value: Any, where: _Where, encoding: str) -> Iterator[Article | Skip]:
    """Articles from a parsed .json file: one object, or a list of them."""
    if isinstance(value, dict):
        yield from _record(value, where, where.base_id, None, encoding)
        return
    if not isinstance(value, list):
        raise _Bad(f"the JSON is {_kind(value)}; expected an article object or a list of them")
    if not value:
        raise _Bad("the JSON list is empty; no articles to read")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            yield Skip(where.path, f"element {i} of the list is {_kind(item)}, not an article object; "
                                   'each element must be an object with a "text" field', i)
            continue
        try:
            yield from _record(item, where, f"{where.base_id}-I{i}", i, encoding)
        except _Bad as e:
            yield Skip(where.path, e.reason, i)


# --- readers per format --------------------------------------------------------------------------

def _read_txt(where: _Where, max_file_bytes: int) -> Iterator[Article | Skip]:
    """A plain-text article: headline or first sentence as title, paragraphs kept."""
    data = _read_bytes(where, max_file_bytes)
    text, encoding = _decode(data)
    del data  # a 20 MB file should not be held twice while it is cleaned up
    text = _normalise(text)
    if not text:
        raise _Bad("no text: the file holds only whitespace; add the article text or delete the file")
    title, body = _title_and_body(text)
    yield Article(id=where.base_id, title=title, text=body, path=where.abspath, encoding=encoding)


def _read_json(where: _Where, max_file_bytes: int) -> Iterator[Article | Skip]:
    """A .json file holding one article object or a list of them."""
    text, encoding = _decode(_read_bytes(where, max_file_bytes))
    if not text.strip():
        raise _Bad("no JSON: the file holds only whitespace; add an article object or delete the file")
    yield from _records(_loads(text), where, encoding)


def _read_jsonl(where: _Where, max_line_bytes: int, gz: bool) -> Iterator[Article | Skip]:
    """JSON Lines, streamed line by line (also through gzip), one Skip per bad line."""
    raw = gzip.open(where.path, "rb") if gz else open(where.path, "rb")
    with raw:
        try:
            head = raw.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise _Bad(f"not a readable gzip file ({e}); re-compress it with gzip or rename it to .jsonl") from None
        if not head:
            raise _Bad("empty file (no data after decompressing); add articles or delete the file")
        bom = _bom(head[:4])
        if bom is None and b"\x00" in head:
            enc = _utf16_without_bom(head)
            try:
                if enc is None:
                    raise _Bad(_BINARY_HINT)
                _check_text(head.decode(enc, "ignore"))
            except _Bad:
                raise _Bad(_BINARY_HINT) from None
            bom = (enc, 0)  # read like a file with a BOM, there being none to skip
        file_encoding = bom[0] if bom else "utf-8"
        for line, chunk in _lines(raw, max_line_bytes, bom):
            if isinstance(chunk, _Bad):
                yield Skip(where.path, chunk.reason, line)
                continue
            try:
                if isinstance(chunk, bytes):
                    if not chunk.strip():
                        continue
                    if b"\x00" in chunk:
                        raise _Bad("binary data (NUL bytes) on this line; fix or delete this line", line)
                    try:
                        text, encoding = chunk.decode("utf-8"), file_encoding
                    except UnicodeDecodeError:
                        text, encoding = _legacy_decode(chunk)
                else:
                    if not chunk.strip():
                        continue
                    text, encoding = chunk, file_encoding
                obj = _loads(text, line)
                if not isinstance(obj, dict):
                    raise _Bad(f"this line is {_kind(obj)}, not an article object; JSON Lines needs one object "
                               "per line", line)
                yield from _record(obj, where, f"{where.base_id}-L{line}", line, encoding)
            except _Bad as e:
                yield Skip(where.path, e.reason, line)
            except ReaderUnavailable:
                raise
            except Exception as e:  # noqa: BLE001 -- one bad line must not cost the rest of the file
                yield Skip(where.path, f"unexpected error ({type(e).__name__}: {e}); please report it with this "
                                       "line", line)


def _lines(raw, limit: int, bom: tuple[str, int] | None) -> Iterator[tuple[int, bytes | str | _Bad]]:
    """(line number, line) pairs in bounded memory; a line over the limit or a broken stream is a _Bad."""
    newline: bytes | str = b"\n"
    reader = raw
    if bom:
        if bom[0] == "utf-8-sig":
            raw.read(bom[1])
        else:
            # UTF-16/32 cannot be split on b"\n"; decode as a stream instead.
            raw.read(bom[1])
            reader = io.TextIOWrapper(raw, encoding=bom[0], newline="")
            newline = "\n"
    try:
        yield from _numbered_lines(reader, limit, newline, bom)
    finally:
        if reader is not raw:
            # The wrapper must not close (or warn about) the file the caller's `with` owns.
            with contextlib.suppress(ValueError):
                reader.detach()


def _numbered_lines(reader, limit: int, newline: bytes | str, bom: tuple[str, int] | None
                    ) -> Iterator[tuple[int, bytes | str | _Bad]]:
    """The reading loop of _lines."""
    number = 0
    while True:
        try:
            chunk = reader.readline(limit + 1)
            if not chunk:
                return
            number += 1
            if len(chunk) > limit and not chunk.endswith(newline):
                size = len(chunk)
                while True:  # drain the rest of the line without keeping it
                    more = reader.readline(1 << 20)
                    size += len(more)
                    if not more or more.endswith(newline):
                        break
                yield number, _Bad(f"line is over {_mb(size)} MB, more than the limit of {_mb(limit)} MB; "
                                   "raise NEWSFACET_MAX_FILE_BYTES or split the record")
                continue
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            yield number + 1, _Bad(f"the gzip data is truncated or corrupt from here on ({e}); the lines before "
                                   "were read — re-download or re-compress the file")
            return
        except UnicodeDecodeError:
            yield number + 1, _Bad(f"not valid {bom[0].upper() if bom else 'text'} from here on; the lines before "
                                   "were read — re-save the file as UTF-8")
            return
        yield number, chunk


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_trafilatura = None


def _import_trafilatura():
    """trafilatura, imported on first use (it is slow to import) with its logging quietened."""
    global _trafilatura
    if _trafilatura is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                import trafilatura
            except ImportError as exc:
                raise _unavailable(exc, ".html and .htm files") from exc
        # trafilatura and htmldate log every page they cannot use at WARNING/ERROR; we report those
        # as Skips, and without this Python's last-resort handler prints them over the progress bar.
        for name in ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer"):
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET:  # respect a level the application chose
                logger.setLevel(logging.CRITICAL)
        _trafilatura = trafilatura
    return _trafilatura


def _read_html(where: _Where, max_file_bytes: int) -> Iterator[Article | Skip]:
    """An HTML page: main text, title, date, authors and site via trafilatura."""
    data = _read_bytes(where, max_file_bytes)
    declared = _CHARSET.search(data[:4096])
    html, encoding = _decode(data, declared.group(1).decode("ascii").lower() if declared else None)
    del data
    if not re.search(r"<(html|body)\b", html[:_SNIFF_BYTES], re.IGNORECASE):
        # trafilatura finds nothing in a bare fragment ("<p>...</p>"); give it a document around it.
        html = f"<html><body>{html}</body></html>"
    trafilatura = _import_trafilatura()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lxml/htmldate warnings about odd markup; the result is what counts
        try:
            doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
        except ImportError as exc:  # a library trafilatura imports only when a page needs it
            raise _unavailable(exc, ".html and .htm files") from exc
    text = _normalise(doc.text or "") if doc is not None else ""
    if not text:
        raise _Bad("no article text found (the page has no body text); save the article page itself, "
                   "not an empty, index or script-only page")
    title = _squash(doc.title or "")
    if title:
        first, _, rest = text.partition("\n")
        # trafilatura keeps the page's <h1> as the first line of the text; the title already says it.
        if _squash(first) == title and rest.strip():
            text = rest.strip()
    else:
        title = _title_from_text(text)
    warnings_: list[str] = []
    published = None
    try:
        published = _normalise_date(doc.date)
    except _BadDate as e:
        warnings_.append(f"{e}; kept the article without a date")
    authors, _ = _authors(doc.author)
    metadata = {}
    for key in ("description", "hostname", "categories", "tags", "language"):
        value = getattr(doc, key, None)
        if isinstance(value, str) and value.strip():
            metadata[key] = value.strip()
        elif isinstance(value, list) and value:
            metadata[key] = [str(v) for v in value]
    yield Article(id=where.base_id, title=title, text=text, published=published,
                  source=_squash(doc.sitename or "") or None, url=(doc.url or None), authors=authors,
                  metadata=metadata, path=where.abspath, encoding=encoding)
    for message in warnings_:
        yield Skip(where.path, message, warning=True)

