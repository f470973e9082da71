"""Searching newsfacet's index in OpenSearch: the Searcher of search/backend.py, answering in the same plain
data as the Whoosh backend (search/contracts.py shapes, built by the same helpers of search/query.py)."""
from __future__ import annotations

import dataclasses
import html
import time
from typing import Iterator

from search.config import Settings, language_models
from search.contracts import (DATE_FACET, FACET_KEYS, FACET_LABELS, MAX_PAGE_SIZE, RECORD_KEYS, SearchRequest,
                              SearchResult)
from search.opensearch import request as rq
from search.opensearch.connection import NoIndex
from search.opensearch.mapping import FACET_FIELDS, from_source
from search.opensearch.writer import live_index
from search.query import (_histogram, _published_text, build_query, date_facet, plain_snippet, result_item,
                          speaker_quotes)
from search.schema import parse_published
from search.schema import build_schema

_SCHEMA = build_schema()  # the query parser's (search.query.build_query caches its parser per schema)
SCROLL_PAGE = 1000
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
        # Every request of this searcher reads this index, even if a rebuild moves the alias meanwhile.
        self.index = index
        self.generation = index

    def close(self) -> None:
        """Nothing is held between requests (the client's connection pool is shared)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _search(self, body: dict) -> dict:
        from opensearchpy.exceptions import NotFoundError

        try:
            resp = self.client.search(index=self.index, body=body)
        except NotFoundError as exc:
            # Deleted since this searcher resolved the alias (retired past its grace period): no index now.
            raise NoIndex(self.settings) from exc
        if resp.get("timed_out") or (resp.get("_shards") or {}).get("failed"):
            # Partial results would show wrong counts as if they were right: an error the caller reports.
            raise PartialResults(f"OpenSearch answered from part of {self.index} only: {resp.get('_shards')}")
        return resp

    # -- matching

    def _query(self, req: SearchRequest, messages: list[str]) -> tuple[dict, object]:
        """(query DSL of the text, the parsed Whoosh query or None when there are no words)."""
        from whoosh import query as wq

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
        query, parsed = self._query(req, messages)
        scored = parsed is not None
        terms = rq.highlight_terms(parsed)
        body = {
            "query": query,
            "post_filter": rq.final_filter(req),
            "aggs": rq.facet_aggregations(req),
            "sort": rq.sort_clause(req, scored),
            "track_total_hits": True,
            "from": (req.page - 1) * req.page_size,
            "size": req.page_size,
            "_source": rq.RESULT_SOURCE,
            "highlight": rq.highlight_clause(terms),
        }
        resp = self._search(body)
        total = int(resp["hits"]["total"]["value"])
        pages = max(1, -(-total // req.page_size))
        page = req.page
        hits = resp["hits"]["hits"]
        if page > pages:
            if total:
                messages.append(f"Page {page} is past the last page ({pages}); showing page {pages}.")
            page = pages
            again = {k: v for k, v in body.items() if k != "aggs"}
            again["from"] = (page - 1) * req.page_size
            hits = self._search(again)["hits"]["hits"] if total else []
        aggs = resp["aggregations"]
        facets = {f: self._facet(f, aggs["facet_" + f], req) for f in FACET_KEYS}
        facets["date"] = date_facet(req, _months(aggs["facet_date"]["months"]))
        histogram = _histogram(_months(aggs["histogram"]["months"]))
        results = [result_item(rec, req, _snippet(h, rec)) for h in hits for rec in (from_source(h["_source"]),)]
        req.page = page
        took = (time.perf_counter() - started) * 1000
        return SearchResult(total=total, page=page, pages=pages, page_size=req.page_size, took_ms=round(took, 1),
                            request=req, results=results, facets=facets, histogram=histogram, messages=messages)

    def facet(self, req: SearchRequest, key: str, size: int, contains: str | None = None) -> dict:
        """One facet under a request, nothing else computed: its `size` top values (only those containing
        `contains`, ignoring case, when given), counted under every filter but its own. {"total": articles
        matching the whole request, "facet": {...}, "messages": [...]}."""
        if key != DATE_FACET and key not in FACET_KEYS:
            raise ValueError(f"unknown facet {key!r}; choose one of {', '.join(FACET_KEYS + (DATE_FACET,))}")
        messages: list[str] = []
        query, _ = self._query(req, messages)
        contains = " ".join((contains or "").split()) or None
        aggs = rq.facet_aggregations(req, only=key, size=size, contains=contains)
        resp = self._search({"query": query, "post_filter": rq.final_filter(req), "aggs": aggs, "size": 0,
                             "track_total_hits": True})
        agg = resp["aggregations"]["facet_" + key]
        if key == DATE_FACET:
            facet = date_facet(req, _months(agg["months"]))
        else:
            narrowed = dataclasses.replace(req, facet_size=size)
            facet = self._facet(key, agg, narrowed, contains)
        return {"total": int(resp["hits"]["total"]["value"]), "facet": facet, "messages": messages}

    @staticmethod
    def _facet(facet: str, agg: dict, req: SearchRequest, contains: str | None = None) -> dict:
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
        return {"name": facet, "label": FACET_LABELS.get(facet, facet), "results": results,
                "truncated": len(buckets) > size, "distinct": distinct}

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
        return from_source(doc["_source"])

    def _scan(self, query: dict, post_filter: dict | None, sort: list, source: list[str],
              page: int = SCROLL_PAGE) -> Iterator[dict]:
        """Every hit of a query in sort order, through a point in time (a consistent view) and search_after."""
        pit = self.client.create_pit(index=self.index, params={"keep_alive": "2m"})["pit_id"]
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
                yield from hits
                if len(hits) < page:
                    return
                after = hits[-1]["sort"]
        finally:
            try:
                self.client.delete_pit(body={"pit_id": [pit]})
            except Exception:
                pass  # it expires by itself

    def speaker(self, name: str, page: int = 1, page_size: int | None = None) -> dict:
        """A speaker's quotes, one page of the articles quoting them at a time (newest first), and how many of
        those articles each month has: {name, total, page, pages, page_size, quotes, histogram}."""
        page_size = min(max(1, int(page_size or self.settings.page_size)), MAX_PAGE_SIZE)
        query = {"term": {FACET_FIELDS["speaker"]: name}}
        counted = self._search({"query": query, "size": 0, "track_total_hits": True,
                                "aggs": {"months": rq.months_aggregation()}})
        total = int(counted["hits"]["total"]["value"])
        pages = max(1, -(-total // page_size))
        page = min(max(1, int(page)), pages)
        hits = self._search({"query": query, "sort": rq.sort_clause(SearchRequest(sort="newest"), scored=False),
                             "from": (page - 1) * page_size, "size": page_size, "_source": rq.RESULT_SOURCE,
                             "track_total_hits": False})["hits"]["hits"]
        quotes = []
        for h in hits:
            quotes += speaker_quotes(name, from_source(h["_source"]))
        return {"name": name, "total": total, "page": page, "pages": pages, "page_size": page_size,
                "quotes": quotes, "histogram": _histogram(_months(counted["aggregations"]["months"]))}

    def iter_matching(self, req: SearchRequest, limit: int | None = None) -> Iterator[dict]:
        """The articles matching the request (at most `limit`), in its sort order, as export rows: id, title,
        published, source, url and a list per facet (by record key)."""
        query, parsed = self._query(req, [])
        sort = rq.sort_clause(req, parsed is not None)
        fields = ["record.id", "record.title", "record.published", "record.source", "record.url"]
        source = fields + list(FACET_FIELDS.values())
        left = None if limit is None else max(0, int(limit))
        if left == 0:
            return
        for h in self._scan(query, rq.final_filter(req), sort, source, page=min(SCROLL_PAGE, left or SCROLL_PAGE)):
            src = h["_source"]
            rec = src.get("record") or {}
            row = {"id": rec.get("id"), "title": rec.get("title") or "",
                   "published": _published_text(parse_published(rec.get("published"))),
                   "source": rec.get("source") or None, "url": rec.get("url") or None}
            for f in FACET_KEYS:  # the values as the facets count them
                row[RECORD_KEYS[f]] = list(src.get(FACET_FIELDS[f]) or [])
            yield row
            if left is not None:
                left -= 1
                if left == 0:
                    return

    def stats(self) -> dict:
        """Corpus figures: articles, date range, top speakers, persons, places, organizations."""
        aggs = {"dated": {"value_count": {"field": "published"}},
                "first": {"min": {"field": "published", "format": "strict_date"}},
                "last": {"max": {"field": "published", "format": "strict_date"}}}
        for field in FACET_FIELDS.values():
            aggs["top_" + field] = rq.terms_aggregation(field, 10)
            aggs["distinct_" + field] = {"cardinality": {"field": field,
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
        return out


def _months(histogram: dict) -> dict[str, int]:
    return {b["key_as_string"]: int(b["doc_count"]) for b in histogram["buckets"] if b["doc_count"]}


def _snippet(hit: dict, rec: dict) -> str:
    """The highlighted passages (already escaped, words in <mark>), else the start of the text, cut as the
    Whoosh backend cuts it."""
    fragments = (hit.get("highlight") or {}).get("body") or []
    if any("<mark>" in f for f in fragments):
        return " … ".join(" ".join(f.split()) for f in fragments)
    return plain_snippet(html.unescape(fragments[0]) if fragments else "")
