"""Quote documents and their clusters in OpenSearch: search/clusters.py's logic, its state kept in the cluster.

Where the state lives, and why: every writer (on any machine, one at a time under the cluster lock) and every
`newsfacet serve` reads the same clusters, so none of it can live in one machine's `--index` folder, which with
this backend holds only the enrichment cache. It lives with the generation it belongs to:

- each quote document (`<generation>-quotes`) holds its cluster id, its LSH band keys (`bands`, indexed: the
  quotes that may repeat an added one are a terms query) and its verified edges (`edges`: the quotes it is
  similar enough to);
- `<generation>-clusters` holds each cluster's summary (quotes, articles, outlets, earliest quote), the
  redirects of merged ids and the next id to give.

The clustering itself is search/clusters.py's ClusterStore, run on a scratch SQLite file in a temporary folder
(removed afterwards), never a second implementation:

- a rebuild feeds it every quote, seeded as a Whoosh rebuild is with the previous generation's cluster ids and
  redirects (read back from that generation), then writes the quote documents with their clusters;
- an update loads into the scratch file only the part of the state its change can touch: the quotes of removed
  and changed articles, the quotes sharing a band key with an added one, and the connected components (by edges)
  of all of these, with their clusters' summaries and the redirects that name them. ClusterStore's update reads
  and changes nothing outside those components, so it gives what it gives on a whole copy (tests/
  test_opensearch.py runs the same updates through both backends and compares ids, members and redirects); what
  changed is written back by id.
"""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import orjson

from search.clusters import _SCHEMA, CLUSTER_FILE, SCHEMA_VERSION, ClusterStore, band_keys, words_of
from search.opensearch.mapping import cluster_index, quote_index, quote_source
from search.opensearch.names import article_surnames
from search.quoteindex import _day, quote_records

SCAN_PAGE = 2000
TERMS_CHUNK = 10_000  # values per terms query (OpenSearch refuses more than 65,536)
# What an update reads of a quote document to put it into the scratch store.
LOAD_FIELDS = ["id", "article", "record", "bands", "edges", "cluster"]
NEXT_ID = "meta:next_id"


# ------------------------------------------------------------------ reading the cluster


def scan(client, index: str, query: dict, source, sort=None) -> Iterator[dict]:
    """Every hit of a query (the writer holds the lock: nothing changes underneath), in `sort` order."""
    after = None
    sort = sort or [{"id": {"order": "asc", "unmapped_type": "keyword"}}]
    while True:
        body = {"query": query, "size": SCAN_PAGE, "sort": sort, "_source": source, "track_total_hits": False}
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=index, body=body)["hits"]["hits"]
        yield from hits
        if len(hits) < SCAN_PAGE:
            return
        after = hits[-1]["sort"]


def _chunks(values: list, n: int = TERMS_CHUNK) -> Iterator[list]:
    for i in range(0, len(values), n):
        yield values[i:i + n]


def _state_docs(client, index: str, query: dict) -> Iterator[dict]:
    return (h["_source"] for h in scan(client, index, query, True, sort=[{"kind": "asc"}, {"id": "asc"}]))


def _kind(kind: str, *more: dict) -> dict:
    return {"bool": {"filter": [{"term": {"kind": kind}}, *more]}}


def next_id_of(client, index: str) -> str | None:
    """The next cluster id counter kept in a cluster index, if any."""
    from opensearchpy.exceptions import NotFoundError

    try:
        return client.get(index=index, id=NEXT_ID)["_source"]["value"]
    except NotFoundError:
        return None


# ------------------------------------------------------------------ the scratch store


def _create(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path))
    db.executescript(_SCHEMA)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (SCHEMA_VERSION,))
    return db


def _quote_row(src: dict) -> tuple:
    """(doc, article, speaker, source, day, words) of a loaded quote document, as ClusterStore.add stores them."""
    rec = src.get("record") or {}
    art = rec.get("article") or {}
    words = words_of(rec.get("text") or "")
    return (src["id"], src["article"], rec.get("speaker") or None, art.get("source") or None,
            _day(art.get("published")), " ".join(words) if src.get("bands") else None)


