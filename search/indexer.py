"""Whoosh index management: atomic rebuilds and incremental updates in switchable generations.

Layout of an index directory:
    CURRENT            name of the live generation (replaced atomically with os.replace)
    gen-<n>/           a complete Whoosh index + manifest.json (id -> [content hash, source path, first indexed])
                       + quotes/ (the quote index, search/quoteindex.py) + clusters.sqlite (search/clusters.py)
    gen-<n>.tmp/       a generation being built; never read, removed by the next writer
    cache/enrich.sqlite  analyses keyed by content hash (survives rebuilds)
    .lock              held (flock) by the one writer at a time; the kernel frees it if the writer dies
"""
from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from search.articles import Article, Skip, read_articles
from search.cache import EnrichCache, cache_path
from search.config import Settings
from search.contracts import IndexMissing  # noqa: F401  (raised here; re-exported)
from search.nametable import NAMES_FILE
from search.schema import build_schema, to_document

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
KEEP_GENERATIONS = 2  # the live one and the one before, which a server may still be reading
# An older generation is kept until its successor has been live this long, so a request that opened it just
# before two quick switches (update, update) still finds its files.
RETIRE_GRACE_SECONDS = 120.0


class IndexBusy(Exception):
    """Another writer holds the index."""


class AliasFileError(Exception):
    """The alias file cannot be read; the message names file:line."""


@dataclass
class Report:
    """What a rebuild or update did."""

    indexed: int = 0  # documents added or replaced
    unchanged: int = 0
    removed: int = 0
    analysed: int = 0  # went through spaCy
    cached: int = 0  # analyses from the cache
    skipped: list[Skip] = field(default_factory=list)
    warnings: list[Skip] = field(default_factory=list)
    seconds: float = 0.0
    total_documents: int = 0
    generation: str = ""
    kept_previous: bool = False  # nothing was indexed, so the live index was left as it was
    quotes: int = 0  # quotes indexed (rebuild: all; update: of the added and changed articles)
    clusters: int = 0  # quote clusters in the index afterwards

    def to_dict(self) -> dict:
        """Plain data for --json output."""
        return {
            "indexed": self.indexed, "unchanged": self.unchanged, "removed": self.removed,
            "analysed": self.analysed, "cached": self.cached, "seconds": round(self.seconds, 3),
            "total_documents": self.total_documents, "generation": self.generation,
            "kept_previous": self.kept_previous, "quotes": self.quotes, "clusters": self.clusters,
            "skipped": [{"where": s.where(), "reason": s.reason} for s in self.skipped],
            "warnings": [{"where": s.where(), "reason": s.reason} for s in self.warnings],
        }


def live_generation(index_dir: Path | str) -> Path | None:
    """The directory of the live generation, or None when there is no index."""
    index_dir = Path(index_dir)
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not name or "/" in name or name.startswith("."):
        return None
    gen = index_dir / name
    return gen if gen.is_dir() else None


def open_whoosh(index_dir: Path | str):
    """Open the live generation: (whoosh index, generation name). Raises IndexMissing."""
    from whoosh import index as windex

    gen = live_generation(index_dir)
    if gen is None:
        raise IndexMissing(index_dir)
    try:
        return windex.open_dir(str(gen)), gen.name
    except (windex.EmptyIndexError, FileNotFoundError) as exc:
        raise IndexMissing(index_dir) from exc


