"""bench/RESULTS.md from a run's results: a header saying where each figure came from, then one part per section."""
from __future__ import annotations

from pathlib import Path

from bench.peers import PROFILE_STEPS


def _ok(value, target, higher=True) -> str:
    good = value >= target if higher else value <= target
    return "met" if good else "**missed**"


def _when(meta: dict | None) -> str:
    """When a section ran and how busy the machine was (1-minute load average at its start and end; 2 cores)."""
    if not meta:
        return "not recorded"
    return f"{meta['date']}, load {meta['load_before']} → {meta['load_after']}"


def write_report(res: dict, path: Path, sections: list) -> None:
    """Write the Markdown report of a run's sections (those present in res), with where each figure came from."""
    sec, meta = res["sections"], res.get("meta", {})
    L = [
        "# newsfacet benchmark results",
        "",
        f"**Full figures:** `{FULL_COMMAND}` (installs the `[bench]` extra with the peers, then runs",
        "`python bench/run.py --full --write bench/RESULTS.md`; about 75 minutes on a quiet 2-core machine, most of it",
        "building the 37,554- and 100,000-document indexes). One section again, keeping the others:",
        "`python bench/run.py --full --only peers --write bench/RESULTS.md`; resume an interrupted run with `--reuse`.",
        "",
        f"Written on {res.get('machine', 'an unrecorded machine')}. Every comparison below is a ratio of systems measured",
        "interleaved in one run, on the same documents and requests, not of separate runs. Each section was measured as",
        "follows (a 1-minute load average above ~1 before a section means other jobs shared the 2 cores, and absolute",
        "times are inflated by it):",
        "",
        "| section | measured | seconds | command |", "|---|---|---|---|",
    ]
    for s in sections:
        if s.name in sec:
            m = meta.get(s.name, {})
            L.append(f"| {s.name} | {_when(m)} | {m.get('seconds', 'n/a')} | `{m.get('command', 'n/a')}` |")
    L += ["", *DATA_NOTE(res), "## Headline", "", "| measure | result | target | |", "|---|---|---|---|",
          *headline_rows(sec), ""]
    for s in sections:
        if s.name in sec:
            L += s.report(sec[s.name], res)
    L += CHANGES + limits_section(sec)
    if res.get("notes"):
        L += ["## Notes", ""] + res["notes"] + [""]
    Path(path).write_text("\n".join(L) + "\n", encoding="utf-8")


FULL_COMMAND = "make bench"


def DATA_NOTE(res: dict) -> list[str]:
    """How the benchmark documents were made."""
    return [
        "**Data.** The AllSides corpus (37,554 articles) is read for benchmarking only. Enriching all of it with spaCy",
        f"takes about two hours here, so {format(res['seeds'], ',') if res.get('seeds') else 'n/a'} articles sampled evenly across the corpus were enriched",
        "once (cached in `bench/out/`, git-ignored) and their records **replicated** to the index sizes, each copy with",
        "its own id and a published date shifted by 37 days per copy. Replicas repeat the seeds' words and entity names,",
        "so vocabulary and the number of distinct facet values stay those of the seed sample (smaller than a real 100k",
        "corpus would have); posting lists and matched sets grow as in a real corpus of that size. The requests are",
        "drawn at run time from the index's own vocabulary and titles (never stored in the repository).",
        "",
    ]


