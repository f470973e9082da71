"""newsfacet as a user installs it, and what happens when a reader's library is missing.

`make` upgrades pip before installing, which hid a real failure: the stock pip of a fresh venv (23.2 with
Python 3.11) does not match trafilatura's `lxml[html_clean]` against lxml 6, so lxml_html_clean was never
installed and no HTML page could be read. These tests use the stock pip, on purpose never upgraded.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from warm_cache import cli_env, prewarm, run_newsfacet

from search import articles
from search.articles import Article, ReaderUnavailable, read_articles

ROOT = Path(__file__).resolve().parents[1]
INDEX_URL = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/")

# A page written for these tests (no publisher's text): a headline, two paragraphs, a quote.
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour ferry sails again after storm repairs</title>
<meta name="date" content="2024-03-12"></head>
<body><nav><a href="/">Home</a> | <a href="/local">Local</a></nav>
<article><h1>Harbour ferry sails again after storm repairs</h1>
<p>The harbour ferry carried its first passengers in three weeks on Tuesday, after crews in Port Elwyn
finished rebuilding the landing stage that the February storm had torn loose.</p>
<p>"We are glad to be back on the water, and the regulars are glad to skip the long drive," said Mara Quint,
who runs the service for the town council. The repairs were paid for from the council's storm fund.</p>
</article><footer>Port Elwyn Gazette</footer></body></html>
"""


# -- the stock pip resolves everything the readers import (needs PyPI) ------------------------------
def _pypi_problem() -> str | None:
    """Why the package index cannot be reached from here, or None when it answers."""
    try:
        with urllib.request.urlopen(INDEX_URL.rstrip("/") + "/pip/", timeout=10) as response:
            response.read(1)
    except (OSError, urllib.error.URLError) as exc:
        return f"{INDEX_URL} did not answer: {exc}"
    return None


@pytest.fixture(scope="module")
def pypi():
    """Skip, saying how to run these tests, when the package index is out of reach."""
    problem = _pypi_problem()
    if problem:
        pytest.skip(f"needs the package index (no network here: {problem}); run it where PyPI answers: `make test` "
                    "runs the dry run, `make test-long` the real install (both: `.venv/bin/python -m pytest "
                    "tests/test_packaging.py -m network`)")


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    """The files a clone of this working tree holds (tracked, plus new ones not ignored), copied elsewhere,
    so that building the package neither reads this tree's venvs and index nor writes into it."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape")
    dest = tmp_path_factory.mktemp("clone") / "newsfacet"
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if src.is_file():  # a file deleted but not yet committed is still listed
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def _stock_venv(path: Path) -> Path:
    """A fresh venv with the pip its Python bundles (never upgraded); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    return path / "bin" / "python"


def _canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


# Reads one file of every kind newsfacet reads, then prints the distributions whose modules got imported.
_PROBE = r"""
import gzip, json, sys
from importlib.metadata import packages_distributions
from pathlib import Path
from search.articles import Article, read_articles
folder = Path(sys.argv[1])
got = [a for a in read_articles([str(folder)]) if isinstance(a, Article)]
assert len(got) == 5, got
owners = packages_distributions()
used = set()
for name in list(sys.modules):
    top = name.partition(".")[0]
    if top not in sys.stdlib_module_names:
        used.update(owners.get(top, []))
used.discard("newsfacet")
print(json.dumps(sorted(used)))
"""