@contextmanager
def writer_lock(index_dir: Path, wait: float = 0.0):
    """Hold the index's writer lock; raise IndexBusy if another writer keeps it past `wait` seconds."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    _held_locks.add(fd)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                    raise IndexBusy(
                        f"{index_dir}/ is being written by {holder}; wait for it to finish "
                        f"(or pass --wait SECONDS) and run the command again"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        _held_locks.discard(fd)
        os.close(fd)  # closing releases the flock


# A forked process (the quote writer, spaCy's workers) shares the lock's open file, and an flock lasts while any
# process holds it open: a writer killed with -9 would leave its children holding the index locked. They close it.
_held_locks: set[int] = set()


def _close_locks_in_child() -> None:
    for fd in list(_held_locks):
        try:
            os.close(fd)
        except OSError:
            pass
    _held_locks.clear()


os.register_at_fork(after_in_child=_close_locks_in_child)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _switch(index_dir: Path, built: Path) -> Path:
    """Make a finished .tmp generation live: rename it, then atomically replace CURRENT."""
    final = built.with_name(built.name[: -len(".tmp")])
    os.rename(built, final)
    pause = os.environ.get("NEWSFACET_TEST_SWITCH_PAUSE")
    if pause:  # test hook: widens the window between the two steps so tests can kill -9 inside it
        time.sleep(float(pause))
    tmp = index_dir / (CURRENT + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(final.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    return final


def _clean(index_dir: Path) -> None:
    """Remove half-built generations and all but the newest finished ones (caller holds the lock)."""
    live = live_generation(index_dir)
    gens = sorted(p for p in index_dir.glob("gen-*") if p.is_dir() and not p.name.endswith(".tmp"))
    for p in index_dir.glob("gen-*.tmp"):
        shutil.rmtree(p, ignore_errors=True)
    if live is not None:
        # A finished generation newer than the live one was renamed by a writer killed before it
        # switched CURRENT: it never went live, and keeping it would push out the generation before
        # the live one, which a server may still be reading.
        for p in gens:
            if p.name > live.name:
                shutil.rmtree(p, ignore_errors=True)
        gens = [p for p in gens if p.name <= live.name]
    keep = set(gens[-KEEP_GENERATIONS:])
    if live is not None:
        keep.add(live)
    now = time.time()
    for p, successor in zip(gens, gens[1:]):
        if p in keep:
            continue
        try:
            # the rename that made the successor a finished generation sets its ctime: its switch time
            retired_for = now - successor.stat().st_ctime
        except OSError:
            retired_for = RETIRE_GRACE_SECONDS
        if retired_for >= RETIRE_GRACE_SECONDS:
            shutil.rmtree(p, ignore_errors=True)


def _new_generation(index_dir: Path) -> Path:
    name = f"gen-{time.time_ns():020d}.tmp"
    path = index_dir / name
    path.mkdir()
    return path


def _dedupe_ids(paths, settings: Settings) -> dict[str, tuple[str, int | None]]:
    """First pass: where the last occurrence of every id is (the last one wins)."""
    last = {}
    for item in read_articles(paths, max_file_bytes=settings.max_file_bytes):
        if isinstance(item, Article):
            last[item.id] = (item.path, item.line)
    return last


def _articles(paths, settings: Settings, report: Report, progress=None):
    """Read articles, dropping all but the last of duplicate ids (with a warning) and counting skips."""
    last = _dedupe_ids(paths, settings)
    if progress is not None:
        progress.reset(total=len(last))
    for item in read_articles(paths, max_file_bytes=settings.max_file_bytes):
        if isinstance(item, Skip):
            (report.warnings if item.warning else report.skipped).append(item)
            continue
        where = last.get(item.id)
        if where != (item.path, item.line):
            winner = f"{where[0]}:{where[1]}" if where and where[1] is not None else (where[0] if where else "?")
            report.warnings.append(Skip(item.path, f"duplicate id {item.id!r}: the later one at {winner} wins",
                                        item.line, warning=True))
            continue
        yield item


def _enricher(settings: Settings, index_dir: Path, aliases: dict | None):
    from search.enrich import Enricher

    cache = EnrichCache(cache_path(index_dir))
    return Enricher(settings, cache=cache, aliases=aliases)


def load_aliases_for(settings: Settings) -> dict:
    """The alias table: --aliases / NEWSFACET_ALIASES, else aliases.txt next to the index, else none."""
    from search.entities import load_aliases

    path = settings.aliases
    if path is None:
        candidate = Path(settings.index) / "aliases.txt"
        path = candidate if candidate.exists() else None
    if not path:
        return {}
    try:
        return load_aliases(path)
    except (ValueError, OSError) as exc:
        raise AliasFileError(f"{exc} (fix the alias file, or pass another with --aliases)") from exc


def accept_record(rec, report: Report) -> bool:
    """False for a Skip, which goes into the report; a record's own warnings go there too (any backend)."""
    if isinstance(rec, Skip):
        (report.warnings if rec.warning else report.skipped).append(rec)
        return False
    for w in rec.get("warnings") or []:
        report.warnings.append(Skip(rec.get("path", ""), w, rec.get("line"), warning=True))
    return True


def skip_not_unicode(rec: dict, report: Report) -> None:
    """Report a record whose text UTF-8 cannot hold (lone surrogates) as skipped."""
    report.skipped.append(Skip(rec.get("path", ""), "holds characters that are not valid Unicode "
                               "(lone surrogates); re-save the source as UTF-8", rec.get("line")))


