"""Name clean-up and within-article canonicalisation of people, places and organisations."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Words that precede a name as a title or role; stripped so "President Volodymyr Zelenskiy" and
# "Zelenskiy" unify. Lower-case, without final periods.
TITLE_WORDS = frozenset(
    """
    mr mrs ms miss mx dr prof professor sir dame lord lady rev reverend father sister brother
    president vice prime minister deputy secretary general attorney state foreign defence defense
    finance health premier mayor governor gov lt lieutenant sen senator rep representative
    congressman congresswoman councillor councilor coun alderman chancellor king queen prince princess
    pope chief ceo cfo coo chair chairman chairwoman chairperson director judge justice
    sergeant sgt officer constable cst cpl corporal capt captain commander col colonel maj major
    gen admiral inspector superintendent supt det detective coach mp mla mpp dep speaker leader
    ambassador commissioner spokesman spokeswoman spokesperson minister's premier's
    u.s. us federal provincial former late acting interim then new hereditary organizer organiser
    founder co-founder owner president-elect nominee candidate veteran economist analyst professor
    researcher author columnist reporter host anchor manager head executive officer chairman
    defenceman defenseman forward goaltender goalie winger centre quarterback pitcher rookie
    head mla mpp mp councillor trustee superintendent principal pastor rabbi imam bishop cardinal
    """.split()
)
# Occupations written before a name as a label ("Actor Brendan Fraser", "Immunologist Kristian Andersen").
# Stripped only when two or more words of name remain: some are also given names or surnames ("Baker
# Mayfield", "Carter Page" stay whole).
OCCUPATION_WORDS = frozenset(
    """
    actor actress adviser advisor administrator analyst anchor architect artist astronaut astronomer athlete
    activist advocate assemblyman assemblywoman author banker biologist blogger broadcaster businessman
    businesswoman campaigner cardiologist chef chemist climatologist columnist comedian commentator composer
    conductor consultant correspondent councilman councilwoman critic dancer dentist designer developer
    diplomat drummer ecologist economist editor educator engineer entrepreneur epidemiologist explorer farmer
    filmmaker geologist guitarist historian immunologist investor journalist lawmaker lawyer legislator
    linguist mathematician microbiologist model musician neuroscientist novelist nurse paleontologist
    pathologist philanthropist philosopher photographer physician physicist pianist pilot playwright
    podcaster poet politician pollster producer prosecutor psychiatrist psychologist publisher rapper
    scholar scientist screenwriter sculptor sheriff singer singer-songwriter sociologist songwriter
    strategist student surgeon teacher virologist volcanologist writer youtuber
    """.split()
)
# Titles that only count as titles when capitalised in front of a name (they are also common words).
PRONOUNS = frozenset(
    "i me my mine we us our ours you your yours he him his she her hers it its they them their theirs "
    "this that these those who whom whose which what someone somebody anyone everyone nobody".split()
)
MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow".split()
)
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "sir", "dame", "lady", "lord"})
HONORIFICS = _HONORIFICS | {"mx", "prof", "rev", "mme", "mlle", "m"}
_POSSESSIVE = re.compile(r"(?:['’‘`]s|['’])$")
_EDGE_PUNCT = " \t\n\"'“”‘’.,;:!?()[]{}-–—"

# One spelling for places that news writes many ways.
PLACE_ALIASES = {
    "u.s.": "United States",
    "us": "United States",
    "u.s.a.": "United States",
    "usa": "United States",
    "united states": "United States",
    "united states of america": "United States",
    "america": "United States",
    "u.k.": "United Kingdom",
    "uk": "United Kingdom",
    "britain": "United Kingdom",
    "great britain": "United Kingdom",
    "united kingdom": "United Kingdom",
    "kiev": "Kyiv",
    "russian federation": "Russia",
    "the netherlands": "Netherlands",
    "holland": "Netherlands",
    "south korea": "South Korea",
    "republic of korea": "South Korea",
    "north korea": "North Korea",
    "dprk": "North Korea",
    "u.a.e.": "United Arab Emirates",
    "uae": "United Arab Emirates",
    "p.e.i.": "Prince Edward Island",
    "b.c.": "British Columbia",
    "n.s.": "Nova Scotia",
    "n.b.": "New Brunswick",
    "ont.": "Ontario",
    "que.": "Quebec",
    "québec": "Quebec",
    "alta.": "Alberta",
    "sask.": "Saskatchewan",
    "man.": "Manitoba",
    "nfld.": "Newfoundland and Labrador",
}


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Case- and accent-insensitive key for comparing names (cached: the same names recur in every article)."""
    s = unicodedata.normalize("NFKD", text)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", s.casefold()))


