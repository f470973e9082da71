"""Atom feeds of searches, quote searches and speaker pages, written with feedgen.

Entries are dated by when newsfacet first indexed their article (so an archive indexed today, or an undated
article, still reaches subscribers as new), every link is made from the configured base URL (Settings.base_url,
NEWSFACET_BASE_URL, `serve --base-url`), never from the request's Host header, and a feed's ETag names the index
generation and the feed's own URL, so an unchanged feed is answered 304.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

FEED_ENTRIES = 50  # entries in one feed: the most recently indexed first
FEED_FORMAT = "1"  # bumped when what a feed says changes, so cached copies are not kept
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# What XML 1.0 cannot hold (control characters, surrogates, U+FFFE/U+FFFF): lxml refuses the whole feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value) -> str:
    """Text as a feed can carry it: characters XML cannot hold left out."""
    return _NOT_XML.sub("", str(value or ""))


def absolute(base_url: str, path: str) -> str:
    """A path of this site (with its query string) as a full URL under the configured base URL."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def feed_etag(version: str, base_url: str, path_and_query: str) -> str:
    """The ETag of a feed: the same index generation, base URL and request give the same feed."""
    raw = "\0".join((FEED_FORMAT, version, base_url, path_and_query))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def when(iso: str | None) -> datetime:
    """An ISO 8601 time (first indexed, UTC) as an aware datetime; the epoch when absent or unreadable."""
    if not iso:
        return EPOCH
    try:
        dt = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return EPOCH
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def atom(feed_id: str, title: str, self_url: str, page_url: str, subtitle: str, entries: list[dict]) -> bytes:
    """Atom XML of a feed. Each entry: {id, title, link, indexed (ISO), summary, author (optional),
    categories (optional)}; `updated` is the newest entry's first-indexed time."""
    from feedgen.feed import FeedGenerator

    x = xml_text
    fg = FeedGenerator()
    fg.id(x(feed_id))
    fg.title(x(title))
    fg.subtitle(x(subtitle))
    fg.link(href=x(self_url), rel="self", type="application/atom+xml")
    fg.link(href=x(page_url), rel="alternate", type="text/html")
    fg.generator("newsfacet")
    newest = EPOCH
    # feedgen lists entries newest-added first: add them oldest first so the feed reads in the given order
    for e in reversed(entries):
        fe = fg.add_entry()
        fe.id(x(e["id"]))
        fe.title(x(e["title"]) or "(untitled)")
        fe.link(href=x(e["link"]), rel="alternate", type="text/html")
        t = when(e.get("indexed"))
        newest = max(newest, t)
        fe.updated(t)
        fe.published(t)
        fe.summary(x(e.get("summary")))
        if x(e.get("author")):
            fe.author(name=x(e["author"]))
        for c in e.get("categories") or ():
            if x(c):
                fe.category(term=x(c))
    fg.updated(newest)
    return fg.atom_str(pretty=True)
