"""The OpenSearch backend against a real cluster (scripts/opensearch.sh), and against the Whoosh backend.

Tests marked `cluster` start a one-node cluster once per session (tests/conftest.py: opensearch_cluster);
without Java and Maven they are skipped with a message saying how to run them.
"""
from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from conftest import TINY, make_record
from hypothesis import given, strategies as st
from opensearch_cluster import SCRIPT, missing_tools
from servers import serving
from warm_cache import cli_env, prewarm, run_newsfacet

from search.backend import get_backend
from search.config import Settings, load_settings
from search.contracts import IndexMissing, parse_request
from search.indexer import IndexBusy

ROOT = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------ without a cluster


def test_settings_and_cli_options_choose_the_cluster(monkeypatch):
    monkeypatch.setenv("NEWSFACET_BACKEND", "opensearch")
    monkeypatch.setenv("NEWSFACET_OPENSEARCH_URL", "https://a.example:9200,https://b.example:9200")
    monkeypatch.setenv("NEWSFACET_OPENSEARCH_INDEX", "archive")
    monkeypatch.setenv("NEWSFACET_OPENSEARCH_PASSWORD", "s3cret-pw")
    s = load_settings()
    assert (s.backend, s.opensearch_url, s.opensearch_index) == ("opensearch", "https://a.example:9200,https://b.example:9200",
                                                                 "archive")
    assert s.opensearch_password == "s3cret-pw" and "s3cret-pw" not in repr(s)


def test_credentials_never_appear_in_what_is_printed():
    from search.opensearch.connection import describe, make_client, redact

    s = replace(Settings(), opensearch_url="https://editor:pa55word@search.example:9200/os", opensearch_index="news")
    assert redact(s.opensearch_url) == "https://search.example:9200/os"
    assert describe(s) == "OpenSearch alias 'news' at https://search.example:9200/os"
    client = make_client(s)  # credentials from the URL become basic auth, not part of the host
    conn = client.transport.connection_pool.connections[0]
    assert conn.host == "https://search.example:9200" and conn.url_prefix == "/os"
    assert "pa55word" not in repr(conn.host) and conn.headers["authorization"].startswith("Basic ")


def test_a_bad_url_is_a_usage_error_naming_the_setting(tmp_path):
    from click.testing import CliRunner

    from search.cli import main

    result = CliRunner().invoke(main, ["--index", str(tmp_path), "--backend", "opensearch", "--opensearch-url",
                                       "ftp://x:pw@host", "stats"])
    assert result.exit_code == 2 and "NEWSFACET_OPENSEARCH_URL" in result.output and "pw" not in result.output


def test_the_parsed_query_becomes_term_level_dsl():
    from search.opensearch.request import translate
    from search.query import build_query
    from search.schema import build_schema

    schema = build_schema()

    def dsl(text):
        return translate(build_query(text, schema, []))

    def any_field(kind, value):
        boosts = {"title": 2.0, "body": 1.0, "quotes": 1.0}
        if kind == "term":
            return [{"term": {f: {"value": value, "boost": boosts[f]}}} for f in ("title", "body", "quotes")]
        return [{kind: {f: {"value": value}}} for f in ("title", "body", "quotes")]

    assert dsl("Elections") == {"bool": {"should": any_field("term", "elect"), "minimum_should_match": 1}}
    assert dsl("title:budget NOT tax") == {"bool": {
        "must": [{"term": {"title": {"value": "budget", "boost": 2.0}}}],
        "must_not": [{"bool": {"should": any_field("term", "tax"), "minimum_should_match": 1}}]}}
    assert dsl('body:"the bank of england"') == {
        "span_near": {"clauses": [{"span_term": {"body": "bank"}}, {"span_term": {"body": "england"}}],
                      "slop": 0, "in_order": True}}
    assert dsl('body:"cold wet windy"~3') == {"span_near": {"clauses": [
        {"span_near": {"clauses": [{"span_term": {"body": "cold"}}, {"span_term": {"body": "wet"}}], "slop": 2,
                       "in_order": True}},
        {"span_term": {"body": "windi"}}], "slop": 2, "in_order": True}}
    prefix = dsl("budget minist*")["bool"]["must"][1]
    assert prefix == {"bool": {"should": any_field("prefix", "minist"), "minimum_should_match": 1}}
    assert dsl("budget ANDMAYBE tax")["bool"]["should"][0]["bool"]["should"] == any_field("term", "tax")


