"""Peers a user would pick instead of newsfacet, side by side on the same documents and faceted requests.

- **SQLite FTS5**, built with sqlite-utils, facet counts by `GROUP BY` (how Datasette counts facets);
- **Tantivy** (the `tantivy` package), facet counts by terms aggregations over fast fields.

Each engine indexes the same records (replicas of the benchmark seeds, through `search.schema.to_document`, so
the text fields and facet values are newsfacet's own) and answers the same requests with the same work a
newsfacet search does: match the text, apply the facet and date filters, count every facet under the other
filters but not its own (top 10, count then value order), count years without the date filter, months for the
histogram, and return a page of 20 results (stored record decoded, a highlighted snippet).

Ranking is each engine's own (newsfacet: Whoosh's BM25F; FTS5: bm25() per column, title weight 2; Tantivy:
BM25 with title boost 2), so pages are not compared; totals and facet counts are, request by request.
"""
from __future__ import annotations

import cProfile
import json
import os
import pstats
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import dir_size_mb, log, now
from bench.data import OUT, replicate

ENGINES = ("newsfacet", "fts5", "tantivy")
TEXT = ("title", "body", "quotes")
# Whoosh's StemmingAnalyzer drops these (whoosh.analysis.STOP_WORDS); Tantivy is given the same list. FTS5 has
# no stop-word list: it indexes and matches them.
WHOOSH_STOP = ("a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "have", "if", "in", "is", "it",
               "may", "not", "of", "on", "or", "tbd", "that", "the", "this", "to", "us", "we", "when", "will", "with",
               "yet", "you", "your")


def facet_fields() -> dict[str, str]:
    """Public facet name -> document field, plus the month keyword (date facet and histogram)."""
    from search.schema import FACET_FIELDS, MONTH_FIELD

    return {**FACET_FIELDS, "month": MONTH_FIELD}


def keyword_values(raw: str) -> list[str]:
    """The values of a comma keyword field as newsfacet indexes them (schema.keyword_value wrote them)."""
    return [v.strip() for v in (raw or "").split(",") if v.strip()]


def documents(seeds: list[dict], n: int):
    """(document number, Whoosh document dict, facet values by facet) of the n benchmark records, in index order."""
    from search.schema import to_document

    fields = facet_fields()
    for i, rec in enumerate(replicate(seeds, n)):
        doc = to_document(rec)
        yield i, doc, {f: keyword_values(doc.get(fld, "")) for f, fld in fields.items()}


def day_number(d) -> int:
    """A date or datetime as days since 1970-01-01 (newsfacet's `facets.to_day`)."""
    from search.facets import to_day

    return to_day(d if not hasattr(d, "date") else d.date())


# ------------------------------------------------------------------------------------------- the request plan


@dataclass
class Outcome:
    """What a faceted request answers, as plain data to compare between engines."""

    total: int
    facets: dict  # facet -> [(value, count)], top `size`, count desc then value
    years: dict  # "YYYY" -> count, under every filter but the date's
    months: dict  # "YYYY-MM" -> count, under every filter (the histogram)
    page: list = field(default_factory=list)  # ids of the page, in the engine's order


def count_sets(req) -> list[tuple[tuple[str, ...], bool, tuple[str, ...]]]:
    """Which document sets a request counts over, as newsfacet defines them: (facets whose filters apply, whether
    the date range applies, what to count there). The first set is the final one (total, page, histogram)."""
    from search.query import FACETS

    filtered = tuple(f for f in FACETS if req.filters.get(f))
    dated = bool(req.date_from or req.date_to)
    final = (filtered, dated, tuple(f for f in FACETS if f not in filtered) + ("month",))
    sets = [final]
    for f in filtered:
        sets.append((tuple(g for g in filtered if g != f), dated, (f,)))
    if dated:
        sets.append((filtered, False, ("year",)))
    return sets


