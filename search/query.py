"""Search: parse a request, match with Whoosh, filter and count facets with arrays, page, highlight.

Everything returned is plain data (dicts, lists, str); no Whoosh object leaves this module.
"""
from __future__ import annotations

import calendar
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
from search.contracts import (DATE_FACET, FACET_KEYS, FACET_LABELS, MAX_PAGE_SIZE, QUOTE_KEYS, RECORD_KEYS,
                              IndexMissing, SearchRequest, SearchResult, parse_request)
from search.facets import NO_DAY, FacetData, FacetTimeout, facet_clock, facet_data, from_day, to_day
from search.indexer import live_generation, open_whoosh
from search.schema import FACET_FIELDS

log = logging.getLogger(__name__)

FACETS = FACET_KEYS  # speaker, person, place, org
TEXT_FIELDS = ("title", "body", "quotes")
SNIPPET_CHARS = 240

__all__ = ["IndexMissing", "SearchRequest", "SearchResult", "parse_request", "open_searcher", "NewsSearcher"]


# ---------------------------------------------------------------- query parsing

_parser_lock = threading.Lock()
_parsers: dict = {}


def _parser(schema):
    from whoosh import qparser

    key = id(schema)
    with _parser_lock:
        p = _parsers.get(key)
        if p is None:
            p = qparser.MultifieldParser(list(TEXT_FIELDS), schema, group=qparser.AndGroup)
            # Field names users may type; anything else before a colon is plain text.
            p.remove_plugin_class(qparser.FieldsPlugin)
            p.add_plugin(qparser.FieldsPlugin(expr=r"(?P<text>title|body|quotes):"))
            p.add_plugin(qparser.GtLtPlugin())
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


def build_query(q: str, schema, messages: list[str]):
    """User text -> a Whoosh query, or None for 'everything'; never raises."""
    from whoosh import query as wq

    text = q.strip()
    if not text or text in ("*", "*:*"):
        return None
    if not re.search(r"\w", re.sub(r"\b(title|body|quotes):", " ", text)):
        messages.append("Your query has no words to search for.")
        return wq.NullQuery
    text = _balance(text, messages)
    try:
        parsed = _parser(schema).parse(text)
    except Exception:
        # The parser gave up: search the words themselves, analysed like the body text.
        analyzer = schema["body"].analyzer
        words = [t.text for t in analyzer(text)]
        parsed = wq.And([wq.Or([wq.Term(f, w) for f in TEXT_FIELDS]) for w in words]) if words else wq.NullQuery
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