def headline_rows(sec: dict) -> list[str]:
    """The headline table's rows, for the sections present."""
    L = []
    if "enrichment" in sec:
        e = sec["enrichment"]
        L += [
            f"| enrichment: newsfacet / bare spaCy (same model and excluded components, none of newsfacet's; 1 process) "
            f"| {e['enrich_ratio']:.2f} | ≥ 0.85 | {_ok(e['enrich_ratio'], 0.85)} |",
            f"| the same with 2 processes each | {e.get('enrich_ratio_2', 0):.2f} | ≥ 0.85 | {_ok(e.get('enrich_ratio_2', 0), 0.85)} |",
            f"| enrichment, CPU seconds of the 1-process runs (load-independent): bare / newsfacet | {e['enrich_cpu_ratio']:.2f} | | |",
            f"| enrichment: `--workers 2` / 1 worker | {e['workers_speedup']:.2f}× | ≥ 1.6× | {_ok(e['workers_speedup'], 1.6)} |",
        ]
    if "indexing" in sec:
        ix = sec["indexing"]
        L += [f"| indexing: rebuild from cache / bare Whoosh writer (docs/s) | {ix['index_ratio']:.2f} | ≥ 0.9 | {_ok(ix['index_ratio'], 0.9)} |",
              f"| rebuild from cache vs rebuild running spaCy | {ix['cache_rebuild_speedup']:.0f}× | ≥ 10× | {_ok(ix['cache_rebuild_speedup'], 10)} |"]
    for n, q in _by_size(sec.get("queries")):
        ratio = q["newsfacet"]["p95_ms"] / q["plain"]["p95_ms"]
        g = q["groupedby"]["p95_ms"] / q["newsfacet_on_groupedby_queries"]["p95_ms"]
        L.append(f"| {n:,} docs: newsfacet p95 / plain search p95 | {ratio:.2f} | ≤ 1.5 | {_ok(ratio, 1.5, False)} |")
        L.append(f"| {n:,} docs: groupedby p95 / newsfacet p95, same {q['groupedby']['n']} requests (all query kinds) "
                 f"| {g:.0f}× | ≥ 10× | {_ok(g, 10)} |")
        if n >= 100_000:
            L.append(f"| {n:,} docs: newsfacet p95 | {q['newsfacet']['p95_ms']:.0f} ms | ≤ 200 ms | "
                     f"{_ok(q['newsfacet']['p95_ms'], 200, False)} |")
    if "quotes" in sec:
        from bench.quotebench import headline_rows as quote_rows

        L += quote_rows(sec["quotes"])
    for n, p in _by_size(sec.get("peers")):
        nf = p["latency"]["newsfacet"]["p95_ms"]
        for peer, label in PEERS.items():
            a = p["agreement"][peer]
            L.append(f"| {n:,} docs: {label} p95 / newsfacet p95 (totals agree on {a['totals']}/{a['requests']}) "
                     f"| {p['latency'][peer]['p95_ms'] / nf:.2f} | | |")
    if "cluster" in sec:
        c = sec["cluster"]
        a = c["acceptance"]["ratio"]
        L += [f"| Dask cluster: `newsfacet enrich`, 1 worker / local 1 process (articles/s, cold cache) | {a:.2f} | ≥ 0.85 "
              f"| {_ok(a, 0.85)} |",
              f"| Dask cluster of 2 / local `--workers 2`, on this 2-core machine (parity expected) "
              f"| {c['throughput']['cluster_2_vs_local_2']:.2f} | | |"]
    return L


PEERS = {"fts5": "SQLite FTS5", "tantivy": "Tantivy"}


def _facet_keys() -> tuple[str, ...]:
    from search.query import FACETS

    return tuple(FACETS)


def _by_size(section: dict | None):
    return sorted(((int(n), q) for n, q in (section or {}).get("sizes", {}).items()), key=lambda kv: kv[0])


