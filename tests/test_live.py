"""A real `newsfacet serve` keeps answering concurrent clients with 0 errors while `update` and `rebuild`
run beside it, and serves each new index as soon as it is switched in, without a restart."""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from search.config import Settings
from search import indexer
from search.indexer import rebuild
from servers import serving
from warm_cache import prewarm, run_newsfacet

CLIENTS = 4
MAX_REQUESTS_PER_CLIENT = 3000  # a bound besides the stop signal, so a runaway loop still ends
QUERIES = [
    "/", "/?q=story", "/?q=harbour+OR+bridge&sort=newest", "/?place=Halifax&q=ferry",
    "/api/search?q=story", "/api/search?q=%22story+number%22&size=50", "/api/search?place=Halifax&sort=oldest",
    "/api/search?q=river&from=2022-03-05&to=2022-03-20", "/api/search?person=Person+a3&not_place=Nowhere",
    "/api/search?q=Marker7", "/?q=market&page=2",
]


def write_articles(path: Path, start: int, count: int) -> None:
    words = "river council harbour budget storm ferry library orchard bridge school market festival".split()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for n in range(start, start + count):
            f.write(json.dumps({"id": f"a{n}", "title": f"Story {n} about the {words[n % 12]}",
                                "date": f"2022-03-{n % 28 + 1:02d}",
                                "text": f"The {words[n % 12]} story number {n} says the {words[n * 7 % 12]} "
                                        f"was busy. Marker{n}."}) + "\n")


@pytest.fixture
def server(tmp_path):
    """`newsfacet serve` on a free loopback port over an index of 240 articles; yields (base URL, paths)."""
    corpus = tmp_path / "news"
    for part in range(3):
        write_articles(corpus / f"part{part}.jsonl", part * 80, 80)
    bigger = tmp_path / "more"
    write_articles(bigger / "all.jsonl", 0, 300)
    write_articles(tmp_path / "later" / "new.jsonl", 240, 10)
    index_dir = tmp_path / "ix"
    prewarm(index_dir, [corpus, bigger, tmp_path / "later"])
    rebuild([str(corpus)], Settings(index=index_dir))
    log = tmp_path / "serve.log"
    with serving(index_dir, log) as base:
        yield base, {"index": index_dir, "corpus": corpus, "bigger": bigger, "later": tmp_path / "later"}
    err = log.read_text()
    assert "Traceback" not in err, err[-5000:]


def total(base: str) -> int:
    r = requests.get(base + "/api/search", params={"q": "story"}, timeout=30)
    assert r.status_code == 200
    return r.json()["total"]


class Load:
    """What client_load's threads did so far: the failures, filled as they happen, and requests answered."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.counts = [0] * CLIENTS

    def served(self) -> int:
        return sum(self.counts)

    def wait_for(self, more: int, timeout: float = 120.0) -> None:
        """Block until the clients have had `more` further answers: what follows then ran beside them, on
        whatever the server held at that moment (a count asserted after the fact depended on machine speed)."""
        goal, deadline = self.served() + more, time.monotonic() + timeout
        while self.served() < goal:
            assert time.monotonic() < deadline, f"clients answered {self.served()} of {goal} in {timeout} s"
            time.sleep(0.02)


@contextmanager
def client_load(base: str, urls: list[str], check=None):
    """CLIENTS threads requesting urls in turn until the block ends. Yields a Load: a failure is a non-200
    answer, a dropped connection, or what check(url, response) returns (None: fine)."""
    stop = threading.Event()
    load = Load()

    def client(k: int) -> None:
        session = requests.Session()
        for i in range(MAX_REQUESTS_PER_CLIENT):
            if stop.is_set():
                return
            url = base + urls[(k * 7 + i) % len(urls)]
            try:
                r = session.get(url, timeout=30)
                problem = f"HTTP {r.status_code}" if r.status_code != 200 else check(url, r) if check else None
                if problem:
                    load.errors.append(f"{url}: {problem}")
            except Exception as exc:  # noqa: BLE001 -- every failure is a counted error
                load.errors.append(f"{url}: {type(exc).__name__}: {exc}")
            load.counts[k] += 1

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        yield load
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)


@pytest.mark.slow
def test_serve_answers_through_update_and_rebuild_and_sees_each_switch(server):
    base, paths = server
    totals: set[int] = set()

    def check(url, r):
        if url.endswith("/api/search?q=story"):
            totals.add(r.json()["total"])
        elif "Traceback" in r.text:
            return "traceback in the page"
        return None

    with client_load(base, QUERIES, check) as load:
        load.wait_for(2 * CLIENTS)
        assert total(base) == 240
        done = run_newsfacet("--index", paths["index"], "update", paths["corpus"], paths["later"], "--quiet")
        assert done.returncode == 0, done.stderr
        assert total(base) == 250  # the very next request sees the new generation
        load.wait_for(2 * CLIENTS)
        done = run_newsfacet("--index", paths["index"], "rebuild", paths["bigger"], "--quiet")
        assert done.returncode == 0, done.stderr
        assert total(base) == 300
        r = requests.get(base + "/article/a299", timeout=30)
        assert r.status_code == 200 and "Marker299" in r.text
        load.wait_for(2 * CLIENTS)
    assert load.errors == [], load.errors[:10]
    assert totals <= {240, 250, 300}, totals  # never a half-built index


def test_a_switch_between_reading_current_and_opening_never_mixes_generations(tmp_path, monkeypatch):
    """A request reads CURRENT, a rebuild switches, then the index is opened: the searcher and its facet
    arrays must both be the newer generation's (they were paired wrongly: IndexError, HTTP 400)."""
    import search.query as query
    from conftest import make_record
    from search.indexer import index_records, live_generation

    def records(n):
        return [make_record(f"r{i}", f"Story {i}", f"A harbour story number {i}.", published="2021-05-01",
                            persons=[f"Person {i % 3}"]) for i in range(n)]

    settings = Settings(index=tmp_path / "ix")
    index_records(records(5), settings)
    old = live_generation(settings.index)
    with query.open_searcher(settings.index) as s:  # facet arrays of the old generation are now cached
        assert s.search(query.parse_request({"q": ["harbour"]})[0]).total == 5
    index_records(records(9), settings)
    query._ix_cache.clear()
    monkeypatch.setattr(query, "live_generation", lambda index_dir: old)  # CURRENT as read before the switch
    with query.open_searcher(settings.index) as s:
        res = s.search(query.parse_request({"q": ["harbour"], "sort": ["newest"]})[0])
        assert res.total == 9 and len(res.results) == 9


