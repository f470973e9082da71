"""A SearchRequest as an OpenSearch search body: the parsed query translated, filters, facets, sort, highlight.

The user's text is parsed exactly as the Whoosh backend parses it (search.query.build_query: same syntax,
same messages, terms already analysed by Whoosh's analyzer) and the resulting query tree is translated node
by node into term-level queries. User text never reaches `query_string`; the index analyses documents into
the same terms (search/opensearch/analysis.py), so a term query finds what Whoosh finds.

Facets follow OCCRP Aleph's pattern: the text query selects the base set, the active filters go into
`post_filter` (so hits are filtered) and every facet is a `filter` aggregation holding all active filters but
its own, around its `terms` aggregation.
"""
from __future__ import annotations

from dataclasses import dataclass

from search.contracts import (DATE_FACET, FACET_KEYS, FACET_LABELS, FEED_SORT, QUOTE_FACET_KEYS, QUOTE_FACET_LABELS,
                              SearchRequest)
from search.nametable import NAME_KINDS, SPEAKERS
from search.opensearch.mapping import FACET_FIELDS, QUOTE_FACET_FIELDS, TITLE_BOOST
from search.opensearch.names import CANON

TEXT_FIELDS = ("title", "body", "quotes")
SNIPPET_CHARS = 240
# Distinct values of a facet ("All N people"): counted exactly up to about this many (but for hash collisions),
# estimated above. 40,000 (the most OpenSearch allows) cost a third of a faceted search at 2,000 documents;
# 3,000 costs next to nothing. Corpus statistics (not on every search) use the most.
CARDINALITY_PRECISION = 3_000
STATS_CARDINALITY_PRECISION = 40_000
# Values of a facet containing a text (the facet box): counted one bucket each, up to this many.
MAX_MATCHING_VALUES = 10_000


@dataclass(frozen=True)
class Facets:
    """The keyword facets of one kind of document: their keys, the field each is counted on, their labels, and
    the kind of name (search/nametable.py) of those holding names."""

    keys: tuple[str, ...]
    fields: dict
    labels: dict
    kinds: dict

    def canonical(self) -> "Facets":
        """The same facets counted and filtered on the names as the collection shows them (`canon.*`)."""
        fields = {k: f"{CANON}.{f}" if k in self.kinds else f for k, f in self.fields.items()}
        return Facets(self.keys, fields, self.labels, self.kinds)


ARTICLES = Facets(FACET_KEYS, FACET_FIELDS, FACET_LABELS, {k: f for k, f in FACET_FIELDS.items() if f in NAME_KINDS})
QUOTES = Facets(QUOTE_FACET_KEYS, QUOTE_FACET_FIELDS, QUOTE_FACET_LABELS, {"speaker": SPEAKERS})
# Rows of a quote search: the distinct clusters among the matching quotes are counted exactly up to this many
# (OpenSearch's most), estimated above (the row count then decides only how many pages are offered).
ROWS_CARDINALITY_PRECISION = 40_000


class Untranslatable(Exception):
    """A query node the OpenSearch backend has no translation for."""


def _boosted(clause: dict, kind: str, boost: float) -> dict:
    if boost and boost != 1.0:
        clause[kind]["boost"] = float(boost)
    return clause


def _field_boost(field: str) -> float:
    return TITLE_BOOST if field == "title" else 1.0