def _fake_tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)


@pytest.mark.skipif(bool(missing_tools()), reason="scripts/opensearch.sh needs Java, Maven, curl and unzip")
def test_the_script_reports_a_failed_download_with_maven_s_words(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    _fake_tool(fake, "mvn", "echo '[ERROR] Could not transfer artifact from central: Connection refused'; exit 1")
    home = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="newsfacet-os-fail-"))
    try:
        home.chmod(0o755)
        env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "NEWSFACET_OPENSEARCH_HOME": str(home / "h"),
               "NEWSFACET_OPENSEARCH_DIST": str(home / "dist"), "NEWSFACET_OPENSEARCH_PORT": "29900"}
        proc = subprocess.run(["bash", str(SCRIPT), "start", "1"], env=env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 1 and proc.stdout == ""
        assert "Connection refused" in proc.stderr
        assert "error: could not download OpenSearch 2.19.6 with Maven" in proc.stderr
        usage = subprocess.run(["bash", str(SCRIPT), "launch"], env=env, capture_output=True, text=True)
        assert usage.returncode == 2 and "start [N]" in usage.stderr
    finally:
        subprocess.run(["rm", "-rf", str(home)])


# ------------------------------------------------------------------ with a one-node cluster

def _settings(opensearch_cluster, tmp_path, alias: str, **kw) -> Settings:
    return replace(Settings(index=tmp_path / "local"), backend="opensearch", opensearch_url=opensearch_cluster.urls,
                   opensearch_index=alias, **kw)


@pytest.mark.slow
def test_a_node_that_cannot_start_fails_with_its_log(opensearch_cluster):
    home = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="newsfacet-os-bad-"))
    try:
        home.chmod(0o755)
        env = {**os.environ, "NEWSFACET_OPENSEARCH_HOME": str(home), "NEWSFACET_OPENSEARCH_PORT": "29800",
               "NEWSFACET_OPENSEARCH_HEAP": "12q"}
        proc = subprocess.run(["bash", str(SCRIPT), "start", "1"], env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 1 and proc.stdout == ""
        assert "Invalid initial heap size: -Xms12q" in proc.stderr
        assert "error: node nf-0 exited while starting" in proc.stderr
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", "--wipe"], env=env, capture_output=True)
        subprocess.run(["rm", "-rf", str(home)])


def _analyze(urls: str, texts: list[str], analyzer: str, index: str) -> list[list[tuple[str, int]]]:
    url = urls.split(",")[0]
    out = []
    for text in texts:
        tokens = requests.post(f"{url}/{index}/_analyze", json={"analyzer": analyzer, "text": text},
                               timeout=60).json()["tokens"]
        out.append([(t["token"], t["position"]) for t in tokens])
    return out


@pytest.fixture(scope="module")
def analysis_index(opensearch_cluster):
    """An index with newsfacet's analysis, and an analyzer of the stem filters alone."""
    from search.opensearch.analysis import analysis_settings, stem_filters

    url = opensearch_cluster.urls.split(",")[0]
    analysis = analysis_settings()
    analysis["analyzer"]["stems_only"] = {"type": "custom", "tokenizer": "whitespace",
                                          "filter": [name for name, _ in stem_filters()]}
    requests.delete(f"{url}/analysis-check", timeout=60)
    r = requests.put(f"{url}/analysis-check", json={"settings": {"number_of_shards": 1, "number_of_replicas": 0,
                                                                  "analysis": analysis}}, timeout=60)
    assert r.status_code == 200, r.text
    return "analysis-check"


def _relative(tokens):
    return [(t, p - tokens[0][1]) for t, p in tokens] if tokens else []


def test_the_analyzer_cuts_drops_and_stems_as_whoosh_on_the_corpus(opensearch_cluster, analysis_index):
    import json

    from whoosh.analysis import StemmingAnalyzer
    from whoosh.analysis.tokenizers import default_pattern

    from search.opensearch.analysis import ANALYZER, WHOOSH_TOKEN

    assert default_pattern.pattern == WHOOSH_TOKEN  # the pattern mirrored is Whoosh's own
    from conftest import CORPUS

    if not CORPUS.exists():
        pytest.skip(f"Wikinews corpus not found at {CORPUS} (set NEWSFACET_SHARED)")
    texts = []
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            texts.append(d["title"] + "\n" + d["text"])
    texts += ["Written fresh: U.S. x.the a.b.c _x_ 3.14 p***y *** déjà-vu Ærø naïve ÉCOLE the END of it",
              "An I, a Y, yo-yo, yelling yearly; hopping hoped hoping; agreed feed bled; ization ational."]
    ana = StemmingAnalyzer()
    expected = [_relative([(t.text, t.pos) for t in ana(text, positions=True)]) for text in texts]
    got = [_relative(tokens) for tokens in _analyze(opensearch_cluster.urls, texts, ANALYZER, analysis_index)]
    differing = [(i, [p for p in zip(e, g) if p[0] != p[1]][:3]) for i, (e, g) in enumerate(zip(expected, got))
                 if e != g]
    assert differing == []
    assert sum(len(e) for e in expected) > 100_000


@given(words=st.lists(st.text(alphabet="aeiouybcdlmnrstzgwxYs", min_size=1, max_size=14), min_size=50,
                     max_size=200))
def test_the_stem_filters_are_whoosh_s_porter_stemmer(words, opensearch_cluster, analysis_index):
    from whoosh.lang.porter import stem

    words = [w.lower() for w in words]
    url = opensearch_cluster.urls.split(",")[0]
    tokens = requests.post(f"{url}/{analysis_index}/_analyze", json={"analyzer": "stems_only",
                                                                      "text": " ".join(words)}, timeout=60).json()
    got = [t["token"] for t in tokens["tokens"]]
    assert got == [stem(w) if len(w) > 2 else w for w in words]


# -- the same corpus in both backends


def _variants(names: dict) -> dict[str, list[str]]:
    """{facet: spellings the collection's name table resolves to another value} from Searcher.names()."""
    out = {}
    for kind, facet in (("persons", "person"), ("organizations", "org"), ("places", "place"), ("speakers", "speaker")):
        out[facet] = [v for g in names[kind] for v in g["variants"] if not v.endswith(")")]
    return out


def _requests_for(stats: dict, variants: dict | None = None) -> list[dict]:
    """Filtered requests built from the corpus's own most frequent values (nothing of the corpus hard-coded), and
    choices of spellings the name table resolves to another value (a variant chooses its canonical value)."""
    sp = [t["value"] for t in stats["top_speakers"]]
    pe = [t["value"] for t in stats["top_persons"]]
    pl = [t["value"] for t in stats["top_places"]]
    org = [t["value"] for t in stats["top_organizations"]]
    year = stats["first"][:4]
    last = stats["last"][:4]
    return [
        {},
        {"sort": "oldest"},
        {"speaker": sp[:1]},
        {"place": pl[:2]},
        {"place": pl[:1], "not_org": org[:1]},
        {"person": pe[:2], "place": pl[1:2], "sort": "oldest"},
        {"not_place": pl[:3], "org": org[:2]},
        {"from": year, "to": last},
        {"from": f"{last}-01", "to": f"{last}-06", "place": pl[:1]},
        {"not_speaker": sp[:2], "from": year},
        {"q": "said"},
        {"q": "said", "speaker": sp[:1], "facet_size": 50},
        {"q": "president", "place": pl[:1]},
        {"q": "police OR army", "not_place": pl[:1]},
        {"q": '"prime minister"'},
        {"q": '"prime minister"~3 government'},
        {"q": "government NOT election", "from": year},
        {"q": "title:police"},
        {"q": "government minist*"},
        {"q": "government minist?r"},
        {"q": "elections ANDMAYBE vote", "org": org[:1]},
        {"q": "the of"},
        {"q": "xqzzyv"},
    ] + [{facet: values[:2]} for facet, values in (variants or {}).items() if values] + \
        [{"not_" + facet: values[:1]} for facet, values in (variants or {}).items() if values]


def _parse(args: dict):
    facet_size = args.pop("facet_size", None)
    req, messages = parse_request({k: v if isinstance(v, list) else [v] for k, v in args.items()})
    if facet_size:
        req.facet_size = facet_size
    return req, messages


@pytest.mark.slow
@pytest.mark.model
def test_both_backends_count_every_facet_alike_on_wikinews(wikinews_index, wikinews_opensearch):
    """Both engines show the collection's canonical names (search/nametable.py) alike: stats, facets, filters by a
    canonical value or a variant of it, records, exports and the names listing."""
    os_settings, _ = wikinews_opensearch
    whoosh = get_backend(Settings(index=wikinews_index))
    opensearch = get_backend(os_settings)
    with whoosh.open_searcher() as w, opensearch.open_searcher() as o:
        ws, os_ = w.stats(), o.stats()
        assert {k: v for k, v in os_.items() if k != "generation"} == {k: v for k, v in ws.items() if k != "generation"}
        assert ws["quotes"] and ws["clusters"]["clusters"]
        names = w.names(50)
        assert o.names(50) == names
        variants = _variants(names)
        assert sum(map(len, variants.values())) >= 3, variants  # the corpus has names written several ways
        compared = 0
        for args in _requests_for(ws, variants):
            req, messages = _parse(dict(args))
            ra, rb = copy.deepcopy(req), copy.deepcopy(req)
            a, b = w.search(ra, messages), o.search(rb, messages)
            where = f"request {args}"
            assert (rb.filters, rb.exclude) == (ra.filters, ra.exclude), where  # the values chosen, as shown
            assert (b.total, b.pages, b.messages) == (a.total, a.pages, a.messages), where
            assert b.facets == a.facets, where
            assert b.histogram == a.histogram, where
            rows_a, rows_b = list(w.iter_matching(copy.deepcopy(req))), list(o.iter_matching(copy.deepcopy(req)))
            matching_a, matching_b = [r["id"] for r in rows_a], [r["id"] for r in rows_b]
            for key in ("person", "date"):
                contains = ws["top_persons"][0]["value"].split()[-1][1:4].upper() if key == "person" else None
                assert o.facet(copy.deepcopy(req), key, 30, contains) == w.facet(copy.deepcopy(req), key, 30, contains), \
                    (where, key, contains)
            if not req.q or req.q in ("the of", "xqzzyv"):
                # no words: the same articles in the same order (the same export rows), page by page
                assert rows_b == rows_a, where
                assert list(o.iter_matching(copy.deepcopy(req), limit=7)) == rows_a[:7], where
                for page in range(1, min(a.pages, 3) + 1):
                    req.page = page
                    assert [r["id"] for r in o.search(copy.deepcopy(req)).results] == \
                        [r["id"] for r in w.search(copy.deepcopy(req)).results], where
            else:
                assert sorted(matching_b) == sorted(matching_a), where
            compared += 1
        assert compared == len(_requests_for(ws, variants))
        first = next(w.iter_matching(parse_request({})[0]))["id"]
        # each backend first indexed it at its own time
        assert {**o.article(first), "indexed": None} == {**w.article(first), "indexed": None}
        assert o.article(first)["indexed"] and w.article(first)["indexed"]
        for variant in variants["person"][:3]:  # a record naming a variant shows its canonical value on both
            req, _ = _parse({"person": [variant]})
            for r in list(w.iter_matching(copy.deepcopy(req), limit=2)):
                assert {**o.article(r["id"]), "indexed": None} == {**w.article(r["id"]), "indexed": None}
    # with the table off (Settings.canonical_names), both show the values as written
    with get_backend(Settings(index=wikinews_index, canonical_names=False)).open_searcher() as w, \
            get_backend(replace(os_settings, canonical_names=False)).open_searcher() as o:
        ws = w.stats()
        assert {k: v for k, v in o.stats().items() if k != "generation"} == \
            {k: v for k, v in ws.items() if k != "generation"}
        for args in _requests_for(ws)[:8]:
            req, messages = _parse(dict(args))
            a, b = w.search(copy.deepcopy(req), messages), o.search(copy.deepcopy(req), messages)
            assert (b.total, b.facets, [r["id"] for r in b.results]) == (a.total, a.facets, [r["id"] for r in a.results])


def _quote_requests(stats: dict, facets: dict, speakers: list[str]) -> list[dict]:
    """Filtered quote requests built from the corpus's own most frequent values (nothing of it hard-coded), and
    speakers written in a way the name table resolves to another value."""
    sp = [t["value"] for t in stats["top_speakers"]]
    src = [v["value"] for v in facets["source"]["results"]]
    year, last = stats["first"][:4], stats["last"][:4]
    return [
        {}, {"sort": "oldest"}, {"sort": "newest", "page": "3"}, {"speaker": sp[:1]}, {"speaker": sp[:3], "kind": "direct"},
        {"not_speaker": sp[:2], "source": src[:1]}, {"kind": "indirect", "from": year, "to": last},
        {"q": "said"}, {"q": "government OR police", "not_source": src[:1]}, {"q": '"prime minister"'},
        {"q": "minist*", "speaker": sp[:1]}, {"q": "the of"}, {"q": "title:police"}, {"size": "100", "page": "2"},
    ] + [{"speaker": speakers[:2]}, {"not_speaker": speakers[:1]}] * bool(speakers)


def _strip(x):
    """An answer without what differs by design: first-indexed times, the snippet's markup, timings."""
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in ("indexed", "snippet", "took_ms")}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


