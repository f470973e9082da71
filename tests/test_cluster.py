"""Enrichment on a real Dask cluster (a scheduler and `dask worker --nthreads 1` processes on 127.0.0.1):
the Wikinews corpus rebuilt through it gives the index a local rebuild gives, without the coordinating
process ever loading spaCy; and the faults: a worker killed with a batch, a worker of another version, the
scheduler stopped mid-run, an article that raises on a worker and one that kills every worker it reaches.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from dask_cluster import Cluster, make_certificates  # noqa: E402
from search.config import Settings  # noqa: E402
from search.indexer import live_generation, rebuild, update  # noqa: E402
from warm_cache import cli_env, newsfacet, prewarm, run_newsfacet  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSFACET_SHARED", ROOT.parent / "shared"))
WIKINEWS = SHARED / "corpus" / "wikinews.jsonl"
FAULTS = Path(__file__).with_name("cluster_faults.py")
RAISES, KILLS = "Zqxraise", "Zqxkill"  # as in cluster_faults.py

pytestmark = [pytest.mark.model, pytest.mark.slow,
              pytest.mark.skipif(not WIKINEWS.exists(), reason=f"needs {WIKINEWS}")]


# ---------------------------------------------------------------------------------------------- helpers

def index_contents(index_dir: Path) -> tuple[dict, dict]:
    """Every stored record by id (without the time it was first indexed, which is the run's own), and every
    facet's complete value counts (dates by month)."""
    from search.query import FACETS, open_searcher

    ids = json.loads((live_generation(index_dir) / "manifest.json").read_text())
    with open_searcher(index_dir) as s:
        records = {i: {k: v for k, v in s.article(i).items() if k != "indexed"} for i in ids}
        fd = s.facets
        counts = {f: {r["value"]: r["count"] for r in fd.top(f, fd.alive, 1_000_000)["results"]} for f in FACETS}
        counts["month"] = fd.month_counts(fd.alive)
    return records, counts


def first_articles(n: int, dest: Path) -> Path:
    """The first n Wikinews articles as a file of their own (read at run time, never kept)."""
    with open(WIKINEWS, encoding="utf-8") as src:
        lines = [next(src) for _ in range(n)]
    dest.write_text("".join(lines), encoding="utf-8")
    return dest


def write_fresh(path: Path, count: int, extra: dict[int, str] | None = None,
                texts: dict[int, str] | None = None) -> None:
    """count short articles written for these tests; article i gets the words extra[i] in its text, or the
    text texts[i] instead."""
    extra, texts = extra or {}, texts or {}
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            word = f" {extra[i]}" if i in extra else ""
            text = texts.get(i) or (f"The town council of Brookfield met on Tuesday.{word} Mayor Dana Whitlock "
                                    f"said the ferry schedule would change in May. Item {i}.")
            f.write(json.dumps({"id": f"t{i}", "title": f"Council meeting {i}", "date": "2023-04-05",
                                "text": text}) + "\n")


def cluster_settings(index_dir: Path, cluster: Cluster) -> Settings:
    """Settings that enrich on the cluster."""
    return Settings(index=index_dir, scheduler=cluster.address)


def local_rebuild(src: Path, index_dir: Path, wikinews_index: Path) -> tuple[dict, dict]:
    """The contents of a local rebuild (`--workers 2`) of src. Its enrichment cache starts as a copy of the
    session's Wikinews index's (tests/conftest.py): analyses that local enrichment made of the same texts, under
    the same pipeline and code signature, so the reference costs the session one local spaCy pass, not one more."""
    (index_dir / "cache").mkdir(parents=True)
    shutil.copyfile(wikinews_index / "cache" / "enrich.sqlite", index_dir / "cache" / "enrich.sqlite")
    res = run_newsfacet("--index", index_dir, "rebuild", src, "--workers", "2", "--quiet", timeout=900)
    assert res.returncode == 0, res.stderr
    return index_contents(index_dir)


@pytest.fixture(scope="session")
def local_reference(wikinews_index, tmp_path_factory):
    """The Wikinews corpus rebuilt locally, once per test session: its contents."""
    return local_rebuild(WIKINEWS, tmp_path_factory.mktemp("local-reference") / "index", wikinews_index)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-thread workers."""
    c = Cluster(tmp_path_factory.mktemp("dask-cluster")).start_scheduler()
    try:
        c.add_worker("w1")
        c.add_worker("w2")
        c.wait_for_workers(2)
        yield c
    finally:
        c.stop()


@pytest.fixture
def no_spacy_here(monkeypatch):
    """Fail the test if this (the coordinating) process loads a spaCy pipeline."""
    import spacy

    import search.enrich

    def refuse(*a, **k):
        raise AssertionError("the coordinating process loaded a spaCy pipeline")

    monkeypatch.setattr(search.enrich, "_load_pipeline", refuse)
    monkeypatch.setattr(spacy, "load", refuse)


# ---------------------------------------------------------------------------------------------- make test

def assert_cluster_rebuild_is_local(cluster, src: Path, want: tuple[dict, dict], index_dir: Path):
    """Rebuild src through the cluster (cold cache) and compare the index with the local one: records, facets."""
    want_records, want_counts = want
    report = rebuild([str(src)], cluster_settings(index_dir, cluster))
    assert report.skipped == [] and report.warnings == []
    assert (report.indexed, report.analysed, report.cached) == (len(want_records), len(want_records), 0)
    records, counts = index_contents(index_dir)
    assert records == want_records
    assert counts == want_counts
    # The coordinator cached every analysis: a rebuild now needs neither spaCy nor the cluster.
    again = rebuild([str(src)], Settings(index=index_dir, scheduler="tcp://127.0.0.1:9"))
    assert (again.indexed, again.analysed, again.cached) == (len(want_records), 0, len(want_records))
    assert index_contents(index_dir) == (want_records, want_counts)


def test_rebuild_on_the_cluster_gives_the_local_index(cluster, wikinews_index, tmp_path, no_spacy_here):
    # A part of the corpus here (the whole of it in make test-long): compared with a local rebuild of that part,
    # as the canonical names and facet counts are the collection's.
    src = first_articles(60, tmp_path / "first60.jsonl")
    want = local_rebuild(src, tmp_path / "local", wikinews_index)
    assert_cluster_rebuild_is_local(cluster, src, want, tmp_path / "index")
    # the workers that analysed, started by Dask's nanny (MALLOC_TRIM_THRESHOLD_ set), keep spaCy's arrays on the heap
    assert set(cluster.large_buffers_kept().values()) - {None} == {True}


@pytest.mark.long
def test_the_whole_corpus_rebuilt_on_the_cluster_gives_the_local_index(cluster, local_reference, tmp_path,
                                                                          no_spacy_here):
    assert_cluster_rebuild_is_local(cluster, WIKINEWS, local_reference, tmp_path / "index")


def test_update_sends_only_new_and_changed_articles_to_the_cluster(cluster, tmp_path, no_spacy_here):
    src = tmp_path / "fresh.jsonl"
    write_fresh(src, 20)
    index_dir = tmp_path / "index"
    settings = cluster_settings(index_dir, cluster)
    assert rebuild([str(src)], settings).analysed == 20
    write_fresh(src, 25, {3: "Officials from Halden joined them."})  # five new articles, one changed
    report = update([str(src)], settings)
    assert (report.unchanged, report.indexed, report.analysed, report.cached) == (19, 6, 6, 0)
    from search.query import open_searcher

    with open_searcher(index_dir) as s:
        assert s.stats()["articles"] == 25
        assert "Halden" in s.article("t3")["text"]


def test_at_most_three_batches_per_worker_are_out(cluster, tmp_path, monkeypatch, no_spacy_here):
    from search.cluster import ClusterRunner

    out = []  # batches out, and workers admitted, after each batch sent
    submit = ClusterRunner._submit

    def counting(self, batch):
        submit(self, batch)
        out.append((len(self._pending), len(self._admitted)))

    monkeypatch.setattr(ClusterRunner, "_submit", counting)
    src = tmp_path / "fresh.jsonl"
    write_fresh(src, 120)
    report = rebuild([str(src)], Settings(index=tmp_path / "index", scheduler=cluster.address, batch_size=8))
    assert report.analysed == 120
    assert len(out) == 15  # batches of 8
    assert {w for _, w in out} == {2}
    assert max(n for n, _ in out) == 3 * 2  # the reader filled the cluster, and went no further


@pytest.mark.long
def test_the_opensearch_backend_enriches_on_the_cluster_too(cluster, opensearch_cluster, tmp_path, no_spacy_here):
    # The cluster is behind the enrichment step, so either backend writes what the workers return.
    from dataclasses import replace

    from search.backend import get_backend

    src = tmp_path / "fresh.jsonl"
    write_fresh(src, 20)
    backend = get_backend(replace(cluster_settings(tmp_path / "local", cluster), backend="opensearch",
                                  opensearch_url=opensearch_cluster.urls, opensearch_index="dask-enriched"))
    report = backend.rebuild([str(src)])
    assert (report.indexed, report.analysed, report.skipped) == (20, 20, [])
    write_fresh(src, 22, {3: "Officials from Halden joined them."})
    report = backend.update([str(src)])
    assert (report.unchanged, report.indexed, report.analysed) == (19, 3, 3)
    with backend.open_searcher() as s:
        assert s.stats()["articles"] == 22
        assert s.article("t21")["persons"] == ["Dana Whitlock"]


@pytest.fixture
def stale_copy(tmp_path) -> Path:
    """A copy of newsfacet's search package whose enrichment code differs (for PYTHONPATH)."""
    other = tmp_path / "other"
    shutil.copytree(ROOT / "search", other / "search", ignore=shutil.ignore_patterns("__pycache__"))
    with open(other / "search" / "enrich.py", "a", encoding="utf-8") as f:
        f.write("\n# a changed rule: this copy's enrichment code differs\n")
    return other


def test_a_worker_of_another_version_is_refused_by_name(cluster, stale_copy, tmp_path):
    from search.cluster import local_versions

    ours = local_versions((Settings().model,))
    cluster.add_worker("stale", pythonpath=stale_copy)
    # the quote component reads the speaker threshold from the worker's own settings: another one is refused too
    cluster.add_worker("strict", env={"NEWSFACET_SPEAKER_MIN_CONFIDENCE": "0.9"})
    try:
        cluster.wait_for_workers(4)
        src = tmp_path / "fresh.jsonl"
        write_fresh(src, 40)
        res = run_newsfacet("--index", tmp_path / "index", "rebuild", src, "--scheduler", cluster.address, "--quiet")
        assert res.returncode == 0, res.stderr
        assert "Indexed 40 articles" in res.stdout
        refusals = {line.split(": refused: ")[0]: line.split(": refused: ")[1]
                    for line in res.stderr.splitlines() if "refused" in line}
        assert set(refusals) == {f"  warning: Dask worker {cluster.address_of(name)}" for name in ("stale", "strict")}
        versions = {}
        for name in ("stale", "strict"):
            why = refusals[f"  warning: Dask worker {cluster.address_of(name)}"]
            theirs, mine = why.removeprefix("its versions (").split(") differ from this machine's (")
            assert mine.startswith(f"{ours})")
            versions[name] = theirs
        assert versions["stale"] == str(ours._replace(code=versions["stale"].split("enrichment code ")[1][:16]))
        assert versions["stale"] != str(ours)
        assert versions["strict"] == str(ours._replace(speakers="0.9"))
        assert cluster.pipelines_loaded("stale") == cluster.pipelines_loaded("strict") == 0  # they analysed nothing
    finally:
        cluster.stop_worker("stale")
        cluster.stop_worker("strict")


def test_a_cluster_without_a_worker_of_this_version_fails_the_command(stale_copy, tmp_path):
    c = Cluster(tmp_path / "cluster").start_scheduler()
    try:
        c.add_worker("stale", pythonpath=stale_copy)
        c.wait_for_workers(1)
        src = tmp_path / "fresh.jsonl"
        write_fresh(src, 3)
        res = run_newsfacet("--index", tmp_path / "index", "rebuild", src, "--scheduler", c.address, "--quiet")
        address = c.address_of("stale")
    finally:
        c.stop()
    assert res.returncode == 1
    assert f"Error: no Dask worker at {c.address} can enrich for this machine: {address} its versions (" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_a_scheduler_without_newsfacet_is_named_before_any_batch(tmp_path):
    # Dask unpickles every task on the scheduler: one that cannot import newsfacet fails every batch
    shadow = tmp_path / "shadow" / "search"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no newsfacet on this machine')\n")
    c = Cluster(tmp_path / "cluster").start_scheduler(pythonpath=shadow.parent)
    try:
        src = tmp_path / "fresh.jsonl"
        write_fresh(src, 3)
        res = run_newsfacet("--index", tmp_path / "index", "rebuild", src, "--scheduler", c.address, "--quiet")
    finally:
        c.stop()
    assert res.returncode == 1
    assert (f"Error: the Dask scheduler at {c.address} cannot load newsfacet's tasks (ImportError: no newsfacet on "
            "this machine); Dask unpickles every batch on the scheduler too, so it needs this newsfacet") in res.stderr
    assert not (tmp_path / "index" / "CURRENT").exists()


# ---------------------------------------------------------------------------------------------- make test-long

@pytest.mark.long
def test_a_worker_killed_with_a_batch_has_it_retried_elsewhere(cluster, wikinews_index, tmp_path):
    src = first_articles(80, tmp_path / "first80.jsonl")
    want = local_rebuild(src, tmp_path / "local", wikinews_index)
    index_dir = tmp_path / "index"
    proc = newsfacet("--index", index_dir, "rebuild", src, "--scheduler", cluster.address, "--quiet", "--json")
    try:
        victim = cluster.busy_worker()
        os.kill(cluster.worker_pid(victim), signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "was killed by signal 9" in cluster.log(f"worker-{victim}")  # its nanny saw it die, and restarted it
    report = json.loads(out)
    assert (report["indexed"], report["analysed"], report["skipped"]) == (80, 80, [])
    assert index_contents(index_dir) == want  # the index a local run gives
    cluster.wait_for_workers(2)  # the nanny restarted it, for the tests after this one


@pytest.mark.long
def test_a_scheduler_that_goes_away_fails_the_command_and_keeps_the_index(tmp_path):
    import sqlite3

    index_dir = tmp_path / "index"
    before = tmp_path / "before.jsonl"
    write_fresh(before, 5)
    prewarm(index_dir, [before])
    assert rebuild([str(before)], Settings(index=index_dir)).indexed == 5
    live = live_generation(index_dir)
    src = first_articles(120, tmp_path / "first120.jsonl")
    c = Cluster(tmp_path / "cluster").start_scheduler()
    try:
        c.add_worker("only")
        c.wait_for_workers(1)
        proc = newsfacet("--index", index_dir, "rebuild", src, "--scheduler", c.address, "--quiet")
        c.wait_for_batches(2)  # the first batch's analyses are back by now
        c.kill_scheduler()
        out, err = proc.communicate(timeout=120)
    finally:
        c.stop()
    assert proc.returncode == 1
    # with what Dask said when it noticed, if it said anything (a gather cut off says CommClosedError: ...)
    lost = re.search(rf"Error: lost the Dask scheduler at {re.escape(c.address)}(?: \(\w+Error: [^\n]*\))? when "
                     r"(\d+) articles had come back; start it again", err)
    assert lost, err
    assert "The previous index was kept" in err and "Traceback" not in err and "ERROR" not in err
    assert live_generation(index_dir) == live
    from search.query import open_searcher

    with open_searcher(index_dir) as s:
        assert s.stats()["articles"] == 5
    # what had come back is in the cache, for the next run
    came_back = int(lost.group(1))
    assert came_back >= 32
    with sqlite3.connect(index_dir / "cache" / "enrich.sqlite") as db:
        assert db.execute("SELECT count(*) FROM analysis").fetchone()[0] == 5 + came_back


@pytest.fixture(scope="module")
def faulty_cluster(tmp_path_factory):
    """Two workers that raise on articles with the word RAISES, and die on those with KILLS."""
    # One retry per batch (Dask's default is 3): the same isolation, with fewer worker restarts to wait for.
    c = Cluster(tmp_path_factory.mktemp("faulty"), env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"})
    c.start_scheduler()
    try:
        c.add_worker("f1", preload=FAULTS)
        c.add_worker("f2", preload=FAULTS)
        c.wait_for_workers(2)
        yield c
    finally:
        c.stop()


@pytest.mark.long
def test_an_article_that_raises_on_a_worker_is_a_skip_with_its_line(faulty_cluster, tmp_path):
    src = tmp_path / "fresh.jsonl"
    # and one article in a language no pipeline is configured for: it comes back without entities
    german = ("Der Stadtrat von Brookfield hat sich am Dienstag getroffen. Die Bürgermeisterin sagte, dass sich der "
              "Fahrplan der Fähre im Mai ändern werde.")
    write_fresh(src, 40, {17: RAISES}, texts={25: german})
    res = run_newsfacet("--index", tmp_path / "index", "rebuild", src, "--scheduler", faulty_cluster.address,
                        "--quiet", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert (report["indexed"], report["analysed"]) == (39, 38)
    assert [s["where"] for s in report["skipped"]] == [f"{src}:18"]
    assert "ValueError: a test article enrichment raises on" in report["skipped"][0]["reason"]
    records, _ = index_contents(tmp_path / "index")
    assert (records["t25"]["language"], records["t25"]["persons"]) == ("de", [])
    assert records["t24"]["language"] == "en" and records["t24"]["persons"]


@pytest.mark.long
def test_an_article_that_kills_every_worker_is_isolated_and_skipped(faulty_cluster, tmp_path):
    src = tmp_path / "fresh.jsonl"
    write_fresh(src, 12, {4: KILLS})
    res = run_newsfacet("--index", tmp_path / "index", "rebuild", src, "--scheduler", faulty_cluster.address,
                        "--quiet", "--json", timeout=300)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["indexed"] == 11
    assert [s["where"] for s in report["skipped"]] == [f"{src}:5"]
    assert "killed 2 Dask workers in a row" in report["skipped"][0]["reason"]
    assert "KilledWorker" not in res.stderr


@pytest.mark.long
def test_a_tls_scheduler_is_reached_with_the_dask_config_file(tmp_path):
    certs = make_certificates(tmp_path / "certs")
    config = tmp_path / "dask-tls.yaml"
    config.write_text("distributed:\n  comm:\n    require-encryption: true\n    tls:\n"
                      f"      ca-file: {certs['ca']}\n      client:\n        cert: {certs['cert']}\n"
                      f"        key: {certs['key']}\n")
    src = tmp_path / "fresh.jsonl"
    write_fresh(src, 3)
    c = Cluster(tmp_path / "cluster", tls=certs).start_scheduler()
    try:
        c.add_worker("w")
        c.wait_for_workers(1)
        assert c.address.startswith("tls://")
        ok = run_newsfacet("--index", tmp_path / "index", "rebuild", src, "--scheduler", c.address,
                           "--dask-config", config, "--quiet", "--json")
        plain = run_newsfacet("--index", tmp_path / "other", "rebuild", src, "--scheduler", c.address, "--quiet",
                              env=cli_env(DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="3s"))
    finally:
        c.stop()
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["analysed"] == 3
    # without the config file there are no certificates to connect with
    assert plain.returncode == 1
    assert f"Error: cannot connect to the Dask scheduler at {c.address}" in plain.stderr
