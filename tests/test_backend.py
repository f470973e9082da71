"""The backend seam: web/ and the CLI reach the index only through search.backend, whatever engine it is."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from click.testing import CliRunner

from search import backend as backend_mod
from search.cli import main
from search.config import Settings
from search.contracts import FACET_KEYS, IndexMissing, SearchRequest, SearchResult
from web import create_app


class _RecordingSearcher:
    """A searcher answering from a list of records, noting each call (a stand-in engine)."""

    def __init__(self, log):
        self.log = log

    def search(self, req: SearchRequest, messages=None) -> SearchResult:
        self.log.append(("search", req.q))
        facets = {k: {"name": k, "label": k, "results": [{"value": "Ada Lovelace", "count": 1, "selected": False,
                                                           "excluded": False}], "truncated": False} for k in FACET_KEYS}
        facets["date"] = {"name": "date", "label": "Date", "results": [], "truncated": False}
        result = {"id": "engine-1", "title": "From another engine", "published": "2022-03-04", "source": "Wire",
                  "url": None, "snippet": "plain words", "speakers": [], "persons": ["Ada Lovelace"], "places": [],
                  "organizations": [], "quotes": []}
        return SearchResult(total=1, page=1, pages=1, page_size=req.page_size, took_ms=0.1, request=req,
                            results=[result], facets=facets, histogram=[], messages=list(messages or []))

    def article(self, article_id):
        self.log.append(("article", article_id))
        return None

    def close(self):
        self.log.append(("close",))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _RecordingBackend:
    name = "recording"
    log: list = []

    def __init__(self, settings):
        self.settings = settings

    def open_searcher(self):
        if not self.settings.index.name.startswith("present"):
            raise IndexMissing(self.settings.index)
        return _RecordingSearcher(self.log)


@pytest.fixture
def recording(monkeypatch):
    monkeypatch.setitem(backend_mod.BACKENDS, "recording", _RecordingBackend)
    _RecordingBackend.log = []
    return _RecordingBackend


def test_the_web_app_searches_through_the_configured_backend(recording, tmp_path):
    settings = Settings(index=tmp_path / "present", backend="recording")
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    data = client.get("/api/search?q=engines").get_json()
    assert [r["id"] for r in data["results"]] == ["engine-1"]
    assert data["facets"]["person"] == [{"value": "Ada Lovelace", "count": 1, "selected": False, "excluded": False}]
    page = client.get("/?q=engines")
    assert page.status_code == 200 and b"From another engine" in page.data
    # one searcher per request, closed at teardown
    assert recording.log == [("search", "engines"), ("close",), ("search", "engines"), ("close",)]


def test_a_missing_index_of_any_backend_is_the_friendly_503(recording, tmp_path):
    settings = Settings(index=tmp_path / "absent", backend="recording")
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    resp = client.get("/api/search")
    assert resp.status_code == 503 and "newsfacet rebuild" in resp.get_json()["error"]


def test_the_cli_searches_through_the_configured_backend(recording, tmp_path):
    result = CliRunner().invoke(main, ["--index", str(tmp_path / "present"), "--backend", "recording",
                                       "search", "engines", "--json"])
    assert result.exit_code == 0, result.output
    assert '"engine-1"' in result.output and recording.log[0] == ("search", "engines")


def test_an_unknown_backend_is_a_usage_error_naming_the_choices(tmp_path):
    result = CliRunner().invoke(main, ["--index", str(tmp_path), "--backend", "elastic", "stats"])
    assert result.exit_code == 2
    assert "Unknown backend 'elastic'" in result.output and "whoosh" in result.output
    with pytest.raises(backend_mod.BackendError):
        backend_mod.get_backend(replace(Settings(), backend="elastic"))


def test_the_backend_comes_from_the_environment(monkeypatch):
    from search.config import load_settings

    monkeypatch.setenv("NEWSFACET_BACKEND", "recording")
    assert load_settings().backend == "recording"


def test_web_never_imports_whoosh():
    code = ("import sys, web, web.views, web.state, web.charts, web.marking; "
            "print(sorted(m for m in sys.modules if m == 'whoosh' or m.startswith('whoosh.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

