"""Searching newsfacet's index in OpenSearch: the Searcher of search/backend.py, answering in the same plain
data as the Whoosh backend (search/contracts.py shapes, built by the same helpers of search/query.py)."""
from __future__ import annotations

import dataclasses
import html
import time
from typing import Iterator

from search.config import Settings, language_models
from search.contracts import (CLUSTER_MEMBERS_SHOWN, DATE_FACET, FACET_KEYS, RECORD_KEYS, QuoteResult, SearchRequest,
                              SearchResult)
from search.nametable import NAME_KINDS, SPEAKERS, NameTable
from search.opensearch import request as rq
from search.opensearch.connection import NoIndex, NoQuoteIndex
from search.opensearch.mapping import FACET_FIELDS, cluster_index, from_source, quote_index
from search.opensearch.names import CANON, read_table, value_counts
from search.opensearch.writer import has_quotes, live_index
from search.query import (NAME_FACETS, QUOTE_TEXT_FIELDS, _histogram, _page_of, _published_text, build_query,
                          cluster_item, date_facet, name_listing, plain_snippet, quote_item, result_item, speaker_page,
                          speaker_request, trail_order)
from search.quoteindex import build_quote_schema
from search.schema import build_schema, parse_published

# the query parsers' (search.query.build_query caches its parser per schema): article and quote fields
_SCHEMA = build_schema()
_QUOTE_SCHEMA = build_quote_schema()
SCROLL_PAGE = 1000
# Trail order of a cluster's members (search/clusters.py: by day, undated last, then quote id).
MEMBER_ORDER = [{"published": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}]
COULD_NOT_RUN = "That query could not be run; try simpler words."


class PartialResults(RuntimeError):
    """A shard copy failed or timed out while answering: the counts would be short."""


