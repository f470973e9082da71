"""Facet counting over the matched set with per-generation NumPy arrays (not Whoosh's per-document groupedby).

For every facet field the (document, value) pairs are loaded once per index generation, grouped by
value; a query's counts are then one `np.bincount` over the pairs whose document matched.
"""
from __future__ import annotations

import copy
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from datetime import date, datetime

import numpy as np

from search.nametable import NAME_KINDS, NameTable, load_table
from search.postings import FieldLengths, column_array
from search.schema import FACET_FIELDS, FACET_LABELS, MONTH_FIELD

EPOCH = date(1970, 1, 1)
FACET_FILE = "facets.npz"  # in a generation directory, written by the indexer
_SEP = "\x1f"  # facet values never hold control characters (schema.keyword_value normalises whitespace)
NO_DAY = np.iinfo(np.int32).min
# Pairs counted between two looks at the clock: a facet over its time budget stops within a few milliseconds.
COUNT_CHUNK = 1 << 20


class FacetTimeout(Exception):
    """A facet passed its time budget (the deadline given to FacetData.top)."""


def facet_clock() -> float:
    """The clock facet deadlines are set on: this thread's CPU time. A facet is cut for what its counting costs,
    not because the machine was busy with other work meanwhile (wall time would drop facets at random under load)."""
    return time.thread_time()


def check_deadline(deadline: float | None) -> None:
    """Raise FacetTimeout once facet_clock() has passed the deadline (None: no deadline)."""
    if deadline is not None and facet_clock() > deadline:
        raise FacetTimeout()


@dataclass(frozen=True, eq=False)
class Layout:
    """Which keyword fields an index's arrays hold, and the facet keys (with their labels) that name them."""

    fields: tuple[str, ...]  # Whoosh keyword fields read as (document, value) pairs; MONTH_FIELD among them
    names: dict = field(default_factory=dict)  # facet key -> field, where they differ
    labels: dict = field(default_factory=dict)
    # field -> the kind of name it holds ('persons', 'organizations', 'places', 'speakers'): the fields the
    # collection's name table (search/nametable.py) applies to
    kinds: dict = field(default_factory=dict)


# The article index: speaker, person, place, org (named by their record keys, which are the table's kinds) and
# the month.
ARTICLES = Layout(tuple(FACET_FIELDS.values()) + (MONTH_FIELD,), dict(FACET_FIELDS), dict(FACET_LABELS),
                  {k: k for k in NAME_KINDS})


@dataclass
class FieldPairs:
    """One facet field as arrays, in two layouts of the same (document, value) pairs.

    By value: pair_docs[offsets[v]:offsets[v+1]] are the documents having value v (filters use it).
    By document: doc_vals[doc_offsets[d]:doc_offsets[d+1]] are the values of document d (counting a small
    matched set touches only its own pairs; a large one is counted with one pass over all pairs).
    """

    values: list[str]
    index: dict[str, int]
    pair_docs: np.ndarray  # int32, grouped by value
    pair_vals: np.ndarray  # int32, ascending
    offsets: np.ndarray  # int64, len(values)+1
    doc_vals: np.ndarray = None  # int32, grouped by document
    doc_offsets: np.ndarray = None  # int64, size+1

    def set_size(self, size: int) -> None:
        """Build the by-document layout for an index of `size` documents."""
        order = np.argsort(self.pair_docs, kind="stable")
        self.doc_vals = self.pair_vals[order]
        per_doc = np.bincount(self.pair_docs, minlength=size) if len(self.pair_docs) else np.zeros(size, np.int64)
        self.doc_offsets = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(per_doc, out=self.doc_offsets[1:])

    def docs_with(self, wanted, size: int) -> np.ndarray:
        """Boolean mask of documents having any of the wanted values (unknown values match nothing)."""
        mask = np.zeros(size, dtype=bool)
        for v in wanted:
            i = self.index.get(v)
            if i is not None:
                mask[self.pair_docs[self.offsets[i]:self.offsets[i + 1]]] = True
        return mask

    def counts(self, mask: np.ndarray, docs: np.ndarray | None = None, deadline: float | None = None) -> np.ndarray:
        """Per-value counts of the documents in mask (docs: the same documents as indices, if known); raises
        FacetTimeout when the deadline passes."""
        n_values = len(self.values)
        if not len(self.pair_docs):
            return np.zeros(n_values, dtype=np.int64)
        if docs is None and mask.size:
            # Cheap to find out how many matched; the smaller path depends on it.
            docs = np.flatnonzero(mask) if np.count_nonzero(mask) * 8 < mask.size else None
        if docs is not None and len(docs) * 8 < mask.size:
            if self.doc_offsets is None or len(self.doc_offsets) < mask.size + 1:
                self.set_size(mask.size)
            # Few matches: gather their own pairs (cost ~ matched pairs, not all pairs).
            starts = self.doc_offsets[docs]
            lens = self.doc_offsets[docs + 1] - starts
            total = int(lens.sum())
            if not total:
                return np.zeros(n_values, dtype=np.int64)
            idx = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
            return np.bincount(self.doc_vals[idx], minlength=n_values)
        out = np.zeros(n_values, dtype=np.int64)
        for start in range(0, len(self.pair_docs), COUNT_CHUNK):
            check_deadline(deadline)
            end = start + COUNT_CHUNK
            out += np.bincount(self.pair_vals[start:end][mask[self.pair_docs[start:end]]], minlength=n_values)
        return out

    def containing(self, text: str) -> np.ndarray:
        """Boolean mask of the values containing text, ignoring case."""
        folded = getattr(self, "_folded", None)
        if folded is None:
            folded = self._folded = [v.casefold() for v in self.values]
        needle = text.casefold()
        return np.fromiter((needle in v for v in folded), dtype=bool, count=len(folded))