def read_state(path: Path) -> dict:
    """What a finished scratch store says, by quote id: {cluster: {doc: id or None}, edges: {doc: {doc: sim}},
    clusters: {id: summary}, redirects: {old: new}, next_id}."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cluster = dict(db.execute("SELECT doc, cluster FROM quote"))
        edges: dict[str, dict[str, float]] = {}
        for a, b, sim in db.execute("SELECT qa.doc, qb.doc, e.sim FROM edge e JOIN quote qa ON qa.qid = e.a "
                                    "JOIN quote qb ON qb.qid = e.b ORDER BY qa.doc, qb.doc"):
            edges.setdefault(a, {})[b] = sim
        clusters = {cid: {"kind": "cluster", "id": cid, "quotes": n, "articles": arts, "outlets": outs, "first": doc}
                    for cid, n, arts, outs, doc in db.execute(
                        "SELECT c.id, c.quotes, c.articles, c.outlets, q.doc FROM cluster c JOIN quote q "
                        "ON q.qid = c.first")}
        redirects = dict(db.execute("SELECT old, new FROM redirect"))
        row = db.execute("SELECT value FROM meta WHERE key = 'next_id'").fetchone()
    finally:
        db.close()
    return {"cluster": cluster, "edges": edges, "clusters": clusters, "redirects": redirects,
            "next_id": row[0] if row else None}


def edge_list(edges: dict[str, float] | None) -> list[dict]:
    """A quote's edges as its document stores them (a list: a partial update replaces it whole)."""
    return [{"q": q, "s": s} for q, s in sorted((edges or {}).items())]


def _edges_of(src: dict) -> dict[str, float]:
    return {e["q"]: float(e["s"]) for e in src.get("edges") or ()}


def _state_actions(index: str, state: dict, before: dict | None = None) -> Iterator[tuple[dict, dict | None]]:
    """Bulk actions writing the cluster state (only what differs from `before`, when given)."""
    before = before or {"clusters": {}, "redirects": {}, "next_id": None}
    for cid in sorted(set(before["clusters"]) - set(state["clusters"])):
        yield {"delete": {"_index": index, "_id": f"cluster:{cid}"}}, None
    for cid, summary in sorted(state["clusters"].items()):
        if before["clusters"].get(cid) != summary:
            yield {"index": {"_index": index, "_id": f"cluster:{cid}"}}, summary
    for old in sorted(set(before["redirects"]) - set(state["redirects"])):
        yield {"delete": {"_index": index, "_id": f"redirect:{old}"}}, None
    for old, new in sorted(state["redirects"].items()):
        if before["redirects"].get(old) != new:
            yield {"index": {"_index": index, "_id": f"redirect:{old}"}}, {"kind": "redirect", "id": old, "new": new}
    if state["next_id"] is not None and state["next_id"] != before["next_id"]:
        yield {"index": {"_index": index, "_id": NEXT_ID}}, {"kind": "meta", "id": "next_id", "value": state["next_id"]}


Send = Callable[[dict, dict | None, tuple], None]  # (action, source or None, (id, record, kind)) into a bulk