class OpenSearchSearcher:
    """One reader of the index behind the alias, resolved when opened; open per request, close after."""

    def __init__(self, client, settings: Settings):
        from opensearchpy.exceptions import NotFoundError

        self.client = client
        self.settings = settings
        try:
            index = live_index(client, settings)
        except NotFoundError:
            index = None
        if index is None:
            raise NoIndex(settings)
        # Every request of this searcher reads this generation (its quote and cluster indices are named after it),
        # even if a rebuild moves the aliases meanwhile.
        self.index = index
        self.generation = index
        self._version: str | None = None
        # Facets count, filter and show the names as the collection's name table shows them (canon.* fields,
        # search/opensearch/names.py) unless settings turn it off: then the values as written.
        self.canonical = bool(getattr(settings, "canonical_names", True))
        self.articles = rq.ARTICLES.canonical() if self.canonical else rq.ARTICLES
        self.quote_kind = rq.QUOTES.canonical() if self.canonical else rq.QUOTES
        self._table: NameTable | None = None

    def close(self) -> None:
        """Nothing is held between requests (the client's connection pool is shared)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def version(self) -> str:
        """Names the state of the index this searcher reads: the generation, and when an update last changed it
        in place (feed ETags)."""
        if self._version is None:
            mapping = self.client.indices.get_mapping(index=self.index)[self.index].get("mappings") or {}
            written = (mapping.get("_meta") or {}).get("written")
            self._version = self.index + (f".{written}" if written else "")
        return self._version

    @property
    def names_table(self) -> NameTable:
        """The collection's name table this searcher applies (empty when settings turn it off), read once."""
        if self._table is None:
            self._table = read_table(self.client, self.index) if self.canonical else NameTable()
        return self._table

    def _choose(self, req: SearchRequest, kind: rq.Facets, index: str | None = None) -> None:
        """Chosen facet values as the facets show them: a variant ('U.S. Senate', a surname) chooses its canonical
        value, which matches the documents holding any of its variants (the Whoosh backend's canonical_choices)."""
        if not self.canonical or not (any(req.filters.get(f) for f in kind.kinds)
                                      or any(req.exclude.get(f) for f in kind.kinds)):
            return
        for choices in (req.filters, req.exclude):
            for f in kind.kinds:
                if choices.get(f):
                    choices[f] = list(dict.fromkeys(self._canonical_value(kind, f, v, index) for v in choices[f]))

    def _canonical_value(self, kind: rq.Facets, facet: str, value: str, index: str | None = None) -> str:
        """The value a facet shows for a chosen one: itself when the facet has it, else its canonical value."""
        if not self.canonical or facet not in kind.kinds:
            return value
        shown = self.names_table.resolve(kind.kinds[facet], value)[1]
        if shown == value:
            return value
        held = self.client.count(index=index or self.index, body={"query": {"term": {kind.fields[facet]: value}}})
        return value if int(held["count"]) else shown

    def _quote_record(self, src: dict) -> dict:
        """A quote document's record with its speaker as the speaker facet counts it (the collection's name, or a
        lone surname its article owns)."""
        rec = src["record"]
        if not rec.get("speaker") or not self.names_table:
            return rec
        shown = next(iter((src.get(CANON) or {}).get("speaker") or []), None) \
            or self.names_table.resolve(SPEAKERS, rec["speaker"])[1] or None
        return {**rec, "speaker": shown}

    def _search(self, body: dict, index: str | None = None) -> dict:
        from opensearchpy.exceptions import NotFoundError

        try:
            resp = self.client.search(index=index or self.index, body=body)
        except NotFoundError as exc:
            if index is not None and self.client.indices.exists(index=self.index):
                raise NoQuoteIndex(self.settings) from exc  # a generation written without quotes
            # Deleted since this searcher resolved the alias (retired past its grace period): no index now.
            raise NoIndex(self.settings) from exc
        if resp.get("timed_out") or (resp.get("_shards") or {}).get("failed"):
            # Partial results would show wrong counts as if they were right: an error the caller reports.
            raise PartialResults(f"OpenSearch answered from part of {self.index} only: {resp.get('_shards')}")
        return resp

    # -- matching

    def _query(self, req: SearchRequest, messages: list[str], quotes: bool = False) -> tuple[dict, object]:
        """(query DSL of the text, the parsed Whoosh query or None when there are no words), over the article's
        fields or, for quotes, the quote's words."""
        from whoosh import query as wq

        if quotes:
            q = build_query(req.q, _QUOTE_SCHEMA, messages, QUOTE_TEXT_FIELDS)
        else:
            q = build_query(req.q, _SCHEMA, messages)
        if q is None:
            return {"match_all": {}}, None
        if q is wq.NullQuery:
            return {"match_none": {}}, None
        try:
            return rq.translate(q), q
        except rq.Untranslatable:
            messages.append(COULD_NOT_RUN)
            return {"match_none": {}}, None

    def search(self, req: SearchRequest, messages: list[str] | None = None) -> SearchResult:
        """One page of results, every facet under the other filters, the date facet and the histogram."""
        started = time.perf_counter()
        messages = list(messages or [])
        self._choose(req, self.articles)
        query, parsed = self._query(req, messages)
        scored = parsed is not None
        terms = rq.highlight_terms(parsed)
        body = {
            "query": query,
            "post_filter": rq.final_filter(req, self.articles),
            "aggs": rq.facet_aggregations(req, kind=self.articles),
            "sort": rq.sort_clause(req, scored),
            "track_total_hits": True,
            "from": (req.page - 1) * req.page_size,
            "size": req.page_size,
            "_source": rq.RESULT_SOURCE,
            "highlight": rq.highlight_clause(terms),
        }
        resp = self._search(body)
        total = int(resp["hits"]["total"]["value"])
        page, pages, hits = self._page(body, resp, total, req, messages)
        facets, histogram = _facets(resp["aggregations"], req, self.articles)
        table = self.names_table
        results = [result_item(table.resolve_record(from_source(h["_source"])), req, _snippet(h, "body")) for h in hits]
        req.page = page
        took = (time.perf_counter() - started) * 1000
        return SearchResult(total=total, page=page, pages=pages, page_size=req.page_size, took_ms=round(took, 1),
                            request=req, results=results, facets=facets, histogram=histogram, messages=messages)

    def _page(self, body: dict, resp: dict, total: int, req: SearchRequest, messages: list[str],
              index: str | None = None) -> tuple[int, int, list[dict]]:
        """(page shown, pages, its hits): a page past the last shows the last (asked again), with a message."""
        page, pages = _page_of(req, total, messages)
        if page == req.page:
            return page, pages, resp["hits"]["hits"]
        again = {k: v for k, v in body.items() if k != "aggs"}
        again["from"] = (page - 1) * req.page_size
        return page, pages, self._search(again, index)["hits"]["hits"] if total else []

    def facet(self, req: SearchRequest, key: str, size: int, contains: str | None = None) -> dict:
        """One facet under a request, nothing else computed: its `size` top values (only those containing
        `contains`, ignoring case, when given), counted under every filter but its own. {"total": articles
        matching the whole request, "facet": {...}, "messages": [...]}."""
        return self._one_facet(req, key, size, contains, self.articles)

    def quote_facet(self, req: SearchRequest, key: str, size: int, contains: str | None = None) -> dict:
        """One quote facet under a quote request, as facet()."""
        return self._one_facet(req, key, size, contains, self.quote_kind)

    def _one_facet(self, req: SearchRequest, key: str, size: int, contains: str | None, kind: rq.Facets) -> dict:
        if key != DATE_FACET and key not in kind.keys:
            raise ValueError(f"unknown facet {key!r}; choose one of {', '.join(kind.keys + (DATE_FACET,))}")
        messages: list[str] = []
        quotes = kind is self.quote_kind
        self._choose(req, kind, self._quote_index() if quotes else None)
        query, _ = self._query(req, messages, quotes)
        contains = " ".join((contains or "").split()) or None
        aggs = rq.facet_aggregations(req, only=key, size=size, contains=contains, kind=kind)
        resp = self._search({"query": query, "post_filter": rq.final_filter(req, kind), "aggs": aggs, "size": 0,
                             "track_total_hits": True}, self._quote_index() if quotes else None)
        agg = resp["aggregations"]["facet_" + key]
        if key == DATE_FACET:
            facet = date_facet(req, _months(agg["months"]))
        else:
            narrowed = dataclasses.replace(req, facet_size=size)
            facet = _facet(key, agg, narrowed, kind, contains)
        return {"total": int(resp["hits"]["total"]["value"]), "facet": facet, "messages": messages}

    # -- quotes

    def _quote_index(self) -> str:
        return quote_index(self.index)

    def quotes(self, req: SearchRequest, messages: list[str] | None = None) -> QuoteResult:
        """Quote search: one page of rows (the matching quotes of a cluster collapsed into the first of them in
        the request's order), facets speaker, source, kind and date (each under the other filters), histogram
        of matching quotes per month. Rows are counted as the distinct clusters plus the unclustered quotes."""
        started = time.perf_counter()
        messages = list(messages or [])
        self._choose(req, self.quote_kind, self._quote_index())
        query, parsed = self._query(req, messages, quotes=True)
        aggs = rq.facet_aggregations(req, kind=self.quote_kind)
        aggs["rows"] = rq.rows_aggregation(req, self.quote_kind)
        body = {
            "query": query,
            "post_filter": rq.final_filter(req, self.quote_kind),
            "aggs": aggs,
            "collapse": {"field": "group"},
            "sort": rq.sort_clause(req, parsed is not None),
            "track_total_hits": True,
            "from": (req.page - 1) * req.page_size,
            "size": req.page_size,
            "_source": ["record", "cluster", CANON],
            "highlight": rq.highlight_clause(rq.highlight_terms(parsed), "quotes"),
        }
        resp = self._search(body, self._quote_index())
        a = resp["aggregations"]
        n_quotes = int(resp["hits"]["total"]["value"])
        total = int(a["rows"]["alone"]["doc_count"]) + int(a["rows"]["clusters"]["value"])
        page, pages, hits = self._page(body, resp, total, req, messages, self._quote_index())
        facets, histogram = _facets(a, req, self.quote_kind)
        clusters = self._cluster_summaries([h["_source"].get("cluster") for h in hits])
        results = [quote_item(self._quote_record(h["_source"]), _snippet(h, "quotes"),
                              clusters.get(h["_source"].get("cluster"))) for h in hits]
        req.page = page
        took = (time.perf_counter() - started) * 1000
        return QuoteResult(total=total, quotes=n_quotes, page=page, pages=pages, page_size=req.page_size,
                           took_ms=round(took, 1), request=req, results=results, facets=facets, histogram=histogram,
                           messages=messages)

    def _cluster_summaries(self, ids) -> dict[str, dict]:
        """{id: cluster_item} of clusters (their summaries, and their first members earliest first)."""
        ids = sorted({c for c in ids if c})
        if not ids:
            return {}
        docs = self.client.mget(index=cluster_index(self.index), body={"ids": [f"cluster:{c}" for c in ids]})["docs"]
        summaries = {d["_source"]["id"]: d["_source"] for d in docs if d.get("found")}
        resp = self._search({"query": {"terms": {"cluster": ids}}, "size": 0, "aggs": {"by": {
            "terms": {"field": "cluster", "size": len(ids)},
            "aggs": {"first": {"top_hits": {"size": CLUSTER_MEMBERS_SHOWN, "sort": MEMBER_ORDER,
                                            "_source": ["article", "published", "record.article.source"]}}}}}},
            self._quote_index())
        out = {}
        for b in resp["aggregations"]["by"]["buckets"]:
            if b["key"] in summaries:
                out[b["key"]] = cluster_item(summaries[b["key"]], [_member(h["_source"]) for h in
                                                                   b["first"]["hits"]["hits"]])
        return out

    def quote_cluster(self, cluster_id: str) -> dict | None:
        """A cluster's whole trail, earliest first: {id, quotes, articles, outlets, first, trail: [quote rows]};
        {id, redirect} when it was merged into another; None when there is no such cluster."""
        from opensearchpy.exceptions import NotFoundError

        if not isinstance(cluster_id, str) or not cluster_id or len(cluster_id) > 100:
            return None
        try:
            moved = self.client.get(index=cluster_index(self.index), id=f"redirect:{cluster_id}")["_source"]["new"]
        except NotFoundError as exc:
            if not self.client.indices.exists(index=cluster_index(self.index)):
                raise NoQuoteIndex(self.settings) from exc
            moved = None
        if moved:
            return {"id": cluster_id, "redirect": moved}
        summary = self._cluster_summaries([cluster_id]).get(cluster_id)
        if summary is None:
            return None
        hits = self._scan({"term": {"cluster": cluster_id}}, None, MEMBER_ORDER, ["record", CANON],
                          index=self._quote_index())
        rows = [quote_item(self._quote_record(h["_source"]), html.escape(h["_source"]["record"].get("text") or ""),
                           {"id": cluster_id}) for h in hits]
        return {**summary, "trail": trail_order(rows)}

    def iter_quotes(self, req: SearchRequest, limit: int | None = None) -> Iterator[dict]:
        """The quotes matching a quote request (at most `limit`), one per quote (not collapsed), in its sort order
        (exports). Raises QuoteIndexMissing at once (not on the first row) for a generation without quotes."""
        if not has_quotes(self.client, self.index):
            raise NoQuoteIndex(self.settings)
        self._choose(req, self.quote_kind, self._quote_index())
        query, parsed = self._query(req, [], quotes=True)
        sort = rq.sort_clause(req, parsed is not None)
        left = None if limit is None else max(0, int(limit))
        return (quote_item(self._quote_record(src), html.escape(src["record"].get("text") or ""),
                           {"id": src["cluster"]} if src.get("cluster") else None)
                for h in self._scan(query, rq.final_filter(req, self.quote_kind), sort, ["record", "cluster", CANON],
                                    index=self._quote_index(), limit=left)
                for src in (h["_source"],))

    # -- documents

    def article(self, article_id: str) -> dict | None:
        """The enriched record of an article by id, or None."""
        from opensearchpy.exceptions import NotFoundError

        if not isinstance(article_id, str) or not article_id or len(article_id) > 1000:
            return None
        try:
            doc = self.client.get(index=self.index, id=article_id, _source_includes="record,body")
        except NotFoundError:
            return None
        return self.names_table.resolve_record(from_source(doc["_source"]))

    def _scan(self, query: dict, post_filter: dict | None, sort: list, source: list[str], index: str | None = None,
              limit: int | None = None) -> Iterator[dict]:
        """Every hit of a query in sort order (at most `limit`), through a point in time (a consistent view) and
        search_after."""
        if limit == 0:
            return
        page = min(SCROLL_PAGE, limit or SCROLL_PAGE)
        pit = self.client.create_pit(index=index or self.index, params={"keep_alive": "2m"})["pit_id"]
        try:
            after = None
            while True:
                body = {"query": query, "sort": sort, "size": page, "_source": source,
                        "pit": {"id": pit, "keep_alive": "2m"}, "track_total_hits": False}
                if post_filter is not None:
                    body["post_filter"] = post_filter
                if after is not None:
                    body["search_after"] = after
                hits = self.client.search(body=body)["hits"]["hits"]
                if limit is not None:
                    hits = hits[:limit]
                    limit -= len(hits)
                yield from hits
                if len(hits) < page or limit == 0:
                    return
                after = hits[-1]["sort"]
        finally:
            try:
                self.client.delete_pit(body={"pit_id": [pit]})
            except Exception:
                pass  # it expires by itself

    def speaker(self, name: str, page: int = 1, page_size: int | None = None, q: str = "", sort: str | None = None,
                facet_size: int = 10) -> dict:
        """A speaker's page, from the quote index as the Whoosh backend's: one page of their quotes (repeats
        collapsed; newest first, or by relevance to q), quotes per month, the outlets quoting them most and the
        speakers most often quoted in the same articles."""
        req, messages = speaker_request(name, page, page_size, q, sort, facet_size, self.settings)
        res = self.quotes(req, messages)
        # a variant's page is its canonical name's (quotes() chose it in req), in the article facets too
        name = (req.filters.get("speaker") or [name])[0]
        shown = self._canonical_value(self.articles, "speaker", name)
        field = self.articles.fields["speaker"]
        resp = self._search({"query": {"term": {field: shown}}, "size": 0, "track_total_hits": True,
                             "aggs": {"with": rq.terms_aggregation(field, facet_size + 1)}})
        with_others = [{"value": b["key"], "count": int(b["doc_count"])} for b in resp["aggregations"]["with"]["buckets"]]
        return speaker_page(name, res, int(resp["hits"]["total"]["value"]), with_others, facet_size, shown)

    def iter_matching(self, req: SearchRequest, limit: int | None = None) -> Iterator[dict]:
        """The articles matching the request (at most `limit`), in its sort order, as export rows: id, title,
        published, source, url and a list per facet (by record key)."""
        self._choose(req, self.articles)
        query, parsed = self._query(req, [])
        sort = rq.sort_clause(req, parsed is not None)
        fields = ["record.id", "record.title", "record.published", "record.source", "record.url"]
        source = fields + list(FACET_FIELDS.values())
        left = None if limit is None else max(0, int(limit))
        table = self.names_table
        for h in self._scan(query, rq.final_filter(req, self.articles), sort, source, limit=left):
            src = h["_source"]
            rec = src.get("record") or {}
            row = {"id": rec.get("id"), "title": rec.get("title") or "",
                   "published": _published_text(parse_published(rec.get("published"))),
                   "source": rec.get("source") or None, "url": rec.get("url") or None}
            for f in FACET_KEYS:  # the values as written, shown as the collection's names (as the facets count them)
                row[RECORD_KEYS[f]] = list(src.get(FACET_FIELDS[f]) or [])
            yield table.resolve_record(row)

    def names(self, limit: int = 50) -> dict:
        """Canonical names with their variants: {kind: [{name, count (articles), variants: {value: articles}}]},
        most articles first, for people, organisations, places and speakers (search.query.name_listing)."""
        aggs = {kind: rq.terms_aggregation(self.articles.fields[facet], limit)
                for kind, facet in zip(NAME_KINDS, NAME_FACETS)}
        a = self._search({"size": 0, "track_total_hits": False, "query": {"match_all": {}}, "aggs": aggs})["aggregations"]
        tops = {kind: [{"value": b["key"], "count": int(b["doc_count"])} for b in a[kind]["buckets"]]
                for kind in NAME_KINDS}
        return name_listing(tops, value_counts(self.client, self.index), self.names_table)

    def stats(self) -> dict:
        """Corpus figures: articles, date range, top speakers, persons, places, organizations."""
        aggs = {"dated": {"value_count": {"field": "published"}},
                "first": {"min": {"field": "published", "format": "strict_date"}},
                "last": {"max": {"field": "published", "format": "strict_date"}}}
        for key, field in FACET_FIELDS.items():  # named by the record key, counted as the facets count
            aggs["top_" + field] = rq.terms_aggregation(self.articles.fields[key], 10)
            aggs["distinct_" + field] = {"cardinality": {"field": self.articles.fields[key],
                                                     "precision_threshold": rq.STATS_CARDINALITY_PRECISION}}
        aggs["languages"] = rq.terms_aggregation(FACET_FIELDS["language"], 1000)
        resp = self._search({"size": 0, "track_total_hits": True, "query": {"match_all": {}}, "aggs": aggs})
        a = resp["aggregations"]
        dated = int(a["dated"]["value"])
        out = {
            "articles": int(resp["hits"]["total"]["value"]),
            "dated": dated,
            "first": a["first"].get("value_as_string") if dated else None,
            "last": a["last"].get("value_as_string") if dated else None,
            "generation": self.index,
        }
        for field in FACET_FIELDS.values():
            key = field if field.endswith("s") else field + "s"  # the Whoosh backend's names: top_languages
            out["top_" + key] = [{"value": b["key"], "count": int(b["doc_count"])} for b in a["top_" + field]["buckets"]]
            out["distinct_" + key] = int(a["distinct_" + field]["value"])
        # Articles in a language without a pipeline were indexed for full text only (search/enrich.py).
        enriched = set(language_models(self.settings))
        out["not_enriched"] = sum(int(b["doc_count"]) for b in a["languages"]["buckets"] if b["key"] not in enriched)
        out["quotes"], out["clusters"] = self._quote_stats() if has_quotes(self.client, self.index) else (None, None)
        return out

    def _quote_stats(self) -> tuple[int, dict]:
        """(quotes, the cluster sizes as ClusterReader.sizes gives them)."""
        quotes = int(self.client.count(index=self._quote_index())["count"])
        every = {"size": rq.MAX_MATCHING_VALUES, "order": {"_key": "asc"}}
        a = self._search({"query": {"term": {"kind": "cluster"}}, "size": 0, "track_total_hits": True, "aggs": {
            "articles": {"terms": {"field": "articles", **every}}, "quotes": {"terms": {"field": "quotes", **every}},
            "clustered": {"sum": {"field": "quotes"}}}}, cluster_index(self.index))
        sizes = {"clusters": int(a["hits"]["total"]["value"]),
                 "clustered_quotes": int(a["aggregations"]["clustered"]["value"]),
                 "by_articles": [{"articles": int(b["key"]), "clusters": int(b["doc_count"])}
                                 for b in a["aggregations"]["articles"]["buckets"]],
                 "by_quotes": [{"quotes": int(b["key"]), "clusters": int(b["doc_count"])}
                               for b in a["aggregations"]["quotes"]["buckets"]]}
        return quotes, sizes


