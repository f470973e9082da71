"""The search state as query-string pairs, and the URLs that change one thing about it."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from search.contracts import FACET_KEYS, SINGULAR, SORTS  # noqa: F401  (re-exported for the views)


def _iso(value) -> str | None:
    """A date-ish value from the search request as an ISO string."""
    if value is None or value == "":
        return None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()[:10]
    return str(value)


def _values(mapping, key) -> list[str]:
    if not mapping:
        return []
    raw = mapping.get(key) if hasattr(mapping, "get") else None
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    return [str(v) for v in raw]


@dataclass
class SearchState:
    """Everything that defines a result page, except the page number."""

    q: str = ""
    include: dict[str, list[str]] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)
    date_from: str | None = None
    date_to: str | None = None
    sort: str | None = None  # only when the user chose one, so URLs stay short
    size: int | None = None  # page size, only when the user chose one
    base: str = "/"
    # The facets of this page: the article search's, or the quote search's (contracts.QUOTE_FACET_KEYS).
    keys: tuple = FACET_KEYS
    singular: dict = field(default_factory=lambda: dict(SINGULAR))

    @classmethod
    def from_request(cls, req, args, base: str = "/", keys: tuple = FACET_KEYS,
                     singular: dict | None = None) -> "SearchState":
        """Read the parsed SearchRequest (normalised values); fall back to raw args."""
        filters = getattr(req, "filters", None) or {}
        excludes = getattr(req, "exclude", None) or {}
        q = getattr(req, "q", None)
        if q is None:
            q = (args.get("q") or [""])[0]
        sort = getattr(req, "sort", None)
        explicit_sort = "sort" in args and sort in {s for s, _ in SORTS}
        return cls(
            q=str(q or ""),
            include={k: _values(filters, k) for k in keys},
            exclude={k: _values(excludes, k) for k in keys},
            date_from=_iso(getattr(req, "date_from", None)),
            date_to=_iso(getattr(req, "date_to", None)),
            sort=sort if explicit_sort else None,
            size=getattr(req, "page_size", None) if ("size" in args or "limit" in args) else None,
            base=base,
            keys=tuple(keys),
            singular=dict(singular or SINGULAR),
        )

    # -- the pairs ---------------------------------------------------------------------------
    def pairs(self, *, q: bool = True) -> list[tuple[str, str]]:
        """The state as ordered (name, value) pairs, as they appear in the query string."""
        out: list[tuple[str, str]] = []
        if q and self.q:
            out.append(("q", self.q))
        for key in self.keys:
            out.extend((key, v) for v in self.include.get(key, []))
            out.extend((f"not_{key}", v) for v in self.exclude.get(key, []))
        if self.date_from:
            out.append(("from", self.date_from))
        if self.date_to:
            out.append(("to", self.date_to))
        if self.sort:
            out.append(("sort", self.sort))
        if self.size:
            out.append(("size", str(self.size)))
        return out

    def hidden_fields(self) -> list[tuple[str, str]]:
        """Pairs the search form must carry besides q, so typing keeps the filters."""
        return self.pairs(q=False)

    def url(self, pairs=None, page: int | None = None) -> str:
        """URL of the search page for these pairs (default: this state)."""
        pairs = list(self.pairs() if pairs is None else pairs)
        if page and page > 1:
            pairs.append(("page", str(page)))
        return self.base + ("?" + urlencode(pairs) if pairs else "")

    def _copy(self) -> "SearchState":
        return SearchState(
            q=self.q,
            include={k: list(v) for k, v in self.include.items()},
            exclude={k: list(v) for k, v in self.exclude.items()},
            date_from=self.date_from,
            date_to=self.date_to,
            sort=self.sort,
            size=self.size,
            base=self.base,
            keys=self.keys,
            singular=self.singular,
        )

    def elsewhere(self, base: str, keys: tuple, singular: dict | None = None) -> "SearchState":
        """The same query, dates, sort and the filters both pages have, on another page (the Articles and Quotes
        tabs, a page's feed)."""
        s = self._copy()
        s.base, s.keys, s.singular = base, tuple(keys), dict(singular or self.singular)
        s.include = {k: v for k, v in s.include.items() if k in s.keys}
        s.exclude = {k: v for k, v in s.exclude.items() if k in s.keys}
        return s

    # -- changes -----------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """True when any filter (not the query) is set."""
        return any(name not in ("sort", "size") for name, _ in self.pairs(q=False))

    def is_included(self, facet: str, value: str) -> bool:
        return value in self.include.get(facet, [])

    def is_excluded(self, facet: str, value: str) -> bool:
        return value in self.exclude.get(facet, [])

    def toggle(self, facet: str, value: str) -> str:
        """URL that adds value to the facet's filter, or removes it if it was there."""
        s = self._copy()
        inc = s.include.setdefault(facet, [])
        if value in inc:
            inc.remove(value)
        else:
            inc.append(value)
            exc = s.exclude.setdefault(facet, [])
            if value in exc:
                exc.remove(value)
        return s.url()

    def toggle_not(self, facet: str, value: str) -> str:
        """URL that excludes value, or stops excluding it."""
        s = self._copy()
        exc = s.exclude.setdefault(facet, [])
        if value in exc:
            exc.remove(value)
        else:
            exc.append(value)
            inc = s.include.setdefault(facet, [])
            if value in inc:
                inc.remove(value)
        return s.url()

    def only(self, facet: str, value: str) -> str:
        """URL that filters on this value (keeping the query, dropping other filters of the facet)."""
        s = self._copy()
        s.include[facet] = [value]
        s.exclude[facet] = [v for v in s.exclude.get(facet, []) if v != value]
        return s.url()

    def with_dates(self, date_from: str | None, date_to: str | None) -> str:
        """URL with the date range replaced."""
        s = self._copy()
        s.date_from, s.date_to = date_from, date_to
        return s.url()

    def with_sort(self, sort: str) -> str:
        """URL with another sort order (back to the first page)."""
        s = self._copy()
        s.sort = sort
        return s.url()

    def clear_all(self) -> str:
        """URL keeping only the query and sort."""
        return SearchState(q=self.q, sort=self.sort, size=self.size, base=self.base, keys=self.keys,
                           singular=self.singular).url()

    def chips(self) -> list[dict]:
        """Active filters as removable chips: {label, value, excluded, remove_url}."""
        out = []
        for key in self.keys:
            for v in self.include.get(key, []):
                out.append({"facet": key, "label": self.singular[key], "value": v, "excluded": False,
                            "remove_url": self.toggle(key, v)})
            for v in self.exclude.get(key, []):
                out.append({"facet": key, "label": self.singular[key], "value": v, "excluded": True,
                            "remove_url": self.toggle_not(key, v)})
        if self.date_from or self.date_to:
            if self.date_from and self.date_to:
                value = f"{self.date_from} – {self.date_to}"
            elif self.date_from:
                value = f"from {self.date_from}"
            else:
                value = f"until {self.date_to}"
            out.append({"facet": "date", "label": "Date", "value": value, "excluded": False,
                        "remove_url": self.with_dates(None, None)})
        return out
