"""What crosses the boundary between the search layer and its users (web/, the CLI, other backends).

Facet keys and labels, sorts, the search request and result shapes, and the one exception a caller must
handle. `search/` and `web/` both import this module; nothing here knows which engine answers.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Mapping

from search.config import Settings


@dataclass(frozen=True)
class FacetSpec:
    """One facet: its URL/API key, its labels, and the record field holding its values."""

    key: str
    label: str
    singular: str
    record_key: str


# The keyword facets, in the order the page shows them. The date facet is separate (years and months).
FACETS: tuple[FacetSpec, ...] = (
    FacetSpec("speaker", "Speakers", "Speaker", "speakers"),
    FacetSpec("person", "People", "Person", "persons"),
    FacetSpec("place", "Places", "Place", "places"),
    FacetSpec("org", "Organizations", "Organization", "organizations"),
    FacetSpec("author", "Authors", "Author", "authors"),
    FacetSpec("language", "Language", "Language", "language"),
)
FACET_KEYS: tuple[str, ...] = tuple(f.key for f in FACETS)
DATE_FACET = "date"
FACET_LABELS: dict[str, str] = {**{f.key: f.label for f in FACETS}, DATE_FACET: "Date"}
SINGULAR: dict[str, str] = {f.key: f.singular for f in FACETS}
RECORD_KEYS: dict[str, str] = {f.key: f.record_key for f in FACETS}

# The keyword facets of quote search (/quotes, /api/quotes): each quote has one speaker, source and kind.
QUOTE_FACETS: tuple[FacetSpec, ...] = (
    FacetSpec("speaker", "Speakers", "Speaker", "speaker"),
    FacetSpec("source", "Sources", "Source", "source"),
    FacetSpec("kind", "Kind", "Kind", "kind"),
)
QUOTE_FACET_KEYS: tuple[str, ...] = tuple(f.key for f in QUOTE_FACETS)
QUOTE_FACET_LABELS: dict[str, str] = {**{f.key: f.label for f in QUOTE_FACETS}, DATE_FACET: "Date"}
QUOTE_SINGULAR: dict[str, str] = {f.key: f.singular for f in QUOTE_FACETS}

SORTS: tuple[tuple[str, str], ...] = (("relevance", "Relevance"), ("newest", "Newest"), ("oldest", "Oldest"))
SORT_KEYS: tuple[str, ...] = tuple(key for key, _ in SORTS)
# Not offered on pages: feeds list what newsfacet indexed most recently first (set by the feed views).
FEED_SORT = "indexed"
MAX_PAGE_SIZE = 100

# What of a quote leaves the search layer: who, what, the cue verb, where in the text, direct or reported.
QUOTE_KEYS = ("speaker", "text", "verb", "start", "end", "kind")
# One search result (the API's `results` items). `indexed`: when newsfacet first indexed the article (UTC).
RESULT_FIELDS = ("id", "title", "published", "source", "url", "snippet", "speakers", "persons", "places",
                 "organizations", "quotes", "indexed")
# One quote search row (the `results` items of /api/quotes): the quote, where it stands, and its cluster
# (None for a quote that no other article repeats). See QuoteResult; `context_url` is added by the web API.
QUOTE_RESULT_FIELDS = ("id", "text", "snippet", "speaker", "speaker_text", "kind", "verb", "start", "end", "position",
                       "article", "context_url", "indexed", "cluster")
# A cluster's members listed in a row (/api/quotes); the rest are counted in `more`.
CLUSTER_MEMBERS_SHOWN = 10
# Fields of an enriched record that say where it lives on the server: never shown through the API.
PRIVATE_RECORD_FIELDS = ("path", "encoding", "line")


class IndexMissing(Exception):
    """There is no index to search."""

    def __init__(self, index_dir):
        super().__init__(f"No index at {index_dir}/ - run `newsfacet rebuild` first")


class QuoteIndexMissing(IndexMissing):
    """The index has no quote index (it was built before quotes were indexed)."""

    def __init__(self, index_dir):
        Exception.__init__(self, f"The index at {index_dir}/ has no quote index yet (it was built by an older "
                                 f"newsfacet) - run `newsfacet rebuild` (or `newsfacet update`) to add it")


@dataclass
class SearchRequest:
    """Everything a search depends on, validated. The same shape asks for articles (filters keyed by
    FACET_KEYS) and for quotes (keyed by QUOTE_FACET_KEYS: parse_quote_request)."""

    q: str = ""
    filters: dict = field(default_factory=lambda: {f: [] for f in FACET_KEYS})
    exclude: dict = field(default_factory=lambda: {f: [] for f in FACET_KEYS})
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = 20
    facet_size: int = 10

    def to_params(self) -> dict[str, list[str]]:
        """Back to query-string parameters (lists), for building links."""
        p: dict[str, list[str]] = {}
        if self.q:
            p["q"] = [self.q]
        for f in self.filters:
            if self.filters.get(f):
                p[f] = list(self.filters[f])
            if self.exclude.get(f):
                p["not_" + f] = list(self.exclude[f])
        if self.date_from:
            p["from"] = [self.date_from]
        if self.date_to:
            p["to"] = [self.date_to]
        if self.sort != "relevance":
            p["sort"] = [self.sort]
        if self.page != 1:
            p["page"] = [str(self.page)]
        return p


@dataclass
class SearchResult:
    """One page of results with facets and histogram; plain data."""

    total: int
    page: int
    pages: int
    page_size: int
    took_ms: float
    request: SearchRequest
    results: list[dict]
    facets: dict
    histogram: list[dict]
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready dict (the /api/search and `newsfacet search --json` shape)."""
        return _result_dict(self)