def strip_possessive(text: str) -> str:
    """'Blinken's' -> 'Blinken'."""
    return _POSSESSIVE.sub("", text.strip())


def clean_person(text: str) -> str | None:
    """A person's name without titles, possessive and stray punctuation; None when it is no name."""
    text = strip_possessive(" ".join(text.split())).strip(_EDGE_PUNCT)
    if "/" in text or "@" in text or "#" in text:
        return None  # photo credits ("Name/AFP/Getty Images") and handles are not mentions of a person
    words = text.split()
    while len(words) > 1 and len(words[0]) <= 2 and words[0].islower():
        words.pop(0)  # "s Okafor": the tail of a possessive the tokenizer split off
    # "the Trust's Ann Ross": what follows a possessive inside the span is the name.
    for k in range(len(words) - 2, -1, -1):
        if _POSSESSIVE.search(words[k]) and words[k][-1:] not in ("'", "’"):
            words = words[k + 1 :]
            break
    # Strip leading titles and roles ("Secretary of State Antony Blinken"): drop title words and the
    # "of"/"the" glue between them, but never the last word.
    honorific = bool(words) and words[0].lower().rstrip(".") in _HONORIFICS
    while len(words) > 1 and (words[0].lower().rstrip(".") in TITLE_WORDS or words[0].lower() in {"of", "the"}
                              or (len(words) > 2 and words[0].lower() in OCCUPATION_WORDS)):
        words.pop(0)
    # "Northshore Grand Chief Tom Alder", "Union Local 12 president Ann Ross": a title inside
    # the span ends the description before the name.
    for k in range(len(words) - 2, 0, -1):
        if words[k].lower().rstrip(".") in TITLE_WORDS and words[k].lower() not in ("state", "general", "new", "us", "major", "head"):
            words = words[k + 1 :]
            break
    # A trailing comma phrase or role after the name ("Smith Jr." keeps Jr.).
    while words and words[-1].lower().rstrip(".") in {"said", "says", "told"}:
        words.pop()
    if not words:
        return None
    name = " ".join(words).strip(_EDGE_PUNCT + " ")
    if honorific and name.lower() in MONTHS:
        return name  # "Ms. May" is a person, whatever the calendar says
    if not name or not is_plausible_person(name):
        return None
    return _unglue(name)


def _unglue(name: str) -> str:
    """Words glued before a name that are no part of it: a title of nameparser's list ('Sultan Iskandar
    Hale' -> 'Iskandar Hale'), or a capitalised phrase ending where a given name starts ('Hall of Famer
    Jo Reyes', 'Rural Affairs Jo Reyes' -> 'Jo Reyes')."""
    from search.lexicon import is_given_name, title_words

    words = name.split()
    titles = title_words()
    if len(words) >= 2 and len(words[0]) > 3 and words[0].endswith(".") and words[0][:-1].isalpha():
        words.pop(0)  # "Conn. Okafor": a state's abbreviation ending the sentence before the name
    while len(words) > 2 and words[0].lower().rstrip(".") in titles and is_given_name(words[1]):
        words.pop(0)
    if len(words) >= 3 and not is_given_name(words[0]):
        for k in range(1, len(words) - 1):
            if is_given_name(words[k]) and not words[k - 1].endswith(("-", "'", "’")):
                if all(not is_given_name(w) for w in words[:k]):
                    words = words[k:]
                break
    return " ".join(words)


_ROMAN = re.compile(r"^(?:I{1,3}|IV|V|VI{1,3}|IX|X)$")


# The rules person_verdict applies, by name. All are on in the product; bench/eval_people.py switches them to
# cross-validate the choice of rules on the annotated articles (each fold scored with the rules chosen on the others).
PERSON_RULES: dict[str, bool] = dict.fromkeys(
    ("acronym", "cut_particle", "lower_case_word", "group_plural", "lone_common_word", "place_name", "title_last",
     "place_type", "common_later_word", "common_first_word"), True)