def write_undated(path: Path, n: int) -> None:
    """A plain-text article with no date anywhere (a weekday is not a date): its segment has no date column."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"Undated note {n}\n\nThe harbour story number {n} happened on Monday. Marker{n}.\n",
                    encoding="utf-8")


@pytest.mark.slow
def test_serve_answers_200_through_updates_adding_and_removing_dated_and_undated_articles(tmp_path):
    """Issue 12: an update that added an undated article made every request fail from the switch on."""
    news = tmp_path / "news"
    write_articles(news / "dated.jsonl", 0, 40)
    staged = tmp_path / "staged"  # every article any step adds, so the cache can be warmed once
    write_articles(staged / "dated-later.jsonl", 40, 10)
    for n in range(100, 104):
        write_undated(staged / f"undated-{n}.txt", n)
    index_dir = tmp_path / "ix"
    prewarm(index_dir, [news, staged])
    rebuild([str(news)], Settings(index=index_dir))

    def move(name: str) -> None:
        (staged / name).rename(news / name)

    def update() -> None:
        # In this process (the server is the other one): a CLI run per step would spend most of the test
        # starting Python; the switch the server sees is the same.
        report = indexer.update([str(news)], Settings(index=index_dir))
        assert (report.skipped, report.warnings) == ([], []), (report.skipped, report.warnings)

    steps = [  # (change, articles in the index after it)
        (lambda: move("undated-100.txt"), 41),  # dated index, undated addition
        (lambda: move("dated-later.jsonl"), 51),  # undated segment, dated addition
        (lambda: (move("undated-101.txt"), move("undated-102.txt")), 53),
        (lambda: (news / "dated.jsonl").unlink(), 13),  # most dated articles gone
        (lambda: (news / "undated-100.txt").unlink(), 12),
        (lambda: ((news / "dated-later.jsonl").unlink(), move("undated-103.txt")), 3),  # only undated ones left
    ]
    log = tmp_path / "serve.log"
    urls = ["/", "/?q=story", "/?q=harbour&sort=oldest", "/api/search?q=story&sort=newest",
            "/api/search?from=2022-03-01&to=2022-03-10", "/api/search?q=%22story+number%22",
            "/facet/person?contains=a", "/export.csv?q=marker*", "/api/search?person=Person+a3"]
    with serving(index_dir, log) as base:
        with client_load(base, urls) as load:
            for change, expected in steps:
                load.wait_for(CLIENTS)  # every client ran against the generation before this change
                change()
                update()
                r = requests.get(base + "/api/search", timeout=30)
                assert (r.status_code, r.json().get("total")) == (200, expected)
            load.wait_for(CLIENTS)
    assert load.errors == [], load.errors[:10]
    assert "Traceback" not in log.read_text(), log.read_text()[-5000:]
