"""A model-free stand-in for the spaCy pipeline: gazetteer names and one quote pattern, for tests that need
many enrichments fast (property tests). Registered under a model name with search.enrich.register_pipeline,
so rebuild/update run the real Enricher (cache, pieces, dates) around it."""
from __future__ import annotations

import re
from types import SimpleNamespace

from search.enrich import register_pipeline

MODEL = "newsfacet_test_rules"

# Odd on purpose: accents, apostrophes, a comma inside a name (the index turns it into a space), other scripts.
PEOPLE = ["Ada Lovelace", "Zoë Ångström", "Seán O'Neill", "Ōe Kenzaburō", "Smith, John", "Grace Hopper",
          "李 小龍", "Amira Haddad"]
PLACES = ["Halifax", "São Paulo", "Kyiv", "Zürich", "Reykjavík"]
ORGS = ["Harbour Board", "Ärzte ohne Grenzen", "City Council", "AT&T"]
# A quote: “words” said Name.
QUOTE = re.compile(r"“([^“”]+)” said ([^.“”]+)\.")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def analyse(text: str) -> dict:
    """The analysis dict newsfacet's spaCy component would put in doc.user_data["newsfacet"]."""
    entities, found = [], {"person": [], "place": [], "org": []}
    for label, names in (("person", PEOPLE), ("place", PLACES), ("org", ORGS)):
        for name in names:
            for m in re.finditer(re.escape(name), text):
                entities.append({"label": label, "start": m.start(), "end": m.end(), "text": name, "value": name})
    entities.sort(key=lambda e: (e["start"], e["label"]))
    for e in entities:
        if e["value"] not in found[e["label"]]:
            found[e["label"]].append(e["value"])
    quotes, speakers = [], []
    for m in QUOTE.finditer(text):
        who = m.group(2).strip()
        speaker = who if who in PEOPLE else None
        quotes.append({"speaker": speaker, "speaker_text": who, "text": m.group(1), "verb": "said",
                       "start": m.start(1), "end": m.end(1), "kind": "direct"})
        if speaker and speaker not in speakers:
            speakers.append(speaker)
    dates = [{"start": m.start(), "end": m.end(), "text": m.group()} for m in ISO_DATE.finditer(text)]
    return {"persons": found["person"], "places": found["place"], "organizations": found["org"],
            "speakers": speakers, "quotes": quotes, "entities": entities, "date_mentions": dates}


class RulePipeline:
    """What Enricher needs of a spaCy Language: pipe(), meta, max_length."""

    meta = {"lang": "xx", "name": MODEL, "version": "1"}

    def __init__(self, aliases: dict):
        self.max_length = 10**9

    def pipe(self, items, as_tuples=False, batch_size=None, n_process=1):
        """Docs (with user_data only), with their contexts when as_tuples."""
        for item in items:
            text, ctx = item if as_tuples else (item, None)
            doc = SimpleNamespace(user_data={"newsfacet": analyse(text)})
            yield (doc, ctx) if as_tuples else doc


def register() -> str:
    """Register the stand-in; returns the model name to put in Settings(model=...)."""
    register_pipeline(MODEL, RulePipeline)
    return MODEL
