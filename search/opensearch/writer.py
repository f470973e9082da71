"""Writing newsfacet's index into OpenSearch: generations behind an alias, bulk loads, updates, a cluster lock.

- A rebuild writes a new index (`<alias>-v<mapping>-<time>`) with its quote and cluster-state companions
  (search/opensearch/mapping.py, clusterstate.py), checks they hold every document, then moves the alias and the
  quote alias to them in one atomic `_aliases` call. Killed at any point before that call, it leaves the aliases
  on the previous generation; the next writer deletes what it left. A replaced index is kept until its successor has been
  live RETIRE_GRACE_SECONDS (searches that resolved the alias just before finish on it), and the one before
  the live index is kept as Whoosh keeps its previous generation.
- An update upserts new and changed articles and deletes gone ones by id, in place, in bulk; their quotes and
  the clusters these touch follow (clusterstate.QuoteUpdate).
- Rebuilds and updates alike write documents with the collection's name table in force, then build it anew from
  the counts and rewrite the names of the documents it changes (search/opensearch/names.py). Each article keeps the time newsfacet first
  indexed it (feeds), across rebuilds and updates, as the Whoosh backend keeps it in its manifest.
- Bulk requests are retried with exponential back-off, whole on a transport error (a node stopping, a
  timeout; writes are by id, so repeating one is harmless) and item by item on 429/503 rejections.
- One writer at a time across every machine: a lock document in `<alias>-writer-lock`, created with
  op_type=create, renewed by a heartbeat, and taken over only once its lease has run out (a killed writer
  holds it at most LEASE_SECONDS). The local `--index` folder only holds the enrichment cache.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

import orjson

from search.articles import Skip
from search.config import Settings
from search.contracts import IndexMissing
from search.indexer import (IndexBusy, Report, _articles, _counting, _enricher, _first_indexed, _now_iso,
                            accept_record, changed_articles, gone_ids, load_aliases_for, skip_not_unicode)
from search.opensearch.clusterstate import QuoteBuild, QuoteUpdate
from search.opensearch.connection import describe
from search.opensearch.mapping import (MAPPING_VERSION, cluster_index, cluster_index_body, index_body,
                                       index_name_prefix, names_index_body, quote_alias, quote_index, quote_index_body,
                                       to_source)
from search.opensearch.names import apply_table, names_index, read_table, save_table, value_counts

LEASE_SECONDS = 60.0
RETIRE_GRACE_SECONDS = 120.0
BULK_DOCS = 500
BULK_BYTES = 8_000_000
BULK_RETRIES = 8
MAX_BACKOFF = 30.0
MAX_ID_BYTES = 512  # OpenSearch's limit on a document id


class IndexOutdated(IndexMissing):
    """The live index was written with another mapping version: nothing this version can search; rebuild."""

    def __init__(self, message: str):
        Exception.__init__(self, message)


# ------------------------------------------------------------------ naming


def generation_name(alias: str) -> str:
    """A new generation's index name: sortable by creation time."""
    return f"{index_name_prefix(alias)}{MAPPING_VERSION}-{time.time_ns():020d}"


def mapping_version(index: str, alias: str) -> int | None:
    """The mapping version written in a generation's (article index's) name, or None if it is not one of ours
    (nor a companion: `<generation>-quotes`, `<generation>-clusters`)."""
    rest = index[len(index_name_prefix(alias)):] if index.startswith(index_name_prefix(alias)) else ""
    parts = rest.split("-")
    return int(parts[0]) if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit() else None


def companions(generation: str) -> list[str]:
    """A generation's article index and the indices named after it."""
    return [generation, quote_index(generation), cluster_index(generation), names_index(generation)]


def has_quotes(client, generation: str) -> bool:
    """Whether a generation was written with its quote index (not with quote_procs = 0, nor by an older newsfacet)."""
    return bool(client.indices.exists(index=quote_index(generation)))


