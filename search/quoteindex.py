"""The quote index: every extracted quote as its own Whoosh document, in `quotes/` inside the generation folder of
the articles it comes from (so one switch of CURRENT makes both live), with its facet arrays and its clusters
(search/clusters.py, `clusters.sqlite` beside it).

A rebuild writes it from the same records as the article index, in a second process when the machine has a core to
spare (`QuoteProcess`), or in this one (`QuoteBuilder`); an update changes it in place in the new generation
(`update_quotes`). Nothing Whoosh leaves this module and search/query.py.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import traceback
from pathlib import Path

import numpy as np

from search.clusters import CLUSTER_FILE, ClusterReader, ClusterStore
from search.contracts import QUOTE_FACET_KEYS, QUOTE_FACET_LABELS
from search.facets import EPOCH, FACET_FILE, FacetCollector, FacetData, Layout, _pairs
from search.nametable import SPEAKERS
from search.schema import MONTH_FIELD, dumps_record, indexed_seconds, keyword_value, parse_published

log = logging.getLogger(__name__)

QUOTE_DIR = "quotes"  # inside a generation folder
# the speaker holds names as the article index's Speakers facet does: the collection's name table applies to it
QUOTES_LAYOUT = Layout(QUOTE_FACET_KEYS + (MONTH_FIELD,), {}, dict(QUOTE_FACET_LABELS), {"speaker": SPEAKERS})
CLUSTER_FIELD = "cluster"  # pairs (quote, cluster id) saved with the facet arrays; not a Whoosh field
ARTICLE_KEYS = ("id", "title", "published", "source", "url")


def build_quote_schema():
    """The Whoosh schema of the quote index: the quote's words (field `quotes`, as `quotes:` in the article
    index), keyword facets, dates and the stored quote. (Not the article's title: analysed again for each of an
    article's quotes, it cost a fifth of writing the quote index.)"""
    from whoosh import columns, fields
    from whoosh.analysis import StemmingAnalyzer

    text = StemmingAnalyzer()
    kw = dict(commas=True, stored=False, lowercase=False, scorable=False)
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        article=fields.ID(stored=False),
        quotes=fields.TEXT(analyzer=text, stored=False),
        speaker=fields.KEYWORD(**kw),
        source=fields.KEYWORD(**kw),
        kind=fields.KEYWORD(**kw),
        month=fields.KEYWORD(**kw),
        # a column only, in the raw form of a sortable DATETIME's column (facets._load_days reads either): dates
        # are filtered with arrays, so the eight range terms a DATETIME indexes per document were never read
        published=fields.COLUMN(columns.NumericColumn("Q", default=0)),
        # the row of the quote in clusters.sqlite, and when its article was first indexed (Unix seconds)
        qid=fields.COLUMN(columns.NumericColumn("q", default=-1)),
        indexed=fields.COLUMN(columns.NumericColumn("q", default=0)),
        record=fields.STORED(),
    )


def quote_id(article_id: str, n: int) -> str:
    """The id of an article's n-th quote (0-based, in the order of the record)."""
    return f"{article_id}#{n}"


def article_of(quote: str) -> str:
    """The id of the article a quote id names (the inverse of quote_id; an article id may hold '#' itself)."""
    return quote.rsplit("#", 1)[0]


def quote_records(rec: dict) -> list[dict]:
    """The quotes of an enriched record as stored quote records (what a quote result is made from)."""
    article = {k: rec.get(k) for k in ARTICLE_KEYS}
    out = []
    for n, q in enumerate(rec.get("quotes") or ()):
        if not isinstance(q, dict) or not (q.get("text") or "").strip():
            continue
        out.append({"id": quote_id(rec["id"], n), "n": n, "article": article, "speaker": q.get("speaker") or None,
                    "speaker_text": q.get("speaker_text"), "text": q.get("text") or "", "verb": q.get("verb"),
                    "start": q.get("start"), "end": q.get("end"), "kind": q.get("kind") or "direct",
                    "indexed": rec.get("indexed")})
    return out


def _day(published) -> int | None:
    dt = parse_published(published)
    return None if dt is None else (dt.date() - EPOCH).days


