"""Enrichment on a Dask cluster: batches of article texts go to the workers, plain analyses come back.

`newsfacet rebuild|update|enrich PATHS --scheduler tcp://HOST:8786` reads the articles where it runs, answers
what it can from the enrichment cache, and writes the cache and the index there (one Whoosh writer); only
the spaCy pass (`search.enrich.analyse_batch`) runs on the workers. `ClusterRunner` is the Enricher's runner
for that, in place of `search.enrich.LocalRunner`.

- A worker analyses a batch with `search.enrich.analyse_batch` under the coordinator's settings, which travel
  with every batch (model, per-language pipelines, max_chars, ...); it loads each pipeline once.
- A worker is given work only once its newsfacet, spaCy models and enrichment-code versions and its speaker
  confidence threshold were found equal to the coordinator's (the cache key depends on them); one that
  differs is refused and named.
- At most IN_FLIGHT_PER_WORKER batches per worker are out at a time, so neither the reader nor memory runs
  ahead of the cluster.
- A worker that dies has its batches retried elsewhere by Dask; a batch that kills every worker it reaches
  (Dask's KilledWorker) is split into single articles, and the one that still kills is reported as a skip.

Dask is the optional `[dask]` extra: nothing here imports it until a runner connects.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterator, NamedTuple

from search.articles import Skip
from search.config import Settings, language_models
from search.enrich import Failed, analyse_batch, code_digest, installed_model, pipeline_for
from search.quotes.attribution import min_confidence

ANALYSIS_NEUTRAL = ("transport only: sends texts to Dask workers, which run search.enrich.analyse_batch (their "
                    "enrichment code digest checked equal to this machine's), and hands back what they return")

# Batches per worker out at once: one running, the next ones already on their way.
IN_FLIGHT_PER_WORKER = 3
# Characters of text in one batch at most (a batch travels as one message; Dask warns above 10 MB).
BATCH_CHARS = 1_000_000
# How long to wait for a worker that can enrich before giving up.
WORKER_WAIT_SECONDS = 60.0
# How often the coordinator looks at the cluster's workers while waiting for results.
LOOK_SECONDS = 1.0


class ClusterError(RuntimeError):
    """The cluster cannot do the work; the message says why and what to do."""


class WorkerRefused(RuntimeError):
    """Raised on a worker whose versions differ from the coordinator's (a batch that reached it first)."""

    def __init__(self, address: str, versions: tuple):
        super().__init__(address, versions)
        self.address, self.versions = address, tuple(versions)


class Versions(NamedTuple):
    """What an analysis depends on besides the text and settings; coordinator and workers must agree."""

    newsfacet: str
    models: str
    code: str
    # The speaker confidence threshold: the quote component reads it from the worker's own settings
    # (NEWSFACET_SPEAKER_MIN_CONFIDENCE), not from the settings sent with a batch, and the cache key holds it.
    speakers: str

    def __str__(self) -> str:
        return (f"newsfacet {self.newsfacet}, model {self.models}, enrichment code {self.code}, "
                f"speaker threshold {self.speakers}")


_versions_lock = threading.Lock()


def local_versions(models: tuple[str, ...]) -> Versions:
    """This process's newsfacet version, installed versions of these spaCy pipelines, enrichment-code digest."""
    # One thread at a time: on a fresh worker the version check (client.run, in a thread) and its first batch
    # ask together, and code_digest's first run parses modules with `ast`, which CPython 3.11 does not allow in
    # two threads at once ("SystemError: AST constructor recursion depth mismatch").
    with _versions_lock:
        return _local_versions(tuple(models))


@lru_cache(maxsize=4)
def _local_versions(models: tuple[str, ...]) -> Versions:
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = version("newsfacet")
    except PackageNotFoundError:
        own = "not installed"
    return Versions(own, ", ".join(installed_model(m) for m in models), code_digest(), str(min_confidence()))


