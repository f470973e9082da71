"""Search: parse a request, match with Whoosh, filter and count facets with arrays, page, highlight.

Everything returned is plain data (dicts, lists, str); no Whoosh object leaves this module.
"""
from __future__ import annotations

import calendar
import functools
import html
import json
import logging
import re
import threading
import time
from datetime import date
from pathlib import Path
from typing import Iterator

import numpy as np

from search.config import Settings
from search.contracts import (CLUSTER_MEMBERS_SHOWN, DATE_FACET, FACET_KEYS, FACET_LABELS, FEED_SORT, MAX_PAGE_SIZE,
                              QUOTE_FACET_KEYS, QUOTE_FACET_LABELS, QUOTE_KEYS, RECORD_KEYS, IndexMissing,
                              QuoteIndexMissing, QuoteResult, SearchRequest, SearchResult, parse_quote_request,
                              parse_request)
from search.facets import NO_DAY, FacetData, FacetTimeout, facet_clock, facet_data, from_day, to_day
from search.indexer import live_generation, open_whoosh
from search.nametable import NAME_KINDS, SPEAKERS, NameTable
from search.schema import FACET_FIELDS

log = logging.getLogger(__name__)

FACETS = FACET_KEYS  # speaker, person, place, org
TEXT_FIELDS = ("title", "body", "quotes")
QUOTE_TEXT_FIELDS = ("quotes",)  # quote search matches the quote's words
SNIPPET_CHARS = 240

__all__ = ["IndexMissing", "SearchRequest", "SearchResult", "parse_request", "open_searcher", "NewsSearcher"]


# ---------------------------------------------------------------- query parsing

_parser_lock = threading.Lock()
_parsers: dict = {}


def _parser(schema, fields: tuple[str, ...] = TEXT_FIELDS):
    from whoosh import qparser

    key = (id(schema), fields)
    with _parser_lock:
        p = _parsers.get(key)
        if p is None:
            p = qparser.MultifieldParser(list(fields), schema, group=qparser.AndGroup)
            # Field names users may type (those of this index); anything else before a colon is plain text.
            typed = "|".join(f for f in ("title", "body", "quotes") if f in schema)
            p.remove_plugin_class(qparser.FieldsPlugin)
            p.add_plugin(qparser.FieldsPlugin(expr=r"(?P<text>%s):" % typed))
            p.add_plugin(qparser.GtLtPlugin())
            if len(_parsers) > 8:
                _parsers.clear()
            _parsers[key] = p
    return p


def _balance(q: str, messages: list[str]) -> str:
    """Close an unbalanced quote or parenthesis so the rest of the query still counts."""
    fixed = q
    if fixed.count('"') % 2:
        fixed = fixed + '"'
        messages.append("A quotation mark was not closed; it was closed at the end of your query.")
    depth = 0
    out = []
    for ch in fixed:
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                continue
            depth -= 1
        out.append(ch)
    if depth or len(out) != len(fixed):
        messages.append("Parentheses in your query were unbalanced and were ignored where they did not pair up.")
        out = [c for c in out if c not in "()"] if depth else out
    return "".join(out)


def build_query(q: str, schema, messages: list[str], fields: tuple[str, ...] = TEXT_FIELDS):
    """User text -> a Whoosh query over `fields` (by default the article's), or None for 'everything'; never
    raises."""
    from whoosh import query as wq

    text = q.strip()
    if not text or text in ("*", "*:*"):
        return None
    if not re.search(r"\w", re.sub(r"\b(title|body|quotes):", " ", text)):
        messages.append("Your query has no words to search for.")
        return wq.NullQuery
    text = _balance(text, messages)
    try:
        parsed = _parser(schema, fields).parse(text)
    except Exception:
        # The parser gave up: search the words themselves, analysed like the text.
        analyzer = schema[fields[0]].analyzer
        words = [t.text for t in analyzer(text)]
        parsed = wq.And([wq.Or([wq.Term(f, w) for f in fields]) for w in words]) if words else wq.NullQuery
    if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        messages.append("Your query only has operators or words too common to search for (like 'the' or 'and'); "
                        "add another word.")
        return wq.NullQuery
    try:
        # Prefixes, wildcards and ranges name no term until expanded against the index, but search all the same.
        leaves = [parsed] if parsed.is_leaf() else list(parsed.leaves())
        has_terms = any(True for _ in parsed.iter_all_terms()) or any(isinstance(q, wq.MultiTerm) for q in leaves)
    except Exception:
        has_terms = True
    if not has_terms and not isinstance(parsed, wq.Every):
        messages.append("Your query only has words too common to search for (like 'the' or 'and'); add another word.")
        return wq.NullQuery
    return parsed


# ---------------------------------------------------------------- the searcher


class _AllScores:
    """Collector recording every match with its score, in one pass (facets need all, ranking the top)."""

    @staticmethod
    def make():
        from whoosh.collectors import ScoredCollector

        class AllScores(ScoredCollector):
            def prepare(self, top_searcher, q, context):
                ScoredCollector.prepare(self, top_searcher, q, context)
                self.docnums: list[int] = []
                self.scores: list[float] = []

            def _collect(self, global_docnum, score):
                self.docnums.append(global_docnum)
                self.scores.append(score)
                return 0

            def results(self):
                return None

        return AllScores()


_ix_lock = threading.Lock()
_ix_cache: dict[str, tuple] = {}


def _open_index(index_dir: Path):
    """Cached Whoosh Index object of the live generation (a rebuild is seen by the next request)."""
    gen = live_generation(index_dir)
    if gen is None:
        raise IndexMissing(index_dir)
    key = str(gen.resolve())
    with _ix_lock:
        hit = _ix_cache.get(str(index_dir))
        if hit and hit[0] == key:
            return hit[1], key
    # open_whoosh reads CURRENT again: a switch in between means it opened a newer generation, and the
    # key must name the generation actually opened, or its facet arrays would be another's (IndexError).
    ix, name = open_whoosh(index_dir)
    key = str((Path(index_dir) / name).resolve())
    with _ix_lock:
        _ix_cache[str(index_dir)] = (key, ix)
    return ix, key


