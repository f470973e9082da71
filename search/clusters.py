"""Quote clusters: the same quote reported by several articles (exact, or near-exact: other quotation marks, a cut,
a few words changed) grouped under one stable id.

How a cluster is found, in three steps that each depend only on the quotes themselves (never on the order they
were indexed in), so `update` and `rebuild` give the same clusters:

1. Candidates: MinHash signatures (datasketch) of each quote's word shingles, cut into LSH bands; two quotes whose
   band keys meet in any band are candidates. Quotes shorter than MIN_WORDS words get no bands and never cluster.
2. Edges: a candidate pair is an edge when its similarity (`similarity`: matched words in order, as a share of
   both lengths) reaches SIM_THRESHOLD and the speakers agree or one is unresolved.
3. Clusters: within each connected component of the edge graph, quotes are taken earliest first and each joins the
   cluster whose every member it has an edge to (complete linkage: no chaining), or starts one. Groups of one are
   not clusters.

Everything `update` needs between runs lives in `clusters.sqlite` in the generation folder (copied, then changed,
by the next generation): every quote's normalised words, its band keys, the edges, each quote's cluster, the
clusters' summaries and the redirects of merged cluster ids. An update touches only the components its added and
removed quotes belong to; their clusters are recomputed and take the ids of the old clusters they overlap most.
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import unicodedata
from array import array
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

CLUSTER_FILE = "clusters.sqlite"
MIN_WORDS = 6  # shorter quotes ("we will see", "no comment") are too common to say they were repeated
SIM_THRESHOLD = 0.65  # every pair of a cluster is at least this similar
# 25 bands of 3 MinHash values: a pair whose shingle sets have Jaccard similarity 0.4 meets in some band with
# probability 0.80, at 0.5 with 0.96, at 0.2 with 0.18 (the pairs a band finds are then verified one by one).
BANDS, ROWS = 25, 3
NUM_PERM = BANDS * ROWS
SCHEMA_VERSION = "1"

# Function words: left out of the shingles' single words (they would make unrelated quotes look alike), kept in
# word pairs (order carries meaning) unless both words of a pair are function words.
STOP = frozenset("""a about after all also an and any are as at be been but by can could did do does for from had has
have he her him his i if in into is it its just me my no not of on or our out over she so than that the their them
then there these they this to up us was we were what when which who will with would you your""".split())

_WORD = re.compile(r"\w+")


def words_of(text: str) -> list[str]:
    """A quote's words, lower case, without quotation marks, punctuation or accents' variants (NFKC)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text or "").casefold())


def shingles(words: list[str]) -> list[bytes]:
    """What a quote's MinHash is made of: its content words and its word pairs (not two function words)."""
    out = {w for w in words if w not in STOP}
    out.update(f"{a} {b}" for a, b in zip(words, words[1:]) if not (a in STOP and b in STOP))
    return [s.encode("utf-8") for s in sorted(out)]


@lru_cache(maxsize=1)
def _lsh():
    from datasketch import MinHash, MinHashLSH

    # the permutations of seed 1, made once: a MinHash makes them afresh otherwise (most of its cost)
    first = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")
    return MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS)), first.permutations


def band_keys(words: list[str]) -> list[int]:
    """The LSH band keys of a quote (one per band, as 48-bit ints: six bytes in SQLite); none below MIN_WORDS."""
    from datasketch import MinHash

    lsh, permutations = _lsh()
    if len(words) < MIN_WORDS:
        return []
    m = MinHash(num_perm=NUM_PERM, seed=1, permutations=permutations, scheme="affine32")
    m.update_batch(shingles(words))
    keys = []
    for i, (start, end) in enumerate(lsh.hashranges):
        # datasketch's own band key (lsh._H: the band's hash values as bytes), with the band number, in 8 bytes
        raw = bytes([i]) + lsh._H(m.hashvalues[start:end])
        keys.append(int.from_bytes(hashlib.blake2b(raw, digest_size=6).digest(), "little"))
    return keys