async def worker_versions(models: tuple[str, ...]) -> tuple:
    """On a worker (client.run): its versions, computed in a thread so its event loop keeps answering."""
    return tuple(await asyncio.to_thread(local_versions, models))


def scheduler_can_load() -> bool:
    """Run on the scheduler (client.run_on_scheduler): arriving there at all shows it can import newsfacet."""
    return True


_lock = threading.Lock()
_pipelines: dict = {}  # pipeline name -> loaded pipeline, once per worker process


def analyse_on_worker(expected: tuple, models: tuple, settings: dict, batch: list[tuple[str, str]]) -> list:
    """On a worker: analyse_batch of (text, title) pairs under the coordinator's settings, as a list of
    (position, language, plain analysis); raises WorkerRefused if this worker's versions differ."""
    mine = local_versions(tuple(models))
    if mine != tuple(expected):
        from distributed import get_worker

        raise WorkerRefused(get_worker().address, mine)
    config = replace(Settings(**settings), workers=1)  # one process: the cluster is the parallelism
    names = language_models(config)

    def pipeline(lang: str):
        if names[lang] not in _pipelines:
            _pipelines[names[lang]] = pipeline_for(names[lang], config.max_chars)
        return _pipelines[names[lang]]

    # One batch at a time per process, however many threads the worker has: spaCy is not made for threads.
    with _lock:
        keep_large_buffers()
        return list(analyse_batch(batch, config, pipeline))


# glibc's ceiling for its own, dynamic mmap threshold on 64-bit machines (DEFAULT_MMAP_THRESHOLD_MAX).
MMAP_THRESHOLD = 32 * 1024 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h


@lru_cache(maxsize=1)
def keep_large_buffers() -> bool:
    """Once per worker process on glibc: allocations up to MMAP_THRESHOLD come from the heap, as in a process
    started without Dask's nanny; returns whether that was set.

    The nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, and setting that fixes glibc's mmap threshold
    at 128 KiB as well: every spaCy array larger than that is then mapped, zero-filled and unmapped again, batch
    after batch, which cost a worker 9-16% more CPU per article than local enrichment (bench/clusterbench.py).
    Trimming the heap is left as the nanny set it."""
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        return ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    except (OSError, AttributeError):  # a C library without mallopt
        return False


@dataclass
class _Batch:
    entries: list  # the Enricher's (article, cache key, notes), in the order of the texts sent
    workers: list[str] | None = None  # restricted to these workers (when some worker is refused)
    stranded: int = 0  # times all its workers were gone and it was sent again


