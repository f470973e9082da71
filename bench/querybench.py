"""Faceted query benchmark: plain Whoosh search, Whoosh groupedby counting and newsfacet, side by side.

The three systems run the same queries, interleaved query by query (rotating which goes first), on one
index, so machine noise hits all three alike.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
from pathlib import Path

from bench.common import log, now, pct, stamp
from bench.data import OUT, ROOT, replicate

STOP = set("the and for that with this from have was were are but not his her they their its said will would "
           "about been has had who which what when where there than then them also into more other some could "
           "after over such only just like most very can our out all one two new".split())


# Bump when the indexer writes a different layout (writer settings, extra files); schema.py is hashed.
INDEX_FORMAT = "separate-files+facets.npz"


def code_digest() -> str:
    """Digest of the index layout (fields, formats, writer format tag): a cached benchmark index is rebuilt when
    it changes, not when unrelated lines of schema.py do."""
    from search.schema import build_schema

    h = hashlib.sha256(INDEX_FORMAT.encode())
    for name, f in sorted(build_schema().items()):
        h.update(f"{name}:{type(f).__name__}:{type(f.format).__name__}:{f.stored}\n".encode())
    return h.hexdigest()[:10]


def build_index(seeds: list[dict], n: int, fresh: bool = False) -> tuple[Path, dict]:
    """An index of n records replicated from seeds, under bench/out (reused when the code did not change), and how
    it was built: {"seconds", "writer_procs", "date", "load_avg", "this_run"} (this_run False when reused)."""
    from search.config import Settings
    from search.indexer import index_records, live_generation

    path = OUT / f"index-{n}-{len(seeds)}-{code_digest()}"
    meta = path / "build.json"
    if live_generation(path) is not None and not fresh:
        built = json.loads(meta.read_text()) if meta.exists() else {"seconds": None}
        return path, {**built, "this_run": False}
    for old in OUT.glob(f"index-{n}-{len(seeds)}-*"):
        shutil.rmtree(old, ignore_errors=True)
    log(f"indexing {n:,} replicated records -> {path.name} ...")
    before = stamp()
    t = now()
    # Whoosh's multi-process writer: the index is only the ground the queries run on (both systems search the
    # same one), and it is built in ~60% of the time.
    index_records(replicate(seeds, n), Settings(index=path), writer_procs=2)
    secs = now() - t
    log(f"  {secs:.1f}s ({n / secs:.0f} docs/s)")
    built = {"seconds": round(secs, 2), "writer_procs": 2, **before}
    meta.write_text(json.dumps(built))
    return path, {**built, "this_run": True}


def surface_words(seeds: list[dict], analyzer) -> dict[str, str]:
    """stem -> the lower-case word of the seeds' texts most often analysed to it (and to nothing else)."""
    from collections import Counter

    counts = Counter(w.lower() for r in seeds for w in re.findall(r"[A-Za-z]{3,}", r.get("text") or ""))
    best: dict[str, tuple[int, str]] = {}
    for w, c in counts.items():
        stems = [t.text for t in analyzer(w)]
        if len(stems) == 1 and (stems[0] not in best or c > best[stems[0]][0]):
            best[stems[0]] = (c, w)
    return {stem: w for stem, (_, w) in best.items()}


