"""Facet counting over the matched set with per-generation NumPy arrays (not Whoosh's per-document groupedby).

For every facet field the (document, value) pairs are loaded once per index generation, grouped by
value; a query's counts are then one `np.bincount` over the pairs whose document matched.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

import numpy as np

from search.schema import FACET_FIELDS, FACET_LABELS, MONTH_FIELD

EPOCH = date(1970, 1, 1)
NO_DAY = np.iinfo(np.int32).min


@dataclass
class FieldPairs:
    """One facet field as arrays: pair_docs[offsets[v]:offsets[v+1]] are the documents having value v."""

    values: list[str]
    index: dict[str, int]
    pair_docs: np.ndarray  # int32, grouped by value
    pair_vals: np.ndarray  # int32, ascending
    offsets: np.ndarray  # int64, len(values)+1

    def docs_with(self, wanted, size: int) -> np.ndarray:
        """Boolean mask of documents having any of the wanted values (unknown values match nothing)."""
        mask = np.zeros(size, dtype=bool)
        for v in wanted:
            i = self.index.get(v)
            if i is not None:
                mask[self.pair_docs[self.offsets[i]:self.offsets[i + 1]]] = True
        return mask

    def counts(self, mask: np.ndarray) -> np.ndarray:
        """Per-value counts of the documents in mask."""
        if not len(self.pair_docs):
            return np.zeros(len(self.values), dtype=np.int64)
        return np.bincount(self.pair_vals[mask[self.pair_docs]], minlength=len(self.values))


class FacetData:
    """Arrays of one index generation: facet pairs, publication days, live documents."""

    def __init__(self, reader):
        self.size = reader.doc_count_all()
        alive = np.zeros(self.size, dtype=bool)
        alive[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
        self.alive = alive
        self.fields = {name: _load_pairs(reader, name) for name in list(FACET_FIELDS.values()) + [MONTH_FIELD]}
        self.day = _load_days(reader, self.size)

    def field(self, facet: str) -> FieldPairs:
        """Pairs of a facet by its public name (speaker, person, place, org, month)."""
        return self.fields[FACET_FIELDS.get(facet, facet)]

    def top(self, facet: str, mask: np.ndarray, size: int, selected=(), excluded=()) -> dict:
        """Datasette-style facet: {name, label, results: [{value, count, selected, excluded}], truncated, distinct}."""
        fp = self.field(facet)
        counts = fp.counts(mask)
        nz = np.flatnonzero(counts)
        # count desc, then alphabetical (values are in lexicon order, so the index is the tie-break)
        order = nz[np.lexsort((nz, -counts[nz]))] if len(nz) else nz
        shown = order[: size + 1]
        truncated = len(shown) > size
        shown = shown[:size]
        sel, exc = set(selected), set(excluded)
        results = [
            {"value": fp.values[i], "count": int(counts[i]), "selected": fp.values[i] in sel,
             "excluded": fp.values[i] in exc}
            for i in shown
        ]
        listed = {r["value"] for r in results}
        # Active choices always stay visible so they can be removed, even when they counted nothing.
        for v in list(selected) + list(excluded):
            if v not in listed:
                i = fp.index.get(v)
                results.append({"value": v, "count": int(counts[i]) if i is not None else 0,
                                "selected": v in sel, "excluded": v in exc})
                listed.add(v)
        return {"name": facet, "label": FACET_LABELS.get(facet, facet), "results": results,
                "truncated": truncated, "distinct": int(len(nz))}

    def month_counts(self, mask: np.ndarray) -> dict[str, int]:
        """{"YYYY-MM": count} over documents in mask, months with no documents left out."""
        fp = self.fields[MONTH_FIELD]
        counts = fp.counts(mask)
        return {fp.values[i]: int(counts[i]) for i in np.flatnonzero(counts)}


def _load_pairs(reader, fieldname: str) -> FieldPairs:
    values, docs, starts = [], [], [0]
    if fieldname in reader.indexed_field_names():
        for term in reader.lexicon(fieldname):
            ids = np.fromiter(reader.postings(fieldname, term).all_ids(), dtype=np.int32)
            if not len(ids):
                continue
            values.append(term.decode("utf-8") if isinstance(term, bytes) else term)
            docs.append(ids)
            starts.append(starts[-1] + len(ids))
    pair_docs = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32)
    offsets = np.asarray(starts, dtype=np.int64)
    pair_vals = np.repeat(np.arange(len(values), dtype=np.int32), np.diff(offsets)) if values else np.zeros(0, dtype=np.int32)
    return FieldPairs(values, {v: i for i, v in enumerate(values)}, pair_docs, pair_vals, offsets)


def _load_days(reader, size: int) -> np.ndarray:
    """Days since 1970-01-01 of each document's published date (NO_DAY when unknown)."""
    days = np.full(size, NO_DAY, dtype=np.int32)
    if reader.has_column("published"):
        # Raw column values are microseconds since 0001-01-01; documents without a date hold a sentinel.
        raw = np.fromiter(reader.column_reader("published", translate=False), dtype=np.uint64, count=size)
        raw = np.where(raw >= np.uint64(2**62), np.uint64(0), raw).astype(np.int64)
        d = raw // 86_400_000_000
        ok = (raw > 0) & (d < date(9999, 12, 31).toordinal())
        days[ok] = (d[ok] - (EPOCH.toordinal() - 1)).astype(np.int32)
    return days


def to_day(d: date) -> int:
    """A date as days since 1970-01-01."""
    return (d - EPOCH).days


def from_day(n: int) -> date:
    """Days since 1970-01-01 as a date."""
    return date.fromordinal(EPOCH.toordinal() + int(n))


_cache: dict[tuple, FacetData] = {}
_lock = threading.Lock()


def facet_data(key: tuple, reader) -> FacetData:
    """FacetData for an index generation, built once and shared by all requests on it."""
    with _lock:
        fd = _cache.get(key)
    if fd is not None:
        return fd
    fd = FacetData(reader)
    with _lock:
        _cache[key] = fd
        while len(_cache) > 4:  # old generations: drop the oldest
            _cache.pop(next(iter(_cache)))
    return fd