class FacetData:
    """Arrays of one index generation: facet pairs, publication days, live documents, and each document's
    place in article-id order (`rank`), which breaks ties when results are ordered: document numbers depend on
    how the index was written (rebuilt at once, or updated in segments), article ids do not."""

    def __init__(self, reader, layout: Layout = ARTICLES):
        self.layout = layout
        self.size = reader.doc_count_all()
        alive = np.zeros(self.size, dtype=bool)
        alive[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
        self.alive = alive
        self.fields = {name: _load_pairs(reader, name) for name in layout.fields}
        for fp in self.fields.values():
            fp.set_size(self.size)
        self.day = _load_days(reader, self.size)
        self.rank = _load_rank(reader, self.size)
        # Text field lengths for vectorised BM25F, loaded per segment on first use.
        self.lengths = FieldLengths()

    @classmethod
    def load(cls, path: Path, size: int, live: int | None = None, layout: Layout = ARTICLES) -> "FacetData | None":
        """Arrays saved by save() for an index of `size` documents (`live` not deleted), or None if absent
        or not matching. Pairs saved beside the layout's (such as quote clusters) are loaded too."""
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["size"]) != size or (live is not None and int(np.count_nonzero(z["alive"])) != live):
                    return None
                fields = {}
                saved = [k[: -len(".values")] for k in z.files if k.endswith(".values")]
                for name in list(layout.fields) + [n for n in saved if n not in layout.fields]:
                    raw = bytes(z[f"{name}.values"]).decode("utf-8")
                    values = raw.split(_SEP) if raw else []
                    fields[name] = FieldPairs(
                        values, {v: i for i, v in enumerate(values)}, z[f"{name}.pair_docs"],
                        z[f"{name}.pair_vals"], z[f"{name}.offsets"], z[f"{name}.doc_vals"], z[f"{name}.doc_offsets"])
                return cls.from_arrays(size, z["alive"], z["day"], z["rank"], fields, layout)
        except (OSError, KeyError, ValueError):  # KeyError: a file from before an array was added
            return None

    @classmethod
    def from_arrays(cls, size: int, alive: np.ndarray, day: np.ndarray, rank: np.ndarray,
                    fields: dict[str, FieldPairs], layout: Layout = ARTICLES) -> "FacetData":
        """FacetData from arrays already made (saved ones, or gathered while indexing)."""
        fd = cls.__new__(cls)
        fd.size, fd.alive, fd.day, fd.rank, fd.fields, fd.layout = size, alive, day, rank, fields, layout
        fd.lengths = FieldLengths()
        return fd

    def save(self, path: Path) -> None:
        """Write the arrays beside the index (an .npz), so a searcher opening it need not read postings."""
        arrays = {"size": np.int64(self.size), "alive": self.alive, "day": self.day, "rank": self.rank}
        for name, fp in self.fields.items():
            arrays[f"{name}.values"] = np.frombuffer(_SEP.join(fp.values).encode("utf-8"), dtype=np.uint8)
            for attr in ("pair_docs", "pair_vals", "offsets", "doc_vals", "doc_offsets"):
                arrays[f"{name}.{attr}"] = getattr(fp, attr)
        tmp = Path(str(path) + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)

    def field(self, facet: str) -> FieldPairs:
        """Pairs of a facet by its public name (speaker, person, place, org, month; for quotes source, kind)."""
        return self.fields[self.layout.names.get(facet, facet)]

    def top(self, facet: str, mask: np.ndarray, size: int, selected=(), excluded=(), contains: str | None = None,
            deadline: float | None = None) -> dict:
        """Datasette-style facet: {name, label, results: [{value, count, selected, excluded}], truncated, distinct};
        only values containing `contains` (ignoring case) when given; FacetTimeout once the deadline passes."""
        fp = self.field(facet)
        counts = fp.counts(mask, deadline=deadline)
        check_deadline(deadline)
        if contains:
            counts = np.where(fp.containing(contains), counts, 0)
            check_deadline(deadline)
            selected = [v for v in selected if contains.casefold() in v.casefold()]
            excluded = [v for v in excluded if contains.casefold() in v.casefold()]
        nz = np.flatnonzero(counts)
        cand = nz
        if len(nz) > 4 * (size + 1):
            # Only values counting at least the (size+1)-th largest count can be shown: sort just those.
            kth = np.partition(counts[nz], len(nz) - (size + 1))[len(nz) - (size + 1)]
            cand = nz[counts[nz] >= kth]
        # count desc, then alphabetical (values are in lexicon order, so the index is the tie-break)
        order = cand[np.lexsort((cand, -counts[cand]))] if len(cand) else cand
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
        return {"name": facet, "label": self.layout.labels.get(facet, facet), "results": results,
                "truncated": truncated, "distinct": int(len(nz))}

    def month_counts(self, mask: np.ndarray, deadline: float | None = None) -> dict[str, int]:
        """{"YYYY-MM": count} over documents in mask, months with no documents left out."""
        fp = self.fields[MONTH_FIELD]
        counts = fp.counts(mask, deadline=deadline)
        return {fp.values[i]: int(counts[i]) for i in np.flatnonzero(counts)}