def _now_iso() -> str:
    """This moment, UTC, to the second: the first-indexed time given to articles new to the index."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _first_indexed(entry) -> str | None:
    """The first-indexed time kept in a manifest entry, if it has one (older manifests do not)."""
    return entry[2] if isinstance(entry, list) and len(entry) > 2 and isinstance(entry[2], str) else None


def _read_manifest(gen: Path | None) -> dict:
    if gen is None:
        return {}
    try:
        return json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _write_records(writer, records: Iterable, report: Report, manifest: dict, progress, replace: bool,
                   collector=None, quotes=None, seen_before: dict | None = None):
    """Add records to the article writer (and their quotes to `quotes`). Each keeps the time it was first indexed
    from `seen_before` (a manifest), so feeds date entries by when newsfacet first saw them, across rebuilds."""
    now = _now_iso()
    seen_before = seen_before or {}
    for rec in records:
        if not accept_record(rec, report):
            continue
        rec = {**rec, "indexed": _first_indexed(seen_before.get(rec["id"])) or now}
        doc = to_document(rec)
        try:
            # Whoosh fails half-way through a document on text UTF-8 cannot hold (lone surrogates),
            # leaving its postings behind: check first, and skip the one record rather than the run.
            doc["record"].encode("utf-8")
        except UnicodeEncodeError:
            skip_not_unicode(rec, report)
            continue
        if replace:
            writer.update_document(**doc)
            if quotes is not None:
                if rec["id"] in manifest:
                    quotes.remove(rec["id"])
                quotes.add(rec)
        else:
            writer.add_document(**doc)
            if collector is not None:
                collector.add(doc)
            if quotes is not None:
                quotes.add(rec)
        manifest[rec["id"]] = [rec["content_hash"], rec.get("path", ""), rec["indexed"]]
        report.indexed += 1
        if progress is not None:
            progress.update(1)


def _finish(index_dir: Path, tmp: Path, manifest: dict, report: Report, started: float, collector=None,
            aliases: dict | None = None) -> Report:
    with open(tmp / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    try:
        # Facet arrays computed once here, so the first search after a switch need not read every posting.
        from search.facets import FACET_FILE, write_facet_file

        if collector is not None:
            fd = collector.facet_data()
            fd.save(tmp / FACET_FILE)
        else:
            fd = write_facet_file(tmp)
    except Exception as exc:
        # The index itself is complete: searchers compute the arrays from it when the file is missing, so
        # this is no reason to lose the run, but it is a bug to see (every server pays for it on switching).
        fd = None
        log.error("could not save the facet arrays of %s", tmp.name, exc_info=True)
        report.warnings.append(Skip(str(index_dir), f"the facet arrays could not be saved ({type(exc).__name__}: "
                                    f"{exc}); searches will compute them, more slowly; please report it",
                                    warning=True))
    _write_names(tmp, fd, aliases)
    final = _switch(index_dir, tmp)
    report.generation = final.name
    report.total_documents = len(manifest)
    _clean(index_dir)
    report.seconds = time.monotonic() - started
    return report


def _write_names(tmp: Path, fd, aliases: dict | None) -> None:
    """Save the generation's collection name table (search/nametable.py), built from its facet counts: the same
    for an update as for a rebuild over the same articles."""
    from search.nametable import build_table, count_values, save_table

    if fd is not None:  # without facet arrays, searchers count raw values (and compute the arrays themselves)
        save_table(tmp, build_table(count_values(fd), aliases))


def _build_new(index_dir: Path, records: Iterable, report: Report, progress, started: float,
               writer_procs: int = 1, quote_procs: int = 1, aliases: dict | None = None) -> Report:
    """Write records into a fresh generation beside the live one and switch to it (caller holds the lock).

    The quote index is written from the same records, by a second process when quote_procs > 1."""
    from whoosh import index as windex

    from search.facets import FacetCollector
    from search.quoteindex import quote_sink

    _clean(index_dir)
    live = live_generation(index_dir)
    seen_before = _read_manifest(live)
    tmp = _new_generation(index_dir)
    quotes = None
    try:
        ix = windex.create_in(str(tmp), build_schema())
        # compound=False: Whoosh copies a compound segment's postings into memory on every searcher open
        # (~145 ms per request at 20k documents); separate files are read in place.
        if writer_procs > 1:
            sub = {"limitmb": 128, "compound": False}
            writer = ix.writer(procs=writer_procs, multisegment=True, subargs=sub, **sub)
            collector = None  # documents are numbered per sub-segment: facet arrays are read back instead
        else:
            writer = ix.writer(limitmb=256, compound=False)
            collector = FacetCollector(ix.schema)
        manifest: dict = {}
        quotes = quote_sink(tmp, live, quote_procs)
        try:
            _write_records(writer, records, report, manifest, progress, replace=False, collector=collector,
                           quotes=quotes, seen_before=seen_before)
        except BaseException:
            writer.cancel()
            raise
        if report.indexed == 0 and live_generation(index_dir) is not None:
            # Nothing readable: an empty index must not replace one that has articles.
            writer.cancel()
            if quotes is not None:
                quotes.cancel()
            shutil.rmtree(tmp, ignore_errors=True)
            report.kept_previous = True
            report.seconds = time.monotonic() - started
            return report
        if hasattr(quotes, "close_input"):
            quotes.close_input()  # the quote writer finishes while the article index commits
        writer.commit()
        if quotes is not None:
            q = quotes.finish()
            quotes = None
            report.quotes, report.clusters = q["quotes"], q["clusters"]
        return _finish(index_dir, tmp, manifest, report, started, collector, aliases)
    except BaseException:
        if quotes is not None:
            quotes.cancel()
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def rebuild(paths, settings: Settings, progress=None, wait: float = 0.0, _fail_after: int | None = None) -> Report:
    """Build a new index from paths beside the live one and switch to it when complete."""
    started = time.monotonic()
    index_dir = Path(settings.index)
    report = Report()
    with writer_lock(index_dir, wait=wait):
        aliases = load_aliases_for(settings)
        enricher = _enricher(settings, index_dir, aliases)
        enricher.progress = progress  # a cluster runner shows its state on the bar
        try:
            records = enricher.enrich(_articles(paths, settings, report, progress))
            if _fail_after is not None:
                records = _fail_midway(records, _fail_after)
            return _build_new(index_dir, _counting(records, enricher, report), report, progress, started,
                              quote_procs=settings.quote_procs, aliases=aliases)
        finally:
            enricher.close()
            enricher.cache.close()


def _counting(records, enricher, report: Report):
    """Pass records through, copying the enricher's spaCy/cache counts into the report as they change."""
    for rec in records:
        report.analysed, report.cached = enricher.analysed, enricher.cached
        yield rec
    report.analysed, report.cached = enricher.analysed, enricher.cached


