"""The collection's name table (search/nametable.py) in OpenSearch: built, stored and applied per generation.

The table is search/nametable.py's, built by its `build_table` from the live articles' facet counts (a
composite aggregation over each name field instead of the Whoosh facet arrays), so both backends build the same
table from the same articles. Where the Whoosh backend applies it when it loads a generation's facet arrays
(facets.canonical_facets), here it is applied when documents are written, since OpenSearch counts, filters and
collapses on indexed values only:

- every article holds its names as written (`persons`, `organizations`, `places`, `speakers`) and as the
  collection shows them (`canon.<kind>`: `NameTable.resolve_record` of those lists), every quote its speaker
  as written and as shown (`canon.speaker`, a lone surname staying as written when its article names a full
  name ending in it: the article's `surnames` are kept on the quote);
- documents are written with the table in force (the previous one), then the new table is built from the
  counts and saved in `<generation>-names`, and only the documents holding a value whose resolution changed
  are rewritten (their `canon` fields, by id). An update thus costs what its change touches, and a rebuild
  over the same articles builds the same table and the same `canon` fields as the updates did.

Searchers read the table (to canonicalise chosen values and show records as the facets count them) once per
change of it: a realtime get of its sequence number per searcher, the table itself when that moved.
"""
from __future__ import annotations

import threading

from search.nametable import NAME_KINDS, SPEAKERS, NameTable, own_surnames
from search.schema import keyword_value

TABLE_ID = "table"
NAMES_SUFFIX = "-names"
COMPOSITE_PAGE = 10_000
# the object holding a document's names as the collection shows them: canon.<kind> of an article (its name
# fields are named by the table's kinds), canon.speaker of a quote
CANON = "canon"


def names_index(generation: str) -> str:
    """The index holding a generation's name table."""
    return generation + NAMES_SUFFIX


def canonical_names(table: NameTable, names: dict[str, list[str]]) -> dict[str, list[str]]:
    """An article's names by kind as the collection shows them ({kind: values}, every kind of NAME_KINDS)."""
    shown = table.resolve_record({kind: list(names.get(kind) or []) for kind in NAME_KINDS})
    return {kind: [v for v in shown.get(kind) or [] if v] for kind in NAME_KINDS}


def canonical_speaker(table: NameTable, speaker: str | None, surnames) -> str | None:
    """A quote's speaker as the collection shows it (a lone surname its article owns stays as written)."""
    if not speaker:
        return speaker
    return table.resolve(SPEAKERS, speaker, frozenset(surnames or ()))[1] or None


def article_surnames(record: dict) -> list[str]:
    """The folded last words of the full names an enriched record names, read as the persons facet holds them
    (what keeps a lone surname of its quotes as written)."""
    return sorted(own_surnames([v for v in keyword_value(record.get("persons") or []).split(",") if v]))


# ------------------------------------------------------------------ building and applying (writers, under the lock)


def value_counts(client, index: str) -> dict[str, dict[str, int]]:
    """{kind: {value as written: articles}} of an article index, every value (what build_table takes; the Whoosh
    backend reads the same from its facet arrays, nametable.count_values)."""
    out: dict[str, dict[str, int]] = {}
    for kind in NAME_KINDS:
        counts: dict[str, int] = {}
        after = None
        while True:
            composite = {"size": COMPOSITE_PAGE, "sources": [{"v": {"terms": {"field": kind}}}]}
            if after is not None:
                composite["after"] = after
            agg = client.search(index=index, body={"size": 0, "track_total_hits": False,
                                                   "aggs": {"values": {"composite": composite}}})["aggregations"]["values"]
            counts.update((b["key"]["v"], int(b["doc_count"])) for b in agg["buckets"])
            after = agg.get("after_key")
            if len(agg["buckets"]) < COMPOSITE_PAGE or after is None:
                break
        out[kind] = counts
    return out