class FacetCollector:
    """FacetData of a fresh single-segment build, gathered from the documents as they are added.

    Whoosh numbers the documents of a new segment 0, 1, 2, ... in the order they are added, and indexes a
    keyword field as its analyzer's terms: collecting the same terms here gives the arrays `FacetData(reader)`
    would read back from the postings, without reading them (that read was ~6% of a rebuild).
    """

    def __init__(self, schema, layout: Layout = ARTICLES):
        self.layout = layout
        self._fields = list(layout.fields)
        self._analyse = {name: _terms_function(schema[name]) for name in self._fields}
        self._per_value: dict[str, dict[str, list[int]]] = {name: {} for name in self._fields}
        self._days: list[int] = []
        self._ids: list[str] = []

    def add(self, doc: dict) -> None:
        """Call once per add_document, with the same keyword arguments, in the same order."""
        n = len(self._days)
        for name in self._fields:
            raw = doc.get(name)
            if raw:
                per_value = self._per_value[name]
                for term in dict.fromkeys(self._analyse[name](raw)):
                    per_value.setdefault(term, []).append(n)
        pub = doc.get("published")
        # As _load_days reads the column: whole days since 0001-01-01, the very first instant meaning "none".
        self._days.append(NO_DAY if pub is None or pub == datetime.min else (pub.date() - EPOCH).days)
        self._ids.append(doc["id"])

    def facet_data(self) -> FacetData:
        """The arrays of the documents added so far."""
        size = len(self._days)
        fields = {}
        for name in self._fields:
            per_value = self._per_value[name]
            values = sorted(per_value)
            fields[name] = _pairs(values, [np.array(per_value[v], dtype=np.int64) for v in values])
            fields[name].set_size(size)
        return FacetData.from_arrays(size, np.ones(size, dtype=bool), np.array(self._days, dtype=np.int32),
                                     _ranks(self._ids, np.arange(size), size), fields, self.layout)