@pytest.mark.slow
@pytest.mark.model
def test_both_backends_answer_quote_search_alike_on_wikinews(wikinews_index, wikinews_opensearch):
    """Quote search on the same corpus: totals (rows and quotes), every facet, the clusters and their members,
    trails, exports and speaker pages; rows in the same order when no words rank them."""
    from search.contracts import parse_quote_request
    from tests.test_opensearch_quotes import os_clusters
    from tests.test_quote_search import cluster_sets

    os_settings, _ = wikinews_opensearch
    clusters = cluster_sets(wikinews_index)
    assert os_clusters(os_settings) == clusters and any(len(m) > 1 for m in clusters.values())
    with get_backend(Settings(index=wikinews_index)).open_searcher() as w, \
            get_backend(os_settings).open_searcher() as o:
        stats = w.stats()
        every, _ = parse_quote_request({})
        every.facet_size = 50
        variants = _variants(w.names(50))["speaker"]
        assert variants  # speakers written several ways: a variant chooses its canonical name on both
        for args in _quote_requests(stats, w.quotes(copy.deepcopy(every)).facets, variants):
            req, messages = parse_quote_request({k: v if isinstance(v, list) else [v] for k, v in args.items()})
            ra, rb = copy.deepcopy(req), copy.deepcopy(req)
            a, b = w.quotes(ra, messages), o.quotes(rb, messages)
            where = f"quote request {args}"
            assert (rb.filters, rb.exclude) == (ra.filters, ra.exclude), where
            assert (b.total, b.quotes, b.pages, b.messages) == (a.total, a.quotes, a.pages, a.messages), where
            assert b.facets == a.facets and b.histogram == a.histogram, where
            for key in ("speaker", "source", "kind", "date"):
                assert o.quote_facet(copy.deepcopy(req), key, 30, "a") == w.quote_facet(copy.deepcopy(req), key, 30, "a")
            rows_a, rows_b = _strip(a.to_dict()["results"]), _strip(b.to_dict()["results"])
            exported_a = _strip(list(w.iter_quotes(copy.deepcopy(req))))
            exported_b = _strip(list(o.iter_quotes(copy.deepcopy(req))))
            if not req.q or req.q == "the of":
                assert rows_b == rows_a and exported_b == exported_a, where
            else:
                assert sorted(r["id"] for r in exported_b) == sorted(r["id"] for r in exported_a), where
        for cid in sorted(clusters):
            assert _strip(o.quote_cluster(cid)) == _strip(w.quote_cluster(cid)), cid
        for name in [t["value"] for t in stats["top_speakers"][:3]] + variants[:2]:
            for page, size, q in ((1, None, ""), (2, 3, ""), (1, 100, "said")):
                wp = w.speaker(name, page=page, page_size=size, q=q)
                op = o.speaker(name, page=page, page_size=size, q=q)
                if q:  # ranked by each engine's own scores: the same quotes, counts and histogram
                    for d in (wp, op):
                        d["quotes"] = sorted(r["id"] for r in d["quotes"])
                assert _strip(op) == _strip(wp), (name, page, q)