def changed_values(old: NameTable, new: NameTable) -> dict[str, list[str]]:
    """{kind: the values as written that the two tables resolve differently} (sorted)."""
    out: dict[str, set[str]] = {kind: set() for kind in NAME_KINDS}
    for kind in NAME_KINDS:
        for a, b in ((old.canon.get(kind) or {}, new.canon.get(kind) or {}),
                     (old.kind_of.get(kind) or {}, new.kind_of.get(kind) or {})):
            out[kind].update(v for v in a.keys() | b.keys() if a.get(v) != b.get(v))
    # a lone surname resolves under whatever kind it was written as
    moved = {v for v in old.surnames.keys() | new.surnames.keys() if old.surnames.get(v) != new.surnames.get(v)}
    return {kind: sorted(values | moved) for kind, values in out.items()}


def apply_table(client, index: str, quotes: str | None, old: NameTable, new: NameTable, send) -> int:
    """Rewrite the `canon` fields of the articles (and quotes) written under `old` that `new` shows otherwise, by
    id through `send` (writer.Bulk.add); returns how many documents change."""
    from search.opensearch.clusterstate import _chunks, scan

    changed = changed_values(old, new)
    n = 0
    clauses = [{"terms": {kind: part}} for kind in NAME_KINDS for part in _chunks(changed[kind])]
    seen: set[str] = set()
    for clause in clauses:
        for h in scan(client, index, clause, [*NAME_KINDS, CANON]):
            if h["_id"] in seen:
                continue
            seen.add(h["_id"])
            src = h["_source"]
            canon = canonical_names(new, src)
            if canon != {kind: list((src.get(CANON) or {}).get(kind) or []) for kind in NAME_KINDS}:
                send({"update": {"_index": index, "_id": h["_id"]}}, {"doc": {CANON: canon}}, (h["_id"], None, "update"))
                n += 1
    if quotes is not None:
        for part in _chunks(changed[SPEAKERS]):
            for h in scan(client, quotes, {"terms": {"speaker": part}}, ["speaker", "surnames", CANON]):
                src = h["_source"]
                shown = quote_canon(new, src.get("speaker") or [], src.get("surnames") or [])
                if shown != list((src.get(CANON) or {}).get("speaker") or []):
                    send({"update": {"_index": quotes, "_id": h["_id"]}}, {"doc": {CANON: {"speaker": shown}}},
                         (h["_id"], None, "update"))
                    n += 1
    return n


def quote_canon(table: NameTable, speakers: list[str], surnames) -> list[str]:
    """A quote document's speaker values as the collection shows them."""
    return [c for c in (canonical_speaker(table, v, surnames) for v in speakers) if c]


def save_table(client, generation: str, table: NameTable) -> None:
    """Store a generation's table (its names index is created with the generation)."""
    client.index(index=names_index(generation), id=TABLE_ID, body={"table": table.to_dict()}, refresh=True)


# ------------------------------------------------------------------ reading (searchers)

_cache: dict[str, tuple[tuple[int, int], NameTable]] = {}
_cache_lock = threading.Lock()


def read_table(client, generation: str) -> NameTable:
    """A generation's table (empty when it has none), fetched again only when it changed (a realtime get of its
    sequence number per call)."""
    from opensearchpy.exceptions import NotFoundError

    index = names_index(generation)
    try:
        head = client.get(index=index, id=TABLE_ID, _source=False)
    except NotFoundError:
        return NameTable()
    stamp = (int(head["_seq_no"]), int(head["_primary_term"]))
    with _cache_lock:
        cached = _cache.get(index)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        doc = client.get(index=index, id=TABLE_ID)
    except NotFoundError:
        return NameTable()
    table = NameTable.from_dict(doc["_source"].get("table") or {})
    with _cache_lock:
        _cache[index] = ((int(doc["_seq_no"]), int(doc["_primary_term"])), table)
        while len(_cache) > 8:  # retired generations: drop the oldest
            _cache.pop(next(iter(_cache)))
    return table