class FacetedIndex:
    """One Whoosh index of a generation with its arrays: matching, filters, facets (each counted under the other
    filters), the date facet, ordering and paging. The article index and the quote index are both searched
    through it, so both read the same query syntax, filters and facets."""

    def __init__(self, ix, searcher, facets: FacetData, key: str, text_fields: tuple[str, ...],
                 facet_keys: tuple[str, ...], labels: dict, time_limit_ms: int = 0):
        self.ix, self.searcher, self.facets, self.key = ix, searcher, facets, key
        self.text_fields, self.facet_keys, self.labels = text_fields, facet_keys, labels
        self.time_limit_ms = int(time_limit_ms)
        # the collection's canonical names (search/nametable.py) the arrays' view applies (facets.canonical_facets):
        # chosen values and the records shown follow it; empty when the arrays are the values as written
        self.names: NameTable = getattr(facets, "name_table", None) or NameTable()
        self.last_query = None

    def match(self, req: SearchRequest, messages: list[str]):
        """(base mask from the text query, scores array or None)."""
        fd = self.facets
        self.last_query = None
        q = build_query(req.q, self.ix.schema, messages, self.text_fields)
        if q is None:
            return fd.alive.copy(), None
        from whoosh import query as wq

        if q is wq.NullQuery:
            return np.zeros(fd.size, dtype=bool), None
        from search.postings import match_arrays

        try:
            # Terms, And, Or, AndNot: whole posting blocks as arrays, the same BM25F scores as Whoosh's
            mask, scores = match_arrays(q, self.searcher, fd.lengths, fd.size)
        except Exception:  # Unsupported, or anything unforeseen: Whoosh's own path decides
            mask = scores = None
        if mask is None:
            # phrases, prefixes, ranges...: Whoosh's matcher, one document at a time
            col = _AllScores.make()
            try:
                self.searcher.search_with_collector(q, col)
            except Exception:
                messages.append("That query could not be run; try simpler words.")
                return np.zeros(fd.size, dtype=bool), None
            docs = np.asarray(col.docnums, dtype=np.int64)
            mask = np.zeros(fd.size, dtype=bool)
            mask[docs] = True
            scores = np.zeros(fd.size, dtype=np.float64)
            scores[docs] = col.scores
        mask &= fd.alive
        self.last_query = q
        return mask, scores

    def date_mask(self, req: SearchRequest) -> np.ndarray | None:
        """Documents published inside the request's date range (None: no range)."""
        if not req.date_from and not req.date_to:
            return None
        day = self.facets.day
        mask = day != NO_DAY
        if req.date_from:
            mask &= day >= to_day(date.fromisoformat(req.date_from))
        if req.date_to:
            mask &= day <= to_day(date.fromisoformat(req.date_to))
        return mask

    def facet_masks(self, req: SearchRequest) -> tuple[dict, dict]:
        """Per facet, the documents its chosen values allow, and those its excluded values leave."""
        fd = self.facets
        inc, exc = {}, {}
        for f in self.facet_keys:
            if req.filters.get(f):
                inc[f] = fd.field(f).docs_with(req.filters[f], fd.size)
            if req.exclude.get(f):
                exc[f] = ~fd.field(f).docs_with(req.exclude[f], fd.size)
        return inc, exc

    def canonical_choices(self, req: SearchRequest) -> None:
        """Chosen facet values as the facets show them: a variant ('U.S. Senate', a surname) chooses its
        canonical value, which matches the documents holding any of its variants."""
        if not self.names:
            return
        for choices in (req.filters, req.exclude):
            for f in self.facet_keys:
                if choices.get(f):
                    choices[f] = list(dict.fromkeys(self.canonical_value(f, v) for v in choices[f]))

    def canonical_value(self, facet: str, value: str) -> str:
        """The value a facet shows for a chosen one: itself when the facet has it, else its canonical value."""
        fd = self.facets
        kind = fd.layout.kinds.get(fd.layout.names.get(facet, facet))
        if not self.names or kind is None or value in fd.field(facet).index:
            return value
        return self.names.resolve(kind, value)[1]

    def values_of(self, facet: str, docnum: int) -> list[str]:
        """A document's values of a facet, as the facet counts them."""
        fp = self.facets.field(facet)
        if fp.doc_offsets is None or len(fp.doc_offsets) < self.facets.size + 1:
            fp.set_size(self.facets.size)
        return [fp.values[i] for i in fp.doc_vals[fp.doc_offsets[docnum]:fp.doc_offsets[docnum + 1]]]

    def final_mask(self, req: SearchRequest, messages: list[str]):
        """(base, scores, date mask, include masks, exclude masks, the matching documents); chosen variants become
        their canonical values in req."""
        self.canonical_choices(req)
        base, scores = self.match(req, messages)
        dmask = self.date_mask(req)
        inc, exc = self.facet_masks(req)
        final = base.copy()
        if dmask is not None:
            final &= dmask
        for m in list(inc.values()) + list(exc.values()):
            final &= m
        return base, scores, dmask, inc, exc, final

    def facet_mask(self, f: str, base, dmask, inc: dict, exc: dict) -> np.ndarray:
        """The documents a facet counts: the query, the dates and every filter but the facet's own choices."""
        m = base.copy()
        if dmask is not None:
            m &= dmask
        for g in self.facet_keys:
            if g != f and g in inc:
                m &= inc[g]
            if g in exc:
                m &= exc[g]
        return m

    def undated_mask(self, base, inc: dict, exc: dict) -> np.ndarray:
        """The documents the date facet counts: the query and every facet filter, not the dates."""
        m = base.copy()
        for x in list(inc.values()) + list(exc.values()):
            m &= x
        return m

    def guarded(self, name: str, compute) -> dict:
        """compute(deadline) -> a facet, within the facet time limit; a facet that fails or passes its limit comes
        back empty with `failed` saying why, so the rest of the page still renders (as Datasette's facets do)."""
        limit_ms = self.time_limit_ms
        deadline = facet_clock() + limit_ms / 1000 if limit_ms > 0 else None
        try:
            return compute(deadline)
        except FacetTimeout:
            log.warning("facet %s passed its time limit of %d ms", name, limit_ms)
            reason = f"took longer than the {limit_ms} ms time limit; narrow the search to see it"
        except Exception:
            log.exception("facet %s could not be counted", name)
            reason = "could not be counted (an error on the server, logged there)"
        return {"name": name, "label": self.labels.get(name, name), "results": [], "truncated": False,
                "distinct": None, "failed": reason}

    def facet_counts(self, req: SearchRequest, base, dmask, inc, exc) -> dict:
        """Every keyword facet under every filter but its own, and the date facet under all but the dates."""
        fd = self.facets
        facets = {}
        for f in self.facet_keys:
            facets[f] = self.guarded(f, lambda deadline, f=f: fd.top(
                f, self.facet_mask(f, base, dmask, inc, exc), req.facet_size, req.filters.get(f, []),
                req.exclude.get(f, []), deadline=deadline))
        undated = self.undated_mask(base, inc, exc)
        facets[DATE_FACET] = self.guarded(DATE_FACET, lambda deadline: self.date_facet(
            req, fd.month_counts(undated, deadline=deadline)))
        return facets

    def one_facet(self, req: SearchRequest, key: str, size: int, contains: str | None = None) -> dict:
        """One facet under a request, without computing the others or any result: its `size` top values (only
        those containing `contains`, ignoring case, when given), counted under every filter but its own, within
        the facet time limit. {"total": documents matching the whole request, "facet": {...}, "messages": [...]}."""
        if key != DATE_FACET and key not in self.facet_keys:
            raise ValueError(f"unknown facet {key!r}; choose one of {', '.join(self.facet_keys + (DATE_FACET,))}")
        messages: list[str] = []
        fd = self.facets
        base, _, dmask, inc, exc, final = self.final_mask(req, messages)
        contains = " ".join((contains or "").split()) or None
        if key == DATE_FACET:
            undated = self.undated_mask(base, inc, exc)
            facet = self.guarded(key, lambda deadline: self.date_facet(
                req, fd.month_counts(undated, deadline=deadline)))
        else:
            facet = self.guarded(key, lambda deadline: fd.top(
                key, self.facet_mask(key, base, dmask, inc, exc), size, req.filters.get(key, []),
                req.exclude.get(key, []), contains=contains, deadline=deadline))
        return {"total": int(final.sum()), "facet": facet, "messages": messages}

    @property
    def indexed(self) -> np.ndarray:
        """When each document (or its article) was first indexed, Unix seconds (0: not recorded)."""
        with _indexed_lock:
            arr = _indexed_cache.get(self.key)
        if arr is None:
            from search.quoteindex import column_ints

            arr = column_ints(self.searcher.reader(), "indexed", 0)
            with _indexed_lock:
                _indexed_cache[self.key] = arr
                while len(_indexed_cache) > 8:
                    _indexed_cache.pop(next(iter(_indexed_cache)))
        return arr

    def order(self, req: SearchRequest, final: np.ndarray, scores) -> np.ndarray:
        """The matching documents in the request's order."""
        return self._sorted(req, np.flatnonzero(final), scores)

    def order_prefix(self, req: SearchRequest, final: np.ndarray, scores, k: int) -> np.ndarray:
        """The first documents of order(req, final, scores), at least k of them (unless fewer match), without
        sorting every match: only those whose first sort key is within the k best are sorted."""
        docs = np.flatnonzero(final)
        if len(docs) <= 4 * k:
            return self._sorted(req, docs, scores)
        first = self._first_key(req, docs, scores)
        kth = np.partition(first, k - 1)[k - 1]
        # every document left out has a first key after all those kept: they all come later
        return self._sorted(req, docs[first <= kth], scores)

    def _first_key(self, req: SearchRequest, docs: np.ndarray, scores) -> np.ndarray:
        day = self.facets.day[docs].astype(np.int64)
        if req.sort == FEED_SORT:
            return -self.indexed[docs]
        if req.sort == "relevance" and scores is not None:
            return -scores[docs]
        if req.sort == "oldest":
            return np.where(day == NO_DAY, np.iinfo(np.int64).max, day)
        return -day

    def _sorted(self, req: SearchRequest, docs: np.ndarray, scores) -> np.ndarray:
        """docs in the request's order; the last tie-break is the id (article or quote), not the document number,
        which differs between an updated index and the same documents rebuilt."""
        day = self.facets.day[docs]
        rank = self.facets.rank[docs]
        if req.sort == FEED_SORT:
            # most recently indexed first (what a feed reader has not seen yet), then newest published
            return docs[np.lexsort((rank, -day.astype(np.int64), -self.indexed[docs]))]
        if req.sort == "relevance" and scores is not None:
            # score desc, then newest first among equals
            return docs[np.lexsort((rank, -day.astype(np.int64), -scores[docs]))]
        if req.sort == "oldest":
            # undated documents last in either direction
            key = np.where(day == NO_DAY, np.iinfo(np.int32).max, day)
            return docs[np.lexsort((rank, key))]
        return docs[np.lexsort((rank, -day.astype(np.int64)))]

    def date_facet(self, req: SearchRequest, months: dict[str, int]) -> dict:
        """The date facet of these month counts (date_facet, shared with other backends)."""
        return date_facet(req, months)

    def highlight(self, text: str) -> str:
        """A passage of text, HTML-escaped, with the last query's words in <mark> (the whole text when short)."""
        q = self.last_query
        if q is not None:
            try:
                from whoosh import highlight

                terms = {t for f, t in q.iter_all_terms() if f in ("body", "title", "quotes")}
                terms = {t.decode("utf-8") if isinstance(t, bytes) else t for t in terms}
                if terms:
                    analyzer = self.ix.schema[self.text_fields[0]].analyzer
                    hl = highlight.highlight(
                        _snippet_region(text, frozenset(terms), analyzer), frozenset(terms), analyzer,
                        _word_fragmenter(),
                        highlight.HtmlFormatter(tagname="mark", between=" … "), top=2,
                    )
                    if hl:
                        return hl
            except Exception:
                pass
        return plain_snippet(text)

    def record(self, docnum: int) -> dict:
        """The stored record of a document, its names as the collection shows them."""
        return self.names.resolve_record(json.loads(self.searcher.stored_fields(docnum)["record"]))


