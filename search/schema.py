"""The Whoosh schema: full-text fields, facet keyword fields, dates, and the stored record."""
from __future__ import annotations

import json
from datetime import datetime

import orjson

from whoosh import columns, fields
from whoosh.analysis import StemmingAnalyzer

from search.contracts import FACET_LABELS, RECORD_KEYS  # noqa: F401  (FACET_LABELS: re-exported)

# Facet name (as used in URLs and the API) -> Whoosh field: each is named as the record key it indexes.
FACET_FIELDS = dict(RECORD_KEYS)
# Derived keyword field holding "YYYY-MM" of the published date: the date facet and histogram count it.
MONTH_FIELD = "month"


def build_schema() -> fields.Schema:
    """The Whoosh schema newsfacet indexes into."""
    text = StemmingAnalyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=text, stored=True, field_boost=2.0),
        # Positions for phrases, no character offsets: snippets re-analyse the text, so offsets were never read
        # and cost ~15% of indexing time and postings size.
        body=fields.TEXT(analyzer=text, stored=False),
        quotes=fields.TEXT(analyzer=text, stored=False),
        persons=fields.KEYWORD(commas=True, stored=True, lowercase=False, scorable=False),
        places=fields.KEYWORD(commas=True, stored=True, lowercase=False, scorable=False),
        organizations=fields.KEYWORD(commas=True, stored=True, lowercase=False, scorable=False),
        speakers=fields.KEYWORD(commas=True, stored=True, lowercase=False, scorable=False),
        authors=fields.KEYWORD(commas=True, stored=True, lowercase=False, scorable=False),
        language=fields.KEYWORD(commas=True, stored=True, lowercase=False, scorable=False),
        month=fields.KEYWORD(commas=True, stored=False, lowercase=False, scorable=False),
        published=fields.DATETIME(stored=True, sortable=True),
        source=fields.ID(stored=True),
        url=fields.STORED(),
        path=fields.ID(stored=True),
        content_hash=fields.STORED(),
        # When newsfacet first indexed the article (Unix seconds): feeds list the newest first.
        indexed=fields.COLUMN(columns.NumericColumn("q", default=0)),
        # The whole enriched record (JSON): what article pages and results display.
        record=fields.STORED(),
    )


def keyword_value(values) -> str:
    """Join facet values for a commas=True KEYWORD field; commas inside a value would split it."""
    clean = []
    for v in values or []:
        v = " ".join(str(v).replace(",", " ").split())
        if v and v not in clean:
            clean.append(v)
    return ",".join(clean)


def parse_published(value: str | None) -> datetime | None:
    """ISO date or datetime string -> naive datetime, None if absent or unparseable."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=None)


def dumps_record(record: dict) -> str:
    """Compact JSON of a record; orjson (4x faster, same text as json.dumps with ensure_ascii=False)
    for all but what it refuses (integers beyond 64 bits, lone surrogates), which json writes."""
    try:
        return orjson.dumps(record).decode("utf-8")
    except (TypeError, ValueError):
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def to_document(record: dict) -> dict:
    """An enriched record -> the keyword arguments of Whoosh's add_document."""
    published = parse_published(record.get("published"))
    doc = {
        "id": record["id"],
        "title": record.get("title") or "",
        "body": record.get("text") or "",
        "quotes": "\n".join(q.get("text", "") for q in record.get("quotes") or []),
        "persons": keyword_value(record.get("persons")),
        "places": keyword_value(record.get("places")),
        "organizations": keyword_value(record.get("organizations")),
        "speakers": keyword_value(record.get("speakers")),
        "authors": keyword_value(record.get("authors")),
        "language": keyword_value([record.get("language") or ""]),
        "source": record.get("source") or "",
        "url": record.get("url") or "",
        "path": record.get("path") or "",
        "content_hash": record.get("content_hash") or "",
        "record": dumps_record(record),
    }
    if record.get("indexed"):
        doc["indexed"] = indexed_seconds(record["indexed"])
    if published is not None:
        doc["published"] = published
        # Not strftime("%Y"): it does not zero-pad years before 1000 ("201-05"), which broke every
        # search whose matches included such a (mistyped) date.
        doc["month"] = f"{published.year:04d}-{published.month:02d}"
    return doc


def indexed_seconds(iso: str | None) -> int:
    """A first-indexed time (ISO 8601, UTC) as Unix seconds; 0 when absent or unreadable."""
    from datetime import timezone

    dt = parse_published(iso)
    return 0 if dt is None else int(dt.replace(tzinfo=timezone.utc).timestamp())