def _split_commas(raw: str) -> list[str]:
    return [t.strip() for t in raw.split(",") if t]


def _terms_function(field):
    """raw value -> the terms Whoosh indexes for it. A plain comma keyword field (tokens `[^,]+`, then
    stripped) is split in C; any other analyzer is run as Whoosh runs it (5x slower)."""
    from whoosh.analysis import CompositeAnalyzer, RegexTokenizer, StripFilter

    a = getattr(field, "analyzer", None)
    if isinstance(a, CompositeAnalyzer) and len(a.items) == 2 and isinstance(a.items[0], RegexTokenizer) \
            and a.items[0].expression.pattern == "[^,]+" and not a.items[0].gaps and isinstance(a.items[1], StripFilter):
        return _split_commas
    return lambda raw: field.process_text(raw, mode="index")


def _load_pairs(reader, fieldname: str) -> FieldPairs:
    """(document, value) pairs of a keyword field, read from its postings segment by segment."""
    per_value: dict[str, list] = {}
    for leaf, offset in _leaves(reader):
        # A segment where no document has a value of this field does not know the field at all.
        if fieldname in leaf.indexed_field_names():
            for term in leaf.lexicon(fieldname):
                ids = _posting_ids(leaf, fieldname, term)
                if len(ids):
                    v = term.decode("utf-8") if isinstance(term, bytes) else term
                    per_value.setdefault(v, []).append(ids + offset if offset else ids)
    values = sorted(per_value)
    docs = [np.concatenate(per_value[v]) if len(per_value[v]) > 1 else per_value[v][0] for v in values]
    return _pairs(values, docs)


def _pairs(values: list[str], docs: list[np.ndarray]) -> FieldPairs:
    """FieldPairs from sorted values and, for each, its ascending document numbers."""
    lens = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    pair_docs = np.concatenate(docs).astype(np.int32) if docs else np.zeros(0, dtype=np.int32)
    pair_vals = np.repeat(np.arange(len(values), dtype=np.int32), lens) if values else np.zeros(0, dtype=np.int32)
    return FieldPairs(values, {v: i for i, v in enumerate(values)}, pair_docs, pair_vals, offsets)


def _posting_ids(leaf, fieldname: str, term) -> np.ndarray:
    """Document numbers of a term in one segment: whole blocks at a time when the codec allows it."""
    m = leaf.postings(fieldname, term)
    try:
        from search.postings import Unsupported, _term_arrays

        ids, _, _, deleted = _term_arrays(m)
        return ids  # deleted documents are left in: every count is taken under the `alive` mask
    except Unsupported:
        m = leaf.postings(fieldname, term)
        return np.fromiter(m.all_ids(), dtype=np.int64)


def _load_days(reader, size: int) -> np.ndarray:
    """Days since 1970-01-01 of each document's published date (NO_DAY when unknown), segment by segment.

    Not through the top reader's column: Whoosh's MultiReader joins only the segments that have a column
    file, and a segment where no document has a date (an update adding undated articles) has none, so
    the joined column is short and shifted.
    """
    days = np.full(size, NO_DAY, dtype=np.int32)
    for leaf, offset in _leaves(reader):
        n = leaf.doc_count_all()
        if not n or not leaf.has_column("published"):
            continue
        # Raw column values are microseconds since 0001-01-01; documents without a date hold a sentinel.
        raw = column_array(leaf.column_reader("published", translate=False), n, np.uint64)
        raw = np.where(raw >= np.uint64(2**62), np.uint64(0), raw).astype(np.int64)
        d = raw // 86_400_000_000
        ok = (raw > 0) & (d < date(9999, 12, 31).toordinal())
        days[offset:offset + n][ok] = (d[ok] - (EPOCH.toordinal() - 1)).astype(np.int32)
    return days