# -- writing


@pytest.fixture
def tiny_os(opensearch_cluster, tmp_path, request):
    """Settings of a fresh alias holding TINY."""
    alias = "t-" + request.node.name.lower().replace("_", "-")[:40]
    settings = _settings(opensearch_cluster, tmp_path, alias)
    get_backend(settings).index_records(copy.deepcopy(TINY))
    return settings


def _generations(settings) -> list[str]:
    from search.opensearch import client_for
    from search.opensearch.writer import _generations

    return sorted(_generations(client_for(settings), settings.opensearch_index))


def _live(settings) -> str:
    from search.opensearch import client_for
    from search.opensearch.writer import live_indices

    (name,) = live_indices(client_for(settings), settings.opensearch_index)
    return name


def test_a_failed_rebuild_leaves_the_alias_and_its_index_alone(tiny_os):
    backend = get_backend(tiny_os)
    live = _live(tiny_os)

    def failing():
        yield from copy.deepcopy(TINY[:3])
        raise RuntimeError("injected failure")

    with pytest.raises(RuntimeError, match="injected failure"):
        backend.index_records(failing())
    assert _live(tiny_os) == live and _generations(tiny_os) == [live]
    with backend.open_searcher() as s:
        assert s.search(parse_request({})[0]).total == len(TINY)


