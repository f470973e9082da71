"""The OpenSearch indices newsfacet writes: settings, mappings (versioned) and their documents.

A generation is an article index named `<alias>-v<MAPPING_VERSION>-<time>` (one document per enriched record)
with companions named after it: `<generation>-quotes` (one document per quote, as search/quoteindex.py
indexes them for Whoosh), `<generation>-clusters` (the quote clusters' state: summaries, redirects of merged
ids, the next id) and `<generation>-names` (the collection's name table, search/opensearch/names.py). The aliases `<alias>` and `<alias>-quotes` are moved together in one `_aliases` call;
searchers resolve `<alias>` and read the companions of that generation, so a search never mixes two of them.
Any change to what this module produces (fields, analysis) bumps MAPPING_VERSION, so it is written into new
indices by a rebuild and never applied to live ones.
"""
from __future__ import annotations

from search.contracts import FACETS, QUOTE_FACETS
from search.nametable import NAME_KINDS, NameTable
from search.opensearch.analysis import ANALYZER, analysis_settings
from search.opensearch.names import CANON, canonical_names, quote_canon
from search.schema import keyword_value, parse_published

# 2: first-indexed times on articles (feeds), the quote and cluster companions.
# 3: names as the collection shows them (canon.*), the name table's companion.
MAPPING_VERSION = 3
# One primary shard: every terms aggregation is then counted on all documents at once, so facet counts are
# exact (doc_count_error_upper_bound 0) and equal Whoosh's. Replicas scale searches and survive a lost node.
PRIMARY_SHARDS = 1
# Deep pages: the web UI allows page 10,000 of 100 results, as the Whoosh backend does.
MAX_RESULT_WINDOW = 10_000 * 100 + 100
TEXT_FIELDS = ("title", "body", "quotes")
# Whoosh's field boost on title (search/schema.py)
TITLE_BOOST = 2.0
FACET_FIELDS = {spec.key: spec.record_key for spec in FACETS}
# A quote document's keyword facets are fields of its own name (speaker, source, kind).
QUOTE_FACET_FIELDS = {spec.key: spec.key for spec in QUOTE_FACETS}
QUOTES_SUFFIX = "-quotes"
CLUSTERS_SUFFIX = "-clusters"
# first-indexed times as newsfacet writes them (2024-05-01T10:00:00Z), or any ISO date
INDEXED_FORMAT = "strict_date_optional_time||epoch_second"
_KEYWORD = {"type": "keyword"}
_FACET_KEYWORD = {"type": "keyword", "ignore_above": 8191}  # past Lucene's term limit: kept, not faceted
_DAY = {"type": "date", "format": "strict_date"}


def quote_index(generation: str) -> str:
    """The quote index of an article index (generation)."""
    return generation + QUOTES_SUFFIX


def cluster_index(generation: str) -> str:
    """The cluster-state index of an article index (generation)."""
    return generation + CLUSTERS_SUFFIX


def quote_alias(alias: str) -> str:
    """The alias that names the live quote index, moved with the article alias."""
    return alias + QUOTES_SUFFIX


def index_name_prefix(alias: str) -> str:
    """Every generation of this alias, of any mapping version, starts with this."""
    return f"{alias}-v"


def _body(replicas: int, properties: dict, analysed: bool = True) -> dict:
    settings = {"index": {"number_of_shards": PRIMARY_SHARDS, "number_of_replicas": replicas,
                          "max_result_window": MAX_RESULT_WINDOW}}
    if analysed:
        settings["analysis"] = analysis_settings()
    mappings = {"dynamic": "strict", "_meta": {"newsfacet_mapping": MAPPING_VERSION}, "properties": properties}
    return {"settings": settings, "mappings": mappings}


def index_body(replicas: int) -> dict:
    """Settings and mappings of a new generation (replicas are added after the bulk load)."""
    text = {"type": "text", "analyzer": ANALYZER}
    keyword = _KEYWORD
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
        # when newsfacet first indexed the article (feeds order by it), kept across rebuilds and updates
        "indexed": {"type": "date", "format": INDEXED_FORMAT},
        # The enriched record without its text (that is `body`): what result and article pages show.
        "record": {"type": "object", "enabled": False},
    }
    # A facet value longer than Lucene's term limit would refuse the whole article: it is kept, not faceted.
    properties.update({field: _FACET_KEYWORD for field in FACET_FIELDS.values()})
    # the names as the collection shows them (search/opensearch/names.py): what facets count and filter on
    properties[CANON] = {"properties": {kind: _FACET_KEYWORD for kind in NAME_KINDS}}
    return _body(replicas, properties)