def enrichment_md(e: dict, res: dict) -> list[str]:
    """Section 1: enrichment."""
    pipes = e.get("pipelines", {})
    L = ["## 1. Enrichment", "",
         f"{e['articles']} articles ({e['words']:,} words), in {e.get('chunks', 6)} chunks, each run by every system in "
         "rotating order, batch size "
         f"{e.get('batch_size', 32)}. *Bare* is `spacy.load(model, exclude=PIPELINE_EXCLUDE)` and `nlp.pipe` over the same",
         "texts with the same batch size and process count, reading `doc.ents`: the model's own components "
         f"({', '.join(pipes.get('bare', [])) or 'n/a'}). newsfacet is `Enricher.enrich` (its pipeline: "
         f"{', '.join(pipes.get('newsfacet', [])) or 'n/a'}; attribution, entities, dates, the record). The headline ratios",
         "are the median of the chunks' own ratios (this VM's speed swings by ±20% over seconds):", "",
         "| ratio | median | chunks | of the totals |", "|---|---|---|---|"]
    for key, label, tot in (("enrich_ratio", "newsfacet / bare, 1 process", "enrich_ratio_of_totals"),
                            ("enrich_ratio_2", "newsfacet / bare, 2 processes", "enrich_ratio_2_of_totals"),
                            ("workers_speedup", "newsfacet 2 workers / 1", "workers_speedup_of_totals"),
                            ("bare_workers_speedup", "bare 2 processes / 1", None)):
        if key in e:
            L.append(f"| {label} | {e[key]} | {', '.join(map(str, e.get(key + '_by_chunk', [])))} | {e.get(tot, '') if tot else ''} |")
    L += ["", "| system | seconds | articles/s | words/s |", "|---|---|---|---|"]
    for k in ("bare_1", "newsfacet_1", "bare_2", "newsfacet_2"):
        if k in e["seconds"]:
            L.append(f"| {k.split('_')[0]}, {k[-1]} process{'es' if k.endswith('2') else ''} | {e['seconds'][k]} | "
                     f"{e['articles_per_s'][k]} | {e['words_per_s'][k]:,} |")
    return L + [""]


def indexing_md(ix: dict, res: dict) -> list[str]:
    """Section 2: indexing, and the rebuilds at scale of the queries section."""
    L = ["## 2. Indexing", "",
         f"{ix['docs']} documents; `newsfacet rebuild` with every analysis in the cache vs a bare Whoosh writer "
         f"(`ix.writer()` defaults, documents prepared before timing), {ix.get('rounds', 2)} interleaved rounds, the "
         "fastest round of each side (noise on a shared machine only adds time); ratio in each round: "
         f"{', '.join(str(r) for r in ix.get('index_ratio_all_rounds', [])) or 'n/a'}.", "",
         "| system | docs/s |", "|---|---|",
         f"| newsfacet rebuild from cache | {ix['docs_per_s']['newsfacet']} |",
         f"| bare Whoosh writer | {ix['docs_per_s']['bare']} |", "",
         f"Rebuild of {ix['spacy_rebuild_articles']} articles running spaCy: {ix['spacy_rebuild_s']} s; the same from the cache: "
         f"{ix['cache_rebuild_s']} s ({ix['cache_rebuild_speedup']:.0f}×).", ""]
    builds = [(n, q["build"]) for n, q in _by_size(res["sections"].get("queries")) if q.get("build")]
    if builds:
        L += ["Builds of the query indexes:", "",
              "| docs | built by | seconds | docs/s | peak RSS | index on disk | measured |", "|---|---|---|---|---|---|---|"]
        for n, b in builds:
            secs = b.get("seconds")
            rss = f"{b['peak_rss_mb']:.0f} MB" if b.get("peak_rss_mb") else "not measured"
            size = f"{b['index_mb']:.0f} MB" if b.get("index_mb") else "n/a"
            how = b.get("built_by") or f"index_records, {b.get('writer_procs', '?')} writer processes"
            L.append(f"| {n:,} | {how} | {secs if secs is not None else 'n/a'} | "
                     f"{round(n / secs, 1) if secs else 'n/a'} | {rss} | {size} | {b.get('date', 'n/a')}"
                     f"{'' if b.get('this_run', True) else ' (earlier run)'} |")
        L.append("")
    return L