KILLED_WRITER = """
import sys, time
from dataclasses import replace
from search.config import Settings
from search.backend import get_backend
from search.opensearch import writer
sys.path.insert(0, {tests!r})
from conftest import make_record
writer.LEASE_SECONDS = 4.0
settings = replace(Settings(index={local!r}), backend="opensearch", opensearch_url={urls!r}, opensearch_index={alias!r})
def slow():
    for i in range(100000):
        if i == 600:
            print("midway", flush=True)
            time.sleep(600)
        yield make_record(f"k{{i}}", f"Killed writer {{i}}", "Words written fresh for a writer that dies.")
get_backend(settings).index_records(slow())
"""


@pytest.mark.slow
def test_a_rebuild_killed_midway_leaves_the_alias_on_the_previous_index(tiny_os, monkeypatch):
    from search.opensearch import writer

    live = _live(tiny_os)
    code = KILLED_WRITER.format(tests=str(ROOT / "tests"), local=str(tiny_os.index), urls=tiny_os.opensearch_url,
                                alias=tiny_os.opensearch_index)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env())
    try:
        assert proc.stdout.readline().strip() == "midway", proc.stderr.read()
        assert len(_generations(tiny_os)) == 2  # the half-built one beside the live one
        with pytest.raises(IndexBusy, match="is being written by pid"):
            get_backend(tiny_os).index_records(copy.deepcopy(TINY))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert _live(tiny_os) == live
    with get_backend(tiny_os).open_searcher() as s:
        assert s.search(parse_request({})[0]).total == len(TINY)
    # the next writer waits out the dead one's lease, then removes what it left
    monkeypatch.setattr(writer, "RETIRE_GRACE_SECONDS", 3600.0)
    report = get_backend(tiny_os).index_records(copy.deepcopy(TINY[:2]), wait=30)
    assert _generations(tiny_os) == sorted([live, report.generation])
    assert _live(tiny_os) == report.generation


