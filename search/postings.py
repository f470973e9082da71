"""Vectorised matching: a query's matches and BM25F scores as NumPy arrays, read block by block.

Whoosh's collectors call Python code for every matched document (matcher.id(), .score(), .next() through
a tree of union/intersection matchers); facets need *every* match, so that per-document loop is most of
a search. Here the common query shapes -- terms, And, Or, AndNot of those -- are evaluated per segment
on whole posting blocks: ids and weights are decoded into arrays, BM25F is computed with the very
constants Whoosh's scorer holds (idf, average field length, B, K1) and the document lengths loaded once per
index generation. Anything else (phrases, prefixes, ranges...) raises Unsupported and the caller falls
back to Whoosh's own matcher, so results never depend on which path ran.
"""
from __future__ import annotations

import numpy as np


# The whoosh-reloaded release the internals below were read from and checked against; tests/test_facets.py fails
# when another is installed (pyproject allows 2.7.x), naming what to re-check.
WHOOSH_CHECKED = "2.7.5"
WHOOSH_INTERNALS = """\
- W3LeafMatcher's block state (_data, _blocklength, _byteids, _atend, _read_data, _next_block) and how ids
  (deltas), weights (float array / constant / None) and values (positions) are laid out: read_postings
- FilterMatcher (_ids, _exclude, child) and ListMatcher (_scorer) wrapping terms: _term_arrays
- BM25FScorer's constants (idf, avgfl, B, K1, qf) and whoosh.scoring.bm25's formula: _term_scores
- per-document lengths: W3PerDocReader (_perdoc, has_column, column_reader), _lenfield, LENGTHS_COLUMN,
  byte_to_length, and the default length 1 when a segment has no lengths column: _load_lengths
- NumericColumn.Reader's layout (_dbfile, _basepos, _count, _typecode, _fixedlen, _default; big-endian, the
  default past the written part): column_array
- DATETIME's column: microseconds since 0001-01-01, a sentinel default for undated documents, no column file
  in a segment without any date; MultiReader.column_reader skipping such segments: facets._load_days
- term statistics (iter_field, TermInfo.doc_frequency / min_id) of the unique id field: facets._load_rank
Run tests/test_facets.py and tests/test_update_property.py against the new release, read the diff of
whoosh/codec/whoosh3.py, whoosh/columns.py, whoosh/matching/ and whoosh/scoring.py for the items above,
then set WHOOSH_CHECKED."""


class Unsupported(Exception):
    """The query has a shape this module does not evaluate; use Whoosh's matcher instead."""


_BYTE_TO_LENGTH = None


def _length_table() -> np.ndarray:
    global _BYTE_TO_LENGTH
    if _BYTE_TO_LENGTH is None:
        from whoosh.util.numeric import byte_to_length

        _BYTE_TO_LENGTH = np.array([byte_to_length(i) for i in range(256)], dtype=np.float64)
    return _BYTE_TO_LENGTH


class FieldLengths:
    """Per segment and field, every document's (quantised) field length, as Whoosh's scorer sees it."""

    def __init__(self):
        self._cache: dict = {}

    def get(self, segment_reader, fieldname: str) -> np.ndarray:
        # Searchers (and their readers) are per request; segments are what the arrays belong to.
        seg = getattr(segment_reader, "_segment", None)
        key = (seg.segment_id() if seg is not None else id(segment_reader), fieldname)
        arr = self._cache.get(key)
        if arr is None:
            arr = _load_lengths(segment_reader, fieldname)
            self._cache[key] = arr
        return arr


def _load_lengths(reader, fieldname: str) -> np.ndarray:
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    n = reader.doc_count_all()
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None:
        raise Unsupported("no per-document reader")
    lenfield = _lenfield(fieldname)
    if not perdoc.has_column(lenfield):
        # A segment where no document has text in this field has no lengths column (normal after an update
        # that added only articles without quotes, say); Whoosh's scorer then reads its default length, 1.
        return np.ones(n)
    raw = column_array(perdoc.column_reader(lenfield, LENGTHS_COLUMN), n, np.uint8)
    out = _length_table()[raw]
    # Whoosh's doc_field_length returns its default (1) for a zero byte
    out[raw == 0] = 1.0
    return out


# struct type codes of Whoosh's NumericColumn ("!" = big-endian) -> NumPy dtypes of the same width
_NUMERIC_DTYPES = {c: np.dtype(">" + c) for c in "BHIQbhiqfd"}