def queries_md(qsec: dict, res: dict) -> list[str]:
    """Section 3: faceted queries against plain Whoosh search and Whoosh groupedby."""
    L = ["## 3. Faceted queries", "",
         "Realistic requests: single terms of four frequency bands from the index's own body vocabulary, two-term",
         "queries, title phrases; each with 0-2 facet filters, every tenth with a date range. newsfacet counts all",
         f"facets ({', '.join(_facet_keys())}; each under the other filters) plus the date facet and histogram and",
         "renders a page of 20 results with snippets. *Plain* is `searcher.search(q, filter=..., limit=20)` reading the",
         "20 stored records; *groupedby* is the same plus Whoosh `groupedby` over the facet fields and the month. groupedby",
         "is slow, so it runs on a sample of the requests drawn within each query kind (and band of single terms): the",
         "sample has the mix of the whole set, and newsfacet is compared with it on those same requests.", "",
         "| docs | system | requests | p50 ms | p95 ms | mean ms | max ms |", "|---|---|---|---|---|---|---|"]
    for n, q in _by_size(qsec):
        for name in ("plain", "newsfacet", "groupedby", "newsfacet_on_groupedby_queries"):
            r = q[name]
            L.append(f"| {n:,} | {name.replace('_', ' ')} | {r['n']} | {r['p50_ms']} | {r['p95_ms']} | {r['mean_ms']} | {r['max_ms']} |")
    L += ["", "By query kind, p95 in ms (groupedby and the last two columns on the same sampled requests):", "",
          "| docs | kind | requests | plain | newsfacet | sampled | groupedby | newsfacet, same requests | groupedby / newsfacet |",
          "|---|---|---|---|---|---|---|---|---|"]
    for n, q in _by_size(qsec):
        for kind, d in q["by_kind"].items():
            g, same = d.get("groupedby"), d.get("newsfacet_on_groupedby_queries")
            ratio = f"{g['p95_ms'] / same['p95_ms']:.0f}×" if g and same and same["p95_ms"] else ""
            L.append(f"| {n:,} | {kind} | {d['newsfacet']['n']} | {d['plain']['p95_ms']} | {d['newsfacet']['p95_ms']} | "
                     f"{g['n'] if g else 0} | {g['p95_ms'] if g else ''} | {same['p95_ms'] if same else ''} | {ratio} |")
    L += ["", "Searcher open after a rebuild (Whoosh open + facet arrays + first search) and warm open:", "",
          "| docs | first search after rebuild | warm open |", "|---|---|---|"]
    for n, q in _by_size(qsec):
        L.append(f"| {n:,} | {q['searcher_open']['cold_ms']} ms | {q['searcher_open']['warm_ms']} ms |")
    mism = sum(q.get("count_mismatches", 0) for _, q in _by_size(qsec))
    L += ["", f"Facet counts compared with groupedby's on sample queries: {mism} mismatches "
          "(`tests/test_facets.py` checks exactness on a small index).", ""]
    return L


def web_md(w: dict, res: dict) -> list[str]:
    """Section 4: the web server under concurrent clients, and its memory."""
    L = [f"## 4. Web ({w.get('docs', 0):,} docs)", "",
         "`newsfacet serve` (waitress, 8 threads); 8 client threads with keep-alive connections on the same 2-core",
         "machine for 30 s per endpoint, cycling through the benchmark queries.", "",
         "| endpoint | requests | req/s | p50 ms | p95 ms | errors |", "|---|---|---|---|---|---|"]
    for k, label in (("api_search", "/api/search"), ("page", "/")):
        r = w[k]
        L.append(f"| {label} | {r['requests']} | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} | {r['errors']} |")
    L += ["", "## 5. Memory and disk", ""]
    for n, rss in sorted(w.get("server_peak_rss_mb_by_size", {}).items(), key=lambda kv: int(kv[0])):
        L.append(f"- server peak RSS at {int(n):,} docs: {rss:.0f} MB")
    return L + ["- rebuild peak RSS and index size: see the build table in section 2", ""]