def test_an_article_the_cluster_cannot_take_is_reported_and_the_rest_indexed(opensearch_cluster, tmp_path):
    settings = _settings(opensearch_cluster, tmp_path, "refusals")
    records = copy.deepcopy(TINY) + [
        # OpenSearch takes ids up to 512 bytes (Whoosh any); a facet value past Lucene's term limit is kept unfaceted
        make_record("x" * 600, "A long id", "Words written fresh.", source="Wire"),
        make_record("long-name", "A long name", "Words written fresh.", persons=["y" * 9000]),
    ]
    report = get_backend(settings).index_records(records)
    assert (report.indexed, report.total_documents) == (len(TINY) + 1, len(TINY) + 1)
    assert [s.reason for s in report.skipped] == ["its id is 600 bytes long; OpenSearch takes at most 512: give it a "
                                                  "shorter id"]
    with get_backend(settings).open_searcher() as s:
        assert s.article("long-name")["persons"] == ["y" * 9000]


def test_retired_generations_go_after_the_grace_period_keeping_the_one_before(tiny_os, monkeypatch):
    from search.opensearch import writer

    backend = get_backend(tiny_os)
    first = _live(tiny_os)
    second = backend.index_records(copy.deepcopy(TINY)).generation
    assert _generations(tiny_os) == [first, second]  # the one before the live one stays
    third = backend.index_records(copy.deepcopy(TINY)).generation
    assert _generations(tiny_os) == [first, second, third]  # `first` was retired less than the grace ago
    monkeypatch.setattr(writer, "RETIRE_GRACE_SECONDS", 0.0)
    fourth = backend.index_records(copy.deepcopy(TINY[:1])).generation
    assert _generations(tiny_os) == [third, fourth]
    with backend.open_searcher() as s:
        assert s.stats()["articles"] == 1 and s.stats()["generation"] == fourth


