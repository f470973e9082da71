"""The dev-set bar for quote extraction and attribution, so the figures cannot silently fall."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SHARED = Path(__file__).parents[1] / ".." / "shared"
GOLD = SHARED / "eval" / "quotes-dev.jsonl"
SCORER = SHARED / "eval" / "score_quotes.py"

pytestmark = [
    pytest.mark.model,
    pytest.mark.slow,
    pytest.mark.skipif(not (GOLD.exists() and SCORER.exists()), reason="../shared/eval is not beside the repository"),
]


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    spacy = pytest.importorskip("spacy")
    from search.config import DEFAULT_MODEL
    from search.entities import PIPELINE_EXCLUDE, configure_pipeline

    spec = importlib.util.spec_from_file_location("score_quotes", SCORER)
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    gold = scorer.load(str(GOLD))
    nlp = configure_pipeline(spacy.load(DEFAULT_MODEL, exclude=PIPELINE_EXCLUDE))
    pred_path = tmp_path_factory.mktemp("eval") / "pred.jsonl"
    records = list(gold.values())
    with pred_path.open("w", encoding="utf-8") as f:
        for doc, rec in zip(nlp.pipe((r["text"] for r in records), batch_size=16), records):
            a = doc.user_data["newsfacet"]
            pred = {"id": rec["id"], "speakers": a["speakers"],
                    "quotes": [{"text": q["text"], "speaker": q["speaker"]} for q in a["quotes"]]}
            f.write(json.dumps(pred) + "\n")
    return scorer.score(gold, scorer.load(str(pred_path)))


def test_every_article_predicted(figures):
    assert figures["articles"] == 49 and figures["articles_missing_in_predictions"] == 0


def test_quote_f1(figures):
    assert figures["quote_f1"] >= 0.85, figures


def test_attributed_quote_f1(figures):
    assert figures["attributed_quote_f1_strict"] >= 0.75, figures


def test_speaker_facet_f1(figures):
    assert figures["speaker_facet_f1"] >= 0.85, figures
