"""Quote search and the quote index (issue 13): quote search p95 against article search p95 on the same requests,
and `rebuild` with the quote index written (by its second process) against `rebuild` without it.

    python bench/quotebench.py --docs 2000 --queries 120 --rebuild-docs 600    # a small run, figures as JSON

The index is replicated from the enriched seed records (bench/data.py) with about QUOTES_PER_ARTICLE quotes an
article; each copy's quotes are perturbed so that copies do not all cluster: every NEAR-th copy of an article
repeats its quotes near-exactly (one word changed), the others replace four words in five with words of other quotes.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import log, now, pct, stamp  # noqa: E402
from bench.data import OUT, replicate  # noqa: E402

QUOTES_PER_ARTICLE = 10  # the figure: about ten quotes an article
NEAR = 4


def _words_pool(seeds: list[dict]) -> list[str]:
    words = [w for r in seeds for q in r.get("quotes") or () for w in (q.get("text") or "").split()]
    return words or "the council said it would consider every proposal before the vote".split()


def perturbed(seeds: list[dict], n: int):
    """n records replicated from the seeds with QUOTES_PER_ARTICLE quotes each (cut, or topped up with quotes of other
    seeds), their quotes perturbed per copy so that only every NEAR-th copy repeats them near-exactly."""
    pool = _words_pool(seeds)
    all_quotes = [q for r in seeds for q in r.get("quotes") or () if q.get("text")]
    for i, rec in enumerate(replicate(seeds, n)):
        copy_no = i // max(1, len(seeds))
        rnd = random.Random(f"{rec['id']}")
        quotes = [dict(q) for q in rec.get("quotes") or ()][:QUOTES_PER_ARTICLE]
        while all_quotes and len(quotes) < QUOTES_PER_ARTICLE:
            quotes.append(dict(rnd.choice(all_quotes)))
        for q in quotes:
            words = (q.get("text") or "").split()
            if not words:
                continue
            if copy_no % NEAR == 0:
                if copy_no:  # a near-exact repeat: one word changed
                    words[rnd.randrange(len(words))] = rnd.choice(pool)
            else:
                # four words in five replaced: another quote, not a candidate pair with most of its siblings
                for k in rnd.sample(range(len(words)), max(1, len(words) * 4 // 5)):
                    words[k] = rnd.choice(pool)
            q["text"] = " ".join(words)
        rec = dict(rec, quotes=quotes, speakers=sorted({q["speaker"] for q in quotes if q.get("speaker")}))
        yield rec


def build(seeds: list[dict], n: int) -> Path:
    """An n-document index with its quote index (reused while the index layout is unchanged)."""
    from bench.querybench import code_digest
    from search.config import Settings
    from search.indexer import index_records, live_generation
    from search.quoteindex import build_quote_schema

    import hashlib

    layout = ",".join(sorted(build_quote_schema().names())) + f"{QUOTES_PER_ARTICLE}/{NEAR}"
    digest = code_digest() + hashlib.sha256(layout.encode()).hexdigest()[:6]
    path = OUT / f"quotes-index-{n}-{len(seeds)}-{digest}"
    if live_generation(path) is not None and (live_generation(path) / "quotes").is_dir():
        return path
    for old in OUT.glob(f"quotes-index-{n}-{len(seeds)}-*"):
        shutil.rmtree(old, ignore_errors=True)
    log(f"quotes: indexing {n:,} replicated records with ~{QUOTES_PER_ARTICLE} quotes each -> {path.name} ...")
    t = now()
    rep = index_records(perturbed(seeds, n), Settings(index=path), writer_procs=2)
    log(f"  {now() - t:.1f}s, {rep.quotes:,} quotes, {rep.clusters:,} clusters")
    return path


def same_requests(queries: list[dict]) -> list[dict]:
    """The benchmark's faceted requests reduced to what both searches take: the words, speakers and dates."""
    keep = ("q", "speaker", "from", "to")
    return [{**qd, "args": {k: v for k, v in qd["args"].items() if k in keep}} for qd in queries]