def _document(qr: dict, qid: int, indexed_ts: int) -> dict:
    art = qr["article"]
    doc = {
        "id": qr["id"], "article": art["id"], "quotes": qr["text"],
        "speaker": keyword_value([qr["speaker"]] if qr["speaker"] else []),
        "source": keyword_value([art.get("source")] if art.get("source") else []),
        "kind": keyword_value([qr["kind"]]), "qid": qid, "indexed": indexed_ts, "record": dumps_record(qr),
    }
    published = parse_published(art.get("published"))
    if published is not None:
        doc["published"] = published
        doc["month"] = f"{published.year:04d}-{published.month:02d}"
    return doc


_MICROS = 86_400_000_000


def _whoosh(doc: dict) -> dict:
    """A quote document as add_document takes it: the published date as the column's raw number (microseconds
    since 0001-01-01, as Whoosh's DATETIME stores it)."""
    pub = doc.get("published")
    if pub is None:
        return doc
    micros = (pub.toordinal() - 1) * _MICROS + ((pub.hour * 60 + pub.minute) * 60 + pub.second) * 1_000_000 \
        + pub.microsecond
    return {**doc, "published": micros}


class _QuoteWriter:
    """What the quote writers of a rebuild and of an update share: a Whoosh writer and a cluster store."""

    writer = None
    store: ClusterStore

    def cancel(self) -> None:
        """Throw away what was written (the generation is being removed)."""
        try:
            if self.writer is not None:
                self.writer.cancel()
        finally:
            self.store.abandon()


class QuoteBuilder(_QuoteWriter):
    """Writes a new generation's quote index and clusters, one article record at a time, in this process."""

    def __init__(self, gen_dir: Path, previous: Path | None = None):
        from whoosh import index as windex

        self.gen_dir = Path(gen_dir)
        self.dir = self.gen_dir / QUOTE_DIR
        self.dir.mkdir()
        self.ix = windex.create_in(str(self.dir), build_quote_schema())
        # compound=False for the same reason as the article index (search/indexer.py)
        self.writer = self.ix.writer(limitmb=128, compound=False)
        self.collector = FacetCollector(self.ix.schema, QUOTES_LAYOUT)
        self.store = ClusterStore(self.gen_dir, previous=previous)
        self.quotes = 0

    def add(self, rec: dict) -> None:
        """Index the quotes of one article record (one that the article index took)."""
        ts = indexed_seconds(rec.get("indexed"))
        day = _day(rec.get("published"))
        for qr in quote_records(rec):
            qid = self.store.add(qr["id"], rec["id"], qr["speaker"], qr["article"].get("source"), day, qr["text"])
            doc = _document(qr, qid, ts)
            self.writer.add_document(**_whoosh(doc))
            self.collector.add(doc)
            self.quotes += 1

    def finish(self) -> dict:
        """Commit the quote index, cluster the quotes, save the facet arrays with the clusters; returns figures."""
        writer, self.writer = self.writer, None
        writer.commit()
        stats = self.store.finish()
        fd = self.collector.facet_data()
        fd.fields[CLUSTER_FIELD] = _cluster_pairs(self.gen_dir, np.arange(fd.size, dtype=np.int64), fd.size)
        fd.save(self.dir / FACET_FILE)
        return {"quotes": self.quotes, **stats}


def _cluster_pairs(gen_dir: Path, docnum_of_qid: np.ndarray, size: int):
    """FieldPairs (document, cluster id) of a generation; docnum_of_qid[qid] = the quote's document number."""
    reader = ClusterReader(gen_dir)
    try:
        rows = sorted(((c, q) for q, c in reader.db.execute("SELECT qid, cluster FROM quote WHERE cluster IS NOT NULL")),
                      key=lambda r: r[0]) if reader.db is not None else []
    finally:
        reader.close()
    values, docs = [], []
    for c, q in rows:
        d = int(docnum_of_qid[q]) if q < len(docnum_of_qid) else -1
        if d < 0:
            continue
        if not values or values[-1] != c:
            values.append(c)
            docs.append([])
        docs[-1].append(d)
    fp = _pairs(values, [np.sort(np.asarray(d, dtype=np.int64)) for d in docs])
    fp.set_size(size)
    return fp