def index_records(records: Iterable[dict], settings: Settings, wait: float = 0.0, writer_procs: int = 1) -> Report:
    """Build a new generation from already enriched records (tests, benchmarks, imports) and switch to it.

    writer_procs > 1 uses Whoosh's multi-process writer (one segment per process; ~1.7x on 2 idle cores), for
    bulk loads such as benchmark indexes; `rebuild` keeps the single writer, whose crash behaviour is tested.
    """
    started = time.monotonic()
    index_dir = Path(settings.index)
    report = Report()
    with writer_lock(index_dir, wait=wait):
        return _build_new(index_dir, records, report, None, started, writer_procs=writer_procs,
                          quote_procs=settings.quote_procs, aliases=load_aliases_for(settings))


def _fail_midway(records, n):
    """Test hook: raise after n records, to prove a failed rebuild leaves the live index alone."""
    for i, rec in enumerate(records):
        if i >= n:
            raise RuntimeError("injected failure")
        yield rec


def _link_copy(src: Path, dst: Path) -> None:
    """Copy a generation with hard links: Whoosh never rewrites a file, it writes new ones."""
    for p in src.iterdir():
        # clusters.sqlite is copied (then changed) by the quote update, not linked: the live one must stay as it is;
        # names.json is built again from the new generation's counts
        if p.is_file() and not p.name.endswith("LOCK") and p.name not in (MANIFEST, "facets.npz", "clusters.sqlite",
                                                                         NAMES_FILE):
            try:
                os.link(p, dst / p.name)
            except OSError:
                shutil.copy2(p, dst / p.name)


def _quotes_from_articles(gen: Path) -> dict:
    """Write a generation's quote index from the records its article index stores."""
    from whoosh import index as windex

    from search.quoteindex import QuoteBuilder

    builder = QuoteBuilder(gen)
    try:
        with windex.open_dir(str(gen)).reader() as reader:
            for fields in reader.all_stored_fields():
                builder.add(json.loads(fields["record"]))
        return builder.finish()
    except BaseException:
        builder.cancel()
        raise


def _under(path: str, roots: list[Path]) -> bool:
    try:
        rp = Path(path)
    except (TypeError, ValueError):
        return False
    for root in roots:
        if rp == root or root in rp.parents:
            return True
    return False