def person_verdict(name: str, evidence: bool = False, named: bool | None = None) -> tuple[str | None, str]:
    """('person' | 'place' | 'org' | None, value) for a cleaned name the NER tagged as a person.

    evidence: the article shows it is somebody (the name speaks in a quote, a courtesy title precedes it).
    named: the text itself calls it somebody (a title, honorific or relation before it, 'he' or 'she' after);
    organisations speak too, so only this overrules a name that reads as a phrase. Defaults to evidence.
    """
    from search.lexicon import is_common_word, is_given_name, is_place_name, place_types, title_words

    named = evidence if named is None else named
    on = PERSON_RULES
    words = name.split()
    if on["acronym"] and any(len(w) >= 3 and w.isupper() and w.isalpha() and not _ROMAN.match(w) for w in words):
        return "org", name  # "Acme TGX", "KLM": an acronym is no part of a person's name
    if on["cut_particle"] and len(words) > 1 and words[-1].lower() in NAME_PARTICLES:
        return None, name  # "Omar bin": a name cut before its last part
    if on["lower_case_word"] and any(w[:1].islower() and w.lower() not in NAME_PARTICLES
                                     and not _PARTICLE_PREFIX.match(w) for w in words):
        return None, name  # "Friends of Lakeview", "basil Soy": a person's name has no lower-case word but a particle
    if on["group_plural"] and not named and is_group_plural(words[-1]) and (len(words) == 1 or not is_given_name(words[0])):
        return "org", name  # "Liberal Democrats", "Harbourites": people in the plural are a group
    if len(words) == 1:
        common = on["lone_common_word"] and not is_given_name(name) and is_common_word(name, zipf_floor=NAME_WORD_ZIPF)
        if evidence and not is_place_name(name) and not common:
            return "person", name
        if is_place_name(name):
            return "place", name
        return None, name  # a lone capitalised word: a thing, a place, a character, a first name in passing
    if on["place_name"] and is_place_name(name):
        return "place", name
    last = words[-1].lower().rstrip(".")
    if on["title_last"] and (last in title_words() or last in TITLE_WORDS):
        return None, name  # "Riverside MLA": a role, not a name
    if on["place_type"] and words[-1].lower() in place_types() and (
            not is_given_name(words[0]) or (len(words) >= 3 and not is_given_name(words[1].rstrip(".")))):
        return "place", name  # "Lakeview Falls", "Ada Lovelace Square": a street, square or landmark
    if on["common_later_word"] and not evidence and not is_given_name(words[0]) and any(is_common_word(w) for w in words[1:]):
        return None, name  # "Lakeside Brewery", "Silent Meadow": a phrase, not a first name and surname
    if on["common_first_word"] and not named and not is_given_name(words[0]) \
            and is_common_word(words[0], zipf_floor=NAME_WORD_ZIPF) and not any(_SYLLABLE_NAME.match(w) for w in words[1:]):
        return None, name  # "Harbour Patrol", "Tropical Storm Ida": a common English word opens a phrase, not a name
    return "person", name


# Nouns of kinship and company that an apposition names a person by ("her son, Ada", "his friend, Lee"): a closed
# class of English, beside the titles and occupations above.
RELATION_WORDS = frozenset(
    """
    son daughter child children kid mother father mom dad mum parent wife husband spouse partner brother sister
    sibling twin cousin uncle aunt nephew niece grandson granddaughter grandmother grandfather grandparent
    fiancé fiancee fiancée boyfriend girlfriend widow widower friend neighbour neighbor colleague classmate
    teammate roommate boss employee wife's man woman boy girl resident member student victim patient
    """.split()
)

# Particles that stand in lower case inside a person's name ("Ludwig van Beethoven", "Abu Bakr al-Baghdadi").
NAME_PARTICLES = frozenset("de da di del della der den des van von vom zu bin ibn bint al el la le du dos das do y e "
                           "ter ten st".split())
