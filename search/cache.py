"""Enrichment cache: analysis results keyed by content hash, so unchanged articles never see spaCy twice.

Two tables in one SQLite file: `analysis` (key -> compressed analysis) and `usage` (key -> the pipeline
signature the analysis was made under, and when a run last used it). Every change of the enrichment code makes
new keys, so old analyses would pile up forever; `usage` is what `newsfacet cache prune` decides by. A cache
file from before `usage` existed is migrated by creating the table: its entries have no known version until a
run uses them (their key proves the version then).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
import zlib
from pathlib import Path
from typing import Callable

import orjson

# Read by search/enrich.py (analysis_sources): why this module's source stays out of the enrichment cache key.
ANALYSIS_NEUTRAL = "stores analyses; never makes or changes one"

CACHE_FILE = Path("cache") / "enrich.sqlite"  # inside an index directory


def cache_path(index_dir: Path | str) -> Path:
    """Where an index directory keeps its enrichment cache."""
    return Path(index_dir) / CACHE_FILE


class EnrichCache:
    """A small SQLite key-value store of enriched analyses (zlib-compressed JSON), with each entry's version."""

    def __init__(self, path: Path | str | None):
        self.path = Path(path) if path else None
        self._db = None
        self._pending = 0
        self._used: list[tuple[str | None, str]] = []  # (version, key) of hits, recorded at the next flush
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = _connect(self.path)
            self._db.execute("BEGIN")

    def get(self, key: str, version: str | None = None) -> dict | None:
        """The cached analysis for key, or None. A hit is recorded as a use (with the version it was asked
        under, which the key proves) at the next flush."""
        if self._db is None:
            return None
        row = self._db.execute("SELECT value FROM analysis WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            value = orjson.loads(zlib.decompress(row[0]))
        except (zlib.error, ValueError):
            return None  # a damaged entry is recomputed, never trusted
        self._used.append((version, key))
        return value

    def put(self, key: str, value: dict, version: str | None = None) -> None:
        """Store an analysis made under `version` (the pipeline signature); committed in batches and on close."""
        if self._db is None:
            return
        blob = zlib.compress(json.dumps(value, ensure_ascii=False).encode("utf-8"), 3)
        self._db.execute("INSERT OR REPLACE INTO analysis (key, value) VALUES (?, ?)", (key, blob))
        self._db.execute("INSERT OR REPLACE INTO usage (key, version, last_used) VALUES (?, ?, ?)",
                         (key, version, time.time()))
        self._pending += 1
        if self._pending >= 200:
            self.flush()

    def flush(self) -> None:
        """Commit what was put and used so far (a crash later keeps it)."""
        if self._db is not None:
            if self._used:
                now = time.time()
                # A hit under a known version also versions an entry from before versions were kept.
                self._db.executemany(
                    "INSERT INTO usage (key, version, last_used) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                    "last_used = excluded.last_used, version = coalesce(excluded.version, usage.version)",
                    [(key, version, now) for version, key in self._used])
                self._used = []
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._pending = 0

    def close(self) -> None:
        """Commit and close."""
        if self._db is not None:
            self.flush()
            self._db.execute("COMMIT")
            self._db.close()
            self._db = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), timeout=60, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS analysis (key TEXT PRIMARY KEY, value BLOB)")
    # Added later: creating it is the whole migration of an older file.
    db.execute("CREATE TABLE IF NOT EXISTS usage (key TEXT PRIMARY KEY, version TEXT, last_used REAL)")
    return db


def _file_bytes(path: Path) -> int:
    """The size of a SQLite database with its write-ahead log."""
    return sum(os.path.getsize(p) for p in (path, Path(str(path) + "-wal")) if os.path.exists(p))


def cache_stats(path: Path | str) -> dict:
    """{path, entries, bytes, versions: {version: entries}, unversioned} of a cache file (zeros if none)."""
    path = Path(path)
    if not path.exists():
        return {"path": str(path), "entries": 0, "bytes": 0, "versions": {}, "unversioned": 0}
    db = _connect(path)
    try:
        entries = db.execute("SELECT count(*) FROM analysis").fetchone()[0]
        versions = dict(db.execute("SELECT version, count(*) FROM usage JOIN analysis USING (key) "
                                   "WHERE version IS NOT NULL GROUP BY version").fetchall())
    finally:
        db.close()
    return {"path": str(path), "entries": entries, "bytes": _file_bytes(path), "versions": versions,
            "unversioned": entries - sum(versions.values())}


def prune_cache(path: Path | str, usable: Callable[[str], bool], unversioned: bool = False) -> dict:
    """Drop the entries whose version `usable` rejects (and, if asked, those of unknown version), then give the
    space back to the file system. Returns {removed, kept, unversioned_kept, bytes_before, bytes_after}."""
    path = Path(path)
    before = cache_stats(path)
    if not before["entries"]:
        return {"removed": 0, "kept": 0, "unversioned_kept": 0, "bytes_before": before["bytes"],
                "bytes_after": before["bytes"]}
    stale = [v for v in before["versions"] if not usable(v)]
    db = _connect(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("CREATE TEMP TABLE doomed (key TEXT PRIMARY KEY)")
        db.executemany("INSERT OR IGNORE INTO doomed SELECT key FROM usage WHERE version = ?", [(v,) for v in stale])
        if unversioned:
            db.execute("INSERT OR IGNORE INTO doomed SELECT key FROM analysis WHERE key NOT IN "
                       "(SELECT key FROM usage WHERE version IS NOT NULL)")
        removed = db.execute("DELETE FROM analysis WHERE key IN (SELECT key FROM doomed)").rowcount
        db.execute("DELETE FROM usage WHERE key IN (SELECT key FROM doomed) OR key NOT IN (SELECT key FROM analysis)")
        db.execute("COMMIT")
        if removed:
            db.execute("VACUUM")  # deleted pages are only reused, never returned, without it
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    after = cache_stats(path)
    return {"removed": removed, "kept": after["entries"], "unversioned_kept": after["unversioned"],
            "bytes_before": before["bytes"], "bytes_after": after["bytes"]}