def translate(q) -> dict:
    """A Whoosh query tree (from search.query.build_query) -> OpenSearch query DSL."""
    from whoosh import query as wq

    boost = float(getattr(q, "boost", 1.0) or 1.0)
    if isinstance(q, wq.Every):
        return {"match_all": {}}
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return {"match_none": {}}
    if isinstance(q, wq.Term):
        return {"term": {q.fieldname: {"value": _text(q.text), "boost": boost * _field_boost(q.fieldname)}}}
    if isinstance(q, wq.Phrase):
        return _phrase(q.fieldname, [_text(w) for w in q.words], int(q.slop), boost)
    if isinstance(q, wq.Prefix):
        return _boosted({"prefix": {q.fieldname: {"value": _text(q.text)}}}, "prefix", boost)
    if isinstance(q, wq.Wildcard):
        # Whoosh's wildcards are * and ?, with no escape character; OpenSearch's take a backslash as one
        pattern = _text(q.text).replace("\\", "\\\\")
        return _boosted({"wildcard": {q.fieldname: {"value": pattern}}}, "wildcard", boost)
    if isinstance(q, wq.TermRange):
        bounds = {}
        if q.start is not None:
            bounds["gt" if q.startexcl else "gte"] = _text(q.start)
        if q.end is not None:
            bounds["lt" if q.endexcl else "lte"] = _text(q.end)
        return _boosted({"range": {q.fieldname: bounds}}, "range", boost)
    if isinstance(q, wq.Not):
        return {"bool": {"must_not": [translate(q.query)]}}
    if isinstance(q, wq.AndNot):
        return _boosted({"bool": {"must": [translate(q.a)], "must_not": [translate(q.b)]}}, "bool", boost)
    if isinstance(q, wq.AndMaybe):
        return _boosted({"bool": {"must": [translate(q.a)], "should": [translate(q.b)]}}, "bool", boost)
    if isinstance(q, wq.Require):
        return _boosted({"bool": {"must": [translate(q.a)], "filter": [translate(q.b)]}}, "bool", boost)
    if isinstance(q, wq.DisjunctionMax):
        return _boosted({"dis_max": {"queries": [translate(s) for s in q.subqueries],
                                     "tie_breaker": float(getattr(q, "tiebreak", 0.0))}}, "dis_max", boost)
    if isinstance(q, wq.And):
        must, must_not = [], []
        for sub in q.subqueries:
            if isinstance(sub, wq.Not):
                must_not.append(translate(sub.query))
            else:
                must.append(translate(sub))
        body = {"must": must} if must else {}
        if must_not:
            body["must_not"] = must_not
        return _boosted({"bool": body}, "bool", boost)
    if isinstance(q, wq.Or):
        return _boosted({"bool": {"should": [translate(s) for s in q.subqueries], "minimum_should_match": 1}},
                        "bool", boost)
    raise Untranslatable(type(q).__name__)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _phrase(field: str, words: list[str], slop: int, boost: float) -> dict:
    """Whoosh's phrase: each word within `slop` positions after the one before, in order (Whoosh's slop counts
    the step from one word to the next, 1 = adjacent; Lucene's counts the words allowed in between)."""
    if len(words) == 1:
        return {"term": {field: {"value": words[0], "boost": boost * _field_boost(field)}}}
    gap = max(0, slop - 1)
    spans = [{"span_term": {field: w}} for w in words]
    if gap == 0:
        near = {"span_near": {"clauses": spans, "slop": 0, "in_order": True}}
    else:
        # Lucene's slop is the total over all gaps; Whoosh allows `slop` between each pair: nest pairwise.
        near = {"span_near": {"clauses": spans[:2], "slop": gap, "in_order": True}}
        for span in spans[2:]:
            near = {"span_near": {"clauses": [near, span], "slop": gap, "in_order": True}}
    if boost * _field_boost(field) != 1.0:
        near["span_near"]["boost"] = boost * _field_boost(field)
    return near


def highlight_terms(q) -> list[str]:
    """The analysed words a snippet marks: every term of a text field in the query (as Whoosh marks them)."""
    if q is None:
        return []
    try:
        terms = {_text(t) for f, t in q.iter_all_terms() if f in TEXT_FIELDS}
    except Exception:
        return []
    return sorted(terms)


# ------------------------------------------------------------------ filters and facets


def filter_clauses(req: SearchRequest, kind: Facets = ARTICLES) -> tuple[dict | None, dict, list[dict]]:
    """(date range clause or None, {facet: any-of clause}, [clauses no document may match])."""
    date = None
    if req.date_from or req.date_to:
        rng = {}
        if req.date_from:
            rng["gte"] = req.date_from
        if req.date_to:
            rng["lte"] = req.date_to
        date = {"range": {"published": {**rng, "format": "strict_date"}}}
    include = {f: {"terms": {kind.fields[f]: list(req.filters[f])}} for f in kind.keys if req.filters.get(f)}
    exclude = [{"terms": {kind.fields[f]: list(req.exclude[f])}} for f in kind.keys if req.exclude.get(f)]
    return date, include, exclude


def _all_of(clauses: list[dict], must_not: list[dict]) -> dict:
    if not clauses and not must_not:
        return {"match_all": {}}
    body = {}
    if clauses:
        body["filter"] = clauses
    if must_not:
        body["must_not"] = must_not
    return {"bool": body}


def months_aggregation() -> dict:
    """Documents per published month ("YYYY-MM"), months without any left out."""
    return {"date_histogram": {"field": "published", "calendar_interval": "month", "min_doc_count": 1,
                               "format": "yyyy-MM"}}


def terms_aggregation(field: str, size: int) -> dict:
    """The most frequent values first, ties in byte order of the value (Whoosh's lexicon order)."""
    return {"terms": {"field": field, "size": size, "order": [{"_count": "desc"}, {"_key": "asc"}]}}