def stamp_version(client, index: str) -> None:
    """Record in the index's mapping that it changed now (an update in place): Searcher.version changes with it."""
    meta = (client.indices.get_mapping(index=index)[index].get("mappings") or {}).get("_meta") or {}
    client.indices.put_mapping(index=index, body={"_meta": {**meta, "written": time.time_ns()}})


def live_indices(client, alias: str) -> list[str]:
    """The indices the alias points at (one when newsfacet wrote it; none when there is no index)."""
    from opensearchpy.exceptions import NotFoundError

    try:
        found = client.indices.get_alias(name=alias)
    except NotFoundError:
        return []
    return sorted(found)


def _generations(client, alias: str) -> dict[str, dict]:
    """Every generation of this alias: name -> its mapping _meta."""
    from opensearchpy.exceptions import NotFoundError

    try:
        mappings = client.indices.get_mapping(index=index_name_prefix(alias) + "*")
    except NotFoundError:
        return {}
    return {name: (m.get("mappings") or {}).get("_meta") or {} for name, m in mappings.items()
            if mapping_version(name, alias) is not None}


# ------------------------------------------------------------------ the cluster-wide writer lock


class ClusterLock:
    """A lease on a lock document: held while the heartbeat renews it."""

    def __init__(self, client, alias: str, owner: str):
        self.client, self.index, self.owner = client, f"{alias}-writer-lock", owner
        self.seq = None
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread = None

    def _ensure_index(self) -> None:
        from opensearchpy.exceptions import RequestError

        if self.client.indices.exists(index=self.index):
            return
        try:
            self.client.indices.create(index=self.index, body={"settings": {
                "number_of_shards": 1, "auto_expand_replicas": "0-all"}, "mappings": {"dynamic": False}})
        except RequestError as exc:
            if "resource_already_exists" not in str(exc):
                raise

    def _doc(self) -> dict:
        return {"owner": self.owner, "expires": time.time() + LEASE_SECONDS}

    def acquire(self, wait: float, where: str) -> None:
        """Take the lock, waiting up to `wait` seconds; IndexBusy names the holder."""
        from opensearchpy.exceptions import ConflictError, NotFoundError

        self._ensure_index()
        deadline = time.monotonic() + wait
        while True:
            try:
                r = self.client.index(index=self.index, id="writer", body=self._doc(), op_type="create")
                self.seq = (r["_seq_no"], r["_primary_term"])
                break
            except ConflictError:
                pass
            try:
                held = self.client.get(index=self.index, id="writer")
            except NotFoundError:
                continue  # released in between: try again at once
            doc = held["_source"]
            if float(doc.get("expires", 0)) < time.time():
                try:
                    r = self.client.index(index=self.index, id="writer", body=self._doc(),
                                          if_seq_no=held["_seq_no"], if_primary_term=held["_primary_term"])
                    self.seq = (r["_seq_no"], r["_primary_term"])
                    break
                except ConflictError:
                    continue  # another writer took it over first
            if time.monotonic() >= deadline:
                left = max(0, int(float(doc.get("expires", 0)) - time.time()))
                raise IndexBusy(f"{where} is being written by {doc.get('owner', 'another writer')}; wait for it to "
                                f"finish (or pass --wait SECONDS) and run the command again (a writer that died "
                                f"leaves the lock for at most {left}s more)")
            time.sleep(0.5)
        self._thread = threading.Thread(target=self._beat, name="newsfacet-lock-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        from opensearchpy.exceptions import ConflictError, NotFoundError

        while not self._stop.wait(LEASE_SECONDS / 4):
            try:
                r = self.client.index(index=self.index, id="writer", body=self._doc(),
                                      if_seq_no=self.seq[0], if_primary_term=self.seq[1])
                self.seq = (r["_seq_no"], r["_primary_term"])
            except (ConflictError, NotFoundError):
                self.lost = "another writer took the lock over after this one failed to renew it in time"
                return
            except Exception:  # a node failing over: the lease has LEASE_SECONDS of slack, try again
                continue

    def check(self) -> None:
        """Raise IndexBusy if the lease was lost (never switch the alias without holding it)."""
        if self.lost:
            raise IndexBusy(f"Stopped: {self.lost}; run the command again")

    def release(self) -> None:
        """Stop the heartbeat and delete the lock document if it is still ours."""
        from opensearchpy.exceptions import ConflictError, NotFoundError

        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.seq is None or self.lost:
            return
        try:
            self.client.delete(index=self.index, id="writer", if_seq_no=self.seq[0], if_primary_term=self.seq[1])
        except (ConflictError, NotFoundError):
            pass


@contextmanager
def cluster_lock(client, settings: Settings, wait: float = 0.0):
    """Hold the alias's writer lock for the block (IndexBusy when another writer keeps it past `wait`)."""
    lock = ClusterLock(client, settings.opensearch_index, f"pid {os.getpid()} on {socket.gethostname()}")
    lock.acquire(wait, describe(settings))
    try:
        yield lock
    finally:
        lock.release()


# ------------------------------------------------------------------ bulk


def _backoff(attempt: int) -> float:
    return min(MAX_BACKOFF, 0.5 * (2 ** attempt))


def send_bulk(client, lines: list[bytes], ids: list[tuple[str, object, str]], report: Report) -> None:
    """Send one bulk body; retry rejected items and transport failures with back-off; bad items are skips.

    `lines` holds one action (and source) per item, `ids` the matching (id, record or None, kind) for messages:
    a refused article is skipped, a refused quote a warning; any other refusal (the cluster state) an error.
    """
    from opensearchpy.exceptions import ConnectionError, ConnectionTimeout, TransportError

    pending = list(range(len(ids)))
    attempt = 0
    while pending:
        body = b"".join(lines[i] for i in pending)
        try:
            resp = client.bulk(body=body, request_timeout=120)
        except (ConnectionError, ConnectionTimeout) as exc:
            error = exc
        except TransportError as exc:
            if not isinstance(exc.status_code, int) or exc.status_code < 429:
                raise
            error = exc
        else:
            error = None
            retry = []
            for i, item in zip(pending, resp["items"]):
                result = next(iter(item.values()))
                status = int(result.get("status", 500))
                if status in (429, 502, 503, 504):
                    retry.append(i)
                elif status >= 300 and not (status == 404 and "delete" in item):
                    _refused(ids[i], (result.get("error") or {}).get("reason") or f"status {status}", report)
            pending = retry
            if not pending:
                return
        attempt += 1
        if attempt > BULK_RETRIES:
            raise error or RuntimeError(f"OpenSearch kept rejecting {len(pending)} bulk items; try again later")
        time.sleep(_backoff(attempt))


def _refused(item: tuple[str, object, str], reason: str, report: Report) -> None:
    doc_id, rec, kind = item
    rec = rec if isinstance(rec, dict) else {}
    if kind == "article":
        report.skipped.append(Skip(rec.get("path") or doc_id, f"OpenSearch refused article {doc_id!r}: {reason}",
                                   rec.get("line")))
        report.indexed -= 1  # counted when it was sent
    elif kind == "quote":
        where = (rec.get("article") or {}).get("id") or doc_id
        report.warnings.append(Skip(where, f"OpenSearch refused quote {doc_id!r}: {reason}", warning=True))
        report.quotes -= 1
    else:
        raise RuntimeError(f"OpenSearch refused {kind} {doc_id!r}: {reason}")


class Bulk:
    """Actions gathered into bulk requests of BULK_DOCS items or BULK_BYTES at most, sent with send_bulk."""

    def __init__(self, client, report: Report):
        self.client, self.report = client, report
        self.lines: list[bytes] = []
        self.ids: list[tuple[str, object, str]] = []
        self.size = 0

    def add(self, action: dict, source: dict | bytes | None, item: tuple[str, object, str]) -> None:
        """One action (with its source, or None for a delete); item = (id, record or None, kind)."""
        line = orjson.dumps(action) + b"\n"
        if source is not None:
            line += (source if isinstance(source, bytes) else orjson.dumps(source)) + b"\n"
        self.lines.append(line)
        self.ids.append(item)
        self.size += len(line)
        if len(self.lines) >= BULK_DOCS or self.size >= BULK_BYTES:
            self.flush()

    def flush(self) -> None:
        """Send what is gathered."""
        if self.lines:
            send_bulk(self.client, self.lines, self.ids, self.report)
            self.lines, self.ids, self.size = [], [], 0


def _index_records(client, index: str, records: Iterable, report: Report, progress, known: dict | None = None,
                   seen_before: dict | None = None, quotes=None, bulk: Bulk | None = None, table=None):
    """Bulk-index records into `index` in chunks (their names as `table` shows them), their quotes into `quotes`
    (QuoteBuild / QuoteUpdate); returns {id: [content_hash, path, first indexed]} of what was sent. Each record
    keeps the first-indexed time `seen_before` (a manifest) has for it, or gets this moment."""
    manifest: dict = {} if known is None else known
    seen_before = seen_before if seen_before is not None else manifest
    bulk = bulk or Bulk(client, report)
    now = _now_iso()
    for rec in records:
        if not accept_record(rec, report):
            continue
        if len(rec["id"].encode("utf-8")) > MAX_ID_BYTES:
            # the cluster would refuse the whole bulk request over it
            report.skipped.append(Skip(rec.get("path", "") or rec["id"][:80], f"its id is {len(rec['id'].encode())} "
                                       f"bytes long; OpenSearch takes at most {MAX_ID_BYTES}: give it a shorter id",
                                       rec.get("line")))
            continue
        rec = {**rec, "indexed": _first_indexed(seen_before.get(rec["id"])) or now}
        try:
            source = orjson.dumps(to_source(rec, table))  # refuses lone surrogates, as Whoosh's writer would choke on them
        except (TypeError, ValueError):
            skip_not_unicode(rec, report)
            continue
        changed = rec["id"] in manifest
        bulk.add({"index": {"_index": index, "_id": rec["id"]}}, source, (rec["id"], rec, "article"))
        if quotes is not None:
            if changed and hasattr(quotes, "remove"):
                quotes.remove(rec["id"])
            quotes.add(rec)
        manifest[rec["id"]] = [rec.get("content_hash", ""), rec.get("path", ""), rec["indexed"]]
        report.indexed += 1
        if progress is not None:
            progress.update(1)
    bulk.flush()
    return manifest


def delete_ids(client, index: str, doc_ids: list[str], report: Report) -> None:
    """Bulk delete by id."""
    bulk = Bulk(client, report)
    for d in doc_ids:
        bulk.add({"delete": {"_index": index, "_id": d}}, None, (d, None, "delete"))
    bulk.flush()


# ------------------------------------------------------------------ generations


def clean(client, alias: str) -> list[str]:
    """Delete generations that are neither live nor the one before it (once retired for the grace period),
    and any that never went live (left by a killed writer). The caller holds the lock. Returns what went."""
    live = set(live_indices(client, alias))
    gens = _generations(client, alias)
    retired = sorted((meta.get("retired_at", 0.0), name) for name, meta in gens.items()
                     if name not in live and "retired_at" in meta)
    keep = set(live) | ({retired[-1][1]} if retired else set())
    now = time.time()
    gone = []
    for name, meta in gens.items():
        if name in keep:
            continue
        if "retired_at" in meta and now - float(meta["retired_at"]) < RETIRE_GRACE_SECONDS:
            continue
        client.indices.delete(index=",".join(companions(name)), ignore_unavailable=True)
        gone.append(name)
    return gone


def switch_alias(client, alias: str, new: str) -> list[str]:
    """Point the alias at `new` alone and the quote alias at its quote index (when it has one), in one atomic
    `_aliases` call; mark the generations they left as retired now."""
    old = [name for name in live_indices(client, alias) if name != new]
    old_quotes = [name for name in live_indices(client, quote_alias(alias)) if name != quote_index(new)]
    actions = [{"remove": {"index": name, "alias": alias}} for name in old]
    actions += [{"remove": {"index": name, "alias": quote_alias(alias)}} for name in old_quotes]
    actions.append({"add": {"index": new, "alias": alias}})
    if has_quotes(client, new):
        actions.append({"add": {"index": quote_index(new), "alias": quote_alias(alias)}})
    client.indices.update_aliases(body={"actions": actions})
    for name in old:
        version = mapping_version(name, alias)
        meta = {"newsfacet_mapping": version, "retired_at": time.time()}
        client.indices.put_mapping(index=name, body={"_meta": meta})
    return old


def _wait_for_copies(client, index: str, report: Report, replicas: int) -> None:
    """Wait until the new index's replicas are placed (a replica-less index only needs its primary)."""
    health = client.cluster.health(index=index, wait_for_status="green" if replicas else "yellow",
                                   timeout="120s", request_timeout=130, ignore=408)
    if replicas and health.get("status") != "green":
        report.warnings.append(Skip(index, f"not every replica of {index} was placed within 120 s "
                                    f"({health.get('unassigned_shards')} unassigned): the cluster has fewer "
                                    f"nodes than 1 + NEWSFACET_OPENSEARCH_REPLICAS", warning=True))


def _create(client, name: str, body: dict) -> None:
    # No refreshes while loading: one at the end. Replicas are added after the load.
    body["settings"]["index"]["refresh_interval"] = "-1"
    client.indices.create(index=name, body=body)


def _open_for_search(client, names: list[str], replicas: int) -> None:
    client.indices.put_settings(index=",".join(names), body={"index": {"refresh_interval": "1s",
                                                                       "number_of_replicas": replicas}})
    client.indices.refresh(index=",".join(names))


def _count(client, index: str) -> int:
    return int(client.count(index=index)["count"])


def _settle_names(client, settings: Settings, index: str, written_with, report: Report) -> None:
    """Build the collection's name table from the (refreshed) articles of `index`, rewrite the names of the
    documents it shows otherwise than `written_with` (the table they were written with) did, and save it."""
    from search.nametable import NameTable, build_table

    table = build_table(value_counts(client, index), load_aliases_for(settings))
    bulk = Bulk(client, report)
    apply_table(client, index, quote_index(index) if has_quotes(client, index) else None,
                written_with or NameTable(), table, bulk.add)
    bulk.flush()
    save_table(client, index, table)


def build_generation(client, settings: Settings, lock: ClusterLock, records: Iterable, report: Report, progress,
                     started: float) -> Report:
    """Write records (and their quotes, unless Settings.quote_procs is 0) into a new generation and move the
    aliases to it when complete (caller holds the lock). Articles keep their first-indexed times from the
    previous generation; quote clusters keep their ids."""
    alias = settings.opensearch_index
    clean(client, alias)
    previous = next(iter(live_indices(client, alias)), None)
    seen_before = read_manifest(client, previous) if previous else {}
    # the previous generation's table is the best guess at this one's: documents are written with it, and only
    # those the new table shows otherwise are rewritten
    table = read_table(client, previous) if previous else None
    name = generation_name(alias)
    names = [name, names_index(name)]
    _create(client, name, index_body(replicas=0))
    quotes = None
    try:
        _create(client, names_index(name), names_index_body(replicas=0))
        if settings.quote_procs > 0:
            names += [quote_index(name), cluster_index(name)]
            _create(client, quote_index(name), quote_index_body(replicas=0))
            _create(client, cluster_index(name), cluster_index_body(replicas=0))
            quotes = QuoteBuild(client, name, previous if previous and has_quotes(client, previous) else None, table)
        bulk = Bulk(client, report)
        _index_records(client, name, records, report, progress, seen_before=seen_before, quotes=quotes, bulk=bulk,
                       table=table)
        if report.indexed == 0 and live_indices(client, alias):
            # Nothing readable: an empty index must not replace one that has articles.
            client.indices.delete(index=",".join(names))
            report.kept_previous = True
            report.seconds = time.monotonic() - started
            return report
        if quotes is not None:
            report.quotes = quotes.quotes
            figures = quotes.finish(bulk.add)
            bulk.flush()
            report.clusters = figures["clusters"]
        _open_for_search(client, names, settings.opensearch_replicas)
        _settle_names(client, settings, name, table, report)
        client.indices.refresh(index=",".join(names))
        count = _count(client, name)
        if count != report.indexed:
            raise RuntimeError(f"{name} holds {count} documents, {report.indexed} were indexed: the alias stays where "
                               f"it was")
        if quotes is not None and _count(client, quote_index(name)) != report.quotes:
            raise RuntimeError(f"{quote_index(name)} holds {_count(client, quote_index(name))} quotes, "
                               f"{report.quotes} were indexed: the aliases stay where they were")
        _wait_for_copies(client, ",".join(names), report, settings.opensearch_replicas)
        lock.check()
        switch_alias(client, alias, name)
    except BaseException:
        # Whatever stopped the build, the aliases did not move: these indices are only in the way.
        try:
            if name not in live_indices(client, alias):
                client.indices.delete(index=",".join(companions(name)), ignore_unavailable=True)
        except Exception:
            pass  # the next writer's clean() removes them
        raise
    finally:
        if quotes is not None:
            quotes.close()
    report.generation = name
    report.total_documents = count
    clean(client, alias)
    report.seconds = time.monotonic() - started
    return report


def rebuild(client, paths, settings: Settings, progress=None, wait: float = 0.0, _fail_after: int | None = None):
    """Build a new generation from article files and switch the alias to it when complete."""
    from search.indexer import _fail_midway

    started = time.monotonic()
    report = Report()
    index_dir = Path(settings.index)
    with cluster_lock(client, settings, wait) as lock:
        enricher = _enricher(settings, index_dir, load_aliases_for(settings))
        enricher.progress = progress  # a cluster runner shows its state on the bar
        try:
            records = enricher.enrich(_articles(paths, settings, report, progress))
            if _fail_after is not None:
                records = _fail_midway(records, _fail_after)
            return build_generation(client, settings, lock, _counting(records, enricher, report), report, progress,
                                    started)
        finally:
            enricher.close()
            enricher.cache.close()


def index_records(client, records: Iterable[dict], settings: Settings, wait: float = 0.0) -> Report:
    """Build a new generation from already enriched records and switch the alias to it."""
    started = time.monotonic()
    report = Report()
    with cluster_lock(client, settings, wait) as lock:
        return build_generation(client, settings, lock, records, report, None, started)


def read_manifest(client, index: str) -> dict:
    """{id: [content_hash, path, first indexed]} of every document of an index, read in id order."""
    from search.opensearch.clusterstate import scan

    return {h["_id"]: [h["_source"].get("content_hash", ""), h["_source"].get("path", ""),
                       h["_source"].get("indexed")]
            for h in scan(client, index, {"match_all": {}}, ["content_hash", "path", "indexed"])}


def live_index(client, settings: Settings) -> str | None:
    """The one index behind the alias, checked to be of this mapping version (None: there is none)."""
    alias = settings.opensearch_index
    names = live_indices(client, alias)
    if not names:
        return None
    if len(names) > 1:
        raise IndexOutdated(f"The alias {alias!r} points at {len(names)} indices ({', '.join(names)}); newsfacet "
                            f"keeps it on one: run `newsfacet --backend opensearch rebuild`")
    version = mapping_version(names[0], alias)
    if version != MAPPING_VERSION:
        raise IndexOutdated(f"{describe(settings)} is {names[0]}, written with mapping version {version}; this "
                            f"newsfacet writes version {MAPPING_VERSION}: run `newsfacet --backend opensearch "
                            f"rebuild` (a new index; the old one keeps serving until it is done)")
    return names[0]


def _add_quotes(client, settings: Settings, index: str, report: Report) -> None:
    """Give a live generation written without quotes (quote_procs = 0) its quote index, from its stored records."""
    from search.opensearch.clusterstate import scan
    from search.opensearch.mapping import from_source

    qname, cname = quote_index(index), cluster_index(index)
    client.indices.delete(index=f"{qname},{cname}", ignore_unavailable=True)  # left by an update that died
    _create(client, qname, quote_index_body(replicas=0))
    _create(client, cname, cluster_index_body(replicas=0))
    build = QuoteBuild(client, index, None, read_table(client, index))
    try:
        for h in scan(client, index, {"match_all": {}}, ["record", "body"]):
            build.add(from_source(h["_source"]))
        bulk = Bulk(client, report)
        figures = build.finish(bulk.add)
        bulk.flush()
    finally:
        build.close()
    _open_for_search(client, [qname, cname], settings.opensearch_replicas)
    client.indices.update_aliases(body={"actions": [{"add": {"index": qname, "alias": quote_alias(
        settings.opensearch_index)}}]})
    report.quotes, report.clusters = figures["quotes"], figures["clusters"]


def update(client, paths, settings: Settings, progress=None, wait: float = 0.0) -> Report:
    """Upsert new and changed articles under paths and delete those whose source is gone, by id, in place; their
    quotes and clusters follow."""
    started = time.monotonic()
    if live_index(client, settings) is None:
        return rebuild(client, paths, settings, progress=progress, wait=wait)
    report = Report()
    roots = [Path(p).resolve() for p in paths]
    index_dir = Path(settings.index)
    with cluster_lock(client, settings, wait):
        clean(client, settings.opensearch_index)
        index = live_index(client, settings)
        manifest = read_manifest(client, index)
        enricher = _enricher(settings, index_dir, load_aliases_for(settings))
        enricher.progress = progress  # a cluster runner shows its state on the bar
        table = read_table(client, index)
        quotes = QuoteUpdate(client, index, table) if has_quotes(client, index) else None
        seen = set()
        try:
            changed = changed_articles(paths, settings, report, progress, manifest, seen)
            _index_records(client, index, enricher.enrich(changed), report, progress, known=manifest, quotes=quotes,
                           table=table)
            gone = gone_ids(manifest, seen, roots, report)
            delete_ids(client, index, gone, report)
            for doc_id in gone:
                del manifest[doc_id]
                if quotes is not None:
                    quotes.remove(doc_id)
            report.removed = len(gone)
            report.analysed, report.cached = enricher.analysed, enricher.cached
            if quotes is not None:
                bulk = Bulk(client, report)
                report.quotes = quotes.quotes  # less any the cluster refuses
                quotes.finish(bulk.add)
                bulk.flush()
        finally:
            enricher.close()
            enricher.cache.close()
            if quotes is not None:
                quotes.close()
        if quotes is None and settings.quote_procs > 0:
            _add_quotes(client, settings, index, report)
        written = companions(index) if has_quotes(client, index) else [index, names_index(index)]
        client.indices.refresh(index=",".join(written))
        _settle_names(client, settings, index, table, report)
        client.indices.refresh(index=",".join(written))
        if len(written) > 2:
            report.clusters = _count_clusters(client, cluster_index(index))
        stamp_version(client, index)
        report.generation = index
        report.total_documents = _count(client, index)
        report.seconds = time.monotonic() - started
        return report


def _count_clusters(client, index: str) -> int:
    return int(client.count(index=index, body={"query": {"term": {"kind": "cluster"}}})["count"])
