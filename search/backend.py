"""The seam between newsfacet's users (web/, the CLI) and the engine that stores and searches the index.

A backend writes generations of the index (rebuild, update, index_records) and opens searchers on the live
one. Every answer is plain data (search/contracts.py); web/ and the CLI never know which engine serves them.
The backend is chosen in one place, `get_backend(settings)`, from `Settings.backend` (`--backend`,
NEWSFACET_BACKEND). Whoosh, embedded in the process, is the default.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Protocol

from search.config import Settings
from search.contracts import QuoteResult, SearchRequest, SearchResult


class Searcher(Protocol):
    """What web/ and the CLI ask of one open index. Open per request; close after (it is a context manager).

    Article search and quote search take the same SearchRequest (parse_request / parse_quote_request); both
    honour the sorts of contracts.SORTS and FEED_SORT (most recently first indexed first, for feeds).
    """

    version: str  # names the index state this searcher reads; changes whenever the index does (feed ETags)

    def search(self, req: SearchRequest, messages: list[str] | None = None) -> SearchResult:
        """One page of results with every facet (each under the other filters) and the histogram."""

    def article(self, article_id: str) -> dict | None:
        """The enriched record of an article, or None."""

    def facet(self, req: SearchRequest, key: str, size: int, contains: str | None = None) -> dict:
        """One facet under a request (its values containing `contains`, if given), nothing else computed:
        {"total", "facet": {name, label, results, truncated, distinct[, failed]}, "messages"}."""

    def quotes(self, req: SearchRequest, messages: list[str] | None = None) -> QuoteResult:
        """One page of quote rows (a cluster of repeats collapsed into one row) with the quote facets (speaker,
        source, kind, date; each under the other filters) and the per-month histogram of matching quotes.
        Raises contracts.QuoteIndexMissing when the index holds no quotes."""

    def quote_facet(self, req: SearchRequest, key: str, size: int, contains: str | None = None) -> dict:
        """One quote facet under a quote request, as facet()."""

    def quote_cluster(self, cluster_id: str) -> dict | None:
        """A cluster's trail, earliest first ({id, quotes, articles, outlets, first, members, more, trail}),
        {id, redirect} for a cluster merged into another, or None."""

    def iter_quotes(self, req: SearchRequest, limit: int | None = None) -> Iterator[dict]:
        """The quotes matching a quote request (at most `limit`), one row per quote (not collapsed), in its sort
        order (exports)."""

    def speaker(self, name: str, page: int = 1, page_size: int | None = None, q: str = "",
                sort: str | None = None) -> dict:
        """One page of a speaker's quote rows, newest first (by relevance to q): {name, q, sort, total (rows),
        quotes_total, articles, page, pages, page_size, quotes (rows), histogram (quotes per month), outlets,
        alongside, messages}."""

    def iter_matching(self, req: SearchRequest, limit: int | None = None) -> Iterator[dict]:
        """The articles matching a request (at most `limit`), in its sort order, as export rows."""

    def names(self, limit: int = 50) -> dict:
        """Canonical names with their variants and article counts (search/nametable.py)."""

    def stats(self) -> dict:
        """Figures about the whole index."""

    def close(self) -> None:
        """Release what the searcher holds."""

    def __enter__(self) -> "Searcher": ...

    def __exit__(self, *exc) -> None: ...


class Backend(Protocol):
    """An engine holding newsfacet's index: writes generations, opens searchers."""

    name: str

    def open_searcher(self) -> Searcher:
        """A searcher on the live generation (raises contracts.IndexMissing when there is none)."""

    def rebuild(self, paths, progress=None, wait: float = 0.0):
        """Build a new generation from article files and switch to it atomically; returns an indexer Report."""

    def update(self, paths, progress=None, wait: float = 0.0):
        """Index new and changed articles under paths, drop the gone ones; returns an indexer Report."""

    def index_records(self, records: Iterable[dict], wait: float = 0.0):
        """Build a new generation from already enriched records (tests, benchmarks, imports)."""


class BackendError(ValueError):
    """The configured backend is unknown or cannot be used; the message says what to do."""


class WhooshBackend:
    """The embedded default: Whoosh generations under `settings.index` (search/indexer.py, search/query.py)."""

    name = "whoosh"

    def __init__(self, settings: Settings):
        self.settings = settings

    def open_searcher(self) -> Searcher:
        """A NewsSearcher on the live generation."""
        from search.query import NewsSearcher

        return NewsSearcher(self.settings.index, self.settings)

    def rebuild(self, paths, progress=None, wait: float = 0.0):
        """search.indexer.rebuild with this backend's settings."""
        from search import indexer

        return indexer.rebuild(paths, self.settings, progress=progress, wait=wait)

    def update(self, paths, progress=None, wait: float = 0.0):
        """search.indexer.update with this backend's settings."""
        from search import indexer

        return indexer.update(paths, self.settings, progress=progress, wait=wait)

    def index_records(self, records: Iterable[dict], wait: float = 0.0):
        """search.indexer.index_records with this backend's settings."""
        from search import indexer

        return indexer.index_records(records, self.settings, wait=wait)


def _opensearch(settings: Settings) -> Backend:
    """The OpenSearch backend (search/opensearch/), imported only when chosen."""
    from search.opensearch import OpenSearchBackend
    from search.opensearch.connection import OpenSearchUnavailable

    try:
        return OpenSearchBackend(settings)
    except OpenSearchUnavailable as exc:
        raise BackendError(str(exc)) from None


# name -> constructor taking Settings. Backends needing extra packages import them in their constructor.
BACKENDS: dict[str, Callable[[Settings], Backend]] = {"whoosh": WhooshBackend, "opensearch": _opensearch}


def get_backend(settings: Settings) -> Backend:
    """The backend Settings.backend names (raises BackendError naming the choices)."""
    name = (settings.backend or "whoosh").strip().lower()
    make = BACKENDS.get(name)
    if make is None:
        raise BackendError(f"Unknown backend {settings.backend!r}: choose one of {', '.join(sorted(BACKENDS))} "
                           f"(--backend or NEWSFACET_BACKEND)")
    return make(settings)


def open_searcher(settings: Settings) -> Searcher:
    """A searcher on the live index of the configured backend."""
    return get_backend(settings).open_searcher()