class NewsSearcher:
    """One reader of one index generation; open per request, close after."""

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
            self.facets: FacetData = facet_data((key,), self._searcher.reader())
        except BaseException:
            self._searcher.close()  # no caller holds this object yet to close it
            raise

    def close(self) -> None:
        """Release the Whoosh searcher."""
        self._searcher.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- matching

    def _match(self, req: SearchRequest, messages: list[str]):
        """(base mask from the text query, scores array or None)."""
        fd = self.facets
        self._last_query = None
        q = build_query(req.q, self._ix.schema, messages)
        if q is None:
            return fd.alive.copy(), None
        from whoosh import query as wq

        if q is wq.NullQuery:
            return np.zeros(fd.size, dtype=bool), None
        from search.postings import match_arrays

        try:
            # Terms, And, Or, AndNot: whole posting blocks as arrays, the same BM25F scores as Whoosh's
            mask, scores = match_arrays(q, self._searcher, fd.lengths, fd.size)
        except Exception:  # Unsupported, or anything unforeseen: Whoosh's own path decides
            mask = scores = None
        if mask is None:
            # phrases, prefixes, ranges...: Whoosh's matcher, one document at a time
            col = _AllScores.make()
            try:
                self._searcher.search_with_collector(q, col)
            except Exception:
                messages.append("That query could not be run; try simpler words.")
                return np.zeros(fd.size, dtype=bool), None
            docs = np.asarray(col.docnums, dtype=np.int64)
            mask = np.zeros(fd.size, dtype=bool)
            mask[docs] = True
            scores = np.zeros(fd.size, dtype=np.float64)
            scores[docs] = col.scores
        mask &= fd.alive
        self._last_query = q
        return mask, scores

    def _date_mask(self, req: SearchRequest) -> np.ndarray | None:
        if not req.date_from and not req.date_to:
            return None
        day = self.facets.day
        mask = day != NO_DAY
        if req.date_from:
            mask &= day >= to_day(date.fromisoformat(req.date_from))
        if req.date_to:
            mask &= day <= to_day(date.fromisoformat(req.date_to))
        return mask

    def _facet_masks(self, req: SearchRequest) -> tuple[dict, dict]:
        fd = self.facets
        inc, exc = {}, {}
        for f in FACETS:
            if req.filters.get(f):
                inc[f] = fd.field(f).docs_with(req.filters[f], fd.size)
            if req.exclude.get(f):
                exc[f] = ~fd.field(f).docs_with(req.exclude[f], fd.size)
        return inc, exc

    def _facet_mask(self, f: str, base, dmask, inc: dict, exc: dict) -> np.ndarray:
        """The documents a facet counts: the query, the dates and every filter but the facet's own choices."""
        m = base.copy()
        if dmask is not None:
            m &= dmask
        for g in FACETS:
            if g != f and g in inc:
                m &= inc[g]
            if g in exc:
                m &= exc[g]
        return m

    def _undated_mask(self, base, inc: dict, exc: dict) -> np.ndarray:
        """The documents the date facet counts: the query and every facet filter, not the dates."""
        m = base.copy()
        for x in list(inc.values()) + list(exc.values()):
            m &= x
        return m

    def _guarded(self, name: str, compute) -> dict:
        """compute(deadline) -> a facet, within the facet time limit; a facet that fails or passes its limit comes
        back empty with `failed` saying why, so the rest of the page still renders (as Datasette's facets do)."""
        limit_ms = int(self.settings.facet_time_limit_ms)
        deadline = facet_clock() + limit_ms / 1000 if limit_ms > 0 else None
        try:
            return compute(deadline)
        except FacetTimeout:
            log.warning("facet %s passed its time limit of %d ms", name, limit_ms)
            reason = f"took longer than the {limit_ms} ms time limit; narrow the search to see it"
        except Exception:
            log.exception("facet %s could not be counted", name)
            reason = "could not be counted (an error on the server, logged there)"
        return {"name": name, "label": FACET_LABELS.get(name, name), "results": [], "truncated": False,
                "distinct": None, "failed": reason}

    def _final_mask(self, req: SearchRequest, messages: list[str]):
        base, scores = self._match(req, messages)
        dmask = self._date_mask(req)
        inc, exc = self._facet_masks(req)
        final = base.copy()
        if dmask is not None:
            final &= dmask
        for m in list(inc.values()) + list(exc.values()):
            final &= m
        return base, scores, dmask, inc, exc, final

    def _order(self, req: SearchRequest, final: np.ndarray, scores) -> np.ndarray:
        """Matching documents in the request's order; the last tie-break is the article id (not the document
        number, which differs between an updated index and the same articles rebuilt)."""
        docs = np.flatnonzero(final)
        day = self.facets.day[docs]
        rank = self.facets.rank[docs]
        if req.sort == "relevance" and scores is not None:
            # score desc, then newest first among equals
            return docs[np.lexsort((rank, -day.astype(np.int64), -scores[docs]))]
        if req.sort == "oldest":
            # undated documents last in either direction
            key = np.where(day == NO_DAY, np.iinfo(np.int32).max, day)
            return docs[np.lexsort((rank, key))]
        return docs[np.lexsort((rank, -day.astype(np.int64)))]

    def search(self, req: SearchRequest, messages: list[str] | None = None) -> SearchResult:
        """Run a search request: one page of results, facets (each under the other filters) and histogram."""
        started = time.perf_counter()
        messages = list(messages or [])
        fd = self.facets
        base, scores, dmask, inc, exc, final = self._final_mask(req, messages)

        facets = {}
        for f in FACETS:
            facets[f] = self._guarded(f, lambda deadline, f=f: fd.top(
                f, self._facet_mask(f, base, dmask, inc, exc), req.facet_size, req.filters[f], req.exclude[f],
                deadline=deadline))
        undated = self._undated_mask(base, inc, exc)
        facets[DATE_FACET] = self._guarded(DATE_FACET, lambda deadline: date_facet(
            req, fd.month_counts(undated, deadline=deadline)))
        histogram = _histogram(fd.month_counts(final))

        total = int(final.sum())
        pages = max(1, -(-total // req.page_size))
        page = req.page
        if page > pages:
            if total:
                messages.append(f"Page {page} is past the last page ({pages}); showing page {pages}.")
            page = pages
        order = self._order(req, final, scores)
        start = (page - 1) * req.page_size
        page_docs = order[start:start + req.page_size]
        results = [self._result(int(d), req) for d in page_docs]
        took = (time.perf_counter() - started) * 1000
        req.page = page
        return SearchResult(total=total, page=page, pages=pages, page_size=req.page_size, took_ms=round(took, 1),
                            request=req, results=results, facets=facets, histogram=histogram, messages=messages)

    def facet(self, req: SearchRequest, key: str, size: int, contains: str | None = None) -> dict:
        """One facet under a request, without computing the others or any result: its `size` top values (only
        those containing `contains`, ignoring case, when given), counted under every filter but its own, within
        the facet time limit. {"total": articles matching the whole request, "facet": {...}, "messages": [...]}."""
        if key != DATE_FACET and key not in FACETS:
            raise ValueError(f"unknown facet {key!r}; choose one of {', '.join(FACETS + (DATE_FACET,))}")
        messages: list[str] = []
        fd = self.facets
        base, _, dmask, inc, exc, final = self._final_mask(req, messages)
        contains = " ".join((contains or "").split()) or None
        if key == DATE_FACET:
            undated = self._undated_mask(base, inc, exc)
            facet = self._guarded(key, lambda deadline: date_facet(
                req, fd.month_counts(undated, deadline=deadline)))
        else:
            facet = self._guarded(key, lambda deadline: fd.top(
                key, self._facet_mask(key, base, dmask, inc, exc), size, req.filters[key], req.exclude[key],
                contains=contains, deadline=deadline))
        return {"total": int(final.sum()), "facet": facet, "messages": messages}

    # -- documents

    def _record(self, docnum: int) -> dict:
        stored = self._searcher.stored_fields(docnum)
        return json.loads(stored["record"])

    def _result(self, docnum: int, req: SearchRequest) -> dict:
        rec = self._record(docnum)
        return result_item(rec, req, self._snippet(rec))

    def _snippet(self, rec: dict) -> str:
        """A short passage of the text, HTML-escaped, with the query's words in <mark>."""
        text = rec.get("text") or ""
        q = getattr(self, "_last_query", None)
        if q is not None:
            try:
                from whoosh import highlight

                terms = {t for f, t in q.iter_all_terms() if f in ("body", "title", "quotes")}
                terms = {t.decode("utf-8") if isinstance(t, bytes) else t for t in terms}
                if terms:
                    analyzer = self._ix.schema["body"].analyzer
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

    def article(self, article_id: str) -> dict | None:
        """The enriched record of an article by id, or None."""
        if not isinstance(article_id, str) or not article_id or len(article_id) > 1000:
            return None
        docnum = self._searcher.document_number(id=article_id)
        if docnum is None:
            return None
        return self._record(docnum)

    def speaker(self, name: str, page: int = 1, page_size: int | None = None) -> dict:
        """A speaker's quotes, one page of the articles quoting them at a time (newest first), and how many of
        those articles each month has: {name, total (articles), page, pages, page_size, quotes: [{text, verb,
        start, end, kind, article: {id, title, published, source, url}}], histogram: [{month, count}]}."""
        fd = self.facets
        page_size = min(max(1, int(page_size or self.settings.page_size)), MAX_PAGE_SIZE)
        mask = fd.field("speaker").docs_with([name], fd.size) & fd.alive
        docs = np.flatnonzero(mask)
        docs = docs[np.lexsort((fd.rank[docs], -fd.day[docs].astype(np.int64)))]
        total = int(len(docs))
        pages = max(1, -(-total // page_size))
        page = min(max(1, int(page)), pages)
        quotes = []
        # Only this page's records are decoded: a prolific speaker has thousands.
        for d in docs[(page - 1) * page_size: page * page_size]:
            quotes += speaker_quotes(name, self._record(int(d)))
        return {"name": name, "total": total, "page": page, "pages": pages, "page_size": page_size,
                "quotes": quotes, "histogram": _histogram(fd.month_counts(mask))}

    def iter_matching(self, req: SearchRequest, limit: int | None = None) -> Iterator[dict]:
        """The articles matching the request (at most `limit`), in its sort order, as export rows: id, title,
        published, source, url and a list per facet (by record key). Read from the stored fields; the full
        record (the whole text as JSON) is never decoded."""
        messages: list[str] = []
        _, scores, _, _, _, final = self._final_mask(req, messages)
        order = self._order(req, final, scores)
        for d in order if limit is None else order[:max(0, int(limit))]:
            stored = self._searcher.stored_fields(int(d))
            row = {"id": stored.get("id"), "title": stored.get("title") or "",
                   "published": _published_text(stored.get("published")), "source": stored.get("source") or None,
                   "url": stored.get("url") or None}
            for f in FACETS:  # the keyword fields hold the values comma-joined, as facets count them
                row[RECORD_KEYS[f]] = [v for v in (stored.get(FACET_FIELDS[f]) or "").split(",") if v]
            yield row

    def stats(self) -> dict:
        """Corpus figures: articles, date range, top speakers, persons, places, organizations."""
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
        return out


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
    }


def plain_snippet(text: str) -> str:
    """The start of a text, HTML-escaped, cut at a word: the snippet when no query word is marked."""
    short = " ".join(text[: SNIPPET_CHARS + 40].split())
    if len(short) > SNIPPET_CHARS:
        short = short[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return html.escape(short)


def speaker_quotes(name: str, rec: dict) -> list[dict]:
    """A speaker's quotes in one article's record, each with the article it is from (any backend)."""
    art = {k: rec.get(k) for k in ("id", "title", "published", "source", "url")}
    return [{**{k: q.get(k) for k in QUOTE_KEYS if k != "speaker"}, "article": art}
            for q in rec.get("quotes") or [] if q.get("speaker") == name]


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


def _published_text(value) -> str | None:
    """A stored published datetime as ISO text: the date alone when it has no time of day."""
    if value is None:
        return None
    if value.hour == value.minute == value.second == value.microsecond == 0:
        return value.date().isoformat()
    return value.isoformat()


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