def peers_md(psec: dict, res: dict) -> list[str]:
    """Section 6: newsfacet beside SQLite FTS5 and Tantivy."""
    L = ["## 6. Peers: SQLite FTS5 and Tantivy", "",
         "The same documents (the records of section 3's indexes, through newsfacet's own `to_document`, so text and",
         "facet values are identical) and the same faceted requests, interleaved request by request in one process after",
         "a warm-up. Every engine does a newsfacet search's work: match, facet and date filters, every facet",
         f"({', '.join(_facet_keys())}) under the other filters (top 10), years without the date filter, months for the",
         "histogram, a page of 20",
         "with the stored record decoded and a highlighted snippet.", "",
         "- **SQLite FTS5**, built with sqlite-utils (`enable_fts`, tokenizer `porter` over `unicode61`, rank `bm25()` with",
         "  the title weighted 2). Facets by `GROUP BY`, as Datasette counts them, with a tuned plan. Datasette re-runs",
         "  the whole query under each facet and unpacks JSON arrays with `json_each`; here the match runs once per",
         "  request into a temporary table, and the facets of each document set are counted in one statement: a",
         "  `GROUP BY` over an integer `WITHOUT ROWID` table keyed (doc, facet, value id), reached from each matched",
         "  document (`CROSS JOIN` fixes that order: left to itself SQLite scanned every pair of a facet through the",
         "  value index to spare a sort), the top 10 of each facet by a window function, value ids numbered in value",
         "  order (so the order is newsfacet's); filters are `IN` lists from an index by value, the date range reads a",
         "  narrow (doc, day) table, months are a facet, and `ANALYZE` statistics guide the planner. On 40 requests at",
         "  20,000 documents (2026-12-01, loaded machine) the plan went from 18.9 s (one join per facet, planner's",
         "  order) to 7.8 s (`CROSS JOIN`) to 4.8 s (one pass per document set); the `GROUP BY` itself is what is left.",
         "- **Tantivy** (`tantivy` on PyPI): title, body and quotes with an analyzer close to Whoosh's (words, lower case,",
         "  Whoosh's stop words, English stemmer), facet values as multi-valued raw text fast fields counted by terms",
         "  aggregations, the day as an integer fast field for ranges; a 2-thread writer.",
         "- **newsfacet**: `NewsSearcher.search`, on an index built by `index_records` with 2 writer processes.", ""]
    for n, p in _by_size(psec):
        b, lat = p["build"], p["latency"]
        nf_b = b["newsfacet"].get("seconds")
        m = p.get("measured", {})
        L += [f"### {n:,} documents, {p['requests']} requests (measured {m.get('date', 'n/a')}, load {m.get('load_avg', 'n/a')})", "",
              "| engine | build s | build / newsfacet's | index MB | p50 ms | p95 ms | p50 / newsfacet's | p95 / newsfacet's |",
              "|---|---|---|---|---|---|---|---|"]
        for name in ("newsfacet", "fts5", "tantivy"):
            bs = b[name].get("seconds")
            ratio = f"{bs / nf_b:.2f}" if bs and nf_b else "n/a"
            how = f"{bs} ({b[name].get('threads')} {'proc.' if name == 'newsfacet' else 'thr.'})" if bs else "n/a"
            if name == "newsfacet" and bs and not b[name].get("this_run"):
                how += f", built {b[name].get('date', 'earlier')}"
            L.append(f"| {PEERS.get(name, name)} | {how} | {ratio} | {b[name].get('mb')} | {lat[name]['p50_ms']} | "
                     f"{lat[name]['p95_ms']} | {lat[name]['p50_ms'] / lat['newsfacet']['p50_ms']:.2f} | "
                     f"{lat[name]['p95_ms'] / lat['newsfacet']['p95_ms']:.2f} |")
        kinds = list(p["by_kind"]["newsfacet"])
        L += ["", "p95 by query kind (ms):", "", "| kind | requests | newsfacet | SQLite FTS5 | Tantivy |", "|---|---|---|---|---|"]
        for k in kinds:
            L.append(f"| {k} | {p['by_kind']['newsfacet'][k]['n']} | {p['by_kind']['newsfacet'][k]['p95_ms']} | "
                     f"{p['by_kind']['fts5'][k]['p95_ms']} | {p['by_kind']['tantivy'][k]['p95_ms']} |")
        L += ["", "Agreement with newsfacet, request by request (facets: every facet's top-10 list, values tied at the cut",
              "interchangeable; dates: year and month counts):", "",
              "| engine | totals | facets | dates | all | facets where totals agree | totals by kind |", "|---|---|---|---|---|---|---|"]
        for peer, label in PEERS.items():
            a = p["agreement"][peer]
            L.append(f"| {label} | {a['totals']}/{a['requests']} | {a['facets']}/{a['requests']} | {a['dates']}/{a['requests']} | "
                     f"{a['all']}/{a['requests']} | {a['facets_where_totals_agree']} | "
                     f"{', '.join(f'{k} {v}' for k, v in a['by_kind'].items())} |")
        causes = [(label, kind, why, c) for peer, label in PEERS.items()
                  for kind, d in p["agreement"][peer]["causes"].items() for why, c in d.items()]
        if causes:
            L += ["", "Requests with any difference, by likely cause (from the query's own words; a facet is counted",
                  "without its own filter, so a difference there can show while the totals agree):", "",
                  "| engine | kind | cause | requests |", "|---|---|---|---|"]
            L += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in sorted(causes)]
        st = p.get("stems_differ")
        if st:
            L += ["", f"Of the seeds' {st['words']:,} distinct words, Whoosh's analyzer and FTS5's porter tokenizer stem "
                  f"{st['fts5'] * 100:.1f}% differently, Whoosh's and Tantivy's (Snowball English) {st['tantivy'] * 100:.1f}%:",
                  "a query word with the same stem everywhere can still match other documents (\"stemming of document words\")."]
        prof = p.get("newsfacet_profile")
        if prof:
            L += ["", "Where newsfacet's time goes on the kinds where a peer's p95 is lower (cProfile, share of",
                  "`NewsSearcher.search`'s cumulative time; steps overlap little; the profiler's per-call cost inflates",
                  "Python-heavy steps such as snippets against NumPy ones such as facet counts):", "",
                  "| kind | requests | " + " | ".join(STEPS) + " |", "|---|---|" + "---|" * len(STEPS)]
            for k, d in prof.items():
                L.append(f"| {k} | {d['requests']} | " + " | ".join(f"{d['share'].get(s, 0) * 100:.0f}%" for s in STEPS) + " |")
            heavy = sorted({s for d in prof.values() for s, v in d["share"].items() if v >= 0.2},
                           key=lambda s: -max(d["share"].get(s, 0) for d in prof.values()))
            if heavy:
                L += ["", "What it would take to close the gap, step by step (the steps above 20% of a kind's time):", ""]
                L += [f"- **{s}**: {REMEDIES[s]}" for s in heavy if s in REMEDIES]
        L.append("")
    faster = []
    for n, p in _by_size(psec):
        nf = p["latency"]["newsfacet"]["p95_ms"]
        for peer, label in PEERS.items():
            r = p["latency"][peer]["p95_ms"] / nf
            if r < 1:
                faster.append(f"{label} at {n:,} documents (p95 {r:.2f}× newsfacet's)")
    L += ["**Where a peer is faster:** " + ("; ".join(faster) + "." if faster else "nowhere in this run."), ""]
    return L