_PARTICLE_PREFIX = re.compile(r"^(?:al|el|ad|as|ash|at|az|ibn|bin|abu|d|l)[-’'][A-Z]")
# "Jae-in", "Jong-un": a given name of syllables joined by a hyphen, as Korean names are romanised.
_SYLLABLE_NAME = re.compile(r"^[A-Z][a-z]+-[a-z]+$")
# wordfreq Zipf at or above which a word opening a name is an ordinary English word ("hurricane" 4.1, "county" 5.2,
# "aviation" 4.2) rather than a name: once in a million words. Fixed a priori, not tuned on any annotated set.
NAME_WORD_ZIPF = 4.0


def is_group_plural(word: str) -> bool:
    """A plural noun naming members of a group ('Democrats', 'Conservatives', 'Scouts'): the word less its 's' is
    an ordinary English word and no given name, and the plural is itself in use (wordfreq)."""
    from search.lexicon import is_common_word, is_given_name, place_types

    low = word.lower()
    if len(low) < 4 or not low.endswith("s") or low.endswith("ss") or not word[:1].isupper() or low in place_types():
        return False  # "Falls", "Heights": a kind of place
    stem = low[:-1]
    return not is_given_name(stem) and not is_given_name(low) and is_common_word(stem, zipf_floor=NAME_WORD_ZIPF) \
        and is_common_word(low, zipf_floor=3.0)


# Words that make a "name" an institution ("Finance Department" with its title word stripped).
ORG_WORDS = frozenset(
    """
    department ministry government agency police council committee commission board court office
    university college school hospital association union party company corporation inc ltd group
    institute foundation centre center service services news press times post network team club studio studios
    """.split()
)


def is_plausible_person(name: str) -> bool:
    """False for pronouns, dates, numbers, institutions and lower-case words mis-tagged as people."""
    words = name.split()
    low = name.lower()
    if any(w.lower().strip(".,") in ORG_WORDS for w in words):
        return False
    if len(words) == 1 and low.rstrip(".") in TITLE_WORDS:
        return False  # "Ambassador" alone names nobody
    if low in PRONOUNS or low in MONTHS:
        return False
    if any(ch.isdigit() for ch in name):
        return False
    if not any(w[:1].isupper() for w in words):
        return False
    if len(words) > 5:
        return False
    if all(w.lower() in MONTHS for w in words):
        return False
    return True


def clean_place(text: str) -> str | None:
    """Canonical place name: 'the U.S.' -> 'United States'; None for junk."""
    text = strip_possessive(" ".join(text.split())).strip(_EDGE_PUNCT)
    if text.lower().startswith("the "):
        text = text[4:]
    if not text or any(ch.isdigit() for ch in text) or not text[:1].isupper():
        return None
    # Edge stripping ate the final period of abbreviations ("U.S."): look both spellings up.
    return PLACE_ALIASES.get(text.lower(), PLACE_ALIASES.get(text.lower() + ".", text))


_PAREN_TAIL = re.compile(r"\s*\(\s*([^()]*?)\s*\)?\s*$")
_DOTTED = re.compile(r"\b(?:[A-Z]\.){2,}(?=\s|$)")


def split_abbreviation(text: str) -> tuple[str, str | None]:
    """'World Trade Body (WTB)' -> ('World Trade Body', 'WTB'); a trailing unbalanced '(' part goes too."""
    m = _PAREN_TAIL.search(text)
    if not m or m.start() == 0:
        return text, None
    inner = m.group(1).strip()
    abbr = inner if inner and inner.replace(".", "").replace("&", "").isalnum() and inner.upper() == inner else None
    return text[: m.start()].rstrip(), abbr


_INNER_ABBREVIATION = re.compile(r"\s*\([A-Z][A-Z.&]*\)\s*")


def clean_org(text: str) -> str | None:
    """Canonical organisation name: leading 'the', possessive, a parenthesised abbreviation and the
    dots of 'U.S.'-style initials removed ('the U.S. Senate' -> 'US Senate'); None for junk."""
    text = " ".join(text.split())
    if "(" in text:
        text = split_abbreviation(text)[0]
        text = _INNER_ABBREVIATION.sub(" ", text).strip()  # "Ruritanian Congress (RC) party"
    text = strip_possessive(text).strip(_EDGE_PUNCT)
    if text.lower().startswith("the "):
        text = text[4:]
    text = _DOTTED.sub(lambda m: m.group().replace(".", ""), text + " ").strip()
    # "al-Shabaab": a lower-case particle may open an organisation's name ("iPhone" is a product)
    if not text or not (text[:1].isupper() or re.match(r"[a-z]{1,3}-[A-Z]", text)) or text.lower() in PRONOUNS:
        return None
    if all(ch.isdigit() or not ch.isalnum() for ch in text):
        return None
    return text