# -- the second process --------------------------------------------------------------------------------------------
def _child(conn, result, parent_end, gen_dir: str, previous: str | None) -> None:
    """Body of the quote writer process: build from batches of records until None, then report."""
    # A forked child holds a copy of the parent's sending end: closed, the parent's death is an EOF here rather
    # than a child waiting for ever (and holding the parent's stdout open for whoever reads it).
    parent_end.close()
    builder = None
    try:
        builder = QuoteBuilder(Path(gen_dir), Path(previous) if previous else None)
        while True:
            batch = conn.recv()
            if batch is None:
                break
            for rec in batch:
                builder.add(rec)
        result.send(("ok", builder.finish()))
    except EOFError:  # the parent went away: nothing to report to
        if builder is not None:
            builder.cancel()
    except BaseException:
        if builder is not None:
            try:
                builder.cancel()
            except Exception:
                pass
        try:
            result.send(("error", traceback.format_exc()))
        except Exception:
            pass
        os._exit(1)


def start_context():
    """How the quote writer process starts: a fork of this process when it runs no other thread (nothing to set
    up again, milliseconds), else from a fork server (forking a process with threads can deadlock the child, and
    Python 3.12 warns of it; a CLI rebuild has tqdm's monitor thread)."""
    import threading

    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["search.quoteindex", "search.clusters"])
    return ctx


class QuoteProcess:
    """QuoteBuilder in a second process, fed batches of the records the article writer takes, so the two
    indexes are written at the same time on two cores."""

    BATCH = 200

    def __init__(self, gen_dir: Path, previous: Path | None = None):
        ctx = start_context()
        recv, self._send = ctx.Pipe(duplex=False)
        self._result, result_send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(recv, result_send, self._send, str(gen_dir),
                                                      str(previous) if previous else None),
                                 name="newsfacet-quotes", daemon=True)
        self._proc.start()
        recv.close()
        result_send.close()
        self._batch: list[dict] = []

    def add(self, rec: dict) -> None:
        """Queue one article record for the child."""
        if rec.get("quotes"):
            self._batch.append({k: rec.get(k) for k in ("id", "title", "published", "source", "url", "quotes",
                                                        "indexed")})
            if len(self._batch) >= self.BATCH:
                self._flush()

    def _flush(self) -> None:
        if self._batch:
            try:
                self._send.send(self._batch)
            except (BrokenPipeError, OSError):
                self._raise()
            self._batch = []

    def _raise(self):
        msg = "the quote index writer stopped"
        if self._result.poll(5):
            try:
                status, detail = self._result.recv()
                msg += ":\n" + str(detail)
            except EOFError:
                pass
        self.cancel()
        raise RuntimeError(msg)

    def close_input(self) -> None:
        """No more records: the child commits and clusters while this process commits the article index."""
        if self._send.closed:
            return
        self._flush()
        try:
            self._send.send(None)
        except (BrokenPipeError, OSError):
            self._raise()
        self._send.close()

    def finish(self) -> dict:
        """Send the last records, wait for the child to commit and cluster; its figures."""
        self.close_input()
        try:
            status, detail = self._result.recv()
        except EOFError:
            status, detail = "error", f"exit code {self._proc.exitcode}"
        self._proc.join()
        if status != "ok":
            raise RuntimeError(f"the quote index writer failed:\n{detail}")
        return detail

    def cancel(self) -> None:
        """Stop the child (its half-written files go with the generation folder)."""
        try:
            if not self._send.closed:
                self._send.close()
        except OSError:
            pass
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(10)


def quote_sink(gen_dir: Path, previous: Path | None, processes: int):
    """A QuoteProcess when a second process is wanted (processes > 1), a QuoteBuilder for 1, None for 0 (no quote
    index: article search only, as benchmarks compare)."""
    from search.clusters import band_keys

    if processes < 1:
        return None

    band_keys([])  # datasketch (and the scipy it imports) loaded once here, not again in every forked child
    return QuoteProcess(gen_dir, previous) if processes > 1 else QuoteBuilder(gen_dir, previous)


# -- update --------------------------------------------------------------------------------------------------------
def link_quotes(live: Path, tmp: Path) -> bool:
    """Copy the live generation's quote index into a new one with hard links (Whoosh never rewrites a file);
    False when the live generation has none (built before quotes were indexed)."""
    src = Path(live) / QUOTE_DIR
    if not (src / FACET_FILE).exists() and not any(src.glob("*.toc")):
        return False
    dst = Path(tmp) / QUOTE_DIR
    dst.mkdir()
    for p in src.iterdir():
        if p.is_file() and not p.name.endswith("LOCK") and p.name != FACET_FILE:
            try:
                os.link(p, dst / p.name)
            except OSError:
                shutil.copy2(p, dst / p.name)
    return (Path(live) / CLUSTER_FILE).exists()