def make_queries(index_dir: Path, seeds: list[dict], count: int = 240, seed: int = 7) -> list[dict]:
    """Realistic requests: single terms of varied frequency from the index's own vocabulary, two-term and
    phrase queries (phrases are adjacent title words), each with 0-2 facet filters and sometimes a date range."""
    from search.query import open_searcher
    from search.schema import FACET_FIELDS

    rnd = random.Random(seed)
    with open_searcher(index_dir) as s:
        reader = s._searcher.reader()
        n = reader.doc_count()
        vocab = [(t.decode() if isinstance(t, bytes) else t, ti.doc_frequency())
                 for t, ti in reader.iter_field("body")]
        fd = s.facets
        top_values = {}
        for facet in FACET_FIELDS:
            res = fd.top(facet, fd.alive, 60)["results"]
            top_values[facet] = [r["value"] for r in res]
    # The index holds stems ("isolat"); users type words ("isolation"). Each stem is asked as the word the seeds
    # spell it with most often, which Whoosh analyses back to that stem (same documents, same frequency band), and
    # which another engine's analyzer reads as a user's word, not as a stem it would stem again.
    surface = surface_words(seeds, s._ix.schema["body"].analyzer)
    words = [(surface[t], df) for t, df in vocab
             if re.fullmatch(r"[a-z]{3,}", t) and t not in STOP and df >= 2 and t in surface]
    words.sort(key=lambda x: x[1])
    # frequency bands: rare (<0.1%), uncommon, common, very common (>10% of documents)
    bands = [[w for w, df in words if lo * n <= df < hi * n]
             for lo, hi in ((0, 0.001), (0.001, 0.01), (0.01, 0.1), (0.1, 1.01))]
    bands = [b for b in bands if b]
    mid = [w for w, df in words if 0.005 * n <= df < 0.2 * n] or [w for w, _ in words]
    titles = [r.get("title") or "" for r in seeds]
    phrases = []
    for t in titles:
        toks = re.findall(r"[A-Za-z]{3,}", t)
        for a, b in zip(toks, toks[1:]):
            if a.lower() not in STOP and b.lower() not in STOP:
                phrases.append(f'"{a} {b}"')
    out = []
    for i in range(count):
        kind = ("single", "single", "two", "phrase")[i % 4]
        band = None
        if kind == "single":
            band = (i // 4) % len(bands)
            q = rnd.choice(bands[band])
        elif kind == "two":
            q = f"{rnd.choice(mid)} {rnd.choice(mid)}"
        else:
            q = rnd.choice(phrases) if phrases else rnd.choice(mid)
        args = {"q": [q]}
        for facet in rnd.sample(list(FACET_FIELDS), k=i % 3):
            if top_values[facet]:
                args[facet] = [rnd.choice(top_values[facet][:30])]
        if i % 10 == 9:
            args["from"], args["to"] = ["2016-01"], ["2019-12"]
        out.append({"kind": kind, "band": band, "filters": i % 3, "args": args})
    return out


def sample_requests(queries: list[dict], every: int, seed: int = 11) -> set[int]:
    """Indices of about 1/every of the requests, drawn at random within each kind (and frequency band of single
    terms), so the sample has the mix of the whole set. (Every k-th request would not: the mix repeats every 4
    requests and the bands every 16, so a stride of 8 or 16 picked only single terms of one or two bands.)"""
    if every <= 1:
        return set(range(len(queries)))
    rnd = random.Random(seed)
    strata: dict = {}
    for i, q in enumerate(queries):
        strata.setdefault((q["kind"], q.get("band")), []).append(i)
    picked: set[int] = set()
    for members in strata.values():
        picked.update(rnd.sample(members, max(1, round(len(members) / every))))
    return picked


def _whoosh_filter(req):
    """The request's facet and date filters as a Whoosh query (for the plain and groupedby systems)."""
    from datetime import datetime

    from whoosh import query as wq

    from search.schema import FACET_FIELDS

    parts = []
    for facet, field in FACET_FIELDS.items():
        vals = req.filters.get(facet) or []
        if vals:
            parts.append(wq.Or([wq.Term(field, v) for v in vals]))
    if req.date_from or req.date_to:
        start = datetime.fromisoformat(req.date_from) if req.date_from else None
        end = datetime.fromisoformat(req.date_to).replace(hour=23, minute=59, second=59) if req.date_to else None
        parts.append(wq.DateRange("published", start, end))
    return wq.And(parts) if parts else None


def latency(values: list[float]) -> dict:
    """n, p50, p95, mean and max of latencies in ms."""
    return {"n": len(values), "p50_ms": round(pct(values, 50), 2), "p95_ms": round(pct(values, 95), 2),
            "mean_ms": round(sum(values) / len(values), 2) if values else 0.0,
            "max_ms": round(max(values), 2) if values else 0.0}


def run_queries(index_dir: Path, queries: list[dict], groupedby_every: int = 1, rounds: int = 1) -> dict:
    """Time plain search, groupedby and newsfacet on every query (groupedby on a sample with the same mix of
    query kinds, see sample_requests), interleaved; per kind, each system on the same requests."""
    from whoosh import sorting

    from search.query import build_query, open_searcher, parse_request
    from search.schema import FACET_FIELDS, MONTH_FIELD

    times = {"plain": [], "groupedby": [], "newsfacet": [], "newsfacet_on_groupedby_queries": [],
             "plain_on_groupedby_queries": []}
    by_kind: dict = {}
    with_groupedby = sample_requests(queries, groupedby_every)
    facets = {f: sorting.FieldFacet(f, allow_overlap=True) for f in list(FACET_FIELDS.values()) + [MONTH_FIELD]}
    with open_searcher(index_dir) as s:
        ws = s._searcher
        schema = s._ix.schema

        def plain(req):
            q = build_query(req.q, schema, []) or __import__("whoosh.query").query.Every()
            r = ws.search(q, filter=_whoosh_filter(req), limit=req.page_size)
            return [h.fields()["record"] for h in r], r.estimated_length()

        def grouped(req):
            q = build_query(req.q, schema, []) or __import__("whoosh.query").query.Every()
            r = ws.search(q, filter=_whoosh_filter(req), limit=req.page_size, groupedby=facets)
            return [h.fields()["record"] for h in r], {f: r.groups(f) for f in facets}

        def nf(req):
            return s.search(req)

        # warm up caches (facet arrays, parser, OS page cache) before timing
        for qd in queries[:5]:
            req, _ = parse_request(qd["args"])
            nf(req)
            plain(req)
        for rnd in range(rounds):
            for i, qd in enumerate(queries):
                req, _ = parse_request(qd["args"])
                systems = [("plain", plain), ("newsfacet", nf)]
                with_g = i in with_groupedby
                if with_g:
                    systems.append(("groupedby", grouped))
                k = (i + rnd) % len(systems)
                systems = systems[k:] + systems[:k]
                got = {}
                for name, fn in systems:
                    t = now()
                    fn(req)
                    got[name] = (now() - t) * 1000
                if with_g:
                    got["newsfacet_on_groupedby_queries"] = got["newsfacet"]
                    got["plain_on_groupedby_queries"] = got["plain"]
                for name, ms in got.items():
                    times[name].append(ms)
                    by_kind.setdefault(qd["kind"], {}).setdefault(name, []).append(ms)
    out = {name: latency(v) for name, v in times.items() if v}
    out["by_kind"] = {k: {n: latency(v) for n, v in d.items()} for k, d in by_kind.items()}
    out["groupedby_sample"] = {"every": groupedby_every, "requests": len(with_groupedby),
                               "by_kind": {k: d.get("groupedby", {"n": 0})["n"] for k, d in out["by_kind"].items()}}
    return out


def searcher_open(index_dir: Path, repeat: int = 3) -> dict:
    """Cost of the first search after a rebuild (Whoosh open + facet arrays), and of a warm open."""
    from search import facets as facets_mod
    from search import query as query_mod
    from search.query import SearchRequest, open_searcher

    cold = []
    for _ in range(repeat):
        facets_mod._cache.clear()
        query_mod._ix_cache.clear()
        t = now()
        with open_searcher(index_dir) as s:
            s.search(SearchRequest(q=""))
        cold.append((now() - t) * 1000)
    t = now()
    warm = []
    for _ in range(repeat):
        t = now()
        with open_searcher(index_dir):
            pass
        warm.append((now() - t) * 1000)
    return {"cold_ms": round(min(cold), 1), "warm_ms": round(min(warm), 2)}


def check_counts(index_dir: Path, queries: list[dict], k: int = 10) -> int:
    """Compare newsfacet's facet counts with groupedby's on k queries without filters; returns mismatches.
    groupedby counts the values as stored, so newsfacet's side runs with the collection's name table off."""
    from whoosh import sorting

    from search.config import Settings
    from search.query import build_query, open_searcher, parse_request
    from search.schema import FACET_FIELDS

    bad = 0
    with open_searcher(index_dir, Settings(index=Path(index_dir), canonical_names=False)) as s:
        for qd in [q for q in queries if q["filters"] == 0 and "from" not in q["args"]][:k]:
            req, _ = parse_request(qd["args"])
            req.facet_size = 10 ** 6
            res = s.search(req)
            q = build_query(req.q, s._ix.schema, [])
            if q is None:
                continue
            r = s._searcher.search(q, limit=1, groupedby={f: sorting.FieldFacet(fld, allow_overlap=True)
                                                             for f, fld in FACET_FIELDS.items()})
            for f in FACET_FIELDS:
                g = {(k.decode() if isinstance(k, bytes) else k): len(v) for k, v in r.groups(f).items() if k}
                mine = {x["value"]: x["count"] for x in res.facets[f]["results"] if x["count"]}
                if g != mine:
                    bad += 1
    return bad


def query_bench(seeds: list[dict], n: int, count: int, groupedby_every: int = 1) -> dict:
    """Build (or reuse) an n-document index, then time the three systems on `count` queries."""
    index_dir, built = build_index(seeds, n)
    opened = searcher_open(index_dir)
    queries = make_queries(index_dir, seeds, count)
    log(f"{len(queries)} queries on {n:,} documents (groupedby on every {groupedby_every}) ...")
    res = run_queries(index_dir, queries, groupedby_every=groupedby_every)
    res["docs"] = n
    res["queries"] = len(queries)
    res["searcher_open"] = opened
    res["build"] = built
    res["count_mismatches"] = check_counts(index_dir, queries)
    res["index_dir"] = str(index_dir)
    (OUT / f"queries-{n}.json").write_text(json.dumps(queries, indent=1))
    return res