def quote_index_body(replicas: int) -> dict:
    """Settings and mappings of a generation's quote index: the quote's words (field `quotes`, as `quotes:` in
    the article index, so the same parsed query applies), its facets, dates, cluster, and what clustering
    keeps between updates (LSH band keys, verified edges)."""
    properties = {
        "id": _KEYWORD,
        "article": _KEYWORD,
        "quotes": {"type": "text", "analyzer": ANALYZER, "index_options": "offsets"},
        **{field: _FACET_KEYWORD for field in QUOTE_FACET_FIELDS.values()},
        # the speaker as the collection shows them, and the folded surnames of the full names its article names
        # (a lone surname among them stays as written: search/nametable.py)
        CANON: {"properties": {"speaker": _FACET_KEYWORD}},
        "surnames": {"type": "keyword", "index": False, "doc_values": False},
        "published": _DAY,
        "indexed": {"type": "date", "format": INDEXED_FORMAT},
        # the cluster id, and what result rows collapse on: the cluster id, or the quote's own id when unclustered
        "cluster": _KEYWORD,
        "group": _KEYWORD,
        # search/clusters.py's band keys (terms lookups find an added quote's candidates) and edges
        # ([{q: quote id, s: similarity}]: the verified pairs, so an update loads only the components it touches)
        "bands": {"type": "long", "doc_values": False},
        "edges": {"type": "object", "enabled": False},
        # the quote record search/quoteindex.quote_records makes: what a quote row shows
        "record": {"type": "object", "enabled": False},
    }
    return _body(replicas, properties)


def cluster_index_body(replicas: int) -> dict:
    """The cluster state of a generation: one document per cluster (`cluster:<id>`: its summary), per merged id
    (`redirect:<old>`) and the next id to give (`meta:next_id`), as search/clusters.py keeps them in SQLite."""
    count = {"type": "integer"}
    properties = {"kind": _KEYWORD, "id": _KEYWORD, "quotes": count, "articles": count, "outlets": count,
                  "first": _KEYWORD, "new": _KEYWORD, "value": _KEYWORD}
    return _body(replicas, properties, analysed=False)


def names_index_body(replicas: int) -> dict:
    """A generation's name table: one document (`table`, NameTable.to_dict()), stored, not indexed."""
    return _body(replicas, {"table": {"type": "object", "enabled": False}}, analysed=False)


def to_source(record: dict, table: NameTable | None = None) -> dict:
    """An enriched record -> the document's _source. Values are those the Whoosh schema indexes; `canon` holds the
    names as `table` (the collection's name table in force) shows them."""
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
    if record.get("indexed"):
        doc["indexed"] = record["indexed"]
    for field in FACET_FIELDS.values():
        value = record.get(field)
        # a record holds one value (language) or a list of them (people, places...), as search/schema.py reads it
        joined = keyword_value([value] if isinstance(value, str) else value)
        doc[field] = joined.split(",") if joined else []
    doc[CANON] = canonical_names(table or NameTable(), doc)
    _set_day(doc, published)
    return doc


def _set_day(doc: dict, published) -> None:
    if published is not None:
        # Whoosh sorts, filters and counts months by the day: the time of day is not indexed.
        doc["published"] = f"{published.year:04d}-{published.month:02d}-{published.day:02d}"


def quote_source(qr: dict, bands: list[int], cluster: str | None = None, edges: list[dict] | None = None,
                 table: NameTable | None = None, surnames=()) -> dict:
    """A quote record (search.quoteindex.quote_records) -> its document's _source; keyword values as the Whoosh
    quote index takes them, the speaker also as `table` shows it (`surnames`: article_surnames of its article)."""
    art = qr["article"]
    doc = {"id": qr["id"], "article": art["id"], "quotes": qr["text"], "record": qr,
           "cluster": cluster, "group": cluster or qr["id"], "bands": list(bands), "edges": list(edges or [])}
    for field, value in (("speaker", qr.get("speaker")), ("source", art.get("source")), ("kind", qr.get("kind"))):
        joined = keyword_value([value] if value else [])
        doc[field] = joined.split(",") if joined else []
    doc["surnames"] = list(surnames)
    doc[CANON] = {"speaker": quote_canon(table or NameTable(), doc["speaker"], surnames)}
    if qr.get("indexed"):
        doc["indexed"] = qr["indexed"]
    _set_day(doc, parse_published(art.get("published")))
    return doc


def from_source(source: dict) -> dict:
    """The enriched record back from a document's _source."""
    record = dict(source.get("record") or {})
    if "text" in record and record["text"] is None:
        record["text"] = source.get("body") or ""
    return record