_indexed_lock = threading.Lock()
_indexed_cache: dict[str, np.ndarray] = {}
_quote_ix_lock = threading.Lock()
_quote_ix_cache: dict[str, object] = {}


def _open_quote_index(gen: Path):
    """Cached Whoosh Index of a generation's quote index (a generation is never written after it is live)."""
    from whoosh import index as windex

    from search.quoteindex import QUOTE_DIR

    key = str(gen / QUOTE_DIR)
    with _quote_ix_lock:
        ix = _quote_ix_cache.get(key)
    if ix is None:
        try:
            ix = windex.open_dir(key)
        except (windex.EmptyIndexError, FileNotFoundError) as exc:
            raise QuoteIndexMissing(gen.parent) from exc
        with _quote_ix_lock:
            _quote_ix_cache[key] = ix
            while len(_quote_ix_cache) > 4:
                _quote_ix_cache.pop(next(iter(_quote_ix_cache)))
    return ix


class NewsSearcher:
    """One reader of one index generation (its articles and, on first use, its quotes); open per request, close
    after."""

    def __init__(self, index_dir: Path | str, settings: Settings | None = None):
        self.index_dir = Path(index_dir)
        self.settings = settings or Settings(index=self.index_dir)
        ix, key = _open_index(self.index_dir)
        self._ix = ix
        self._searcher = ix.searcher()
        self.generation = key
        self._last_query = None
        try:
            # A generation directory is never written after it goes live, so its path identifies the arrays.
            # The collection's canonical names (names.json of the generation) unless settings turn them off.
            self.facets: FacetData = facet_data((key,), self._searcher.reader(), names_dir=self._names_dir())
        except BaseException:
            self._searcher.close()  # no caller holds this object yet to close it
            raise
        self._articles = FacetedIndex(ix, self._searcher, self.facets, key, TEXT_FIELDS, FACETS, FACET_LABELS,
                                      self.settings.facet_time_limit_ms)
        self._quotes: FacetedIndex | None = None
        self._clusters = None

    def close(self) -> None:
        """Release the Whoosh searchers and the clusters database."""
        self._searcher.close()
        if self._quotes is not None:
            self._quotes.searcher.close()
        if self._clusters is not None:
            self._clusters.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _names_dir(self) -> Path | None:
        """The generation whose name table the arrays apply (search/nametable.py); None: the values as written."""
        return Path(self.generation) if self.settings.canonical_names else None

    @property
    def version(self) -> str:
        """Names the index generation this searcher reads: it changes whenever the index does (ETags)."""
        return Path(self.generation).name

    def search(self, req: SearchRequest, messages: list[str] | None = None) -> SearchResult:
        """Run a search request: one page of results, facets (each under the other filters) and histogram."""
        started = time.perf_counter()
        messages = list(messages or [])
        a = self._articles
        base, scores, dmask, inc, exc, final = a.final_mask(req, messages)
        self._last_query = a.last_query
        facets = a.facet_counts(req, base, dmask, inc, exc)
        histogram = _histogram(a.facets.month_counts(final))

        total = int(final.sum())
        page, pages = _page_of(req, total, messages)
        order = a.order(req, final, scores)
        start = (page - 1) * req.page_size
        page_docs = order[start:start + req.page_size]
        results = [self._result(int(d), req) for d in page_docs]
        took = (time.perf_counter() - started) * 1000
        req.page = page
        return SearchResult(total=total, page=page, pages=pages, page_size=req.page_size, took_ms=round(took, 1),
                            request=req, results=results, facets=facets, histogram=histogram, messages=messages)

    def facet(self, req: SearchRequest, key: str, size: int, contains: str | None = None) -> dict:
        """One article facet under a request, nothing else computed (FacetedIndex.one_facet)."""
        return self._articles.one_facet(req, key, size, contains)

    def quote_facet(self, req: SearchRequest, key: str, size: int, contains: str | None = None) -> dict:
        """One quote facet under a quote request, nothing else computed (FacetedIndex.one_facet)."""
        return self._quote_index().one_facet(req, key, size, contains)

    # -- documents

    def _record(self, docnum: int) -> dict:
        return self._articles.record(docnum)

    def _result(self, docnum: int, req: SearchRequest) -> dict:
        rec = self._record(docnum)
        return result_item(rec, req, self._snippet(rec))

    def _snippet(self, rec: dict) -> str:
        """A short passage of the text, HTML-escaped, with the query's words in <mark>."""
        return self._articles.highlight(rec.get("text") or "")

    def article(self, article_id: str) -> dict | None:
        """The enriched record of an article by id, or None."""
        if not isinstance(article_id, str) or not article_id or len(article_id) > 1000:
            return None
        docnum = self._searcher.document_number(id=article_id)
        if docnum is None:
            return None
        return self._record(docnum)

    def iter_matching(self, req: SearchRequest, limit: int | None = None) -> Iterator[dict]:
        """The articles matching the request (at most `limit`), in its sort order, as export rows: id, title,
        published, source, url and a list per facet (by record key). Read from the stored fields; the full
        record (the whole text as JSON) is never decoded."""
        messages: list[str] = []
        _, scores, _, _, _, final = self._articles.final_mask(req, messages)
        order = self._articles.order(req, final, scores)
        for d in order if limit is None else order[:max(0, int(limit))]:
            stored = self._searcher.stored_fields(int(d))
            row = {"id": stored.get("id"), "title": stored.get("title") or "",
                   "published": _published_text(stored.get("published")), "source": stored.get("source") or None,
                   "url": stored.get("url") or None}
            for f in FACETS:  # the keyword fields hold the values comma-joined, as facets count them
                row[RECORD_KEYS[f]] = [v for v in (stored.get(FACET_FIELDS[f]) or "").split(",") if v]
            yield self._articles.names.resolve_record(row)  # the collection's canonical names

    def names(self, limit: int = 50) -> dict:
        """Canonical names with their variants: {kind: [{name, count (articles), variants: {value: articles}}]},
        most articles first, for people, organisations, places and speakers."""
        from search.facets import FACET_FILE
        from search.nametable import count_values

        fd = self.facets
        raw = FacetData.load(Path(self.generation) / FACET_FILE, fd.size) or FacetData(self._searcher.reader())
        tops = {kind: fd.top(facet, fd.alive, limit)["results"] for kind, facet in zip(NAME_KINDS, NAME_FACETS)}
        return name_listing(tops, count_values(raw), self._articles.names)

    # -- quotes

    def _quote_index(self) -> FacetedIndex:
        """The generation's quote index, opened on first use (raises QuoteIndexMissing for an older index)."""
        if self._quotes is None:
            from search.clusters import ClusterReader
            from search.quoteindex import QUOTE_DIR, QUOTES_LAYOUT, has_quotes, quote_facets

            gen = Path(self.generation)
            if not has_quotes(gen):
                raise QuoteIndexMissing(self.index_dir)
            ix = _open_quote_index(gen)
            searcher = ix.searcher()
            key = str(gen / QUOTE_DIR)
            # the speakers as the article index shows them: the same name table, and a lone surname stays as
            # written in the quotes of articles that name a full name ending in it, as in the Speakers facet
            fd = facet_data((key,), searcher.reader(), QUOTES_LAYOUT, make=lambda r: quote_facets(gen, r),
                            names_dir=self._names_dir(), owned=functools.partial(self._owned, searcher))
            self._quotes = FacetedIndex(ix, searcher, fd, key, QUOTE_TEXT_FIELDS, QUOTE_FACET_KEYS,
                                        QUOTE_FACET_LABELS, self.settings.facet_time_limit_ms)
            self._clusters = ClusterReader(gen)
        return self._quotes

    def _owned(self, quote_searcher, surname: str, docs: np.ndarray) -> np.ndarray:
        """Which quote documents come from articles naming a full name that ends in the folded surname (read
        once per generation, for the quotes whose speaker is a lone surname the name table resolves)."""
        from search.quoteindex import article_of

        owners = getattr(self.facets, "surname_owners", {}).get(surname)
        if owners is None or not len(owners):
            return np.zeros(len(docs), dtype=bool)
        articles = np.full(len(docs), -1, dtype=np.int64)
        for i, d in enumerate(docs):
            n = self._searcher.document_number(id=article_of(quote_searcher.stored_fields(int(d))["id"]))
            if n is not None:
                articles[i] = n
        return np.isin(articles, owners)

    def _cluster_of(self, qi: FacetedIndex) -> np.ndarray:
        """Each quote document's cluster number in the cluster pairs (-1: none), built once per generation."""
        fd = qi.facets
        arr = getattr(fd, "cluster_of", None)
        if arr is None:
            from search.quoteindex import CLUSTER_FIELD

            fp = fd.fields.get(CLUSTER_FIELD)
            arr = np.full(fd.size, -1, dtype=np.int64)
            if fp is not None and len(fp.pair_docs):
                if fp.doc_offsets is None or len(fp.doc_offsets) < fd.size + 1:
                    fp.set_size(fd.size)
                has = fp.doc_offsets[1:fd.size + 1] > fp.doc_offsets[:fd.size]
                arr[has] = fp.doc_vals[fp.doc_offsets[:fd.size][has]]
            fd.cluster_of = arr
        return arr

    def _rows_count(self, qi: FacetedIndex, final: np.ndarray) -> int:
        """How many rows the matching quotes make: each unclustered quote one, each cluster one."""
        cl = self._cluster_of(qi)[final]
        clustered = cl[cl >= 0]
        return int(len(cl) - len(clustered) + (np.count_nonzero(np.bincount(clustered)) if len(clustered) else 0))

    def _collapse(self, qi: FacetedIndex, order: np.ndarray) -> np.ndarray:
        """The documents in order with every cluster reduced to its first member there (one row per cluster)."""
        if not len(order):
            return order
        cl = self._cluster_of(qi)
        n_clusters = len(qi.facets.fields.get("cluster").values) if "cluster" in qi.facets.fields else 0
        group = cl[order]
        group = np.where(group >= 0, group, n_clusters + order)
        _, first = np.unique(group, return_index=True)
        return order[np.sort(first)]

    def quotes(self, req: SearchRequest, messages: list[str] | None = None) -> QuoteResult:
        """Quote search: one page of rows (repeats of a quote collapsed into one), facets speaker, source, kind
        and date (each under the other filters), histogram of matching quotes per month."""
        started = time.perf_counter()
        messages = list(messages or [])
        qi = self._quote_index()
        base, scores, dmask, inc, exc, final = qi.final_mask(req, messages)
        facets = qi.facet_counts(req, base, dmask, inc, exc)
        histogram = _histogram(qi.facets.month_counts(final))
        n_quotes = int(final.sum())
        total = self._rows_count(qi, final)
        page, pages = _page_of(req, total, messages)
        start = (page - 1) * req.page_size
        need, k = start + req.page_size, 2 * (start + req.page_size)
        while True:
            # the rows of this page need only the first matches in order, not every match sorted
            prefix = qi.order_prefix(req, final, scores, k)
            rows = self._collapse(qi, prefix)
            if len(rows) >= need or len(prefix) >= n_quotes:
                break
            k *= 4
        results = [self._quote_row(qi, int(d), highlight=True) for d in rows[start:start + req.page_size]]
        req.page = page
        took = (time.perf_counter() - started) * 1000
        return QuoteResult(total=total, quotes=n_quotes, page=page, pages=pages, page_size=req.page_size,
                           took_ms=round(took, 1), request=req, results=results, facets=facets, histogram=histogram,
                           messages=messages)

    def _quote_row(self, qi: FacetedIndex, docnum: int, highlight: bool = False, cluster: bool = True) -> dict:
        qr = qi.record(docnum)
        cl = self._cluster_of(qi)[docnum]
        cid = qi.facets.fields["cluster"].values[cl] if cl >= 0 else None
        speaker = qr.get("speaker")
        if speaker and qi.names:
            # the speaker the facet counts for this quote (the collection's name, or a surname its article owns)
            speaker = next(iter(qi.values_of("speaker", docnum)), None) or qi.names.resolve(SPEAKERS, speaker)[1] \
                or None
        snippet = qi.highlight(qr.get("text") or "") if highlight else html.escape(qr.get("text") or "")
        return quote_item({**qr, "speaker": speaker}, snippet,
                          self._cluster_summary(cid) if cid and cluster else ({"id": cid} if cid else None))

    def _cluster_summary(self, cid: str) -> dict | None:
        """{id, quotes, articles, outlets, first, members (earliest first, capped), more} of a cluster."""
        summary = self._clusters.summary(cid)
        if summary is None:
            return None
        members = self._clusters.members(cid, limit=CLUSTER_MEMBERS_SHOWN)
        shown = [{"article_id": m["article"], "source": m["source"],
                  "published": from_day(m["day"]).isoformat() if m["day"] is not None else None} for m in members]
        return cluster_item(summary, shown)

    def quote_cluster(self, cluster_id: str) -> dict | None:
        """A cluster's whole trail, earliest first: {id, quotes, articles, outlets, first, trail: [quote rows]};
        {id, redirect} when it was merged into another; None when there is no such cluster."""
        if not isinstance(cluster_id, str) or not cluster_id or len(cluster_id) > 100:
            return None
        qi = self._quote_index()
        moved = self._clusters.redirect(cluster_id)
        if moved:
            return {"id": cluster_id, "redirect": moved}
        summary = self._cluster_summary(cluster_id)
        if summary is None:
            return None
        fd = qi.facets
        docs = np.flatnonzero(fd.field("cluster").docs_with([cluster_id], fd.size) & fd.alive)
        day = fd.day[docs].astype(np.int64)
        key = np.where(day == NO_DAY, np.iinfo(np.int64).max, day)
        rows = [self._quote_row(qi, int(d), cluster=False) for d in docs[np.lexsort((docs, key))]]
        return {**summary, "trail": trail_order(rows)}

    def iter_quotes(self, req: SearchRequest, limit: int | None = None) -> Iterator[dict]:
        """The quotes matching a quote request (at most `limit`), one per quote (not collapsed), in its sort order
        (exports). Raises QuoteIndexMissing at once (not on the first row) for an index without quotes."""
        qi = self._quote_index()
        _, scores, _, _, _, final = qi.final_mask(req, [])
        order = qi.order(req, final, scores)
        return (self._quote_row(qi, int(d), cluster=False) for d in (order if limit is None
                                                                      else order[:max(0, int(limit))]))

    def speaker(self, name: str, page: int = 1, page_size: int | None = None, q: str = "", sort: str | None = None,
                facet_size: int = 10) -> dict:
        """A speaker's page, from the quote index: one page of their quotes (repeats collapsed into one row; newest
        first, or by relevance to q), quotes per month (all pages), the outlets quoting them most and the speakers
        most often quoted in the same articles. Only the page's quotes are decoded."""
        req, messages = speaker_request(name, page, page_size, q, sort, facet_size, self.settings)
        res = self.quotes(req, messages)
        # a variant's page is its canonical name's (quotes() chose it in req), in the article facets too
        name = (req.filters.get("speaker") or [name])[0]
        shown = self._articles.canonical_value("speaker", name)
        fd = self.facets
        articles = fd.field("speaker").docs_with([shown], fd.size) & fd.alive
        with_others = fd.top("speaker", articles, facet_size + 1)["results"]
        return speaker_page(name, res, int(articles.sum()), with_others, facet_size, shown)

    def stats(self) -> dict:
        """Corpus figures: articles, date range, top speakers, persons, places, organizations; quotes, clusters."""
        fd = self.facets
        days = fd.day[fd.alive & (fd.day != NO_DAY)]
        out = {
            "articles": int(fd.alive.sum()),
            "dated": int(len(days)),
            "first": from_day(days.min()).isoformat() if len(days) else None,
            "last": from_day(days.max()).isoformat() if len(days) else None,
            "generation": Path(self.generation).name,
        }
        for f, key in (("speaker", "speakers"), ("person", "persons"), ("place", "places"), ("org", "organizations"),
                       ("author", "authors"), ("language", "languages")):
            top = fd.top(f, fd.alive, 10)
            out["top_" + key] = [{"value": r["value"], "count": r["count"]} for r in top["results"]]
            out["distinct_" + key] = top["distinct"]
        # Articles in a language without a pipeline were indexed for full text only (search/enrich.py).
        from search.config import language_models

        enriched = set(language_models(self.settings))
        every = fd.top("language", fd.alive, 1000)["results"]
        out["not_enriched"] = sum(r["count"] for r in every if r["value"] not in enriched)
        try:
            qi = self._quote_index()
        except QuoteIndexMissing:
            out["quotes"] = None
            out["clusters"] = None
            return out
        out["quotes"] = int(qi.facets.alive.sum())
        out["clusters"] = self._clusters.sizes()
        return out