class QuoteBuild:
    """The quote side of a rebuild: each record's quotes into a scratch ClusterStore and a spool of documents,
    written into the new generation's quote index with their clusters once every quote is known."""

    def __init__(self, client, generation: str, previous: str | None, table=None):
        self.client, self.qindex, self.cindex = client, quote_index(generation), cluster_index(generation)
        self.table = table  # the name table the quotes' speakers are shown with (search/opensearch/names.py)
        self.scratch = Path(tempfile.mkdtemp(prefix="newsfacet-clusters-"))
        seeded = None
        if previous is not None and client.indices.exists(index=cluster_index(previous)):
            seeded = self.scratch / "previous"
            seeded.mkdir()
            self._previous_ids(previous, seeded / CLUSTER_FILE)
        (self.scratch / "new").mkdir()
        self.store = ClusterStore(self.scratch / "new", previous=seeded)
        self.spool = open(self.scratch / "quotes.jsonl", "wb")
        self.quotes = 0

    def _previous_ids(self, generation: str, path: Path) -> None:
        """What ClusterStore takes from a previous generation (the cluster of each clustered quote, the clusters'
        ids, the redirects, the next id), read back from the cluster into a scratch file."""
        db = _create(path)
        qindex, cindex = quote_index(generation), cluster_index(generation)
        try:
            db.executemany("INSERT INTO quote (doc, article, cluster) VALUES (?, ?, ?)",
                           ((h["_source"]["id"], h["_source"]["article"], h["_source"]["cluster"]) for h in
                            scan(self.client, qindex, {"exists": {"field": "cluster"}}, ["id", "article", "cluster"])))
            db.executemany("INSERT INTO cluster VALUES (?, 0, 0, 0, 0)",
                           ((d["id"],) for d in _state_docs(self.client, cindex, _kind("cluster"))))
            db.executemany("INSERT INTO redirect VALUES (?, ?)",
                           ((d["id"], d["new"]) for d in _state_docs(self.client, cindex, _kind("redirect"))))
            next_id = next_id_of(self.client, cindex)
            if next_id is not None:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('next_id', ?)", (next_id,))
            db.commit()
        finally:
            db.close()

    def add(self, rec: dict) -> None:
        """Take the quotes of one article record that the article index took."""
        day = _day(rec.get("published"))
        surnames = article_surnames(rec)
        for qr in quote_records(rec):
            keys = band_keys(words_of(qr["text"]))
            self.store.add(qr["id"], rec["id"], qr["speaker"], qr["article"].get("source"), day, qr["text"], keys=keys)
            self.spool.write(orjson.dumps(quote_source(qr, keys, table=self.table, surnames=surnames)) + b"\n")
            self.quotes += 1

    def finish(self, send: Send) -> dict:
        """Cluster, then send every quote document (with its cluster and edges) and the cluster state."""
        stats = self.store.finish()
        self.spool.close()
        state = read_state(self.store.path)
        with open(self.scratch / "quotes.jsonl", "rb") as f:
            for line in f:
                src = orjson.loads(line)
                cid, edges = state["cluster"].get(src["id"]), state["edges"].get(src["id"])
                src["cluster"], src["group"], src["edges"] = cid, cid or src["id"], edge_list(edges)
                send({"index": {"_index": self.qindex, "_id": src["id"]}}, src, (src["id"], src["record"], "quote"))
        for action, source in _state_actions(self.cindex, state):
            send(action, source, (next(iter(action.values()))["_id"], None, "state"))
        return {"quotes": self.quotes, **stats}

    def close(self) -> None:
        """Remove the scratch folder (whatever happened)."""
        if not self.spool.closed:
            self.spool.close()
        self.store.abandon()
        shutil.rmtree(self.scratch, ignore_errors=True)


