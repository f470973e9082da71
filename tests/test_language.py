"""Language detection (search/language.py) and routing of enrichment by language (search/enrich.py)."""
from __future__ import annotations


import pytest

from search.articles import Article
from search.config import Settings, language_models
from search.language import detect_language


ENGLISH = ("The harbour authority said on Monday that the new ferry terminal would open next spring, "
           "after two years of delays caused by storms and a shortage of steel.")
GERMAN = ("Die Hafenbehörde teilte am Montag mit, dass das neue Fährterminal im nächsten Frühjahr öffnen "
          "werde, nach zwei Jahren Verzögerung durch Stürme und einen Mangel an Stahl.")


def test_detects_languages_of_written_texts():
    assert detect_language(ENGLISH) == "en"
    assert detect_language(GERMAN) == "de"
    assert detect_language("ok") == ""  # too little to go on


def test_language_models_setting():
    assert language_models(Settings()) == {"en": Settings().model}
    assert language_models(Settings(languages="de=/x/de_pipe, fr=fr_core_news_sm")) == {
        "en": Settings().model, "de": "/x/de_pipe", "fr": "fr_core_news_sm"}
    with pytest.raises(ValueError, match="'german'"):
        language_models(Settings(languages="german"))


@pytest.mark.model
def test_only_languages_with_a_pipeline_are_enriched(tmp_path):
    spacy = pytest.importorskip("spacy")
    from search.enrich import Enricher

    # A German "pipeline" made here: a blank German tokenizer whose entity ruler knows one name.
    de = spacy.blank("de")
    de.add_pipe("entity_ruler").add_patterns([{"label": "PER", "pattern": "Greta Holm"}])
    de.to_disk(tmp_path / "de_pipe")
    arts = [Article(id="en", title="Ferry", text="Mayor Ada Quill said the terminal opens soon. " + ENGLISH),
            Article(id="de", title="Fähre", text="Greta Holm sagte, das Terminal öffne bald. " + GERMAN),
            Article(id="fr", title="Port", text="L'autorité portuaire a annoncé lundi que le nouveau terminal "
                    "ouvrirait au printemps prochain, après deux ans de retard dus aux tempêtes.")]
    only_en = {r["id"]: r for r in Enricher(Settings()).enrich(arts)}
    assert {k: r["language"] for k, r in only_en.items()} == {"en": "en", "de": "de", "fr": "fr"}
    assert only_en["en"]["persons"] == ["Ada Quill"] and only_en["en"]["quotes"]
    assert not only_en["de"]["persons"] and not only_en["de"]["entities"] and not only_en["fr"]["quotes"]
    with_de = {r["id"]: r for r in Enricher(Settings(languages=f"de={tmp_path / 'de_pipe'}")).enrich(arts)}
    assert with_de["de"]["persons"] == ["Greta Holm"] and with_de["de"]["quotes"] == []
    assert not with_de["fr"]["persons"]


def test_language_facet_filter_and_stats(tmp_path):
    from click.testing import CliRunner

    from conftest import make_record
    from search.cli import main
    from search.indexer import index_records

    recs = [make_record("a", "Ferry", "The ferry terminal opens in spring."),
            make_record("b", "Fähre", "Das Fährterminal öffnet im Frühjahr."),
            make_record("c", "Port", "The port reopened on Monday.")]
    for r, lang in zip(recs, ("en", "de", "en")):
        r["language"] = lang
    recs[2]["authors"] = ["Ivo Renk"]
    index_records(recs, Settings(index=tmp_path / "ix"))
    run = CliRunner().invoke
    res = run(main, ["--index", str(tmp_path / "ix"), "search", "--language", "de", "--json"])
    import json

    data = json.loads(res.output)
    assert [r["id"] for r in data["results"]] == ["b"]
    assert {r["value"]: r["count"] for r in data["facets"]["language"]} == {"en": 2, "de": 1}
    res = run(main, ["--index", str(tmp_path / "ix"), "search", "--author", "Ivo Renk", "--json"])
    assert [r["id"] for r in json.loads(res.output)["results"]] == ["c"]
    stats = json.loads(run(main, ["--index", str(tmp_path / "ix"), "stats", "--json"]).output)
    assert stats["not_enriched"] == 1
    assert "1 article in a language without a pipeline" in run(main, ["--index", str(tmp_path / "ix"), "stats"]).output