@lru_cache(maxsize=65536)
def similarity(a: str, b: str) -> float:
    """How alike two quotes' normalised texts (words joined by spaces) are: 2 x words matched in order / words of
    both (1.0 when equal). A changed word costs little, reordered or unrelated words a lot."""
    if a == b:
        return 1.0
    wa, wb = a.split(), b.split()
    m = sum(block.size for block in SequenceMatcher(None, wa, wb, autojunk=False).get_matching_blocks())
    return 2.0 * m / (len(wa) + len(wb))


def speakers_agree(a: str | None, b: str | None) -> bool:
    """Two quotes can be one when their speakers are the same or one of them is unresolved."""
    return not a or not b or a == b


_SCHEMA = """
CREATE TABLE IF NOT EXISTS quote (qid INTEGER PRIMARY KEY, doc TEXT NOT NULL UNIQUE, article TEXT NOT NULL,
    speaker TEXT, source TEXT, day INTEGER, words TEXT, cluster TEXT);
CREATE INDEX IF NOT EXISTS quote_article ON quote(article);
CREATE INDEX IF NOT EXISTS quote_cluster ON quote(cluster) WHERE cluster IS NOT NULL;
CREATE TABLE IF NOT EXISTS band (key INTEGER NOT NULL, qid INTEGER NOT NULL, PRIMARY KEY (key, qid)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS edge (a INTEGER NOT NULL, b INTEGER NOT NULL, sim REAL NOT NULL,
    PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cluster (id TEXT PRIMARY KEY, quotes INTEGER NOT NULL, articles INTEGER NOT NULL,
    outlets INTEGER NOT NULL, first INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS redirect (old TEXT PRIMARY KEY, new TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")  # a generation being built is thrown away whole if anything fails
    db.execute("PRAGMA synchronous=OFF")  # fsynced once, by close(), before the generation goes live
    db.execute("PRAGMA temp_store=MEMORY")
    db.execute("PRAGMA cache_size=-65536")
    return db


class ClusterStore:
    """The clusters of one generation being written (clusters.sqlite in its folder); see the module notes."""

    def __init__(self, gen_dir: Path, previous: Path | None = None, copy: bool = False):
        """A store in gen_dir: a copy of `previous`'s (update), or a new one that takes ids and redirects from
        `previous` when given (rebuild)."""
        self.path = Path(gen_dir) / CLUSTER_FILE
        self.previous = Path(previous) / CLUSTER_FILE if previous is not None else None
        if copy and self.previous is not None and self.previous.exists():
            src = sqlite3.connect(f"file:{self.previous}?mode=ro", uri=True)
            dst = sqlite3.connect(str(self.path))
            src.backup(dst)
            src.close()
            dst.close()
            self.db = _connect(self.path)
            self.fresh = False
        else:
            self.db = _connect(self.path)
            self.db.executescript(_SCHEMA)
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (SCHEMA_VERSION,))
            self.fresh = True
        top = self.db.execute("SELECT max(qid) FROM quote").fetchone()[0]
        self._next_qid = 0 if top is None else top + 1
        self._pending_quotes: list[tuple] = []
        self._pending_bands: list[tuple] = []
        # a fresh store keeps its band keys in arrays and writes them sorted at the end (into a table ordered by
        # key, rows arriving in key order are appended; in any other order each is a B-tree search)
        self._band_keys, self._band_qids = array("q"), array("q")
        self.added: list[int] = []
        self.removed_neighbours: set[int] = set()
        self.removed_clusters: dict[str, int] = {}

    # -- writing quotes ------------------------------------------------------------------------------------
    def add(self, doc: str, article: str, speaker: str | None, source: str | None, day: int | None,
            text: str, keys: list[int] | None = None) -> int:
        """Record one quote; returns its qid (in a fresh store: 0, 1, 2... in the order added). `keys`: its
        band_keys, when the caller computed them already (the OpenSearch writer stores them with the quote)."""
        qid = self._next_qid
        self._next_qid += 1
        words = words_of(text)
        keys = band_keys(words) if keys is None else list(keys)
        self._pending_quotes.append((qid, doc, article, speaker or None, source or None, day,
                                     " ".join(words) if keys else None))
        if self.fresh:
            self._band_keys.extend(keys)
            self._band_qids.extend([qid] * len(keys))
        else:
            self._pending_bands.extend((k, qid) for k in keys)
            self.added.append(qid)
        if len(self._pending_quotes) >= 5000:
            self._flush()
        return qid

    def _flush(self) -> None:
        if self._pending_quotes:
            self.db.executemany("INSERT INTO quote (qid, doc, article, speaker, source, day, words) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)", self._pending_quotes)
            self._pending_quotes.clear()
        if self._pending_bands:
            self.db.executemany("INSERT OR IGNORE INTO band VALUES (?, ?)", self._pending_bands)
            self._pending_bands.clear()

    def remove_articles(self, article_ids: Iterable[str]) -> None:
        """Drop the quotes of these articles (update: removed or changed articles), remembering their clusters
        and neighbours so the clusters they were in are recomputed."""
        self._flush()
        for aid in article_ids:
            rows = self.db.execute("SELECT qid, cluster FROM quote WHERE article = ?", (aid,)).fetchall()
            for qid, cluster in rows:
                if cluster:
                    self.removed_clusters[cluster] = self.removed_clusters.get(cluster, 0) + 1
                self.removed_neighbours.update(b for (b,) in self.db.execute("SELECT b FROM edge WHERE a = ?", (qid,)))
                self.db.execute("DELETE FROM edge WHERE a = ? OR b = ?", (qid, qid))
                # the band table is keyed by band key: the quote's keys come again from its words
                words = self.db.execute("SELECT words FROM quote WHERE qid = ?", (qid,)).fetchone()[0]
                if words:
                    self.db.executemany("DELETE FROM band WHERE key = ? AND qid = ?",
                                        [(k, qid) for k in band_keys(words.split())])
                self.db.execute("DELETE FROM quote WHERE qid = ?", (qid,))
                self.removed_neighbours.discard(qid)

    # -- clustering ----------------------------------------------------------------------------------------
    def finish(self) -> dict:
        """Find edges and clusters of what was added and removed, give the clusters ids, write the summaries;
        returns {"clusters", "clustered"} and closes the store."""
        self._flush()
        self.db.execute("BEGIN")
        if self.fresh:
            self._edges_all()
            nodes = None
        else:
            self._edges_of(self.added)
            nodes = set(self.added) | {q for q in self.removed_neighbours}
        old = self._old_assignment(nodes)
        groups = self._cluster(nodes)
        self._assign_ids(groups, old)
        self.db.execute("COMMIT")
        stats = {"clusters": self.db.execute("SELECT count(*) FROM cluster").fetchone()[0],
                 "clustered": self.db.execute("SELECT coalesce(sum(quotes), 0) FROM cluster").fetchone()[0]}
        self.close()
        return stats

    def close(self) -> None:
        """Write everything to disk and close the database."""
        if self.db is not None:
            self.db.close()
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            self.db = None

    def abandon(self) -> None:
        """Close without finishing (the generation is being thrown away)."""
        if self.db is not None:
            self.db.close()
            self.db = None

    def _words(self, qids) -> dict[int, tuple[str, str | None]]:
        out = {}
        qids = list(qids)
        for i in range(0, len(qids), 500):
            part = qids[i:i + 500]
            marks = ",".join("?" * len(part))
            for qid, words, speaker in self.db.execute(
                    f"SELECT qid, words, speaker FROM quote WHERE qid IN ({marks})", part):
                out[qid] = (words, speaker)
        return out

    def _verify(self, pairs: Iterable[tuple[int, int]], info: dict) -> list[tuple]:
        edges = []
        for a, b in pairs:
            wa, sa = info[a]
            wb, sb = info[b]
            if wa and wb and speakers_agree(sa, sb):
                s = similarity(wa, wb) if wa <= wb else similarity(wb, wa)
                if s >= SIM_THRESHOLD:
                    edges.append((a, b, s))
                    edges.append((b, a, s))
        return edges

    def _edges_all(self) -> None:
        """Write the band keys (sorted), and verify every candidate pair of the store (rebuild) into edges."""
        keys = np.frombuffer(self._band_keys, dtype=np.int64)
        qids = np.frombuffer(self._band_qids, dtype=np.int64)
        order = np.lexsort((qids, keys))
        keys, qids = keys[order], qids[order]
        for i in range(0, len(keys), 100_000):
            self.db.executemany("INSERT OR IGNORE INTO band VALUES (?, ?)",
                                zip(keys[i:i + 100_000].tolist(), qids[i:i + 100_000].tolist()))
        # runs of one key holding two quotes or more are the candidate buckets
        pairs: set[tuple[int, int]] = set()
        if len(keys):
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            ends = np.r_[starts[1:], len(keys)]
            for a, b in zip(starts[ends - starts > 1].tolist(), ends[ends - starts > 1].tolist()):
                bucket = sorted(set(qids[a:b].tolist()))
                pairs.update((x, y) for j, x in enumerate(bucket) for y in bucket[j + 1:])
        self._band_keys, self._band_qids = array("q"), array("q")
        info = self._words({q for p in pairs for q in p})
        self.db.executemany("INSERT OR IGNORE INTO edge VALUES (?, ?, ?)", self._verify(sorted(pairs), info))

    def _edges_of(self, qids: list[int]) -> None:
        """Edges of newly added quotes to every other quote (update)."""
        added = set(qids)
        pairs: set[tuple[int, int]] = set()
        for qid in qids:
            for (other,) in self.db.execute(
                    "SELECT DISTINCT b.qid FROM band a JOIN band b ON a.key = b.key WHERE a.qid = ? AND b.qid != ?",
                    (qid, qid)):
                if other in added and other < qid:
                    continue  # the pair is found from the other side
                pairs.add((min(qid, other), max(qid, other)))
        info = self._words({q for p in pairs for q in p})
        self.db.executemany("INSERT OR IGNORE INTO edge VALUES (?, ?, ?)", self._verify(sorted(pairs), info))

    def _old_assignment(self, nodes: set[int] | None) -> dict[str, str]:
        """doc -> cluster id before this run: of the touched quotes (update), or from the previous generation."""
        if nodes is None:
            if self.previous is None or not self.previous.exists():
                return {}
            prev = sqlite3.connect(f"file:{self.previous}?mode=ro", uri=True)
            try:
                old = dict(prev.execute("SELECT doc, cluster FROM quote WHERE cluster IS NOT NULL"))
                self._carry_meta(prev)
            except sqlite3.DatabaseError:
                old = {}
            finally:
                prev.close()
            return old
        comp = self._components(nodes)
        return {doc: cluster for qids in comp for doc, cluster in self._docs_clusters(qids) if cluster}

    def _carry_meta(self, prev: sqlite3.Connection) -> None:
        """A rebuild keeps counting ids where the previous generation stopped, and keeps its redirects."""
        row = prev.execute("SELECT value FROM meta WHERE key = 'next_id'").fetchone()
        if row:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('next_id', ?)", row)
        self.db.executemany("INSERT OR REPLACE INTO redirect VALUES (?, ?)", prev.execute("SELECT old, new FROM redirect"))
        # clusters of the previous generation: ids that may become redirects or disappear
        self._previous_ids = {c for (c,) in prev.execute("SELECT id FROM cluster")}

    def _docs_clusters(self, qids) -> list[tuple[str, str | None]]:
        out = []
        qids = list(qids)
        for i in range(0, len(qids), 500):
            part = qids[i:i + 500]
            out.extend(self.db.execute(f"SELECT doc, cluster FROM quote WHERE qid IN ({','.join('?' * len(part))})",
                                       part).fetchall())
        return out

    def _components(self, nodes: set[int]) -> list[list[int]]:
        """The connected components (by edges) holding the given quotes."""
        seen: set[int] = set()
        comps = []
        for start in sorted(nodes):
            if start in seen:
                continue
            comp, todo = [], [start]
            seen.add(start)
            while todo:
                v = todo.pop()
                comp.append(v)
                for (u,) in self.db.execute("SELECT b FROM edge WHERE a = ?", (v,)):
                    if u not in seen:
                        seen.add(u)
                        todo.append(u)
            comps.append(comp)
        return comps

    def _cluster(self, nodes: set[int] | None) -> list[list[int]]:
        """The clusters (two quotes or more) of the components holding nodes (None: of every component)."""
        if nodes is None:
            nodes = {a for (a,) in self.db.execute("SELECT DISTINCT a FROM edge")}
        self._touched = set()
        groups = []
        for comp in self._components(nodes):
            self._touched.update(comp)
            if len(comp) > 1:
                groups.extend(g for g in self._complete_linkage(comp) if len(g) > 1)
        return groups

    def _complete_linkage(self, comp: list[int]) -> list[list[int]]:
        """Earliest quote first, each joins the cluster it has an edge to every member of (the most similar such
        cluster; the older one on a tie), else starts one."""
        rows = {}
        for i in range(0, len(comp), 500):
            part = comp[i:i + 500]
            for qid, doc, day in self.db.execute(
                    f"SELECT qid, doc, day FROM quote WHERE qid IN ({','.join('?' * len(part))})", part):
                rows[qid] = (day is None, day or 0, doc)
        adj: dict[int, dict[int, float]] = {q: {} for q in comp}
        for i in range(0, len(comp), 500):
            part = comp[i:i + 500]
            for a, b, s in self.db.execute(f"SELECT a, b, sim FROM edge WHERE a IN ({','.join('?' * len(part))})", part):
                adj[a][b] = s
        clusters: list[list[int]] = []
        where: dict[int, int] = {}
        for v in sorted(comp, key=rows.__getitem__):
            best, best_score = None, -1.0
            for c in sorted({where[u] for u in adj[v] if u in where}):
                members = clusters[c]
                if all(u in adj[v] for u in members):
                    score = sum(adj[v][u] for u in members) / len(members)
                    if score > best_score:
                        best, best_score = c, score
            if best is None:
                best = len(clusters)
                clusters.append([])
            clusters[best].append(v)
            where[v] = best
        return clusters

    def _new_id(self) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'next_id'").fetchone()
        n = int(row[0]) if row else 1
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('next_id', ?)", (str(n + 1),))
        return "c" + np.base_repr(n, 36).lower()

    def _assign_ids(self, groups: list[list[int]], old: dict[str, str]) -> None:
        """Give each new cluster the id of the old cluster it shares most quotes with (each id once; bigger
        clusters choose first), else a new id; an old id that lost its cluster redirects to where most of its
        quotes went."""
        docs = {}
        touched = sorted(self._touched)
        for i in range(0, len(touched), 500):
            part = touched[i:i + 500]
            docs.update(self.db.execute(f"SELECT qid, doc FROM quote WHERE qid IN ({','.join('?' * len(part))})", part))
        old_ids = set(old.values()) | set(self.removed_clusters)
        if self.fresh:
            old_ids |= getattr(self, "_previous_ids", set())
        else:
            # the clusters of touched quotes are rewritten from scratch below
            for i in range(0, len(touched), 500):
                part = touched[i:i + 500]
                self.db.execute(f"UPDATE quote SET cluster = NULL WHERE qid IN ({','.join('?' * len(part))})", part)
        order = sorted(range(len(groups)), key=lambda g: (-len(groups[g]), min(docs[q] for q in groups[g])))
        taken: set[str] = set()
        ids: dict[int, str] = {}
        moved: dict[str, dict[str, int]] = {}
        for g in order:
            overlap: dict[str, int] = {}
            for q in groups[g]:
                o = old.get(docs[q])
                if o:
                    overlap[o] = overlap.get(o, 0) + 1
            choice = None
            for o, n in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
                if o not in taken:
                    choice = o
                    break
            ids[g] = choice or self._new_id()
            taken.add(ids[g])
            for o, n in overlap.items():
                moved.setdefault(o, {})[ids[g]] = moved.get(o, {}).get(ids[g], 0) + n
        for g, cid in ids.items():
            members = groups[g]
            for i in range(0, len(members), 500):
                part = members[i:i + 500]
                self.db.execute(f"UPDATE quote SET cluster = ? WHERE qid IN ({','.join('?' * len(part))})",
                                [cid, *part])
        for o in old_ids:
            if o in taken:
                self.db.execute("DELETE FROM redirect WHERE old = ?", (o,))
                continue
            self.db.execute("DELETE FROM cluster WHERE id = ?", (o,))
            dest = moved.get(o)
            if dest:
                new = sorted(dest.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
                self.db.execute("INSERT OR REPLACE INTO redirect VALUES (?, ?)", (o, new))
                self.db.execute("UPDATE redirect SET new = ? WHERE new = ?", (new, o))
            else:
                # gone: nothing of it is left; older ids that led here lead nowhere now
                self.db.execute("DELETE FROM redirect WHERE new = ?", (o,))
        for cid in taken:
            self._summarise(cid)

    def _summarise(self, cid: str) -> None:
        n, articles, outlets = self.db.execute(
            "SELECT count(*), count(DISTINCT article), count(DISTINCT coalesce(source, '')) FROM quote WHERE cluster = ?",
            (cid,)).fetchone()
        first = self.db.execute("SELECT qid FROM quote WHERE cluster = ? ORDER BY day IS NULL, day, doc LIMIT 1",
                                (cid,)).fetchone()[0]
        self.db.execute("INSERT OR REPLACE INTO cluster VALUES (?, ?, ?, ?, ?)", (cid, n, articles, outlets, first))


# -- reading ---------------------------------------------------------------------------------------------------
class ClusterReader:
    """Read-only view of a live generation's clusters (opened per request; SQLite reads are cheap)."""

    def __init__(self, gen_dir: Path):
        path = Path(gen_dir) / CLUSTER_FILE
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False) if path.exists() else None

    def close(self) -> None:
        """Close the database."""
        if self.db is not None:
            self.db.close()
            self.db = None

    def doc_clusters(self) -> dict[str, str]:
        """doc id -> cluster id of every clustered quote."""
        if self.db is None:
            return {}
        return dict(self.db.execute("SELECT doc, cluster FROM quote WHERE cluster IS NOT NULL"))

    def summary(self, cid: str) -> dict | None:
        """{id, quotes, articles, outlets, first_doc} of a cluster, or None."""
        if self.db is None:
            return None
        row = self.db.execute("SELECT c.quotes, c.articles, c.outlets, q.doc FROM cluster c JOIN quote q "
                              "ON q.qid = c.first WHERE c.id = ?", (cid,)).fetchone()
        if row is None:
            return None
        return {"id": cid, "quotes": row[0], "articles": row[1], "outlets": row[2], "first_doc": row[3]}

    def members(self, cid: str, limit: int | None = None) -> list[dict]:
        """A cluster's quotes, earliest first: {doc, article, source, day}."""
        if self.db is None:
            return []
        sql = "SELECT doc, article, source, day FROM quote WHERE cluster = ? ORDER BY day IS NULL, day, doc"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [{"doc": d, "article": a, "source": s, "day": day} for d, a, s, day in self.db.execute(sql, (cid,))]

    def redirect(self, cid: str) -> str | None:
        """The id a merged cluster lives on as, or None."""
        if self.db is None:
            return None
        row = self.db.execute("SELECT new FROM redirect WHERE old = ?", (cid,)).fetchone()
        return row[0] if row else None

    def sizes(self) -> dict:
        """How many clusters span 1, 2, 3... articles, and hold 2, 3... quotes."""
        if self.db is None:
            return {"clusters": 0, "clustered_quotes": 0, "by_articles": [], "by_quotes": []}
        by_articles = [{"articles": a, "clusters": n} for a, n in
                       self.db.execute("SELECT articles, count(*) FROM cluster GROUP BY articles ORDER BY articles")]
        by_quotes = [{"quotes": a, "clusters": n} for a, n in
                     self.db.execute("SELECT quotes, count(*) FROM cluster GROUP BY quotes ORDER BY quotes")]
        total, clustered = self.db.execute("SELECT count(*), coalesce(sum(quotes), 0) FROM cluster").fetchone()
        return {"clusters": total, "clustered_quotes": clustered, "by_articles": by_articles, "by_quotes": by_quotes}