class QuoteUpdate:
    """The quote side of an update of a live generation: quotes of removed and changed articles go, those of added
    and changed ones come, and the clusters they touch are recomputed (see the module notes)."""

    def __init__(self, client, generation: str, table=None):
        self.client, self.qindex, self.cindex = client, quote_index(generation), cluster_index(generation)
        self.table = table  # the name table the quotes' speakers are shown with (search/opensearch/names.py)
        self.scratch = Path(tempfile.mkdtemp(prefix="newsfacet-clusters-"))
        self.spool = open(self.scratch / "added.jsonl", "wb")
        self.removed: list[str] = []
        self.quotes = 0

    def remove(self, article_id: str) -> None:
        """Drop an article's quotes (it was removed, or is being replaced: call before add)."""
        self.removed.append(article_id)

    def add(self, rec: dict) -> None:
        """Take the quotes of an added or changed article record."""
        surnames = article_surnames(rec)
        for qr in quote_records(rec):
            self.spool.write(orjson.dumps([qr, surnames]) + b"\n")
            self.quotes += 1

    def _load(self, added: list[tuple[dict, list[int]]]) -> dict[str, dict]:
        """The quote documents the change can touch: removed articles' quotes, an added quote's candidates, and
        every quote connected to one of those by edges."""
        loaded: dict[str, dict] = {}
        queries = [{"terms": {"article": part}} for part in _chunks(sorted(set(self.removed)))]
        keys = sorted({k for _, ks in added for k in ks})
        queries += [{"terms": {"bands": part}} for part in _chunks(keys)]
        for q in queries:
            for h in scan(self.client, self.qindex, q, LOAD_FIELDS):
                loaded[h["_id"]] = h["_source"]
        asked: set[str] = set()
        while True:
            frontier = {q for src in loaded.values() for q in _edges_of(src)} - set(loaded) - asked
            if not frontier:
                return loaded
            asked |= frontier
            for part in _chunks(sorted(frontier), 1000):
                for d in self.client.mget(index=self.qindex, body={"ids": part}, _source_includes=LOAD_FIELDS)["docs"]:
                    if d.get("found"):
                        loaded[d["_id"]] = d["_source"]

    def _before(self, loaded: dict[str, dict], path: Path) -> dict:
        """Write the loaded part of the state into a scratch store file; returns that part as read_state says it."""
        ids = sorted({src["cluster"] for src in loaded.values() if src.get("cluster")})
        clusters = {}
        for part in _chunks([f"cluster:{c}" for c in ids], 1000):
            for d in self.client.mget(index=self.cindex, body={"ids": part})["docs"]:
                if d.get("found"):
                    clusters[d["_source"]["id"]] = d["_source"]
        redirects = {}
        for part in _chunks(ids):
            q = {"bool": {"filter": [{"term": {"kind": "redirect"}}], "minimum_should_match": 1,
                          "should": [{"terms": {"id": part}}, {"terms": {"new": part}}]}}
            redirects.update((d["id"], d["new"]) for d in _state_docs(self.client, self.cindex, q))
        next_id = next_id_of(self.client, self.cindex)
        qid = {doc: i for i, doc in enumerate(sorted(loaded))}
        db = _create(path)
        try:
            db.executemany("INSERT INTO quote VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           ((qid[d], *_quote_row(loaded[d]), loaded[d].get("cluster")) for d in sorted(loaded)))
            db.executemany("INSERT OR IGNORE INTO band VALUES (?, ?)",
                           ((k, qid[d]) for d in sorted(loaded) for k in loaded[d].get("bands") or ()))
            db.executemany("INSERT OR IGNORE INTO edge VALUES (?, ?, ?)",
                           ((qid[d], qid[b], s) for d in sorted(loaded) for b, s in _edges_of(loaded[d]).items()
                            if b in qid))
            db.executemany("INSERT INTO cluster VALUES (?, ?, ?, ?, ?)",
                           ((c["id"], c["quotes"], c["articles"], c["outlets"], qid[c["first"]])
                            for c in clusters.values() if c.get("first") in qid))
            db.executemany("INSERT INTO redirect VALUES (?, ?)", sorted(redirects.items()))
            if next_id is not None:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('next_id', ?)", (next_id,))
            db.commit()
        finally:
            db.close()
        return {"clusters": {c: s for c, s in clusters.items() if s.get("first") in qid}, "redirects": redirects,
                "next_id": next_id}

    def finish(self, send: Send) -> dict:
        """Recluster what the change touches and send what changed: deletes of the old quotes, the new quote
        documents, the clusters and edges of the other touched quotes, the cluster state."""
        self.spool.close()
        with open(self.scratch / "added.jsonl", "rb") as f:
            spooled = [orjson.loads(line) for line in f]
        added = [(qr, band_keys(words_of(qr["text"]))) for qr, _ in spooled]
        surnames = {qr["id"]: own for qr, own in spooled}
        loaded = self._load(added)
        (self.scratch / "before").mkdir()
        (self.scratch / "after").mkdir()
        before = self._before(loaded, self.scratch / "before" / CLUSTER_FILE)
        store = ClusterStore(self.scratch / "after", previous=self.scratch / "before", copy=True)
        try:
            store.remove_articles(sorted(set(self.removed)))
            for qr, keys in added:
                art = qr["article"]
                store.add(qr["id"], art["id"], qr["speaker"], art.get("source"), _day(art.get("published")),
                          qr["text"], keys=keys)
            store.finish()
        except BaseException:
            store.abandon()
            raise
        after = read_state(store.path)
        gone = set(self.removed)
        for doc in sorted(d for d, src in loaded.items() if src["article"] in gone):
            send({"delete": {"_index": self.qindex, "_id": doc}}, None, (doc, None, "delete"))
        for qr, keys in added:
            cid = after["cluster"].get(qr["id"])
            send({"index": {"_index": self.qindex, "_id": qr["id"]}},
                 quote_source(qr, keys, cid, edge_list(after["edges"].get(qr["id"])), self.table, surnames[qr["id"]]),
                 (qr["id"], qr, "quote"))
        for doc, src in sorted(loaded.items()):
            if src["article"] in gone:
                continue
            cid, edges = after["cluster"].get(doc), edge_list(after["edges"].get(doc))
            if cid != src.get("cluster") or edges != edge_list(_edges_of(src)):
                send({"update": {"_index": self.qindex, "_id": doc}},
                     {"doc": {"cluster": cid, "group": cid or doc, "edges": edges}}, (doc, None, "update"))
        for action, source in _state_actions(self.cindex, after, before):
            send(action, source, (next(iter(action.values()))["_id"], None, "state"))
        return {"quotes": self.quotes}

    def close(self) -> None:
        """Remove the scratch folder (whatever happened)."""
        if not self.spool.closed:
            self.spool.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