def _months(histogram: dict) -> dict[str, int]:
    return {b["key_as_string"]: int(b["doc_count"]) for b in histogram["buckets"] if b["doc_count"]}


def _facets(aggs: dict, req: SearchRequest, kind: rq.Facets) -> tuple[dict, list[dict]]:
    """(every facet, the histogram) from a search's aggregations (request.facet_aggregations)."""
    facets = {f: _facet(f, aggs["facet_" + f], req, kind) for f in kind.keys}
    facets[DATE_FACET] = date_facet(req, _months(aggs["facet_date"]["months"]))
    return facets, _histogram(_months(aggs["histogram"]["months"]))


def _facet(facet: str, agg: dict, req: SearchRequest, kind: rq.Facets, contains: str | None = None) -> dict:
    """The Whoosh backend's facet dict from a facet's filter aggregation."""
    size = req.facet_size
    buckets = agg["top"]["buckets"]
    shown = buckets[:size]
    selected, excluded = list(req.filters.get(facet) or []), list(req.exclude.get(facet) or [])
    if contains:  # as the Whoosh backend: only the chosen values that contain it stay listed
        selected = [v for v in selected if contains.casefold() in v.casefold()]
        excluded = [v for v in excluded if contains.casefold() in v.casefold()]
    sel, exc = set(selected), set(excluded)
    results = [{"value": b["key"], "count": int(b["doc_count"]), "selected": b["key"] in sel,
                "excluded": b["key"] in exc} for b in shown]
    listed = {r["value"] for r in results}
    chosen = {b["key"]: int(b["doc_count"]) for b in (agg.get("chosen") or {}).get("buckets", [])}
    # Active choices always stay visible so they can be removed, even when they counted nothing.
    for v in selected + excluded:
        if v not in listed:
            results.append({"value": v, "count": chosen.get(v, 0), "selected": v in sel, "excluded": v in exc})
            listed.add(v)
    if "matching" in agg:  # values containing a text: counted exactly, one bucket each
        distinct = len(agg["matching"]["buckets"])
    else:  # a cardinality estimate: exact in practice at these sizes, never below the values seen
        distinct = max(int(agg["distinct"]["value"]), len(buckets)) if buckets else 0
    return {"name": facet, "label": kind.labels.get(facet, facet), "results": results,
            "truncated": len(buckets) > size, "distinct": distinct}


def _member(src: dict) -> dict:
    """A cluster member as a row lists it: {article_id, source, published} (search/clusters.py's summary)."""
    return {"article_id": src["article"], "source": ((src.get("record") or {}).get("article") or {}).get("source") or None,
            "published": src.get("published")}


def _snippet(hit: dict, field: str) -> str:
    """The highlighted passages of a field (already escaped, words in <mark>), else the start of the text, cut as
    the Whoosh backend cuts it."""
    fragments = (hit.get("highlight") or {}).get(field) or []
    if any("<mark>" in f for f in fragments):
        return " … ".join(" ".join(f.split()) for f in fragments)
    return plain_snippet(html.unescape(fragments[0]) if fragments else "")