class PersonIndex:
    """Maps every way an article writes a person ("Blinken", "Antony Blinken") to one canonical name."""

    def __init__(self, aliases: dict[str, str] | None = None):
        """Start empty; aliases map a variant to its canonical name."""
        self.aliases = {fold(k): v for k, v in (aliases or {}).items()}
        self.full: dict[str, str] = {}  # folded full name -> display form (longest seen)
        self.count: dict[str, int] = {}  # folded full name -> mentions, to pick the main "Ross"
        self._by_word: dict[str, set[str]] = {}

    def add(self, name: str) -> None:
        """Register a cleaned person name seen in the article."""
        key = fold(name)
        if not key:
            return
        if key not in self.full or len(name) > len(self.full[key]):
            self.full[key] = name
        self.count[key] = self.count.get(key, 0) + 1
        for w in key.split():
            self._by_word.setdefault(w, set()).add(key)

    def canonical(self, name: str) -> str:
        """The longest form in the article that ends with name's words, then the alias file."""
        key = fold(name)
        words = key.split()
        best = key if key in self.full else None
        if words:
            for cand in self._by_word.get(words[-1], ()):
                cw = cand.split()
                # "Blinken" and "Antony Blinken" end alike; a longer full form wins.
                if len(cw) > len(words) and cw[-len(words):] == words:
                    # Two people share a surname: the one the article names more often, then the longer.
                    if best is None or best == key or self._rank(cand) > self._rank(best):
                        best = cand
        if (best is None or best == key) and len(words) == 1:
            # "Kim" for "Kim Jong-un": a lone word that starts exactly one known full name.
            starts = [c for c in self._by_word.get(words[0], ()) if c.split()[0] == words[0] and len(c.split()) > 1]
            if starts:
                best = max(starts, key=self._rank)
        display = self.full.get(best, name) if best else name
        return self.aliases.get(fold(display), display)

    def _rank(self, key: str) -> tuple[int, int, str]:
        """Preference among full names: mention count, then length."""
        return self.count.get(key, 0), len(key), key  # the key itself breaks ties the same way every run

    def knows(self, name: str) -> bool:
        """True when name (or its last word) is a person already seen in this article."""
        key = fold(name)
        if key in self.full:
            return True
        words = key.split()
        if len(words) == 1:
            # a surname or a first name ("Jordan" after "Jordan Stewart")
            return any(c.split()[-1] == words[0] or c.split()[0] == words[0] for c in self._by_word.get(words[0], ()))
        return any(c.split()[-1] == words[-1] for c in self._by_word.get(words[-1], ()))


# ---- kinds of name that are never a person, a speaker or an organisation ----------------------------
# Social platforms and websites news cites as the channel of a statement ("wrote on Twitter"). A closed,
# slowly changing set: these are organisations, never people, and never the one who speaks.
MEDIA_NAMES = frozenset(
    """
    twitter facebook instagram youtube tiktok whatsapp telegram reddit linkedin snapchat weibo wechat
    parler gab pinterest tumblr twitch zoom skype discord signal mastodon threads vk vkontakte
    wikipedia wikinews wikimedia wikileaks medium substack periscope vimeo flickr myspace
    """.split()
) | frozenset({"truth social", "google plus", "google+", "x (formerly twitter)"})
# "Signal", "Medium", "Threads", "Zoom", "Gab" are also words: they only count after "on"/"via" (see is_medium).
_MEDIA_WORDS = frozenset({"signal", "medium", "threads", "zoom", "gab", "discord", "telegram"})
_DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|edu|io|co|info|news|tv|ru|uk|de|fr|in|ca|au)$", re.I)