def _result_dict(res) -> dict:
    """A result dataclass as JSON-ready data: the request as parameters, each facet as its list of values."""
    d = asdict(res)
    d["request"] = res.request.to_params()
    d["facets"] = {
        name: [{k: r[k] for k in ("value", "count", "selected", "excluded") if k in r} for r in f["results"]]
        for name, f in res.facets.items()
    }
    # A facet that failed or passed its time limit is empty, and says why here.
    d["facets_failed"] = {name: f["failed"] for name, f in res.facets.items() if f.get("failed")}
    return d


def _first(args: Mapping, key: str) -> str | None:
    v = args.get(key)
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return str(v[0]) if v else None
    return str(v)


def _many(args: Mapping, key: str) -> list[str]:
    v = args.get(key)
    if v is None:
        return []
    vals = v if isinstance(v, (list, tuple)) else [v]
    out = []
    for x in vals:
        x = " ".join(str(x).split())[:300]
        if x and x not in out:
            out.append(x)
    return out[:50]


def _parse_date(raw: str | None, name: str, end: bool, messages: list[str]) -> str | None:
    """ISO date, or year / year-month (widened to its first or last day); else a message and None."""
    if raw is None or not raw.strip():
        return None
    s = raw.strip()
    try:
        if re.fullmatch(r"\d{4}", s):
            y = int(s)
            return (date(y, 12, 31) if end else date(y, 1, 1)).isoformat()
        if re.fullmatch(r"\d{4}-\d{1,2}", s):
            y, m = map(int, s.split("-"))
            last = calendar.monthrange(y, m)[1]
            return date(y, m, last if end else 1).isoformat()
        return date.fromisoformat(s[:10]).isoformat() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s[:10]) else _bad()
    except (ValueError, TypeError):
        messages.append(f"Ignored {name}={s[:40]!r}: not a date; use YYYY-MM-DD, YYYY-MM or YYYY.")
        return None


def _bad():
    raise ValueError("not a date")


def _int(raw: str | None, name: str, default: int, lo: int, hi: int, messages: list[str]) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        n = int(raw.strip())
    except ValueError:
        messages.append(f"Ignored {name}={raw[:20]!r}: not a whole number.")
        return default
    if n < lo or n > hi:
        clamped = min(max(n, lo), hi)
        messages.append(f"{name}={raw[:20]} is out of range; using {clamped}.")
        return clamped
    return n


def parse_request(args: Mapping, settings: Settings | None = None,
                  keys: tuple[str, ...] = FACET_KEYS) -> tuple[SearchRequest, list[str]]:
    """Query-string style mapping (values str or lists) -> a valid SearchRequest and messages for the user."""
    settings = settings or Settings()
    messages: list[str] = []
    q = (_first(args, "q") or "").replace("\x00", " ").strip()
    if len(q) > settings.max_query_chars:
        messages.append(f"Your query was {len(q):,} characters; only the first {settings.max_query_chars:,} were used.")
        q = q[: settings.max_query_chars]
    req = SearchRequest(q=q, filters={f: [] for f in keys}, exclude={f: [] for f in keys},
                        page_size=settings.page_size, facet_size=settings.facet_size)
    for f in keys:
        req.filters[f] = _many(args, f)
        req.exclude[f] = [v for v in _many(args, "not_" + f) if v not in req.filters[f]]
    req.date_from = _parse_date(_first(args, "from"), "from", False, messages)
    req.date_to = _parse_date(_first(args, "to"), "to", True, messages)
    if req.date_from and req.date_to and req.date_from > req.date_to:
        messages.append("The 'from' date is after the 'to' date; they were swapped.")
        req.date_from, req.date_to = req.date_to, req.date_from
    sort = (_first(args, "sort") or "relevance").strip().lower()
    if sort not in SORT_KEYS:
        messages.append(f"Unknown sort {sort[:20]!r}; use relevance, newest or oldest.")
        sort = "relevance"
    req.sort = sort
    req.page = _int(_first(args, "page"), "page", 1, 1, 10_000, messages)
    req.page_size = _int(_first(args, "size") or _first(args, "limit"), "size", settings.page_size, 1, MAX_PAGE_SIZE, messages)
    return req, messages


def parse_quote_request(args: Mapping, settings: Settings | None = None) -> tuple[SearchRequest, list[str]]:
    """parse_request for quote search: the same query syntax, dates, sorts and paging; quote facets."""
    return parse_request(args, settings, keys=QUOTE_FACET_KEYS)


@dataclass
class QuoteResult(SearchResult):
    """One page of quote search: rows (a cluster of repeats collapsed into one), facets, histogram.

    `total` counts rows after collapsing, `quotes` the matching quotes; facet and histogram counts are of
    quotes. A row (QUOTE_RESULT_FIELDS) is {id, text, snippet, speaker, speaker_text, kind, verb, start, end,
    position, article: {id, title, published, source, url}, context_url, indexed, cluster}; `cluster` is None
    or {id, quotes, articles, outlets, first: {article_id, source, published}, members: [{article_id, source,
    published}] (earliest first, at most CLUSTER_MEMBERS_SHOWN), more}.
    """

    quotes: int = 0

    def to_dict(self) -> dict:
        """JSON-ready dict (the /api/quotes and `newsfacet quotes --json` shape)."""
        return _result_dict(self)