class QuoteUpdate(_QuoteWriter):
    """The quote side of an update: the copied quote index and clusters of the new generation, changed in place."""

    def __init__(self, live: Path, tmp: Path):
        from whoosh import index as windex

        self.tmp = Path(tmp)
        self.ix = windex.open_dir(str(self.tmp / QUOTE_DIR))
        self.writer = self.ix.writer(limitmb=128, compound=False)
        self.store = ClusterStore(self.tmp, previous=Path(live), copy=True)
        self._removed: list[str] = []
        self.quotes = 0

    def remove(self, article_id: str) -> None:
        """Drop an article's quotes (it was removed, or is being replaced)."""
        self.writer.delete_by_term("article", article_id)
        self._removed.append(article_id)

    def add(self, rec: dict) -> None:
        """Index an added or changed article's quotes (call remove first for a changed one)."""
        if self._removed:
            self.store.remove_articles(self._removed)
            self._removed = []
        ts = indexed_seconds(rec.get("indexed"))
        day = _day(rec.get("published"))
        for qr in quote_records(rec):
            qid = self.store.add(qr["id"], rec["id"], qr["speaker"], qr["article"].get("source"), day, qr["text"])
            self.writer.add_document(**_whoosh(_document(qr, qid, ts)))
            self.quotes += 1

    def finish(self) -> dict:
        """Commit, recluster what changed, save the facet arrays."""
        if self._removed:
            self.store.remove_articles(self._removed)
            self._removed = []
        writer, self.writer = self.writer, None
        writer.commit()
        stats = self.store.finish()
        write_quote_facets(self.tmp)
        return {"quotes": self.quotes, **stats}


def column_ints(reader, name: str, default: int = 0) -> np.ndarray:
    """A numeric column (NumericColumn "q") of every document, segment by segment, as int64."""
    size = reader.doc_count_all()
    out = np.full(size, default, dtype=np.int64)
    leaves = [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())
    for leaf, offset in leaves:
        n = leaf.doc_count_all()
        if not n or name not in leaf.schema or not leaf.has_column(name):
            continue  # a segment where no document has a value has no column
        col = leaf.column_reader(name, translate=False)
        data, base, count = getattr(col, "_dbfile", None), getattr(col, "_basepos", None), getattr(col, "_count", None)
        if data is not None and base is not None and count is not None and getattr(col, "_typecode", "") == "q":
            k = min(n, count)
            if k:
                out[offset:offset + k] = np.frombuffer(bytes(data.get(base, k * 8)), dtype=">i8")
        else:
            out[offset:offset + n] = np.fromiter((col[i] for i in range(n)), dtype=np.int64, count=n)
    return out


def quote_facets(gen_dir: Path, reader) -> FacetData:
    """The quote index's facet arrays read back from its postings, with the clusters (when facets.npz is missing)."""
    fd = FacetData(reader, QUOTES_LAYOUT)
    qids = column_ints(reader, "qid", -1)
    docnum_of_qid = np.full(int(qids.max()) + 1 if len(qids) else 0, -1, dtype=np.int64)
    # deleted documents left in a segment keep their old qid, which a later quote may have been given again
    live = (qids >= 0) & fd.alive
    docnum_of_qid[qids[live]] = np.flatnonzero(live)
    fd.fields[CLUSTER_FIELD] = _cluster_pairs(gen_dir, docnum_of_qid, fd.size)
    return fd


def write_quote_facets(gen_dir: Path) -> None:
    """Compute and save the facet arrays (with clusters) of a generation's quote index."""
    from whoosh import index as windex

    ix = windex.open_dir(str(Path(gen_dir) / QUOTE_DIR))
    with ix.reader() as reader:
        quote_facets(Path(gen_dir), reader).save(Path(gen_dir) / QUOTE_DIR / FACET_FILE)


def has_quotes(gen_dir: Path) -> bool:
    """Whether a generation holds a quote index."""
    return (Path(gen_dir) / QUOTE_DIR).is_dir()