def query_compare(index_dir: Path, queries: list[dict]) -> dict:
    """Article search and quote search timed on the same requests, interleaved (alternating which goes first)."""
    from search.contracts import parse_quote_request, parse_request
    from search.query import open_searcher

    times: dict[str, list[float]] = {"articles": [], "quotes": []}
    by_kind: dict[str, dict[str, list[float]]] = {}
    rows = quotes_matched = 0
    with open_searcher(index_dir) as s:
        for qd in queries[:5]:  # warm up: facet arrays, parser, page cache
            s.search(parse_request(qd["args"])[0])
            s.quotes(parse_quote_request(qd["args"])[0])
        for i, qd in enumerate(queries):
            systems = [("articles", lambda: s.search(parse_request(qd["args"])[0])),
                       ("quotes", lambda: s.quotes(parse_quote_request(qd["args"])[0]))]
            if i % 2:
                systems.reverse()
            for name, run in systems:
                t = now()
                res = run()
                ms = (now() - t) * 1000
                times[name].append(ms)
                by_kind.setdefault(qd["kind"], {}).setdefault(name, []).append(ms)
                if name == "quotes":
                    rows += res.total
                    quotes_matched += res.quotes
        st = s.stats()
    out = {name: {"n": len(v), "p50_ms": round(pct(v, 50), 2), "p95_ms": round(pct(v, 95), 2),
                  "mean_ms": round(sum(v) / len(v), 2), "max_ms": round(max(v), 2)} for name, v in times.items()}
    out["quotes_vs_articles_p95"] = round(out["quotes"]["p95_ms"] / out["articles"]["p95_ms"], 2)
    out["by_kind_p95"] = {k: {n: round(pct(v, 95), 2) for n, v in d.items()} for k, d in by_kind.items()}
    out["index"] = {"articles": st["articles"], "quotes": st["quotes"], "clusters": st["clusters"]["clusters"],
                    "clustered_quotes": st["clusters"]["clustered_quotes"],
                    "by_articles": st["clusters"]["by_articles"][:8]}
    out["mean_rows"] = round(rows / max(1, len(queries)), 1)
    out["mean_quotes_matched"] = round(quotes_matched / max(1, len(queries)), 1)
    return out