def _load_rank(reader, size: int) -> np.ndarray:
    """Each document's place in the order of article ids, from the id field's terms segment by segment."""
    ids: list[bytes] = []
    docs: list[int] = []
    for leaf, offset in _leaves(reader):
        if "id" not in leaf.indexed_field_names():
            continue
        for term, info in leaf.iter_field("id"):
            # Term statistics name a lone document without opening its postings (8x faster at 20k documents).
            found = [info.min_id()] if info.doc_frequency() == 1 else _posting_ids(leaf, "id", term).tolist()
            for d in found:
                ids.append(term)
                docs.append(d + offset)
    # UTF-8 bytes sort as their characters do, so this is the order of the ids as str (FacetCollector's).
    return _ranks(ids, np.asarray(docs, dtype=np.int64), size)


def _ranks(ids: list, docs: np.ndarray, size: int) -> np.ndarray:
    """rank[docs[i]] = place of ids[i] among the sorted ids; documents without an id sort last."""
    rank = np.full(size, len(ids), dtype=np.int32)
    if ids:
        order = sorted(range(len(ids)), key=ids.__getitem__)
        rank[docs[np.asarray(order, dtype=np.int64)]] = np.arange(len(ids), dtype=np.int32)
    return rank


def _leaves(reader) -> list:
    """(segment reader, first document number) of every segment of a reader."""
    return [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())


def to_day(d: date) -> int:
    """A date as days since 1970-01-01."""
    return (d - EPOCH).days


def from_day(n: int) -> date:
    """Days since 1970-01-01 as a date."""
    return date.fromordinal(EPOCH.toordinal() + int(n))


_cache: dict[tuple, FacetData] = {}
_lock = threading.Lock()


def facet_data(key: tuple, reader, layout: Layout = ARTICLES, make=None, names_dir: Path | None = None,
               owned=None) -> FacetData:
    """FacetData for an index generation, built once and shared by all requests on it (`make(reader)` builds
    it when the generation holds no saved arrays; default FacetData(reader, layout)). With names_dir (the
    generation folder holding names.json) the arrays requests read are the canonical view of them
    (canonical_facets, with `owned`), cached apart from the values as enrichment wrote them."""
    key = key if names_dir is None else key + ("names",)
    with _lock:
        fd = _cache.get(key)
    if fd is not None:
        return fd
    fd = None
    gen = Path(key[0]) if key and isinstance(key[0], str) else None
    if gen is not None and (gen / FACET_FILE).exists():
        fd = FacetData.load(gen / FACET_FILE, reader.doc_count_all(), reader.doc_count(), layout)
    if fd is None:
        fd = make(reader) if make is not None else FacetData(reader, layout)
    if names_dir is not None:
        fd = canonical_facets(fd, load_table(names_dir), owned)
    with _lock:
        _cache[key] = fd
        while len(_cache) > 6:  # old generations (articles and quotes of each): drop the oldest
            _cache.pop(next(iter(_cache)))
    return fd