# Time-zone abbreviations ("12:00 UTC"): a closed set, and never an organisation.
TIME_ZONES = frozenset(
    """
    UTC GMT UT Z EST EDT CST CDT MST MDT PST PDT AKST AKDT HST AST ADT NST NDT BST IST CET CEST EET EEST
    WET WEST MSK JST KST HKT SGT PHT WIB AEST AEDT ACST ACDT AWST NZST NZDT SAST WAT CAT EAT PKT ICT
    """.split()
)
# Diseases and pathogens: "COVID-19" is what people die of, not an institution.
DISEASE_NAMES = frozenset(
    """
    covid covid-19 covid19 coronavirus sars sars-cov-2 mers ebola zika hiv aids measles polio malaria
    cholera tuberculosis influenza flu dengue mpox monkeypox smallpox anthrax h1n1 h5n1 h7n9 nipah
    """.split()
)
_DISEASE_HEAD = re.compile(r"\b(?:virus|disease|syndrome|fever|flu|influenza|pox|itis)$", re.I)
# "COVID-19", "SARS-CoV-2", "H1N1": an upper-case stem with a number is a pathogen or model designation.
_DESIGNATION = re.compile(r"^(?:[A-Z]{3,}(?:-[A-Za-z]+)*-\d+|H\d+N\d+)$")


def is_medium(name: str, strict: bool = False) -> bool:
    """A social platform or website ('Twitter', 'Znak.com'); strict leaves out the names that are
    also ordinary words ('Signal'), which only count as platforms where syntax says so."""
    key = " ".join(name.casefold().split())
    if key.startswith("the "):
        key = key[4:]
    if key in MEDIA_NAMES:
        return not (strict and key in _MEDIA_WORDS)
    return bool(_DOMAIN.match(key))


def is_time_zone(name: str) -> bool:
    """'UTC', 'GMT', 'EDT', 'UTC+3'."""
    return re.sub(r"[+−-]\d{1,2}(?::?\d\d)?$", "", name.strip()) in TIME_ZONES


def is_disease(name: str) -> bool:
    """'COVID-19', 'SARS-CoV-2', 'Ebola', 'the Zika virus': an illness or pathogen, not an organisation."""
    key = " ".join(name.split())
    if key.lower().startswith("the "):
        key = key[4:]
    low = key.casefold()
    if low in DISEASE_NAMES or _DESIGNATION.match(key) and low.split("-")[0] in DISEASE_NAMES | {"h1n1"}:
        return True
    if re.match(r"^H\d+N\d+$", key):
        return True
    words = low.split()
    return len(words) >= 2 and (words[0] in DISEASE_NAMES or key.endswith(("virus", "Virus"))) \
        and bool(_DISEASE_HEAD.search(low))


NAME_KEYS = ("persons", "places", "organizations", "speakers", "authors")


def apply_aliases(rec: dict, aliases: dict[str, str]) -> dict:
    """A record with every name the alias table ({variant: canonical}) knows replaced by its canonical form."""
    table = {fold(k): v for k, v in aliases.items()}
    return rename_values(rec, lambda v: table.get(fold(v), v))


def rename_values(rec: dict, rename) -> dict:
    """The record with rename(value) applied to its name lists, entity values and quote speakers (deduplicated)."""
    for key in NAME_KEYS:
        out: list[str] = []
        for v in rec.get(key) or []:
            v = rename(v)
            if v not in out:
                out.append(v)
        rec[key] = out
    for e in rec.get("entities") or []:
        if e.get("value"):
            e["value"] = rename(e["value"])
    for q in rec.get("quotes") or []:
        if q.get("speaker"):
            q["speaker"] = rename(q["speaker"])
    return rec


def name_table(counts: dict[str, dict[str, int]], aliases: dict[str, str] | None = None):
    """The collection's canonical names (search/nametable.py NameTable) from {kind: {value: articles}}."""
    from search.nametable import build_table

    return build_table(counts, aliases)


def resolve_record(rec: dict, table) -> dict:
    """A record with the collection's canonical names (a NameTable from name_table) in place of its own."""
    return table.resolve_record(rec)


def count_names(records) -> dict[str, dict[str, int]]:
    """{facet key: {value: articles naming it}} over records (plain dicts)."""
    counts: dict[str, dict[str, int]] = {"persons": {}, "organizations": {}, "places": {}, "speakers": {}}
    for rec in records:
        for key, c in counts.items():
            for v in set(rec.get(key) or []):
                c[v] = c.get(v, 0) + 1
    return counts
