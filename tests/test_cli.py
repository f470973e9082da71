"""The command line through click's CliRunner, and the seed article's acceptance figures."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.cli import main

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_83b8ae0f96c8195e.txt"


def run(*args, **kw):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kw)
    return result


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("seedix") / "index"
    res = run("--index", index_dir, "rebuild", "--quiet", ROOT / "seeds")
    assert res.exit_code == 0, res.output
    return index_dir


@pytest.mark.model
def test_enrich_seed_acceptance(tmp_path):
    out = tmp_path / "seed.jsonl"
    res = run("enrich", SEED, "--output", out)
    assert res.exit_code == 0, res.output
    (rec,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"Antony Blinken", "Volodymyr Zelenskiy"} <= set(rec["persons"])
    assert not {"Blinken", "Zelenskiy"} & set(rec["persons"])
    assert {"Ukraine", "Russia", "Kyiv", "Crimea"} <= set(rec["places"])
    assert {"Antony Blinken", "Volodymyr Zelenskiy"} <= set(rec["speakers"])
    assert any(q["speaker"] == "Antony Blinken" and "reckless and aggressive actions" in q["text"] for q in rec["quotes"])
    assert rec["published"] == "2021-05-06"
    assert "2021-05-06" in rec["dates"]
    for q in rec["quotes"]:
        assert set(q) >= {"speaker", "text", "verb", "start", "end"}
    for key in ("id", "title", "published", "persons", "places", "organizations", "dates", "speakers", "quotes"):
        assert key in rec


@pytest.mark.model
def test_search_seed_by_speaker(seed_index):
    res = run("--index", seed_index, "search", "Russia", "--speaker", "Antony Blinken", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["total"] == 1
    assert data["results"][0]["id"] == "000_83b8ae0f96c8195e"
    assert set(data["facets"]) == {"speaker", "person", "place", "org", "author", "language", "date"}
    assert {"value": "Antony Blinken", "count": 1, "selected": True, "excluded": False} in data["facets"]["speaker"]
    for key in ("id", "title", "published", "source", "url", "snippet", "speakers", "persons", "places", "organizations"):
        assert key in data["results"][0]


@pytest.mark.model
def test_search_text_output_and_stats(seed_index):
    res = run("--index", seed_index, "search", "reckless")
    assert res.exit_code == 0
    assert "1 article" in res.output and "Antony Blinken" in res.output
    res = run("stats", "--index", seed_index, "--json")
    assert json.loads(res.output)["articles"] == 1
    res = run("--index", seed_index, "stats")
    assert "1 articles" in res.output or "1 article" in res.output


def test_stats_without_index_says_what_to_do(tmp_path):
    res = run("--index", tmp_path / "none", "stats")
    assert res.exit_code == 1
    assert "No index at" in res.output and "newsfacet rebuild" in res.output


@pytest.mark.model
def test_rebuild_reports_skips_and_exit_status(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SEED, src / "good.txt")
    (src / "empty.txt").write_bytes(b"")
    (src / "broken.jsonl").write_text('{"id": "j1", "text": "Officials said the port reopened in Halifax."}\n{oops\n')
    index_dir = tmp_path / "ix"
    res = run("--index", index_dir, "rebuild", "--quiet", src)
    assert res.exit_code == 0, res.output
    assert "Indexed 2 articles" in res.output
    assert "broken.jsonl:2" in res.output and "empty.txt" in res.output
    res = run("--index", index_dir, "rebuild", "--quiet", "--strict", src)
    assert res.exit_code == 1
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "empty.txt").write_bytes(b"")
    res = run("--index", index_dir, "rebuild", "--quiet", only_bad)
    assert res.exit_code == 1
    assert "previous index was kept" in res.output
    assert json.loads(run("--index", index_dir, "stats", "--json").output)["articles"] == 2


@pytest.mark.model
def test_update_command(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SEED, src / "seed.txt")
    index_dir = tmp_path / "ix"
    assert run("--index", index_dir, "rebuild", "-q", src).exit_code == 0
    (src / "new.txt").write_text("Harbour reopens\n\nThe harbour in Halifax reopened on Monday, officials said.\n")
    res = run("--index", index_dir, "update", "-q", src)
    assert res.exit_code == 0, res.output
    assert "Updated 1 article, 1 unchanged" in res.output
    (src / "new.txt").unlink()
    res = run("--index", index_dir, "update", "-q", "--json", src)
    assert json.loads(res.output)["removed"] == 1


def test_unknown_model_is_a_clear_error(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("Officials said the port reopened.")
    res = run("--index", tmp_path / "ix", "rebuild", "-q", "--model", "no_such_pipeline", src)
    assert res.exit_code == 1
    assert "spaCy pipeline 'no_such_pipeline' is not installed" in res.output


def test_long_texts_are_enriched_in_pieces_with_offsets_kept():
    from search.enrich import merge_analyses, split_text

    text = ("One paragraph here.\n\n" * 30) + "x" * 50
    pieces = split_text(text, 100)
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 100 for _, p in pieces)
    assert all(text[off:off + len(p)] == p for off, p in pieces)
    merged = merge_analyses([
        (0, {"persons": ["Antony Blinken"], "speakers": ["Antony Blinken"],
             "quotes": [{"speaker": "Antony Blinken", "text": "a", "start": 1, "end": 2}]}),
        (500, {"persons": ["Blinken", "Jane Roe"], "speakers": ["Blinken"],
               "quotes": [{"speaker": "Blinken", "text": "b", "start": 3, "end": 4}],
               "entities": [{"label": "person", "start": 0, "end": 7, "text": "Blinken", "value": "Blinken"}]}),
    ])
    assert merged["persons"] == ["Antony Blinken", "Jane Roe"]
    assert merged["speakers"] == ["Antony Blinken"]
    assert [(q["speaker"], q["start"], q["end"]) for q in merged["quotes"]] == [("Antony Blinken", 1, 2),
                                                                                ("Antony Blinken", 503, 504)]
    assert merged["entities"][0]["value"] == "Antony Blinken" and merged["entities"][0]["start"] == 500


def test_bad_alias_file_names_its_line(tmp_path):
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("Volodymyr Zelensky = Zelenskiy, Zelenskyy\nno equals sign here\n")
    res = run("--index", tmp_path / "ix", "rebuild", "-q", "--aliases", aliases, SEED)
    assert res.exit_code == 1
    assert f"{aliases}:2:" in res.output and "--aliases" in res.output
    assert not (tmp_path / "ix" / "CURRENT").exists()


def test_an_article_the_pipeline_raises_on_is_skipped_with_its_line(tmp_path):
    """The batch goes on without it (analyse_texts finds it; a Dask worker does the same, tests/test_cluster.py)."""
    import spacy
    from spacy.language import Language

    from search.articles import Skip, read_articles
    from search.config import Settings
    from search.enrich import Enricher

    if not Language.has_factory("test_raise_on_marker"):
        @Language.component("test_raise_on_marker")
        def raise_on_marker(doc):
            if "Zqxraise" in doc.text:
                raise ValueError("a test article enrichment raises on")
            return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("test_raise_on_marker")
    src = tmp_path / "notes.jsonl"
    src.write_text("".join(json.dumps({"id": f"n{i}", "title": f"Harbour note {i}",
                                       "text": f"The harbour opened at dawn.{' Zqxraise' if i == 6 else ''} Note {i}."}) + "\n"
                           for i in range(10)))
    out = list(Enricher(Settings(), nlp=nlp).enrich(read_articles([str(src)])))
    assert sorted(o["id"] for o in out if isinstance(o, dict)) == sorted(f"n{i}" for i in range(10) if i != 6)
    skips = [o for o in out if isinstance(o, Skip)]
    assert [(s.path, s.line) for s in skips] == [(str(src), 7)]
    assert "ValueError: a test article enrichment raises on" in skips[0].reason


def test_scheduler_comes_from_the_environment_and_a_bad_one_is_named(tmp_path, monkeypatch):
    """NEWSFACET_SCHEDULER sends enrichment to a cluster; an address Dask cannot use fails before any work."""
    pytest.importorskip("distributed")
    src = tmp_path / "notes.jsonl"
    src.write_text(json.dumps({"id": "n1", "title": "Harbour note", "text": "The harbour opened at dawn."}) + "\n")
    monkeypatch.setenv("NEWSFACET_SCHEDULER", "harbour-host")
    res = run("--index", tmp_path / "ix", "rebuild", "-q", src)
    assert res.exit_code == 1
    assert ("--scheduler / NEWSFACET_SCHEDULER 'harbour-host' is not a Dask scheduler address (missing port number"
            in res.output)
    assert "The previous index was kept" in res.output
    assert not (tmp_path / "ix" / "CURRENT").exists()