def column_array(col, n: int, dtype) -> np.ndarray:
    """Every value (as `dtype`) of a numeric column reader over n documents: read in one go when its layout is
    the known one (Whoosh's NumericColumn), else one document at a time. Documents past the written part of
    the column hold its default, as Whoosh's reader gives them."""
    data = getattr(col, "_dbfile", None)
    base = getattr(col, "_basepos", None)
    count = getattr(col, "_count", None)
    stored = _NUMERIC_DTYPES.get(getattr(col, "_typecode", ""))
    if data is not None and base is not None and count is not None and stored is not None \
            and getattr(col, "_fixedlen", None) == stored.itemsize:
        out = np.full(n, col._default, dtype=dtype)
        k = min(n, count)
        if k:
            out[:k] = np.frombuffer(bytes(data.get(base, k * stored.itemsize)), dtype=stored)
        return out
    return np.fromiter((col[i] for i in range(n)), dtype=dtype, count=n)


def _term_arrays(m, values: list | None = None):
    """(ids, weights, scorer, deleted) of a term matcher: on-disk blocks, or an inlined short list."""
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.matching import FilterMatcher, ListMatcher

    deleted = None
    if isinstance(m, FilterMatcher):
        if not getattr(m, "_exclude", False):
            raise Unsupported("include filter")
        deleted = m._ids
        m = m.child
    if type(m) is W3LeafMatcher:
        ids, tf = read_postings(m, values)
        return ids, tf, m.scorer, deleted
    if type(m) is ListMatcher:
        ids, tf = [], []
        while m.is_active():
            ids.append(m.id())
            tf.append(m.weight())
            if values is not None:
                values.append(m.value())
            m.next()
        return np.asarray(ids, dtype=np.int64), np.asarray(tf, dtype=np.float64), m._scorer, deleted
    raise Unsupported(type(m).__name__)