STEPS = tuple(dict.fromkeys(PROFILE_STEPS.values()))
REMEDIES = {
    "matching (postings)": "Whoosh stores each posting block as a pickle, decoded in Python before NumPy sees it; "
    "Tantivy and FTS5 read compressed integer blocks in compiled code. Closing it takes postings in an array format "
    "(written beside the generation at rebuild, as `facets.npz` is, and memory-mapped), or a compiled engine "
    "behind `search/` for matching while newsfacet keeps its facets and attribution.",
    "snippets": "Whoosh's highlighter re-analyses the text in Python for every result (`_snippet_region` already "
    "narrows it to one region); Tantivy's snippet generator does it in Rust. Closing it takes token offsets stored at "
    "indexing (or a highlighter in compiled code), or snippets for fewer results (loaded as the page scrolls).",
    "stored record (read + JSON)": "every result decodes the whole enriched record (Whoosh's stored fields, then "
    "JSON, quotes and entities included) where the page shows a few fields; a slim stored page record would cut it.",
    "facet counts": "one NumPy `bincount` per facet over the matched documents' pairs already; little to gain "
    "without giving up exact counts.",
    "date facet and histogram": "the month pairs are counted like a facet; little to gain.",
    "ranking the matches": "a full sort of the matched documents; `argpartition` of the top page would do.",
}


