"""Three OpenSearch nodes, one replica: a node stops during a search and write load (`make test-long`).

Stopping a node (the elected cluster manager in one run, another node in the other) must lose no document
whose write was acknowledged, and once the failover window has passed every search must be answered.
"""
from __future__ import annotations

import copy
import threading
import time
from dataclasses import replace

import pytest
from conftest import make_record
from opensearch_cluster import start_cluster

from search.backend import get_backend
from search.config import Settings
from search.contracts import parse_request

pytestmark = [pytest.mark.long, pytest.mark.slow]

SEARCH_THREADS = 3
BEFORE_STOP = 8.0  # seconds of load before the node is stopped
FAILOVER_WINDOW = 30.0  # seconds from the stop command during which errors are allowed
AFTER_WINDOW = 30.0  # seconds of load after the window, where no search may fail
PLACES = ["Halifax", "Tromsø", "Valparaíso", "Windhoek", "Hobart", "Ushuaia"]
PEOPLE = ["Ada Quill", "Bram Oyelaran", "Chidi Marsh", "Dora Vance", "Emil Sato"]


def _record(i: int, prefix: str) -> dict:
    """A made-up article: facets and dates vary with i."""
    place, person = PLACES[i % len(PLACES)], PEOPLE[i % len(PEOPLE)]
    return make_record(f"{prefix}{i}", f"Harbour log {i} from {place}",
                       f"{person} said the harbour at {place} handled {i % 97} ships. The weather was calm.",
                       published=f"20{10 + i % 12:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}", speakers=[person],
                       persons=[person], places=[place], organizations=["Port Authority"] if i % 3 else [])


@pytest.fixture(scope="module")
def three_nodes():
    cluster = start_cluster(3)
    yield cluster
    cluster.close()


@pytest.mark.parametrize("victim", ["cluster manager", "another node"])
def test_a_stopped_node_loses_no_acknowledged_document_and_searches_go_on(three_nodes, tmp_path, victim):
    from search.opensearch import client_for
    from search.opensearch.mapping import to_source

    settings = replace(Settings(index=tmp_path / "local"), backend="opensearch", opensearch_url=three_nodes.urls,
                       opensearch_index="failover-" + victim.split()[0], opensearch_replicas=1, opensearch_timeout=10)
    backend = get_backend(settings)
    report = backend.index_records(_record(i, "base") for i in range(3000))
    assert report.total_documents == 3000 and not report.warnings
    client = client_for(settings)
    manager = client.cat.cluster_manager(format="json")[0]["node"]
    index = report.generation
    shards = client.cat.shards(index=index, format="json")
    assert sorted(s["prirep"] for s in shards) == ["p", "r"] and all(s["state"] == "STARTED" for s in shards)
    stop = int(manager.rsplit("-", 1)[1])
    if victim == "another node":
        stop = next(i for i in range(3) if i != stop)

    requests_ = [parse_request({"q": ["harbour"]})[0], parse_request({"place": ["Halifax"]})[0],
                 parse_request({"q": ["calm"], "speaker": ["Dora Vance"], "not_place": ["Hobart"]})[0],
                 parse_request({"from": ["2015"], "to": ["2018-06"], "sort": ["oldest"]})[0]]
    log: list[tuple[float, str, str]] = []  # (time, what, error or "")
    acknowledged: list[str] = []
    done = threading.Event()

    def search_load(k: int):
        n = 0
        while not done.is_set():
            req = copy.deepcopy(requests_[(n + k) % len(requests_)])
            n += 1
            try:
                with backend.open_searcher() as s:
                    res = s.search(req)
                assert res.total > 0 and res.facets["place"]["results"]
                log.append((time.monotonic(), "search", ""))
            except Exception as exc:  # noqa: BLE001 - every failure is counted, whatever it is
                log.append((time.monotonic(), "search", f"{type(exc).__name__}: {exc}"[:300]))

    def write_load():
        i = 0
        while not done.is_set():
            rec = _record(i, "live")
            try:
                client.index(index=settings.opensearch_index, id=rec["id"], body=to_source(rec))
                acknowledged.append(rec["id"])
                log.append((time.monotonic(), "write", ""))
            except Exception as exc:  # noqa: BLE001
                log.append((time.monotonic(), "write", f"{type(exc).__name__}: {exc}"[:300]))
            i += 1
            time.sleep(0.02)

    threads = [threading.Thread(target=search_load, args=(k,)) for k in range(SEARCH_THREADS)]
    threads.append(threading.Thread(target=write_load))
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        time.sleep(BEFORE_STOP)
        stopped_at = time.monotonic()
        three_nodes.stop_node(stop)
        time.sleep(max(0.0, stopped_at + FAILOVER_WINDOW + AFTER_WINDOW - time.monotonic()))
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
    window_end = stopped_at + FAILOVER_WINDOW
    before = [e for t, w, e in log if w == "search" and t < stopped_at]
    after = [e for t, w, e in log if w == "search" and t >= window_end]
    during = [e for t, w, e in log if w == "search" and stopped_at <= t < window_end]
    print(f"stopped nf-{stop} ({victim}; manager was {manager}) {stopped_at - started:.1f}s into the load: "
          f"searches before {len(before)}, during the window {len(during)} ({sum(1 for e in during if e)} errors), "
          f"after {len(after)}; writes acknowledged {len(acknowledged)}, "
          f"failed {sum(1 for t, w, e in log if w == 'write' and e)}")
    assert [e for e in before if e] == []
    assert len(after) >= 20, "too few searches after the failover window to judge"
    assert [e for e in after if e] == []  # after failover, every search is answered
    assert len(acknowledged) > 100

    client.indices.refresh(index=index)
    found = set()
    for start in range(0, len(acknowledged), 500):
        docs = client.mget(index=index, body={"ids": acknowledged[start:start + 500]}, _source=False)["docs"]
        found |= {d["_id"] for d in docs if d.get("found")}
    assert sorted(set(acknowledged) - found) == []  # no acknowledged document lost
    with backend.open_searcher() as s:
        assert s.stats()["articles"] >= 3000 + len(set(acknowledged))
    three_nodes.start()  # the stopped node rejoins for the next run
