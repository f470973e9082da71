"""The enrichment cache key covers every module and data file that shapes an analysis, as they are added."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from search.enrich import analysis_sources, code_digest, neutral_reason, sources_digest

SEARCH = Path(__file__).resolve().parents[1] / "search"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path):
    """A made-up `search` package: enrich imports modules at the top and inside functions, a package with
    relative imports, data files, a module declaring itself neutral; one module nothing imports."""
    root = tmp_path / "search"
    write(root, "__init__.py", "")
    write(root, "enrich.py", "from search.config import VERSION\nfrom search import dates\n\n\ndef load():\n"
                             "    from search.entities import configure\n    return configure\n")
    write(root, "config.py", "from search.units import MS\nANALYSIS_NEUTRAL = 'values that matter are keyed'\n"
                             "VERSION = '1'\n")
    write(root, "units.py", "MS = 1000\n")  # imported only by a neutral module: still followed
    write(root, "dates.py", "import re\n")
    write(root, "entities.py", "from search.quotes import extract\n")
    write(root, "quotes/__init__.py", "from .spans import find\n\n\ndef extract():\n    return find()\n")
    write(root, "quotes/spans.py", "from ..names import clean\n\n\ndef find():\n    return clean\n")
    write(root, "quotes/model.py", "WEIGHTS = 'loaded by name at run time'\n")
    write(root, "names.py", "clean = str\n")
    write(root, "indexer.py", "from search.enrich import load\n")  # imports enrich, is not imported by it
    write(root, "data/speaker-model.bin", "weights")
    write(root, "data/lists/verbs.txt", "say\nclaim\n")
    return root


def test_sources_follow_imports_into_packages_and_take_every_data_file(tree):
    got = {p.relative_to(tree).as_posix() for p in analysis_sources(tree)}
    assert got == {"__init__.py", "enrich.py", "units.py", "dates.py", "entities.py", "names.py", "quotes/__init__.py",
                   "quotes/spans.py", "quotes/model.py", "data/speaker-model.bin", "data/lists/verbs.txt"}


@pytest.mark.parametrize("rel", ["quotes/model.py", "data/lists/verbs.txt", "names.py", "units.py"])
def test_the_digest_changes_when_any_source_changes_and_not_for_other_modules(tree, rel):
    before = sources_digest(tree)
    (tree / "indexer.py").write_text("# an unrelated edit\n", encoding="utf-8")
    (tree / "config.py").write_text("ANALYSIS_NEUTRAL = 'values that matter are keyed'\nVERSION = '2'\n"
                                    "from search.units import MS\n", encoding="utf-8")
    assert sources_digest(tree) == before
    path = tree / rel
    path.write_text(path.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert sources_digest(tree) != before


def test_only_a_stated_reason_makes_a_module_neutral(tree):
    assert neutral_reason(tree / "config.py") == "values that matter are keyed"
    for text in ("ANALYSIS_NEUTRAL = ''\n", "ANALYSIS_NEUTRAL = True\n", "def f():\n    ANALYSIS_NEUTRAL = 'inside'\n"):
        (tree / "names.py").write_text(text, encoding="utf-8")
        assert neutral_reason(tree / "names.py") is None
        assert tree / "names.py" in analysis_sources(tree)


def test_a_new_module_imported_by_enrichment_is_covered(tree):
    before = sources_digest(tree)
    write(tree, "lang/__init__.py", "")
    write(tree, "lang/fr.py", "RULES = []\n")
    (tree / "quotes/spans.py").write_text("from search.lang import fr\n", encoding="utf-8")
    assert tree / "lang/fr.py" in analysis_sources(tree)
    assert sources_digest(tree) != before


ENRICH_AND_LIST_MODULES = """
import json, sys
from search.articles import Article
from search.config import Settings
from search.enrich import Enricher
article = Article(id="x", title="Harbour", published="2023-02-01",
                  text='Mayor Jane Porter said on Monday that the harbour would reopen. "It is ready," Porter said.')
records = list(Enricher(Settings()).enrich([article]))
assert records and records[0]["speakers"], records
print(json.dumps(sorted({m.__file__ for name, m in list(sys.modules.items())
                         if (name == "search" or name.startswith("search.")) and getattr(m, "__file__", None)})))
"""


@pytest.mark.model
def test_every_search_module_a_real_enrichment_imports_is_covered():
    """Run an enrichment with the real model in a fresh interpreter and look at what it imported."""
    done = subprocess.run([sys.executable, "-c", ENRICH_AND_LIST_MODULES], capture_output=True, text=True,
                          timeout=300, cwd=SEARCH.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    imported = {Path(f).resolve() for f in json.loads(done.stdout.strip().splitlines()[-1])}
    covered = {p.resolve() for p in analysis_sources()}
    # Each module left out of the key says why (ANALYSIS_NEUTRAL); a new one that does not is a failure here.
    unexplained = {str(p.relative_to(SEARCH)) for p in imported - covered if not neutral_reason(p)}
    assert unexplained == set(), "enrichment imports modules the cache key neither hashes nor calls neutral"
    assert len(covered & imported) >= 5  # the check saw the real thing: enrich, entities, quotes, names, dates...
    assert code_digest() == sources_digest(SEARCH)