# What was changed for speed (issue 5), with before/after ratios measured on 2026-11-28 on the 20,000-document
# benchmark index, old and new code interleaved query by query in one process (bench/out, not re-measured by runs).
CHANGES = [
    "## What was changed for speed, and where Whoosh is the limit", "",
    "| change | before | after |", "|---|---|---|",
    "| matching: terms, And/Or/AndNot and phrases evaluated on whole posting blocks as NumPy arrays with Whoosh's own "
    "BM25F constants (`search/postings.py`), instead of a Python collector call per matched document | phrase 74 ms | 27 ms |",
    "| snippets: highlight only the region around the densest cluster of query words, found by a C regex on stem prefixes "
    "(Whoosh's highlighter analyses every token in Python, ~15 µs each) | 93 ms for a 6,000-word article | 1.7 ms |",
    "| segments written as separate files: Whoosh copies a compound segment's postings into memory on every searcher "
    "open | 145-218 ms per request | 0.55 ms |",
    "| facet arrays computed at rebuild/update and saved in the generation (`facets.npz`); a facet's counts from the matched "
    "documents' own pairs when few matched; only top candidates sorted | first search after a rebuild 2.3-2.8 s | 0.10-0.14 s |",
    "| all of the above, whole `NewsSearcher.search` (100 benchmark queries, 2 runs) | p95 275 / 430 ms | p95 94 / 116 ms (2.9-3.7×) |",
    "| body field without unused character offsets | | ~15% faster indexing, smaller postings |",
    "| enrichment: `doc.tensor` emptied after the analysis (workers shipped ~0.4 MB a Doc back); batches sized so both "
    "workers stay busy | | |",
    "| rebuild: facet arrays gathered from the documents as they are added (`FacetCollector`, comma keywords split in C) "
    "instead of reading every facet posting back after the commit | ~6% of a rebuild from the cache | <1% |",
    "| rebuild: the stored record and cached analyses through orjson (same JSON text), the record a shallow dict "
    "(`dataclasses.asdict` deep-copied every metadata list) | index ratio 0.82-0.86 (with the row above) | 0.92-1.00 a round |",
    "",
    "Whoosh remains the limit in two places: **indexing** (analysis and posting writing in pure Python: ~110-140",
    "docs/s on one idle core for ~1,000-word articles, 15-40 under load; ~95% of a rebuild from the cache is Whoosh's",
    "writer, the rest newsfacet's reading, cache lookups, hashing and the stored record), and **posting decoding** (each block",
    "is a pickle; a very common term at 100k documents is hundreds of blocks to unpickle even when only counted).",
    "`groupedby` is not a limit any more: it is not used.", "",
]


def limits_section(sec: dict) -> list[str]:
    """Where one machine stops being enough: newsfacet p95 extrapolated linearly in the number of documents."""
    pts = sorted((n, q["newsfacet"]["p95_ms"]) for n, q in _by_size(sec.get("queries")))
    if not pts:
        return []
    L = ["## Where one machine stops being enough", ""]
    if len(pts) >= 2 and pts[-1][1] > pts[0][1]:
        (n0, p0), (n1, p1) = pts[0], pts[-1]
        slope = (p1 - p0) / (n1 - n0)
        limit = n1 + (200 - p1) / slope if p1 < 200 else n0 + (200 - p0) / slope
        how = f"the slope between {n0:,} and {n1:,} documents ({slope * 1000:.2f} ms per 1,000 documents)"
    else:
        n1, p1 = pts[-1]
        slope = p1 / n1
        limit = 200 / slope
        how = f"p95 proportional to the document count from {n1:,} documents"
    L += [f"Every request scans arrays the size of the index and posting lists that grow with it, so p95 grows about",
          f"linearly. Extrapolating {how}, newsfacet's p95 passes the 200 ms target at about **{max(limit, 0):,.0f} articles**",
          "on this machine (under the load it had during the run). Rebuilds grow linearly too: at the rebuild rate above,",
          "a million articles is hours of Whoosh indexing. Past that point a sharded or distributed backend is needed.", ""]
    return L