def rebuild_compare(seeds: list[dict], n: int, rounds: int = 3) -> dict:
    """`rebuild` from a warm cache of n replicated articles with the quote index and without it (interleaved
    rounds, the fastest of each side: noise on a shared machine only adds time)."""
    from bench.indexbench import fill_cache, write_articles
    from search.config import Settings
    from search.indexer import rebuild

    tmp = Path(tempfile.mkdtemp(prefix="nf-quotes-"))
    try:
        recs = list(perturbed(seeds, n))
        arts = tmp / "articles"
        arts.mkdir()
        write_articles(recs, arts / "articles.jsonl")
        index_dir = tmp / "index"
        fill_cache(arts, recs, index_dir)
        del recs
        secs: dict[str, list[float]] = {"without": [], "with": []}
        # CPU seconds of this process (reading, the article index) and of the quote writer process: on a machine
        # busy with other work the two do not run side by side, and wall-clock time shows their sum
        cpu: dict[str, list[float]] = {"without": [], "with": [], "quote_process": []}
        quotes = 0
        log(f"quotes: rebuild of {n:,} articles from the cache, with and without the quote index, {rounds} rounds ...")
        for i in range(rounds):
            for name in (("with", "without") if i % 2 == 0 else ("without", "with")):
                t, c, kids = now(), time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
                rep = rebuild([arts], Settings(index=index_dir, quote_procs=2 if name == "with" else 0))
                secs[name].append(now() - t)
                cpu[name].append(time.process_time() - c)
                if name == "with":
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu["quote_process"].append(after.ru_utime + after.ru_stime - kids.ru_utime - kids.ru_stime)
                if name == "with":
                    quotes = rep.quotes
            log("  round", i + 1, {k: round(v[-1], 2) for k, v in secs.items()})
        best = {k: min(v) for k, v in secs.items()}
        c = {k: min(v) for k, v in cpu.items()}
        return {"docs": n, "quotes": quotes, "rounds": rounds, "seconds_without": round(best["without"], 2),
                "seconds_with": round(best["with"], 2), "with_vs_without": round(best["with"] / best["without"], 3),
                "all_rounds": [round(w / wo, 3) for w, wo in zip(secs["with"], secs["without"])],
                "cpu_without": round(c["without"], 2), "cpu_with": round(c["with"], 2),
                "cpu_quote_process": round(c["quote_process"], 2),
                # the longer of the two processes' work against the rebuild without quotes: the wall-clock ratio
                # on two otherwise idle cores
                "cpu_critical_path_ratio": round(max(c["with"], c["quote_process"]) / c["without"], 3)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def quote_bench(seeds: list[dict], docs: int, queries: int, rebuild_docs: int, rounds: int = 3) -> dict:
    """The whole quote section: queries at `docs` documents, rebuilds at `rebuild_docs`."""
    from bench.querybench import make_queries

    index_dir = build(seeds, docs)
    reqs = same_requests(make_queries(index_dir, seeds, queries))
    log(f"quotes: {len(reqs)} requests on {docs:,} documents, article search vs quote search ...")
    q = query_compare(index_dir, reqs)
    q["docs"] = docs
    return {"queries": q, "rebuild": rebuild_compare(seeds, rebuild_docs, rounds)}


def run(ctx, prev: dict | None) -> dict:
    """The `quotes` section of bench/run.py: quote vs article search at quote_docs articles, rebuilds with and without
    the quote index at quote_rebuild_docs."""
    from bench.querybench import make_queries

    seeds = ctx.seeds()
    n = ctx.p["quote_docs"]
    index_dir = build(seeds, n)
    reqs = same_requests(make_queries(index_dir, seeds, ctx.p["queries"]))
    log(f"quotes: {len(reqs)} requests on {n:,} documents, article search vs quote search ...")
    q = query_compare(index_dir, reqs)
    q.update(docs=n, measured=stamp())
    rb = rebuild_compare(seeds, ctx.p["quote_rebuild_docs"], rounds=2 if ctx.mode == "full" else 3)
    rb["measured"] = stamp()
    return {"queries": q, "rebuild": rb}


def report(result: dict, res: dict) -> list[str]:
    """The section's Markdown in bench/RESULTS.md."""
    lines = report_lines(result)
    lines[0] = "## 7. " + lines[0][3:]
    return lines


def headline_rows(result: dict) -> list[str]:
    """The section's rows of the headline table."""
    q, rb = result["queries"], result["rebuild"]
    ok = lambda v: "met" if v <= 1.5 else "**missed**"  # noqa: E731
    return [f"| {q['docs']:,} docs: quote search p95 / article search p95, same requests | "
            f"{q['quotes_vs_articles_p95']:.2f} | ≤ 1.5 | {ok(q['quotes_vs_articles_p95'])} |",
            f"| rebuild of {rb['docs']:,} articles with the quote index / without (wall clock; on two idle cores by CPU "
            f"time: {rb['cpu_critical_path_ratio']:.2f}) | {rb['with_vs_without']:.2f} | ≤ 1.5 | {ok(rb['with_vs_without'])} |"]


def main() -> None:
    from bench.data import seed_records

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=300, help="enriched seed articles (cached in bench/out)")
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--queries", type=int, default=120)
    ap.add_argument("--rebuild-docs", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    seeds = seed_records(a.seeds, workers=2, log=log)
    res = quote_bench(seeds, a.docs, a.queries, a.rebuild_docs, a.rounds)
    (OUT / "results-quotes.json").write_text(json.dumps(res, indent=1))
    print(json.dumps(res))


if __name__ == "__main__":
    main()


def report_lines(q: dict) -> list[str]:
    """The quote section of bench/RESULTS.md."""
    qs, rb = q["queries"], q["rebuild"]
    ix = qs["index"]
    sizes = ", ".join(f"{b['articles']}: {b['clusters']}" for b in ix.get("by_articles", []))
    return [
        f"## Quote search ({qs['docs']:,} articles, {ix['quotes']:,} quotes)", "",
        f"The index replicated from the seeds with {QUOTES_PER_ARTICLE} quotes an article; every {NEAR}th copy of an "
        "article repeats its quotes near-exactly (one word changed), the other copies have four words in five replaced, "
        f"so copies do not all cluster: {ix['clusters']:,} clusters hold {ix['clustered_quotes']:,} quotes (clusters by "
        f"articles spanned, first sizes: {sizes}). Article search and quote search ran the same {qs['articles']['n']} "
        "requests (the words, speaker filters and date ranges of the benchmark's faceted requests), interleaved; quote "
        "search counts its four facets and histogram, collapses clusters into rows and reads each row's cluster.", "",
        "| system | p50 ms | p95 ms | mean ms | max ms |", "|---|---|---|---|---|",
        *[f"| {name[:-1]} search | {qs[name]['p50_ms']} | {qs[name]['p95_ms']} | {qs[name]['mean_ms']} | {qs[name]['max_ms']} |"
          for name in ("articles", "quotes")], "",
        f"Quote search p95 / article search p95: **{qs['quotes_vs_articles_p95']}** (target ≤ 1.5).", "",
        f"Rebuild from the cache of {rb['docs']:,} articles ({rb['quotes']:,} quotes), with the quote index (written by "
        f"a second process) and without it, {rb['rounds']} interleaved rounds, fastest of each: "
        f"{rb['seconds_with']} s / {rb['seconds_without']} s = **{rb['with_vs_without']}** (target ≤ 1.5; every round: "
        f"{', '.join(map(str, rb['all_rounds']))}). CPU seconds: rebuild without quotes {rb['cpu_without']}; with "
        f"them, the reading/article process {rb['cpu_with']} and the quote process {rb['cpu_quote_process']}, so on two "
        f"idle cores the longer of the two is {rb['cpu_critical_path_ratio']}× the rebuild without quotes. On a machine "
        "busy with other jobs the two processes do not run side by side and wall-clock time approaches their sum.", "",
    ]