def top(counts: dict, size: int) -> list[tuple[str, int]]:
    """The `size` largest counts, ties in value order (newsfacet's facet order)."""
    return sorted(((v, c) for v, c in counts.items() if c), key=lambda vc: (-vc[1], vc[0]))[:size]


def years_of(months: dict) -> dict:
    """Month counts summed by year."""
    years: dict = {}
    for m, c in months.items():
        years[m[:4]] = years.get(m[:4], 0) + c
    return years


def text_parts(q: str) -> list[tuple[str, str]]:
    """The user's query as ("phrase", text) and ("word", text) parts, ANDed (the benchmark's queries are words and
    quoted phrases; newsfacet's parser reads them the same way)."""
    parts = []
    for m in re.finditer(r'"([^"]*)"|(\S+)', q):
        if m.group(1) is not None:
            if m.group(1).strip():
                parts.append(("phrase", m.group(1).strip()))
        else:
            parts.append(("word", m.group(2)))
    return parts


# ----------------------------------------------------------------------------------------------- newsfacet


class NewsfacetEngine:
    """newsfacet's own `NewsSearcher.search`, as the web and CLI call it, with the collection's name table off:
    the peers count the values as stored, so all three do the same work and their counts can agree (the table's
    own cost is in the queries section, which runs with it on)."""

    name = "newsfacet"

    def __init__(self, index_dir: Path):
        from search.config import Settings
        from search.query import open_searcher

        self.searcher = open_searcher(index_dir, Settings(index=Path(index_dir), canonical_names=False))

    def run(self, req):
        """The search, as the web page would run it."""
        return self.searcher.search(req)

    @staticmethod
    def outcome(res, req) -> Outcome:
        """The comparable part of a SearchResult."""
        facets = {}
        for f in res.facets:
            if f == "date":
                continue
            # active choices are appended after the top list even at count 0; the top list is what is compared
            rows = [r for r in res.facets[f]["results"][:req.facet_size] if r["count"]]
            facets[f] = top({r["value"]: r["count"] for r in rows}, req.facet_size)
        years = {r["value"]: r["count"] for r in res.facets["date"]["results"] if r["level"] == "year"}
        months = {h["month"]: h["count"] for h in res.histogram if h["count"]}
        return Outcome(res.total, facets, years, months, [r["id"] for r in res.results])

    def close(self):
        """Release the searcher."""
        self.searcher.close()


# --------------------------------------------------------------------------------------------------- FTS5


def build_fts5(seeds: list[dict], n: int, path: Path) -> dict:
    """An SQLite FTS5 database of the benchmark documents, built with sqlite-utils; seconds and size.

    Layout (the facet plan's tuning, see Fts5Engine): `docs` (rowid = newsfacet's document number, the stored
    record, the text columns FTS5 reads for snippets), `docs_fts` (FTS5, porter stemmer over unicode61, external
    content), `facet_values` (one integer id per facet value, numbered in value order), `doc_facets` (doc, facet,
    vid) as a WITHOUT ROWID table, so a document's pairs are one range of the primary key, plus an index by value
    for filters; `doc_days` (doc, day), narrow, for the date range. Months are a facet like the others.
    """
    import sqlite_utils

    if path.exists():
        path.unlink()
    t = now()
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE TABLE doc_facets (doc INTEGER, facet INTEGER, vid INTEGER, PRIMARY KEY (doc, facet, vid)) "
               "WITHOUT ROWID")
    facet_no = {f: k for k, f in enumerate(facet_fields())}
    values: dict[tuple[int, str], list[int]] = {}
    days = []

    def rows():
        for i, doc, fvals in documents(seeds, n):
            for f, vals in fvals.items():
                for v in dict.fromkeys(vals):
                    values.setdefault((facet_no[f], v), []).append(i)
            if doc.get("published") is not None:
                days.append({"doc": i, "day": day_number(doc["published"])})
            yield {"rowid": i, "id": doc["id"], "title": doc["title"], "body": doc["body"], "quotes": doc["quotes"],
                   "record": doc["record"]}

    db["docs"].insert_all(rows(), pk="rowid", batch_size=500)
    db["docs"].enable_fts(list(TEXT), tokenize="porter", create_triggers=False)
    # rank = bm25() with the title weighted as newsfacet boosts it (field_boost 2.0)
    db.execute("INSERT INTO docs_fts(docs_fts, rank) VALUES ('rank', 'bm25(2.0, 1.0, 1.0)')")
    ordered = sorted(values)
    db["facet_values"].insert_all(({"vid": k, "facet": fv[0], "value": fv[1]} for k, fv in enumerate(ordered)),
                                  pk="vid", batch_size=5000)
    db["doc_facets"].insert_all(({"doc": d, "facet": fv[0], "vid": k} for k, fv in enumerate(ordered)
                                 for d in values[fv]), batch_size=5000)
    db["doc_facets"].create_index(["vid", "doc"])
    db["doc_days"].insert_all(days, pk="doc", batch_size=5000)
    db["doc_days"].create_index(["day"])
    db["docs_fts"].optimize()
    db.analyze()
    db.conn.commit()
    secs = now() - t
    db.close()
    return {"seconds": round(secs, 2), "mb": round(os.path.getsize(path) / 1e6, 1), "threads": 1}