def _reader_distributions(folder: Path) -> set[str]:
    """Distributions the readers import while reading a file of each kind (measured, not listed by hand)."""
    folder.mkdir()
    (folder / "note.txt").write_text("Ferry times change\n\nThe ferry leaves at nine from now on.\n", encoding="utf-8")
    record = {"title": "Bridge opens", "text": "The new bridge opened to walkers.", "date": "12 March 2024"}
    (folder / "one.json").write_text(json.dumps(record), encoding="utf-8")
    (folder / "lines.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    (folder / "packed.jsonl.gz").write_bytes(gzip.compress((json.dumps(record) + "\n").encode()))
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", _PROBE, str(folder)], cwd=ROOT, env=cli_env(), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return {_canonical(n) for n in json.loads(out.stdout)}


@pytest.mark.slow
@pytest.mark.network
def test_stock_pip_installs_every_library_the_readers_import(pypi, project_copy, tmp_path):
    """`pip install --dry-run` of the project with a fresh venv's own pip: lxml_html_clean and every other
    distribution the readers import is in what it would install."""
    needed = _reader_distributions(tmp_path / "inputs")
    # The probe really went through the HTML and date readers (else the comparison below proves little).
    assert {"trafilatura", "lxml-html-clean", "justext", "lxml", "dateparser"} <= needed
    python = _stock_venv(tmp_path / "venv")
    report = tmp_path / "report.json"
    run = subprocess.run([str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--retries", "2", "--timeout",
                          "60", "--report", str(report), str(project_copy)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    resolved = {_canonical(item["metadata"]["name"]) for item in data["install"]}
    present = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True,
                             check=True).stdout
    resolved |= {_canonical(d["name"]) for d in json.loads(present)}  # pip (and setuptools) come with the venv
    assert "lxml-html-clean" in resolved, f"pip {data['pip_version']} would not install lxml_html_clean"
    assert needed - resolved == set(), f"pip {data['pip_version']} leaves out what the readers import"


@pytest.mark.long
@pytest.mark.network
def test_stock_pip_install_reads_an_html_page(pypi, project_copy, tmp_path):
    """A real install into a fresh venv with its stock pip, then `newsfacet rebuild` of an HTML page and a search."""
    python = _stock_venv(tmp_path / "venv")
    run = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--retries", "2", "--timeout", "60",
                          str(project_copy)], capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "ferry.html").write_text(PAGE, encoding="utf-8")
    newsfacet = str(python.parent / "newsfacet")
    index = tmp_path / "index"
    env = cli_env()
    built = subprocess.run([newsfacet, "--index", str(index), "rebuild", "--quiet", "--strict", str(pages)],
                           capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "Indexed 1 article, 0 skipped" in built.stdout
    found = subprocess.run([newsfacet, "--index", str(index), "search", "ferry", "--json"], capture_output=True,
                           text=True, timeout=300, env=env, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert result["total"] == 1
    (hit,) = result["results"]
    assert hit["title"] == "Harbour ferry sails again after storm repairs"
    assert hit["published"].startswith("2024-03-12")
    assert "Mara Quint" in hit["speakers"]


# -- a reader whose library will not import: one clear message, not a skip per file ----------------
def _two_kinds(folder: Path, pages: int = 3) -> Path:
    """A folder with a text article and a few HTML pages."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a-note.txt").write_text("Ferry times change\n\nThe ferry leaves at nine from now on.\n",
                                       encoding="utf-8")
    for i in range(pages):
        (folder / f"page-{i}.html").write_text(PAGE, encoding="utf-8")
    return folder


def test_missing_html_library_stops_reading_with_the_command_that_fixes_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # `import trafilatura` now fails
    monkeypatch.setattr(articles, "_trafilatura", None)
    items = read_articles([str(_two_kinds(tmp_path / "in"))])
    first = next(items)
    assert isinstance(first, Article) and first.title == "Ferry times change"
    with pytest.raises(ReaderUnavailable) as caught:
        next(items)
    message = str(caught.value)
    assert message.startswith("cannot read .html and .htm files: the Python package trafilatura is missing")
    assert f"{sys.executable} -m pip install trafilatura" in message
    assert "please report" not in message


def test_missing_dateparser_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dateparser", None)
    monkeypatch.setattr(articles, "_dateparser", None)
    path = tmp_path / "dated.jsonl"
    path.write_text(json.dumps({"text": "The pier reopened.", "date": "12 March 2024"}) + "\n", encoding="utf-8")
    with pytest.raises(ReaderUnavailable, match=r"dates other than YYYY-MM-DD: the Python package dateparser"):
        list(read_articles([str(path)]))
    # ISO dates never need it
    path.write_text(json.dumps({"text": "The pier reopened.", "date": "2024-03-12"}) + "\n", encoding="utf-8")
    (art,) = read_articles([str(path)])
    assert art.published == "2024-03-12"


# `newsfacet` with lxml_html_clean made unimportable, as on a stock-pip install before the fix.
_WITHOUT_CLEANER = "import sys; sys.modules['lxml_html_clean'] = None; from search.cli import main; sys.exit(main())"


def _newsfacet_without_cleaner(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _WITHOUT_CLEANER, *map(str, args)], env=cli_env(),
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.mark.parametrize("command", ["rebuild", "update"])
def test_cli_without_lxml_html_clean_says_so_once_and_keeps_the_index(tmp_path, command):
    index = tmp_path / "index"
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "first.txt").write_text("Council meets\n\nThe council met on Monday to plan the budget.\n",
                                     encoding="utf-8")
    prewarm(index, [texts])  # analyses cached: no spaCy model is loaded anywhere in this test
    built = run_newsfacet("--index", index, "rebuild", "--quiet", texts)
    assert built.returncode == 0, built.stderr
    current = (index / "CURRENT").read_text()

    folder = _two_kinds(texts)  # the same folder, now with HTML pages in it
    run = _newsfacet_without_cleaner("--index", index, command, "--quiet", folder)
    assert run.returncode == 1
    assert run.stderr.count("cannot read .html and .htm files") == 1, run.stderr
    assert "the Python package lxml_html_clean is missing" in run.stderr
    assert f"{sys.executable} -m pip install lxml_html_clean" in run.stderr
    assert "The index was not changed." in run.stderr
    assert "please report" not in run.stderr and "skipped" not in run.stderr
    assert (index / "CURRENT").read_text() == current
    assert sorted(p.name for p in index.iterdir() if p.name.endswith(".tmp")) == []


def test_enrich_without_lxml_html_clean_says_so_once(tmp_path):
    run = _newsfacet_without_cleaner("enrich", _two_kinds(tmp_path / "in"), "--output", tmp_path / "out.jsonl")
    assert run.returncode == 1
    assert run.stderr.count("cannot read .html and .htm files") == 1, run.stderr
    assert f"{sys.executable} -m pip install lxml_html_clean" in run.stderr
    assert "please report" not in run.stderr