class ClusterRunner:
    """The Enricher's runner on a Dask cluster: feed it chunks of (article, key, notes) entries, and it hands
    back (entry, language, plain analysis) as batches come back, and Skip notes about refused workers."""

    def __init__(self, settings: Settings, progress=None):
        self.settings = settings
        self.progress = progress
        self.chunk_size = max(1, settings.batch_size)
        self._client = None
        self._config = None
        self._expected: Versions | None = None
        self._models = tuple(language_models(settings).values())
        self._plain_settings = {f.name: getattr(settings, f.name) for f in fields(settings)}
        self._pending: dict = {}  # future -> _Batch
        self._done: queue.Queue = queue.Queue()  # futures as they finish (Dask calls back from its thread)
        self._out: list = []  # what to hand back next: (entry, language, analysis) and Skip notes
        self._live: set[str] = set()
        self._admitted: set[str] = set()
        self._refused: dict[str, str] = {}  # worker address -> why
        self._next_look = 0.0
        self._idle_since: float | None = None
        self.finished = 0  # articles whose analyses came back and were handed on

    # ------------------------------------------------------------------ Enricher's runner protocol

    def feed(self, chunk: list) -> Iterator:
        """Send a chunk as batches; hand back whatever finished, waiting only while the cluster is full."""
        self._connect()
        for batch in _split(chunk, self.chunk_size):
            self._submit(_Batch(batch))
        yield from self._collect(lambda: len(self._pending) < self._capacity())

    def drain(self) -> Iterator:
        """Everything still in flight."""
        yield from self._collect(lambda: not self._pending)

    def close(self) -> None:
        """Cancel what is in flight and disconnect."""
        client, self._client = self._client, None
        try:
            if client is not None:
                if self._pending and client.status == "running":
                    client.cancel(list(self._pending))
                self._pending.clear()
                client.close()
        finally:
            logging.getLogger("distributed.client").removeFilter(_DROP_RECONNECT)
            if self._config is not None:
                self._config.__exit__(None, None, None)
                self._config = None

    # ------------------------------------------------------------------ connection and workers

    def _connect(self) -> None:
        if self._client is not None:
            return
        try:
            import distributed
        except ImportError:
            raise ClusterError("--scheduler needs Dask, which is not installed here: "
                               "pip install 'newsfacet[dask]' (dask and distributed)") from None
        address = self.settings.scheduler
        try:
            from distributed.comm.addressing import parse_address, parse_host_port
            from distributed.comm.registry import get_backend

            scheme, location = parse_address(address)
            get_backend(scheme)
            parse_host_port(location)
        except ValueError as exc:
            raise ClusterError(f"--scheduler / NEWSFACET_SCHEDULER {address!r} is not a Dask scheduler address ({exc}); "
                               f"write it as tcp://HOST:8786 (or tls://HOST:8786)") from None
        if self.settings.dask_config:
            self._config = _apply_dask_config(Path(self.settings.dask_config))
        self._expected = local_versions(self._models)
        # When the scheduler goes away, this runner says so and stops; the client meanwhile tries to reconnect
        # (uselessly: Dask has cancelled every future) and logs the attempt's end as an error, a cancelled task's
        # traceback or "Failed to reconnect ... after 30.00 seconds", even when it is ended at once by close().
        logging.getLogger("distributed.client").addFilter(_DROP_RECONNECT)
        try:
            self._client = distributed.Client(address, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            self.close()
            raise ClusterError(f"cannot connect to the Dask scheduler at {address} ({exc}); start one with "
                               f"`dask scheduler`, or correct --scheduler / NEWSFACET_SCHEDULER") from None
        try:
            self._client.run_on_scheduler(scheduler_can_load)
        except Exception as exc:
            raise ClusterError(f"the Dask scheduler at {address} cannot load newsfacet's tasks ({type(exc).__name__}: "
                               f"{str(exc)[:300]}); Dask unpickles every batch on the scheduler too, so it needs "
                               f"this newsfacet ({self._expected.newsfacet}) with the [dask] extra: install it there "
                               f"and restart the scheduler") from None
        self._look(force=True)
        if self._live and self._live <= set(self._refused):
            raise ClusterError(f"no Dask worker at {address} can enrich for this machine: "
                               + "; ".join(f"{a} {why}" for a, why in sorted(self._refused.items())))

    def _capacity(self) -> int:
        return IN_FLIGHT_PER_WORKER * max(1, len(self._admitted))

    def _look(self, force: bool = False) -> None:
        """Now and then: which workers there are, check the new ones, re-send batches stranded by gone ones."""
        now = time.monotonic()
        if not force and now < self._next_look:
            return
        self._next_look = now + LOOK_SECONDS
        if self._client.status != "running":
            raise self._lost(None)
        try:
            self._live = set(self._client.scheduler_info(n_workers=-1)["workers"])
        except Exception as exc:  # the scheduler went away between two looks
            raise self._lost(exc) from None
        self._admitted &= self._live
        new = self._live - self._admitted - set(self._refused)
        if new:
            self._check(new)
        for fut, batch in list(self._pending.items()):
            if batch.workers is not None and not self._live.intersection(batch.workers):
                # Dask does not move a task restricted to workers that are all gone: send it again.
                del self._pending[fut]
                fut.cancel()
                batch.stranded += 1
                if batch.stranded > 1:
                    self._killed(batch, "every worker it was sent to left the cluster, twice")
                else:
                    self._submit(batch)
        if self._admitted:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = now
        elif now - self._idle_since > WORKER_WAIT_SECONDS:
            why = "; ".join(f"{a} {r}" for a, r in sorted(self._refused.items()) if a in self._live)
            raise ClusterError(f"no Dask worker that can enrich for this machine joined {self.settings.scheduler} "
                               f"in {WORKER_WAIT_SECONDS:.0f} s" + (f" (refused: {why})" if why else "")
                               + f"; start workers with `dask worker {self.settings.scheduler} --nthreads 1`")
        self._show()

    def _check(self, addresses: set[str]) -> None:
        """Admit the workers whose versions equal this machine's; refuse the others, saying why."""
        try:
            found = self._client.run(worker_versions, self._models, workers=sorted(addresses),
                                     on_error="return")
        except Exception as exc:
            if self._client.status != "running":
                raise self._lost(exc) from None
            return  # a worker left while asked; the next look asks again
        for address, got in found.items():
            if isinstance(got, BaseException):
                self._refuse(address, f"cannot run newsfacet's enrichment ({type(got).__name__}: {got}); install "
                                      f"newsfacet {self._expected.newsfacet} with the [dask] extra there")
            elif Versions(*got) != self._expected:
                self._refuse(address, _differs(Versions(*got), self._expected))
            else:
                self._admitted.add(address)

    def _refuse(self, address: str, why: str) -> None:
        if address in self._refused:
            return
        self._refused[address] = why
        self._admitted.discard(address)
        self._out.append(Skip(f"Dask worker {address}", f"refused: {why}", warning=True))

    def _show(self) -> None:
        if self.progress is None:
            return
        state = f"{len(self._admitted)} Dask worker{'s' if len(self._admitted) != 1 else ''}, " \
                f"{len(self._pending)} batch{'es' if len(self._pending) != 1 else ''} out"
        if not self._admitted:
            state += ", waiting for a worker"
        self.progress.set_postfix_str(state, refresh=False)

    # ------------------------------------------------------------------ batches

    def _submit(self, batch: _Batch) -> None:
        # Tasks may go to any worker unless a refused one is in the cluster; then only to admitted ones.
        restrict = sorted(self._admitted) if self._admitted and set(self._refused) & self._live else None
        batch.workers = restrict
        pairs = [(article.text, article.title) for article, _, _ in batch.entries]
        try:
            fut = self._client.submit(analyse_on_worker, tuple(self._expected), self._models,
                                      self._plain_settings, pairs, pure=False,
                                      key=f"newsfacet-enrich-{uuid.uuid4().hex}", workers=restrict,
                                      allow_other_workers=False)
        except Exception as exc:
            raise self._lost(exc) from None
        self._pending[fut] = batch
        fut.add_done_callback(self._done.put)

    def _collect(self, enough) -> Iterator:
        """Take finished batches (waiting for one when there are none) until `enough()`."""
        block = False
        while True:
            for fut in self._finished(block):
                batch = self._pending.pop(fut, None)
                if batch is not None:  # not one cancelled here and sent again
                    self._take(fut, batch)
                    yield from self._hand_out()  # before the next future, which may say the scheduler is gone
            self._look()
            yield from self._hand_out()
            if enough():
                self._show()
                return
            block = True

    def _hand_out(self) -> Iterator:
        out, self._out = self._out, []
        for item in out:
            if not isinstance(item, Skip):
                self.finished += 1
            yield item

    def _finished(self, block: bool) -> list:
        got = []
        try:
            got.append(self._done.get(timeout=LOOK_SECONDS) if block else self._done.get_nowait())
            while True:
                got.append(self._done.get_nowait())
        except queue.Empty:
            pass
        return got

    def _take(self, fut, batch: _Batch) -> None:
        from distributed import KilledWorker

        status = fut.status
        if status == "finished":
            try:
                results = fut.result()
            except Exception as exc:  # the scheduler went away while the results were fetched
                raise self._lost(exc) from None
            self._out.extend((batch.entries[i], lang, raw) for i, lang, raw in results)
        elif status == "cancelled":
            raise self._lost(None)
        elif status != "error":
            # "lost": it had finished, but the worker holding its result died before the result was fetched.
            fut.cancel()
            self._submit(batch)
        else:
            exc = fut.exception()
            if isinstance(exc, WorkerRefused):
                # A worker that joined since the last look got the batch first: refuse it, send the batch on.
                self._refuse(exc.address, _differs(Versions(*exc.versions), self._expected))
                self._submit(batch)
            elif isinstance(exc, KilledWorker):
                self._killed(batch, f"it killed {exc.allowed_failures + 1} Dask workers in a row (out of memory, "
                                    f"or a crash in spaCy)")
            else:
                article = batch.entries[0][0]
                where = f"{article.path}:{article.line}" if article.line is not None else article.path
                raise ClusterError(f"the cluster failed on the batch that starts with {where} "
                                   f"({type(exc).__name__}: {str(exc)[:500]}); see the scheduler's and workers' logs")
        fut.release()

    def _killed(self, batch: _Batch, why: str) -> None:
        """A batch that took its workers down: its articles one by one, so only the culprit is lost."""
        if len(batch.entries) > 1:
            for entry in batch.entries:
                self._submit(_Batch([entry]))
            return
        self._out.append((batch.entries[0], "", Failed(f"not enriched: {why}; leave it out, or report it with "
                                                       f"this article")))

    def _lost(self, exc) -> ClusterError:
        detail = f" ({type(exc).__name__}: {exc})" if exc is not None and str(exc) else ""
        return ClusterError(f"lost the Dask scheduler at {self.settings.scheduler}{detail} when {self.finished} "
                            f"article{'s' if self.finished != 1 else ''} had come back; start it again (or check the "
                            f"network) and run the command again")


class _DropReconnect(logging.Filter):
    """Drops the Dask client's records of its attempt to reconnect to a scheduler that went away."""

    def filter(self, record: logging.LogRecord) -> bool:
        cancelled = record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError)
        return not (cancelled or str(record.msg).startswith("Failed to reconnect to scheduler"))


