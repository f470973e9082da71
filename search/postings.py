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
    lenfield = _lenfield(fieldname)
    if perdoc is None or not perdoc.has_column(lenfield):
        raise Unsupported("no length column")
    col = perdoc.column_reader(lenfield, LENGTHS_COLUMN)
    raw = _column_bytes(col, n)
    out = _length_table()[raw]
    # Whoosh's doc_field_length returns its default (1) for a zero byte
    out[raw == 0] = 1.0
    return out


def _column_bytes(col, n: int) -> np.ndarray:
    """The uint8 values of a lengths column reader, read in one go when its layout is the known one."""
    data = getattr(col, "_dbfile", None)
    base = getattr(col, "_basepos", None)
    count = getattr(col, "_count", None)
    if data is not None and base is not None and count is not None and getattr(col, "_typecode", "") == "B":
        out = np.zeros(n, dtype=np.uint8)  # documents past the written part hold the default, 0
        k = min(n, count)
        if k:
            out[:k] = np.frombuffer(bytes(data.get(base, k)), dtype=np.uint8)
        return out
    return np.fromiter((col[i] for i in range(n)), dtype=np.uint8, count=n)


def _term_arrays(m):
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
        ids, tf = read_postings(m)
        return ids, tf, m.scorer, deleted
    if type(m) is ListMatcher:
        ids, tf = [], []
        while m.is_active():
            ids.append(m.id())
            tf.append(m.weight())
            m.next()
        return np.asarray(ids, dtype=np.int64), np.asarray(tf, dtype=np.float64), m._scorer, deleted
    raise Unsupported(type(m).__name__)


def read_postings(m) -> tuple[np.ndarray, np.ndarray]:
    """(ids int64, weights float64) of a fresh W3 leaf matcher, decoded one block at a time."""
    ids_parts, w_parts = [], []
    while not m._atend and m._blocklength:
        if m._data is None:
            m._read_data()
        ids, weights = m._data[0], m._data[1]
        n = m._blocklength
        if m._byteids:
            raise Unsupported("byte ids")
        ids_parts.append(np.cumsum(np.asarray(ids, dtype=np.int64)))
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
        matcher = q.matcher(searcher, context)
        if not matcher.is_active():
            return mask, scores
        ids, tf, scorer, deleted = _term_arrays(matcher)
        if type(scorer) is not BM25FScorer or scorer.qf != 1:
            raise Unsupported("scorer")
        if deleted:
            keep = ~np.isin(ids, np.fromiter(deleted, dtype=np.int64))
            ids, tf = ids[keep], tf[keep]
        fl = lengths.get(searcher.reader(), q.fieldname)[ids]
        idf, avgfl, B, K1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
        # the same expression, in the same order, as whoosh.scoring.bm25 (float64 like Python's float)
        s = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
        mask[ids] = True
        scores[ids] = s
        return mask, scores
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