def canonical_facets(fd: FacetData, table: NameTable, owned=None) -> FacetData:
    """A view of a generation's facet arrays with the collection's name table (search/nametable.py) applied to
    the fields of its layout's `kinds`: values are canonical, a document holding several variants of one name
    counts once, a name moves to the kind most articles give it (when the layout has that kind), and filtering
    by a canonical value matches every variant. A lone surname the table resolves stays as written in the
    documents that name a full name ending in it: `owned(folded surname, docs)` says which (default: from the
    layout's persons field, whose owners the view keeps as `surname_owners` for other indexes over the same
    articles). The raw arrays are left as they are; the view keeps the table as `name_table`. Vectorised: one
    pass over the values in Python, the pairs in NumPy."""
    from search.names import fold

    out = copy.copy(fd)
    out.name_table = table
    out.surname_owners = {}
    field_of = {kind: name for name, kind in fd.layout.kinds.items() if name in fd.fields}
    if not table or not field_of:
        return out
    kinds = tuple(field_of)
    if owned is None:
        persons = field_of.get("persons")
        out.surname_owners = _surname_owners(fd.fields[persons], table) if persons else {}
        empty = np.zeros(0, dtype=np.int64)

        def owned(surname: str, docs: np.ndarray) -> np.ndarray:
            return np.isin(docs, out.surname_owners.get(surname, empty))

    size = max(int(fd.size), 1)
    # target kind -> {canonical value: id}; per source kind, the (target, id) of each raw value
    ids: dict[str, dict[str, int]] = {k: {} for k in kinds}
    parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {k: [] for k in kinds}
    for kind in kinds:
        fp = fd.fields[field_of[kind]]
        if not len(fp.values):
            continue
        target = np.empty(len(fp.values), dtype=np.int8)
        cid = np.empty(len(fp.values), dtype=np.int64)
        for i, v in enumerate(fp.values):
            to_kind, c = table.resolve(kind, v)
            if to_kind not in field_of:  # a kind this index has no field for: the value stays where it is
                to_kind = kind
            target[i] = kinds.index(to_kind)
            cid[i] = ids[to_kind].setdefault(c, len(ids[to_kind])) if c else -1
        pair_target = target[fp.pair_vals]
        pair_cid = cid[fp.pair_vals]
        for i, v in enumerate(fp.values):
            if v in table.surnames:
                lo, hi = int(fp.offsets[i]), int(fp.offsets[i + 1])
                keep = owned(fold(v), fp.pair_docs[lo:hi])
                if keep.any():  # the article names a full name ending in it: the surname stays as written
                    to_kind = kinds[target[i]]
                    own = table.canon.get(kind, {}).get(v, v)
                    pair_cid[lo:hi][keep] = ids[to_kind].setdefault(own, len(ids[to_kind]))
        for t, to_kind in enumerate(kinds):
            sel = (pair_target == t) & (pair_cid >= 0)
            if sel.any():
                parts[to_kind].append((pair_cid[sel], fp.pair_docs[sel].astype(np.int64)))
    out.fields = dict(fd.fields)
    for kind in kinds:
        names = sorted(ids[kind])
        rank = np.empty(max(len(ids[kind]), 1), dtype=np.int64)
        for r, v in enumerate(names):
            rank[ids[kind][v]] = r
        if parts[kind]:
            c = np.concatenate([rank[p[0]] for p in parts[kind]])
            d = np.concatenate([p[1] for p in parts[kind]])
            key = np.unique(c * size + d)  # one pair per (value, document), sorted by value then document
            pair_vals, pair_docs = (key // size).astype(np.int32), (key % size).astype(np.int32)
        else:
            pair_vals = pair_docs = np.zeros(0, dtype=np.int32)
        counts = np.bincount(pair_vals, minlength=len(names)) if len(names) else np.zeros(0, dtype=np.int64)
        offsets = np.zeros(len(names) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        fp = FieldPairs(names, {v: i for i, v in enumerate(names)}, pair_docs, pair_vals, offsets)
        fp.set_size(fd.size)
        out.fields[field_of[kind]] = fp
    return out


def _surname_owners(persons: FieldPairs, table: NameTable) -> dict[str, np.ndarray]:
    """{folded lone surname the table resolves: the documents (ascending) naming a full name ending in it}, in
    one pass over the person values."""
    from search.names import fold

    wanted = {fold(v) for v in table.surnames}
    by_last: dict[str, list[int]] = {}
    for i, v in enumerate(persons.values):
        words = fold(v).split()
        if len(words) > 1 and words[-1] in wanted:
            by_last.setdefault(words[-1], []).append(i)
    return {s: np.unique(np.concatenate([persons.pair_docs[persons.offsets[i]:persons.offsets[i + 1]] for i in idx]))
            .astype(np.int64) for s, idx in by_last.items()}


def write_facet_file(gen_dir: Path) -> FacetData:
    """Compute a finished (not yet live) generation's facet arrays, save them in it and return them."""
    from whoosh import index as windex

    ix = windex.open_dir(str(gen_dir))
    with ix.reader() as reader:
        fd = FacetData(reader)
    fd.save(Path(gen_dir) / FACET_FILE)
    return fd