def containing(text: str) -> str:
    """A Lucene regular expression for values containing `text`, ignoring case."""
    parts = []
    for ch in text:
        variants = dict.fromkeys(v for v in (ch, ch.lower(), ch.upper(), ch.casefold()) if len(v) == 1)
        escaped = ["\\" + v if not v.isalnum() else v for v in variants]
        parts.append(escaped[0] if len(escaped) == 1 else "[" + "".join(escaped) + "]")
    return ".*" + "".join(parts) + ".*"


def facet_aggregations(req: SearchRequest, only: str | None = None, size: int | None = None,
                       contains: str | None = None, kind: Facets = ARTICLES) -> dict:
    """Every facet under all active filters but its own; the date facet (no date filter); the histogram.
    `only` one facet (of `size` values, those containing `contains` if given) and nothing else."""
    date, include, exclude = filter_clauses(req, kind)
    aggs = {}
    for f in kind.keys if only is None else [k for k in kind.keys if k == only]:
        others = [c for g, c in include.items() if g != f] + ([date] if date else [])
        field = kind.fields[f]
        inner = {"top": terms_aggregation(field, (size or req.facet_size) + 1)}
        if contains:
            pattern = containing(contains)
            inner["top"]["terms"]["include"] = pattern
            inner["matching"] = {"terms": {"field": field, "include": pattern, "size": MAX_MATCHING_VALUES}}
        else:
            inner["distinct"] = {"cardinality": {"field": field, "precision_threshold": CARDINALITY_PRECISION}}
        chosen = list(req.filters.get(f) or []) + list(req.exclude.get(f) or [])
        if chosen:
            inner["chosen"] = {"terms": {"field": field, "include": chosen, "size": len(chosen)}}
        aggs["facet_" + f] = {"filter": _all_of(others, exclude), "aggs": inner}
    if only in (None, DATE_FACET):
        aggs["facet_date"] = {"filter": _all_of(list(include.values()), exclude),
                              "aggs": {"months": months_aggregation()}}
    if only is None:
        aggs["histogram"] = {"filter": final_filter(req, kind), "aggs": {"months": months_aggregation()}}
    return aggs


def final_filter(req: SearchRequest, kind: Facets = ARTICLES) -> dict:
    """Every active filter: what the hits satisfy besides the text query."""
    date, include, exclude = filter_clauses(req, kind)
    return _all_of(list(include.values()) + ([date] if date else []), exclude)


def rows_aggregation(req: SearchRequest, kind: Facets = QUOTES) -> dict:
    """How many rows the matching quotes make: one per cluster, one per quote in none."""
    return {"filter": final_filter(req, kind), "aggs": {
        "clusters": {"cardinality": {"field": "cluster", "precision_threshold": ROWS_CARDINALITY_PRECISION}},
        "alone": {"missing": {"field": "cluster"}}}}


def sort_clause(req: SearchRequest, scored: bool) -> list:
    """The Whoosh backend's order: score (relevance), else day; undated last; ties by id (article or quote).
    Feeds: most recently first indexed first, then the newest."""
    if req.sort == FEED_SORT:
        return [{"indexed": {"order": "desc", "missing": "_last"}},
                {"published": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}]
    if req.sort == "oldest":
        by_day = {"published": {"order": "asc", "missing": "_last"}}
    else:
        by_day = {"published": {"order": "desc", "missing": "_last"}}
    head = [{"_score": {"order": "desc"}}] if (req.sort == "relevance" and scored) else []
    return head + [by_day, {"id": {"order": "asc"}}]


def highlight_clause(terms: list[str], field: str = "body") -> dict:
    """Snippets of a text field (the article's body, a quote's words): HTML-escaped text with the query's words in
    <mark>, two passages at most; without a marked word, the start of the text (the searcher cuts it as the
    Whoosh backend does)."""
    # term queries, not `terms`: the highlighter takes a `terms` query for a multi-term one and would analyse
    # every result's text again instead of reading the offsets stored in the postings
    query = {"bool": {"should": [{"term": {field: t}} for t in terms]}} if terms else {"match_none": {}}
    return {
        "encoder": "html",
        "pre_tags": ["<mark>"],
        "post_tags": ["</mark>"],
        "fields": {field: {"type": "unified", "fragment_size": SNIPPET_CHARS, "number_of_fragments": 2,
                           "no_match_size": SNIPPET_CHARS + 40, "highlight_query": query}},
    }


# What of a stored record a result shows (search.query.result_item): the rest stays in the index.
RESULT_SOURCE = ["record." + k for k in ("id", "title", "published", "source", "url", "speakers", "persons", "places",
                                        "organizations", "quotes", "indexed")]