def test_an_index_of_another_mapping_version_asks_for_a_rebuild(opensearch_cluster, tmp_path):
    from search.opensearch import client_for

    settings = _settings(opensearch_cluster, tmp_path, "oldmap")
    client = client_for(settings)
    from search.opensearch.mapping import MAPPING_VERSION

    # version 1 had neither first-indexed times nor quotes
    client.indices.create(index="oldmap-v1-00000000000000000001", body={"aliases": {"oldmap": {}}})
    with pytest.raises(IndexMissing, match=rf"mapping version 1; this newsfacet writes version {MAPPING_VERSION}: run "
                                           r"`newsfacet --backend opensearch rebuild`"):
        get_backend(settings).open_searcher()
    report = get_backend(settings).index_records(copy.deepcopy(TINY))
    assert _live(settings) == report.generation


def test_no_index_and_no_cluster_are_clear(opensearch_cluster, tmp_path):
    missing = _settings(opensearch_cluster, tmp_path, "never-written")
    with pytest.raises(IndexMissing, match="OpenSearch alias 'never-written' at http://127.0.0.1"):
        get_backend(missing).open_searcher()
    down = replace(missing, opensearch_url="http://127.0.0.1:9", opensearch_timeout=2)
    with pytest.raises(IndexMissing, match="does not answer .*scripts/opensearch.sh start"):
        get_backend(down).open_searcher()