def _unreadable(skipped: list[Skip]) -> dict[str, str]:
    """Real path -> path as reported, of the files and folders that exist but were skipped (or had a line skipped)."""
    out = {}
    for s in skipped:
        if os.path.exists(s.path):
            out.setdefault(os.path.realpath(s.path), s.path)
    return out


def _holder(src: str, unreadable: dict[str, str]) -> str | None:
    """The unreadable file or folder that an indexed article's source lies in, if any."""
    if not unreadable:
        return None
    real = os.path.realpath(src)
    while True:
        if real in unreadable:
            return real
        parent = os.path.dirname(real)
        if parent == real:
            return None
        real = parent


def changed_articles(paths, settings: Settings, report: Report, progress, manifest: dict, seen: set):
    """The articles under paths that are new or changed against manifest ({id: [content hash, path]}); every
    id read goes into `seen`, unchanged ones are counted in the report. Any backend's update."""
    from search.enrich import content_hash

    for art in _articles(paths, settings, report, progress):
        seen.add(art.id)
        old = manifest.get(art.id)
        if old and old[0] == content_hash(art):
            report.unchanged += 1
            if progress is not None:
                progress.update(1)
            continue
        yield art


def gone_ids(manifest: dict, seen: set, roots: list[Path], report: Report) -> list[str]:
    """Ids whose source lies under roots and was not read this time: the articles an update removes. Those in
    a file that is still there but could not be read are kept, with a warning (any backend's update)."""
    unreadable = _unreadable(report.skipped)
    kept: dict[str, int] = {}
    gone = []
    for doc_id, entry in list(manifest.items()):
        src = entry[1]  # [content hash, source path(, first indexed)]
        if doc_id not in seen and _under(src, roots):
            holder = _holder(src, unreadable)
            if holder is not None:
                # Its file is still there but could not be read this time (a broken line,
                # a half-copied file): keep the indexed copy rather than lose the article.
                kept[holder] = kept.get(holder, 0) + 1
                continue
            gone.append(doc_id)
    for holder, n in kept.items():
        report.warnings.append(Skip(unreadable[holder], f"could not be read this time; kept its {n} "
                                    f"indexed article{'s' if n != 1 else ''} as they were", warning=True))
    return gone


def update(paths, settings: Settings, progress=None, wait: float = 0.0) -> Report:
    """Index new and changed articles under paths, drop those whose source is gone; the rest is untouched."""
    from whoosh import index as windex

    started = time.monotonic()
    index_dir = Path(settings.index)
    if live_generation(index_dir) is None:
        return rebuild(paths, settings, progress=progress, wait=wait)
    report = Report()
    roots = [Path(p).resolve() for p in paths]
    with writer_lock(index_dir, wait=wait):
        _clean(index_dir)
        live = live_generation(index_dir)
        aliases = load_aliases_for(settings)
        enricher = _enricher(settings, index_dir, aliases)
        enricher.progress = progress  # a cluster runner shows its state on the bar
        try:
            manifest = json.loads((live / MANIFEST).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            manifest = {}
        tmp = _new_generation(index_dir)
        quotes = None
        try:
            from search.quoteindex import QuoteUpdate, link_quotes

            _link_copy(live, tmp)
            if link_quotes(live, tmp):
                quotes = QuoteUpdate(live, tmp)
            ix = windex.open_dir(str(tmp))
            writer = ix.writer(limitmb=256, compound=False)
            seen = set()
            try:
                changed = changed_articles(paths, settings, report, progress, manifest, seen)
                _write_records(writer, enricher.enrich(changed), report, manifest, progress, replace=True,
                               quotes=quotes, seen_before=manifest)
                for doc_id in gone_ids(manifest, seen, roots, report):
                    writer.delete_by_term("id", doc_id)
                    if quotes is not None:
                        quotes.remove(doc_id)
                    del manifest[doc_id]
                    report.removed += 1
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            if quotes is not None:
                q = quotes.finish()
                quotes = None
            elif settings.quote_procs > 0:
                # the live generation predates the quote index: build it from every stored record
                q = _quotes_from_articles(tmp)
            else:
                q = {"quotes": 0, "clusters": 0}
            report.quotes, report.clusters = q["quotes"], q["clusters"]
            report.analysed, report.cached = enricher.analysed, enricher.cached
            return _finish(index_dir, tmp, manifest, report, started, aliases=aliases)
        except BaseException:
            if quotes is not None:
                quotes.cancel()
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            enricher.close()
            enricher.cache.close()