def _published_text(value) -> str | None:
    """A stored published datetime as ISO text: the date alone when it has no time of day."""
    if value is None:
        return None
    if value.hour == value.minute == value.second == value.microsecond == 0:
        return value.date().isoformat()
    return value.isoformat()


def _page_of(req: SearchRequest, total: int, messages: list[str]) -> tuple[int, int]:
    """(page to show, number of pages): a page past the last shows the last, with a message."""
    pages = max(1, -(-total // req.page_size))
    page = req.page
    if page > pages:
        if total:
            messages.append(f"Page {page} is past the last page ({pages}); showing page {pages}.")
        page = pages
    return page, pages


def date_facet(req: SearchRequest, months: dict[str, int]) -> dict:
    """Years in chronological order; the months of a chosen year (or of a range inside one year)."""
    years: dict[str, int] = {}
    for m, n in months.items():
        years[m[:4]] = years.get(m[:4], 0) + n
    results = []
    for y in sorted(years):
        frm, to = f"{y}-01-01", f"{y}-12-31"
        results.append({"value": y, "count": years[y], "from": frm, "to": to,
                        "selected": req.date_from == frm and req.date_to == to, "level": "year"})
    drill = None
    if req.date_from and req.date_to and req.date_from[:4] == req.date_to[:4]:
        drill = req.date_from[:4]
    elif len(years) == 1:
        drill = next(iter(years))
    if drill:
        for m in sorted(k for k in months if k.startswith(drill)):
            y, mo = int(m[:4]), int(m[5:7])
            frm = f"{m}-01"
            to = f"{m}-{calendar.monthrange(y, mo)[1]:02d}"
            results.append({"value": m, "count": months[m], "from": frm, "to": to,
                            "selected": req.date_from == frm and req.date_to == to, "level": "month"})
    return {"name": "date", "label": FACET_LABELS["date"], "results": results, "truncated": False,
            "distinct": len(years)}


def result_item(rec: dict, req: SearchRequest, snippet: str) -> dict:
    """One search result from an enriched record (quotes narrowed to the chosen speakers); any backend."""
    quotes = rec.get("quotes") or []
    if req.filters.get("speaker"):
        wanted = set(req.filters["speaker"])
        quotes = [q for q in quotes if q.get("speaker") in wanted]
    return {
        "id": rec["id"],
        "title": rec.get("title") or "",
        "published": rec.get("published"),
        "source": rec.get("source"),
        "url": rec.get("url"),
        "snippet": snippet,
        "speakers": rec.get("speakers") or [],
        "persons": rec.get("persons") or [],
        "places": rec.get("places") or [],
        "organizations": rec.get("organizations") or [],
        "quotes": [{k: q.get(k) for k in QUOTE_KEYS} for q in quotes],
        "indexed": rec.get("indexed"),
    }


def quote_item(qr: dict, snippet: str, cluster: dict | None) -> dict:
    """One quote row (contracts.QUOTE_RESULT_FIELDS but context_url) from a stored quote record; any backend."""
    return {
        "id": qr["id"], "text": qr.get("text") or "", "snippet": snippet,
        "speaker": qr.get("speaker"), "speaker_text": qr.get("speaker_text"), "kind": qr.get("kind"),
        "verb": qr.get("verb"), "start": qr.get("start"), "end": qr.get("end"), "position": qr.get("n"),
        "article": qr.get("article") or {}, "indexed": qr.get("indexed"), "cluster": cluster,
    }


def cluster_item(summary: dict, shown: list[dict]) -> dict:
    """A row's cluster: {id, quotes, articles, outlets, first, members, more} from its summary and its first
    members ({article_id, source, published}, earliest first); any backend."""
    return {"id": summary["id"], "quotes": summary["quotes"], "articles": summary["articles"],
            "outlets": summary["outlets"], "first": shown[0] if shown else None, "members": shown,
            "more": summary["quotes"] - len(shown)}


def trail_order(rows: list[dict]) -> list[dict]:
    """A cluster's quote rows in the order of its trail: by the article's published date (undated last), id."""
    return sorted(rows, key=lambda r: (r["article"].get("published") is None, str(r["article"].get("published") or ""),
                                       r["id"]))


# the article facet of each kind of name (search/nametable.NAME_KINDS)
NAME_FACETS = ("person", "org", "place", "speaker")


def name_listing(tops: dict[str, list[dict]], raw_counts: dict[str, dict[str, int]], table: NameTable) -> dict:
    """Searcher.names' answer from each kind's top canonical values ({value, count}, most articles first) and
    every value as written with its articles (nametable.count_values): each canonical name with the variants the
    table resolves to it; any backend."""
    out = {}
    for kind in NAME_KINDS:
        groups = {r["value"]: {"name": r["value"], "count": r["count"], "variants": {}} for r in tops[kind]}
        out[kind] = list(groups.values())
        for source in NAME_KINDS:
            if (source == SPEAKERS) != (kind == SPEAKERS):
                continue
            for v, n in raw_counts[source].items():
                to_kind, c = table.resolve(source, v)
                if to_kind == kind and c in groups and (v != c or source != kind):
                    groups[c]["variants"][v if source == kind else f"{v} ({source})"] = n
    return out


def speaker_request(name: str, page: int, page_size: int | None, q: str, sort: str | None, facet_size: int,
                    settings: Settings) -> tuple[SearchRequest, list[str]]:
    """The quote request of a speaker page: their quotes, newest first (by relevance to q, if given)."""
    page_size = min(max(1, int(page_size or settings.page_size)), MAX_PAGE_SIZE)
    args = {"q": [q or ""], "speaker": [name], "page": [str(max(1, int(page)))], "size": [str(page_size)],
            "sort": [sort or ("relevance" if (q or "").strip() else "newest")]}
    req, messages = parse_quote_request(args, settings)
    req.facet_size = facet_size
    return req, messages


def speaker_page(name: str, res: QuoteResult, articles: int, with_others: list[dict], facet_size: int,
                 shown: str | None = None) -> dict:
    """Searcher.speaker's answer from the speaker's quote search, how many articles quote them, and the speaker
    facet of those articles (at least facet_size + 1 values, most frequent first; `shown`: the speaker as that
    facet shows them, when it differs from name); any backend."""
    return {
        "name": name, "q": res.request.q, "sort": res.request.sort, "total": res.total, "quotes_total": res.quotes,
        "articles": articles, "page": res.page, "pages": res.pages, "page_size": res.page_size,
        "quotes": res.results, "histogram": res.histogram, "messages": res.messages,
        "outlets": [{"value": r["value"], "count": r["count"]} for r in res.facets["source"]["results"] if r["count"]],
        "alongside": [{"value": r["value"], "count": r["count"]} for r in with_others
                      if r["value"] != (shown or name)][:facet_size],
    }


def plain_snippet(text: str) -> str:
    """The start of a text, HTML-escaped, cut at a word: the snippet when no query word is marked."""
    short = " ".join(text[: SNIPPET_CHARS + 40].split())
    if len(short) > SNIPPET_CHARS:
        short = short[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return html.escape(short)


_REGION_CHARS = 700  # texts up to this long are highlighted whole
_fragmenter = None


def _word_fragmenter():
    """Whoosh's ContextFragmenter, with fragments widened to whole words.

    Highlighting tokenises "Trump's" as "trump" + "s", so a fragment could open on the "s" ("… s border
    security") or close inside a hyphenated or apostrophised word; widening to the surrounding whitespace
    (at most 30 characters each way) shows whole words.
    """
    global _fragmenter
    if _fragmenter is None:
        from whoosh import highlight

        class WordFragmenter(highlight.ContextFragmenter):
            def fragment_tokens(self, text, tokens):
                for frag in super().fragment_tokens(text, tokens):
                    start, end = frag.startchar, frag.endchar
                    lo = start
                    while lo > 0 and start - lo < 30 and not text[lo - 1].isspace():
                        lo -= 1
                    hi = end
                    while hi < len(text) and hi - end < 30 and not text[hi].isspace():
                        hi += 1
                    if lo == 0 or text[lo - 1].isspace():
                        frag.startchar = lo
                    if hi == len(text) or text[hi].isspace():
                        frag.endchar = hi
                    yield frag

        _fragmenter = WordFragmenter(maxchars=SNIPPET_CHARS, surround=70)
    return _fragmenter


def _snippet_region(text: str, terms: frozenset, analyzer) -> str:
    """The part of a long text worth highlighting: around the densest cluster of query words.

    Whoosh's highlighter analyses every token of the text in Python (~15 us each: ~90 ms for a 6,000-word
    article, times 20 results a page). A C-speed regex finds candidate words instead -- a stem minus its last
    two letters is a prefix of every word it came from (Porter rewrites at most the last two letters) -- and
    only the candidates are analysed to confirm them.
    """
    if len(text) <= _REGION_CHARS:
        return text
    # at least 3 letters, or "toni" would make every "to..." word a candidate
    prefixes = sorted({t[: max(min(3, len(t)), len(t) - 2)] for t in terms if t}, key=len, reverse=True)
    if not prefixes:
        return text[:_REGION_CHARS]
    rx = re.compile(r"(?<!\w)(?:%s)\w*" % "|".join(map(re.escape, prefixes)), re.IGNORECASE)
    hits: list[tuple[int, frozenset]] = []
    seen: dict[str, frozenset] = {}
    for i, m in enumerate(rx.finditer(text)):
        if i >= 2000 or len(hits) >= 200:
            break
        w = m.group().lower()
        found = seen.get(w)
        if found is None:
            found = seen[w] = frozenset(t.text for t in analyzer(w)) & terms
        if found:
            hits.append((m.start(), found))
    if not hits:
        return text[:_REGION_CHARS]
    best, best_key = 0, None
    for i, (start, _) in enumerate(hits):
        window = [f for p, f in hits[i:i + 20] if p < start + SNIPPET_CHARS]
        key = (len(frozenset().union(*window)), len(window))
        if best_key is None or key > best_key:
            best, best_key = start, key
    # the fragmenter keeps ~70 characters of context either side of a hit, within SNIPPET_CHARS
    lo = text.rfind(" ", 0, max(0, best - 100)) + 1
    hi = text.find(" ", best + SNIPPET_CHARS + 100)
    return text[lo: hi if hi > 0 else len(text)]


def _histogram(months: dict[str, int]) -> list[dict]:
    """Month counts as a continuous series (months without articles included as 0)."""
    if not months:
        return []
    keys = sorted(months)
    y, m = int(keys[0][:4]), int(keys[0][5:7])
    ly, lm = int(keys[-1][:4]), int(keys[-1][5:7])
    out = []
    # A series spanning centuries (bad metadata) would be unreadable; then only months with articles.
    if (ly - y) * 12 + (lm - m) > 600:
        return [{"month": k, "count": months[k]} for k in keys]
    while (y, m) <= (ly, lm):
        k = f"{y:04d}-{m:02d}"
        out.append({"month": k, "count": months.get(k, 0)})
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


def open_searcher(index_dir: Path | str, settings: Settings | None = None) -> NewsSearcher:
    """Open a searcher on the live generation of the index (raises IndexMissing)."""
    return NewsSearcher(index_dir, settings)