def read_postings(m, values: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(ids int64, weights float64) of a fresh W3 leaf matcher, decoded one block at a time; the encoded
    values (positions) are appended to `values` when a list is given."""
    ids_parts, w_parts = [], []
    while not m._atend and m._blocklength:
        if m._data is None:
            m._read_data()
        ids, weights = m._data[0], m._data[1]
        n = m._blocklength
        if m._byteids:
            raise Unsupported("byte ids")
        ids_parts.append(np.cumsum(np.asarray(ids, dtype=np.int64)))
        if values is not None:
            vs = m._data[2]
            if vs is None or isinstance(vs, (bytes, bytearray)) or len(vs) != n:
                raise Unsupported("values layout")
            values.extend(vs)
        if weights is None:
            w_parts.append(np.ones(n))
        elif isinstance(weights, float):
            w_parts.append(np.full(n, weights))
        else:
            w_parts.append(np.frombuffer(weights, dtype=np.float32).astype(np.float64)
                           if hasattr(weights, "typecode") and weights.typecode == "f"
                           else np.asarray(weights, dtype=np.float64))
        m._next_block()
    if not ids_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(ids_parts), np.concatenate(w_parts)


def match_arrays(q, searcher, lengths: FieldLengths, size: int):
    """(mask bool[size], scores float64[size]) of query q over the searcher's documents, or Unsupported."""
    context = searcher.context()
    mask = np.zeros(size, dtype=bool)
    scores = np.zeros(size, dtype=np.float64)
    for sub, offset in searcher.leaf_searchers():
        n = sub.doc_count_all()
        m, s = _eval(q, sub, context, lengths, n)
        mask[offset:offset + n] = m
        scores[offset:offset + n] = s
    return mask, scores


def _eval(q, searcher, context, lengths, n):
    from whoosh import query as wq
    from whoosh.scoring import BM25FScorer

    if getattr(q, "boost", 1.0) != 1.0:
        raise Unsupported("boost")
    t = type(q)
    if t is wq.Term:
        mask = np.zeros(n, dtype=bool)
        scores = np.zeros(n)
        ids, s, _ = _term_scores(q, searcher, context, lengths)
        mask[ids] = True
        scores[ids] = s
        return mask, scores
    if t is wq.Phrase:
        return _phrase(q, searcher, context, lengths, n)
    if t in (wq.And, wq.Or):
        subs = [s for s in q.subqueries if s is not wq.NullQuery]
        if not subs:
            return np.zeros(n, dtype=bool), np.zeros(n)
        if t is wq.Or and getattr(q, "scale", None):
            raise Unsupported("coord")
        nots = [s for s in subs if type(s) is wq.Not]
        subs = [s for s in subs if type(s) is not wq.Not]
        if t is not wq.And and nots or not subs:
            raise Unsupported("bare Not")
        parts = [_eval(s, searcher, context, lengths, n) for s in subs]
        # And(x, Not(y)): y removes documents; Whoosh's InverseMatcher scores 1.0 for every document it keeps
        parts += [(~_eval(s.query, searcher, context, lengths, n)[0], np.ones(n)) for s in nots]
        mask = parts[0][0].copy()
        scores = parts[0][1].copy()
        for m, s in parts[1:]:
            if t is wq.And:
                mask &= m
            else:
                mask |= m
            scores += s
        if t is wq.And:
            scores[~mask] = 0.0
        return mask, scores
    if t is wq.AndNot:
        m, s = _eval(q.a, searcher, context, lengths, n)
        nm, _ = _eval(q.b, searcher, context, lengths, n)
        m = m & ~nm
        s = np.where(m, s, 0.0)
        return m, s
    if q is wq.NullQuery or t is type(wq.NullQuery):
        return np.zeros(n, dtype=bool), np.zeros(n)
    raise Unsupported(t.__name__)


def _term_scores(q, searcher, context, lengths, values: list | None = None):
    """(ids, BM25F scores, values) of one term in one segment, deleted documents left out."""
    from whoosh.scoring import BM25FScorer

    matcher = q.matcher(searcher, context)
    if not matcher.is_active():
        return np.zeros(0, dtype=np.int64), np.zeros(0), values
    ids, tf, scorer, deleted = _term_arrays(matcher, values)
    if type(scorer) is not BM25FScorer or scorer.qf != 1:
        raise Unsupported("scorer")
    if deleted:
        keep = ~np.isin(ids, np.fromiter(deleted, dtype=np.int64))
        ids, tf = ids[keep], tf[keep]
        if values is not None:
            values = [v for v, k in zip(values, keep) if k]
    fl = lengths.get(searcher.reader(), q.fieldname)[ids]
    idf, avgfl, B, K1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
    # the same expression, in the same order, as whoosh.scoring.bm25 (float64 like Python's float)
    s = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
    return ids, s, values


def _phrase(q, searcher, context, lengths, n):
    """Whoosh's Phrase (slop 1): documents where the words sit at consecutive positions, scored -- like
    Whoosh's SpanNear2 matcher, which wraps an intersection -- with the sum of the words' term scores."""
    from whoosh import query as wq

    mask = np.zeros(n, dtype=bool)
    scores = np.zeros(n)
    if q.slop != 1 or not q.words:
        raise Unsupported("slop")
    field = searcher.schema[q.fieldname] if q.fieldname in searcher.schema else None
    if field is None or not field.format or not field.format.supports("positions"):
        return mask, scores
    reader = searcher.reader()
    terms = []
    for w in q.words:
        try:
            b = field.to_bytes(w)
        except ValueError:
            return mask, scores
        if (q.fieldname, b) not in reader:
            return mask, scores
        vals: list = []
        ids, s, vals = _term_scores(wq.Term(q.fieldname, w), searcher, context, lengths, vals)
        terms.append((ids, s, vals))
    cand = terms[0][0]
    for ids, _, _ in terms[1:]:
        cand = np.intersect1d(cand, ids, assume_unique=True)
    if not len(cand):
        return mask, scores
    decode = field.format.decode_positions
    where = [np.searchsorted(ids, cand) for ids, _, _ in terms]
    keep = np.zeros(len(cand), dtype=bool)
    for k in range(len(cand)):
        ps = set(decode(terms[0][2][where[0][k]]))
        for i in range(1, len(terms)):
            if not ps:
                break
            nxt = decode(terms[i][2][where[i][k]])
            ps = {p for p in nxt if p - 1 in ps}
        keep[k] = bool(ps)
    hit = cand[keep]
    total = np.zeros(len(hit))
    for (ids, s, _), w in zip(terms, where):
        total += s[w[keep]]
    mask[hit] = True
    scores[hit] = total
    return mask, scores
