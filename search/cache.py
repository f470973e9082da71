"""Enrichment cache: analysis results keyed by content hash, so unchanged articles never see spaCy twice."""
from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

import orjson

# Read by search/enrich.py (analysis_sources): why this module's source stays out of the enrichment cache key.
ANALYSIS_NEUTRAL = "stores analyses; never makes or changes one"


class EnrichCache:
    """A small SQLite key-value store of enriched analyses (zlib-compressed JSON)."""

    def __init__(self, path: Path | str | None):
        self.path = Path(path) if path else None
        self._db = None
        self._pending = 0
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS analysis (key TEXT PRIMARY KEY, value BLOB)")
            self._db.execute("BEGIN")

    def get(self, key: str) -> dict | None:
        """The cached analysis for key, or None."""
        if self._db is None:
            return None
        row = self._db.execute("SELECT value FROM analysis WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return orjson.loads(zlib.decompress(row[0]))
        except (zlib.error, ValueError):
            return None  # a damaged entry is recomputed, never trusted

    def put(self, key: str, value: dict) -> None:
        """Store an analysis; committed in batches and on close."""
        if self._db is None:
            return
        blob = zlib.compress(json.dumps(value, ensure_ascii=False).encode("utf-8"), 3)
        self._db.execute("INSERT OR REPLACE INTO analysis (key, value) VALUES (?, ?)", (key, blob))
        self._pending += 1
        if self._pending >= 200:
            self.flush()

    def flush(self) -> None:
        """Commit what was put so far (a crash later keeps it)."""
        if self._db is not None:
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._pending = 0

    def close(self) -> None:
        """Commit and close."""
        if self._db is not None:
            self._db.execute("COMMIT")
            self._db.close()
            self._db = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