def fts5_expression(q: str) -> str:
    """The query as an FTS5 expression: words and phrases quoted (no FTS5 syntax inside), ANDed."""
    parts = []
    for kind, text in text_parts(q):
        words = re.findall(r"\w+", text)
        if words:
            parts.append('"' + " ".join(words) + '"')
    return " AND ".join(parts)


class Fts5Engine:
    """A faceted search in SQLite FTS5, as tuned as a careful Datasette user would tune it.

    Datasette's own plan re-runs the whole query under each facet (`select value, count(*) from (query) join
    json_each(column) group by value`), so a request with 7 facet lists runs the full-text match as often, over
    JSON. Tuned here: the match (with its bm25 rank) runs once per request into a temporary table; the facets of one
    document set are counted in one pass, `GROUP BY` over the integer (doc, facet, vid) primary key reached from
    each matched document (CROSS JOIN fixes that order: left to itself, the planner scanned every pair of the
    facet through the value index to spare a sort, 2.4x slower), top 10 per facet by a window function; filters
    are `IN` lists from the value index; the date range reads the narrow `doc_days`; ANALYZE statistics.
    """

    name = "fts5"

    def __init__(self, path: Path):
        import sqlite3

        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("PRAGMA temp_store=MEMORY")
        self.db.execute("PRAGMA cache_size=-262144")  # 256 MB page cache, as the OS cache holds Whoosh's files
        self.facet_no = {f: k for k, f in enumerate(facet_fields())}
        self.facet_names = {k: f for f, k in self.facet_no.items()}
        self.vids = {}
        for vid, f, v in self.db.execute("SELECT vid, facet, value FROM facet_values"):
            self.vids[(f, v)] = vid
        self.names = {vid: v for (f, v), vid in self.vids.items()}
        # Made once: creating a table changes the schema, which makes SQLite prepare every statement again.
        for t in ["base"] + [f"s{k}" for k in range(len(facet_fields()) + 2)]:
            self.db.execute(f"CREATE TEMP TABLE {t} (doc INTEGER PRIMARY KEY, score REAL)")

    def _filter_sql(self, req, facets: tuple[str, ...], dated: bool) -> tuple[str, list]:
        sql, args = [], []
        for f in facets:
            vids = [self.vids[k] for k in ((self.facet_no[f], v) for v in req.filters[f]) if k in self.vids]
            sql.append(f"m.doc IN (SELECT doc FROM doc_facets WHERE vid IN ({','.join('?' * len(vids))}))")
            args += vids
        if dated:
            lo = day_number(_date(req.date_from)) if req.date_from else -10**9
            hi = day_number(_date(req.date_to)) if req.date_to else 10**9
            sql.append("m.doc IN (SELECT doc FROM doc_days WHERE day BETWEEN ? AND ?)")
            args += [lo, hi]
        return (" WHERE " + " AND ".join(sql)) if sql else "", args

    def _count(self, table: str, facets: list[str], size: int) -> dict:
        """Every wanted facet of one document set in one pass: each matched document's pairs are one range of the
        (doc, facet, vid) primary key; top `size` per facet by a window over the groups (months: all)."""
        nos = [self.facet_no[f] for f in facets]
        month = self.facet_no["month"]
        # vids are numbered in value order: count desc, vid asc is newsfacet's order
        rows = self.db.execute(
            f"SELECT facet, vid, c FROM (SELECT d.facet AS facet, d.vid AS vid, count(*) AS c, row_number() OVER "
            f"(PARTITION BY d.facet ORDER BY count(*) DESC, d.vid) AS rn FROM {table} s CROSS JOIN doc_facets d "
            f"ON d.doc = s.doc WHERE d.facet IN ({','.join('?' * len(nos))}) GROUP BY d.facet, d.vid) "
            "WHERE rn <= ? OR facet = ? ORDER BY facet, rn", [*nos, size, month])
        out: dict = {f: [] for f in facets}
        names = self.facet_names
        for facet, vid, c in rows:
            out[names[facet]].append((self.names[vid], c))
        return out

    def run(self, req):
        """The whole faceted request; returns an Outcome."""
        db = self.db
        expr = fts5_expression(req.q)
        sets = count_sets(req)
        for t in ["base"] + [f"s{k}" for k in range(len(sets))]:
            db.execute(f"DELETE FROM temp.{t}")
        if expr:
            db.execute("INSERT INTO base SELECT rowid, rank FROM docs_fts WHERE docs_fts MATCH ?", (expr,))
        else:
            db.execute("INSERT INTO base SELECT rowid, 0 FROM docs")
        facets: dict = {}
        total, months, years, page = 0, {}, {}, []
        for k, (filtered, dated, what) in enumerate(sets):
            where, args = self._filter_sql(req, filtered, dated)
            table = f"temp.s{k}"
            db.execute(f"INSERT INTO {table} SELECT m.doc, m.score FROM base m{where}", args)
            counted = self._count(table, ["month" if f == "year" else f for f in what], req.facet_size)
            for f in what:
                if f == "month":
                    months = dict(counted["month"])
                elif f == "year":
                    years = years_of(dict(counted["month"]))
                else:
                    facets[f] = counted[f]
            if k == 0:
                total = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                ids = [d for d, in db.execute(
                    f"SELECT s.doc FROM {table} s LEFT JOIN doc_days d ON d.doc = s.doc "
                    "ORDER BY s.score, d.day DESC LIMIT ?", (req.page_size,))]
                page = self._page(expr, ids)
        if not (req.date_from or req.date_to):
            years = years_of(months)
        return Outcome(total, facets, years, months, page)

    def _page(self, expr: str, ids: list[int]) -> list[str]:
        """The page's records and snippets (FTS5's snippet() over the body), in rank order."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        if expr:
            rows = self.db.execute(
                f"SELECT f.rowid, d.record, snippet(docs_fts, 1, '<mark>', '</mark>', ' … ', 32) FROM docs_fts f "
                f"JOIN docs d ON d.rowid = f.rowid WHERE docs_fts MATCH ? AND f.rowid IN ({marks})", [expr, *ids])
        else:
            rows = self.db.execute(f"SELECT rowid, record, substr(body, 1, 240) FROM docs WHERE rowid IN ({marks})", ids)
        got = {rowid: (json.loads(record), snippet) for rowid, record, snippet in rows}
        return [got[i][0]["id"] for i in ids if i in got]

    def close(self):
        """Close the database."""
        self.db.close()


def _date(s: str):
    from datetime import date

    return date.fromisoformat(s)


# ------------------------------------------------------------------------------------------------ Tantivy


def tantivy_analyzer():
    """Close to Whoosh's StemmingAnalyzer: words, lower case, Whoosh's stop words, English stemmer (Tantivy's is
    Snowball's English, a successor of the Porter stemmer Whoosh and FTS5 use)."""
    import tantivy as tv

    return (tv.TextAnalyzerBuilder(tv.Tokenizer.simple()).filter(tv.Filter.lowercase())
            .filter(tv.Filter.custom_stopword(list(WHOOSH_STOP))).filter(tv.Filter.stemmer("english")).build())


def _tantivy_schema():
    import tantivy as tv

    sb = tv.SchemaBuilder()
    sb.add_text_field("title", stored=False, tokenizer_name="news")
    sb.add_text_field("body", stored=True, tokenizer_name="news")  # stored: the snippet generator reads it
    sb.add_text_field("quotes", stored=False, tokenizer_name="news")
    for fld in facet_fields().values():
        sb.add_text_field(fld, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("day", indexed=True, fast=True)
    sb.add_bytes_field("record", stored=True)
    return sb.build()


def build_tantivy(seeds: list[dict], n: int, path: Path, threads: int = 2) -> dict:
    """A Tantivy index of the benchmark documents; seconds and size. Facet fields are multi-valued raw text fast
    fields (what terms aggregations count), the published day an integer fast field for ranges."""
    import tantivy as tv

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    t = now()
    ix = tv.Index(_tantivy_schema(), path=str(path))
    ix.register_tokenizer("news", tantivy_analyzer())
    fields = facet_fields()
    w = ix.writer(heap_size=256_000_000, num_threads=threads)
    for _, doc, fvals in documents(seeds, n):
        d = tv.Document()
        for f in TEXT:
            d.add_text(f, doc[f])
        for f, fld in fields.items():
            for v in fvals[f]:
                d.add_text(fld, v)
        if doc.get("published") is not None:
            d.add_integer("day", day_number(doc["published"]))
        d.add_bytes("record", doc["record"].encode("utf-8"))
        w.add_document(d)
    w.commit()
    w.wait_merging_threads()
    secs = now() - t
    return {"seconds": round(secs, 2), "mb": round(dir_size_mb(path), 1), "threads": threads}


class TantivyEngine:
    """A faceted search in Tantivy: one search for the page and total, terms aggregations for the counts."""

    name = "tantivy"

    def __init__(self, path: Path):
        import tantivy as tv

        self.tv = tv
        self.ix = tv.Index.open(str(path))
        self.ix.register_tokenizer("news", tantivy_analyzer())
        self.schema = self.ix.schema
        self.searcher = self.ix.searcher()
        self.fields = facet_fields()

    def _text(self, q: str):
        parts = []
        for kind, text in text_parts(q):
            words = re.findall(r"\w+", text)
            if words:
                parts.append(words[0] if kind == "word" and len(words) == 1 else '"' + " ".join(words) + '"')
        if not parts:
            return self.tv.Query.all_query()
        return self.ix.parse_query(" ".join(parts), list(TEXT), field_boosts={"title": 2.0},
                                   conjunction_by_default=True)

    def _query(self, text, req, facets: tuple[str, ...], dated: bool):
        tv = self.tv
        clauses = [(tv.Occur.Must, text)]
        for f in facets:
            clauses.append((tv.Occur.Must, tv.Query.term_set_query(self.schema, self.fields[f], req.filters[f])))
        if dated:
            lo = day_number(_date(req.date_from)) if req.date_from else None
            hi = day_number(_date(req.date_to)) if req.date_to else None
            clauses.append((tv.Occur.Must, tv.Query.range_query(self.schema, "day", tv.FieldType.Integer, lo, hi)))
        return tv.Query.boolean_query(clauses) if len(clauses) > 1 else text

    def run(self, req):
        """The whole faceted request; returns an Outcome."""
        s = self.searcher
        text = self._text(req.q)
        facets: dict = {}
        total, months, years, page = 0, {}, {}, []
        for k, (filtered, dated, what) in enumerate(count_sets(req)):
            q = self._query(text, req, filtered, dated)
            aggs = {}
            for f in what:
                fld = self.fields["month" if f == "year" else f]
                # a few more than shown, so values tied at the cut can be put in value order
                size = 100_000 if f in ("month", "year") else req.facet_size + 10
                aggs[f] = {"terms": {"field": fld, "size": size}}
            got = s.aggregate(q, aggs)
            for f in what:
                counts = {b["key"]: b["doc_count"] for b in got[f]["buckets"]}
                if f == "month":
                    months = counts
                elif f == "year":
                    years = years_of(counts)
                else:
                    facets[f] = top(counts, req.facet_size)
            if k == 0:
                res = s.search(q, limit=req.page_size, count=True)
                total = res.count
                page = self._page(q, res.hits)
        if not (req.date_from or req.date_to):
            years = years_of(months)
        return Outcome(total, facets, years, months, page)

    def _page(self, q, hits) -> list[str]:
        tv = self.tv
        if not hits:
            return []
        gen = tv.SnippetGenerator.create(self.searcher, q, self.schema, "body")
        gen.set_max_num_chars(240)
        ids = []
        for _, addr in hits:
            doc = self.searcher.doc(addr)
            gen.snippet_from_doc(doc).to_html()
            ids.append(json.loads(doc.get_first("record"))["id"])
        return ids

    def close(self):
        """Nothing to release (the searcher is dropped with the engine)."""


# ------------------------------------------------------------------------------------------- comparing


def same_top(a: list, b: list) -> bool:
    """Two top lists agree: the same counts in order, and the same values above the lowest count shown (values
    tied at the cut may differ: any of them is a right answer)."""
    if [c for _, c in a] != [c for _, c in b]:
        return False
    if not a:
        return True
    last = a[-1][1]
    return {x for x in a if x[1] > last} == {x for x in b if x[1] > last}


def agreement(ref: Outcome, other: Outcome) -> dict:
    """Which parts of two engines' answers to one request agree."""
    facets_ok = all(same_top(ref.facets.get(f, []), other.facets.get(f, [])) for f in set(ref.facets) | set(other.facets))
    return {"total": ref.total == other.total, "facets": facets_ok,
            "dates": ref.years == other.years and ref.months == other.months}


def fts5_terms(text: str) -> list[str]:
    """The terms FTS5's porter tokenizer makes of a text (read back through an fts5vocab table)."""
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.execute("INSERT INTO t(x) VALUES (?)", (text,))
    terms = [t for t, in db.execute("SELECT term FROM v ORDER BY offset")]
    db.close()
    return terms


def why_differs(q: str, peer: str) -> str:
    """A likely cause when an engine's answer differs from newsfacet's, from the query's own words: stop words
    (Whoosh drops them, and closes the gap in phrase positions), tokenisation of words with digits or marks,
    the stemmer (Tantivy's Snowball against Whoosh's Porter), or phrase matching."""
    from search.schema import build_schema

    parts = text_parts(q)
    whoosh = build_schema()["body"].analyzer
    words = [w for _, t in parts for w in re.findall(r"\w+", t)]
    if any(w.lower() in WHOOSH_STOP for w in words):
        return "stop word in the query (Whoosh drops it)"
    if any(not re.fullmatch(r"[A-Za-z]+", w) for w in words):
        return "tokenisation (digits, accents or marks in a word)"
    theirs = tantivy_analyzer().analyze if peer == "tantivy" else fts5_terms
    if any([t.text for t in whoosh(w)] != theirs(w) for w in words):
        return "stemming (the engines' stems of a query word differ)"
    if any(kind == "phrase" for kind, _ in parts):
        return "phrase (Whoosh removes stop words and matches across them)"
    # same stem for the query word: the engines stem some words of the documents differently (stem_disagreement)
    return "stemming of document words"


def stem_disagreement(seeds: list[dict]) -> dict:
    """Share of the seeds' distinct words that Whoosh's analyzer and each peer's stem differently."""
    import sqlite3
    from collections import Counter

    from search.schema import build_schema

    whoosh = build_schema()["body"].analyzer
    words = list(Counter(w.lower() for r in seeds for w in re.findall(r"[A-Za-z]{3,}", r.get("text") or "")))
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(words))
    fts = {words[doc]: [term] for term, doc in db.execute("SELECT term, doc FROM v")}
    db.close()
    tantivy = tantivy_analyzer()
    mine = {w: [t.text for t in whoosh(w)] for w in words}
    return {"words": len(words),
            "fts5": round(sum(mine[w] != fts.get(w, []) for w in words) / max(len(words), 1), 4),
            "tantivy": round(sum(mine[w] != tantivy.analyze(w) for w in words) / max(len(words), 1), 4)}


# -------------------------------------------------------------------------------------------- the run


def _timed(fn, req) -> tuple[float, object]:
    t = now()
    out = fn(req)
    return (now() - t) * 1000, out


def compare(engines: dict, queries: list[dict], warm: int = 5) -> dict:
    """Every request through every engine, interleaved (rotating which goes first), after a warm-up; latencies
    and answers."""
    from search.query import parse_request

    reqs = [parse_request(qd["args"])[0] for qd in queries]
    for req in reqs[:warm]:
        for e in engines.values():
            e.run(req)
    names = list(engines)
    times = {n: [] for n in names}
    answers = {n: [] for n in names}
    for i, req in enumerate(reqs):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            ms, out = _timed(engines[name].run, req)
            times[name].append(ms)
            answers[name].append(NewsfacetEngine.outcome(out, req) if name == "newsfacet" else out)
    return {"times": times, "answers": answers, "requests": reqs}


# newsfacet's steps (functions of search/query.py and search/facets.py) -> what they do
PROFILE_STEPS = {"_match": "matching (postings)", "top": "facet counts", "month_counts": "date facet and histogram",
                 "_order": "ranking the matches", "_snippet": "snippets", "_record": "stored record (read + JSON)"}


def profile_newsfacet(engine: NewsfacetEngine, reqs: list, kinds: list[str]) -> dict:
    """Where a newsfacet search spends its time, by step and query kind (cProfile, cumulative seconds)."""
    out = {}
    for kind in sorted(set(kinds)):
        prof = cProfile.Profile()
        mine = [r for r, k in zip(reqs, kinds) if k == kind]
        t = now()
        prof.enable()
        for req in mine:
            engine.run(req)
        prof.disable()
        wall = now() - t
        stats = pstats.Stats(prof)
        share = {}
        for (filename, _, func), (_, _, _, cum, _) in stats.stats.items():
            if func in PROFILE_STEPS and ("search/query.py" in filename or "search/facets.py" in filename):
                share[PROFILE_STEPS[func]] = share.get(PROFILE_STEPS[func], 0.0) + cum
        total = sum(st[3] for key, st in stats.stats.items() if key[2] == "search" and "search/query.py" in key[0])
        out[kind] = {"requests": len(mine), "profiled_s": round(wall, 2), "search_s": round(total, 3),
                     "share": {k: round(v / total, 3) if total else 0.0 for k, v in
                               sorted(share.items(), key=lambda kv: -kv[1])}}
    return out


def peer_bench(seeds: list[dict], n: int, queries: list[dict], index_dir: Path, newsfacet_build: dict) -> dict:
    """Build the peers on the n documents, run the requests through all three engines, compare answers."""
    from bench.querybench import latency

    work = OUT / f"peers-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    builds = {"newsfacet": {"seconds": newsfacet_build.get("seconds"), "threads": newsfacet_build.get("writer_procs"),
                            "this_run": newsfacet_build.get("this_run"), "date": newsfacet_build.get("date"),
                            "mb": None}}
    log(f"peers: building SQLite FTS5 on {n:,} documents ...")
    builds["fts5"] = build_fts5(seeds, n, work / "fts5.sqlite")
    log(f"  {builds['fts5']}")
    log(f"peers: building Tantivy on {n:,} documents ...")
    builds["tantivy"] = build_tantivy(seeds, n, work / "tantivy")
    log(f"  {builds['tantivy']}")
    from search.indexer import live_generation

    builds["newsfacet"]["mb"] = round(dir_size_mb(live_generation(index_dir)), 1)
    engines = {"newsfacet": NewsfacetEngine(index_dir), "fts5": Fts5Engine(work / "fts5.sqlite"),
               "tantivy": TantivyEngine(work / "tantivy")}
    try:
        log(f"peers: {len(queries)} requests through {', '.join(engines)} ...")
        got = compare(engines, queries)
        kinds = [q["kind"] for q in queries]
        out = {"docs": n, "requests": len(queries), "build": builds, "latency": {}, "by_kind": {}, "agreement": {},
               "stems_differ": stem_disagreement(seeds)}
        for name, ms in got["times"].items():
            out["latency"][name] = latency(ms)
            out["by_kind"][name] = {k: latency([m for m, kk in zip(ms, kinds) if kk == k]) for k in sorted(set(kinds))}
        ref = got["answers"]["newsfacet"]
        for peer in ("fts5", "tantivy"):
            rows = [agreement(a, b) for a, b in zip(ref, got["answers"][peer])]
            causes: dict = {}
            for qd, row in zip(queries, rows):
                if not all(row.values()):
                    why = why_differs(qd["args"]["q"][0], peer)
                    causes.setdefault(qd["kind"], {}).setdefault(why, 0)
                    causes[qd["kind"]][why] += 1
            both = [r for r in rows if r["total"]]
            out["agreement"][peer] = {
                "requests": len(rows),
                "totals": sum(r["total"] for r in rows),
                "facets": sum(r["facets"] for r in rows),
                "dates": sum(r["dates"] for r in rows),
                "all": sum(all(r.values()) for r in rows),
                # where totals agree, do the counts? (they should: same documents, same values)
                "facets_where_totals_agree": f"{sum(r['facets'] for r in both)}/{len(both)}",
                "by_kind": {k: f"{sum(r['total'] for r, kk in zip(rows, kinds) if kk == k)}/{kinds.count(k)}"
                            for k in sorted(set(kinds))},
                "causes": causes,
            }
            # The differing requests' words stay on this terminal: queries are the corpus's words, never written
            # into the repository.
            for i, (qd, row) in enumerate(zip(queries, rows)):
                if not all(row.values()):
                    log(f"  {peer} differs {row} kind={qd['kind']} q={qd['args']['q'][0]!r} "
                        f"totals nf={ref[i].total} {peer}={got['answers'][peer][i].total}")
        trails = [k for k in sorted(set(kinds)) if any(
            out["by_kind"][p][k]["p95_ms"] < out["by_kind"]["newsfacet"][k]["p95_ms"] for p in ("fts5", "tantivy"))]
        if trails:
            log(f"peers: profiling newsfacet on the kinds where a peer's p95 is lower: {trails} ...")
            sel = [i for i, k in enumerate(kinds) if k in trails]
            out["newsfacet_profile"] = profile_newsfacet(engines["newsfacet"], [got["requests"][i] for i in sel],
                                                         [kinds[i] for i in sel])
        return out
    finally:
        for e in engines.values():
            e.close()
        shutil.rmtree(work, ignore_errors=True)