_DROP_RECONNECT = _DropReconnect()


def _differs(theirs: Versions, ours: Versions) -> str:
    return (f"its versions ({theirs}) differ from this machine's ({ours}); install the same newsfacet and "
            f"spaCy model there and restart it")


def _split(chunk: list, size: int) -> Iterator[list]:
    """Batches of at most `size` articles and BATCH_CHARS characters (one long article is a batch alone)."""
    batch: list = []
    chars = 0
    for entry in chunk:
        n = len(entry[0].text)
        if batch and (len(batch) >= size or chars + n > BATCH_CHARS):
            yield batch
            batch, chars = [], 0
        batch.append(entry)
        chars += n
    if batch:
        yield batch


def _apply_dask_config(path: Path):
    """Dask settings from a YAML file (e.g. distributed.comm.tls.*), in force until the runner closes."""
    import dask.config

    try:
        loaded = list(dask.config.collect_yaml([str(path)]))
    except ValueError as exc:
        raise ClusterError(f"--dask-config {path}: {exc}") from None
    if not path.is_file() or not loaded:
        raise ClusterError(f"--dask-config {path}: not a readable Dask config file (YAML, e.g. "
                           f"distributed: {{comm: {{tls: ...}}}})")
    flat: dict = {}
    for cfg in loaded:
        _flatten(cfg, "", flat)
    # dask.config.set replaces a whole subtree when given a nested dict: set dotted leaves instead.
    ctx = dask.config.set(flat)
    return ctx


def _flatten(tree: dict, prefix: str, out: dict) -> None:
    for key, value in tree.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            _flatten(value, name, out)
        else:
            out[name] = value