@pytest.mark.slow
def test_update_upserts_changed_articles_and_deletes_gone_ones_by_id(opensearch_cluster, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(5):
        (docs / f"a{i}.txt").write_text(f"Harbour report {i}\n\nThe ferry number {i} sailed from Halifax.\n")
    settings = _settings(opensearch_cluster, tmp_path, "updates")
    prewarm(settings.index, [docs])
    backend = get_backend(settings)
    first = backend.rebuild([str(docs)])
    assert (first.indexed, first.total_documents) == (5, 5)
    (docs / "a1.txt").write_text("Harbour report 1\n\nThe ferry was late because of fog.\n")
    (docs / "a4.txt").unlink()
    (docs / "a5.txt").write_text("Harbour report 5\n\nA new ferry joined the fleet.\n")
    prewarm(settings.index, [docs])
    report = backend.update([str(docs)])
    assert (report.indexed, report.unchanged, report.removed, report.total_documents) == (2, 3, 1, 5)
    assert report.generation == first.generation  # in place, by id
    with backend.open_searcher() as s:
        fog = s.search(parse_request({"q": ["fog"]})[0])
        assert fog.total == 1 and fog.results[0]["snippet"] == "The ferry was late because of <mark>fog</mark>."
        assert s.search(parse_request({"q": ["sailed"]})[0]).total == 3
        assert {r["id"] for r in s.iter_matching(parse_request({})[0])} == {"a0", "a1", "a2", "a3", "a5"}


@pytest.mark.slow
def test_two_servers_share_one_cluster_and_see_a_rebuild(opensearch_cluster, tmp_path):
    settings = _settings(opensearch_cluster, tmp_path, "shared")
    get_backend(settings).index_records(copy.deepcopy(TINY))
    options = ["--backend", "opensearch", "--opensearch-url", settings.opensearch_url, "--opensearch-index", "shared"]
    with serving(tmp_path / "one", tmp_path / "one.log", options=options) as one, \
            serving(tmp_path / "two", tmp_path / "two.log", options=options) as two:
        for base in (one, two):
            assert requests.get(base + "/api/search", params={"q": "Russia"}, timeout=30).json()["total"] == 3
        extra = make_record("fresh", "Russia again", "Russia was mentioned once more.", published="2022-01-02",
                            places=["Russia"])
        get_backend(settings).index_records(copy.deepcopy(TINY) + [extra])
        for base in (one, two):
            data = requests.get(base + "/api/search", params={"q": "Russia"}, timeout=30).json()
            assert data["total"] == 4 and data["facets"]["place"][0] == {"value": "Russia", "count": 4,
                                                                         "selected": False, "excluded": False}
    assert not list(tmp_path.glob("*/gen-*")) and not list(tmp_path.glob("*/CURRENT"))


def test_the_cli_rebuilds_and_searches_through_opensearch(opensearch_cluster, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("Lighthouse keepers\n\nThe keepers painted the lighthouse red.\n")
    local = tmp_path / "local"
    prewarm(local, [docs])
    common = ["--index", local, "--backend", "opensearch", "--opensearch-url", opensearch_cluster.urls,
              "--opensearch-index", "cli"]
    built = run_newsfacet(*common, "rebuild", "--quiet", docs)
    assert built.returncode == 0, built.stderr
    found = run_newsfacet(*common, "search", "painting", "--json")
    assert found.returncode == 0, found.stderr
    assert '"total": 1' in found.stdout and '"id": "note"' in found.stdout
