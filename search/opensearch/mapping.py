"""The OpenSearch index newsfacet writes: settings, mapping (versioned) and one document per enriched record.

A generation is an index named `<alias>-v<MAPPING_VERSION>-<time>`; searchers read the alias. Any change to
what this module produces (fields, analysis) bumps MAPPING_VERSION, so it is written into a new index by a
rebuild and never applied to a live one.
"""
from __future__ import annotations

from search.contracts import FACETS
from search.opensearch.analysis import ANALYZER, analysis_settings
from search.schema import keyword_value, parse_published

MAPPING_VERSION = 1
# One primary shard: every terms aggregation is then counted on all documents at once, so facet counts are
# exact (doc_count_error_upper_bound 0) and equal Whoosh's. Replicas scale searches and survive a lost node.
PRIMARY_SHARDS = 1
# Deep pages: the web UI allows page 10,000 of 100 results, as the Whoosh backend does.
MAX_RESULT_WINDOW = 10_000 * 100 + 100
TEXT_FIELDS = ("title", "body", "quotes")
# Whoosh's field boost on title (search/schema.py)
TITLE_BOOST = 2.0
FACET_FIELDS = {spec.key: spec.record_key for spec in FACETS}


def index_name_prefix(alias: str) -> str:
    """Every generation of this alias, of any mapping version, starts with this."""
    return f"{alias}-v"


def index_body(replicas: int) -> dict:
    """Settings and mappings of a new generation (replicas are added after the bulk load)."""
    text = {"type": "text", "analyzer": ANALYZER}
    keyword = {"type": "keyword"}
    properties = {
        "id": keyword,
        "title": text,
        # Offsets in the postings: the highlighter reads them instead of analysing each result's text again
        # with the stem filters (5x the time of the rest of a search, measured at 2,000 documents).
        "body": {**text, "index_options": "offsets"},
        "quotes": text,
        "published": {"type": "date", "format": "strict_date"},
        "source": keyword,
        "path": keyword,
        "content_hash": keyword,
        # The enriched record without its text (that is `body`): what result and article pages show.
        "record": {"type": "object", "enabled": False},
    }
    # A facet value longer than Lucene's term limit would refuse the whole article: it is kept, not faceted.
    properties.update({field: {**keyword, "ignore_above": 8191} for field in FACET_FIELDS.values()})
    return {
        "settings": {
            "index": {
                "number_of_shards": PRIMARY_SHARDS,
                "number_of_replicas": replicas,
                "max_result_window": MAX_RESULT_WINDOW,
            },
            "analysis": analysis_settings(),
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": {"newsfacet_mapping": MAPPING_VERSION},
            "properties": properties,
        },
    }


def to_source(record: dict) -> dict:
    """An enriched record -> the document's _source. Values are those the Whoosh schema indexes."""
    published = parse_published(record.get("published"))
    stored = dict(record)
    if isinstance(stored.get("text"), str):
        stored["text"] = None  # kept in `body`; the key stays in place so the record reads back in order
    doc = {
        "id": record["id"],
        "title": record.get("title") or "",
        "body": record.get("text") or "",
        "quotes": "\n".join(q.get("text", "") for q in record.get("quotes") or []),
        "source": record.get("source") or "",
        "path": record.get("path") or "",
        "content_hash": record.get("content_hash") or "",
        "record": stored,
    }
    for field in FACET_FIELDS.values():
        value = record.get(field)
        # a record holds one value (language) or a list of them (people, places...), as search/schema.py reads it
        joined = keyword_value([value] if isinstance(value, str) else value)
        doc[field] = joined.split(",") if joined else []
    if published is not None:
        # Whoosh sorts, filters and counts months by the day: the time of day is not indexed.
        doc["published"] = f"{published.year:04d}-{published.month:02d}-{published.day:02d}"
    return doc


def from_source(source: dict) -> dict:
    """The enriched record back from a document's _source."""
    record = dict(source.get("record") or {})
    if "text" in record and record["text"] is None:
        record["text"] = source.get("body") or ""
    return record
