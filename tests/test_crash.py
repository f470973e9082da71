"""kill -9 of `newsfacet rebuild` / `update` at random moments, including inside the final switch, and two
writers at once: the previous index stays complete and searchable, and the next run needs no clean-up.

The enrichment cache is pre-warmed (tests/warm_cache.py), so the subprocesses never load spaCy. The kill
moments are random but seeded: NEWSFACET_CRASH_SEED=<n> reproduces a run (the seed is in the failure text).
"""
from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.cli import main
from search.config import Settings
from search.indexer import live_generation, rebuild
from warm_cache import cli_env, newsfacet, prewarm, run_newsfacet

SEED = int(os.environ.get("NEWSFACET_CRASH_SEED", "20260601"))
WORDS = "river council harbour budget storm ferry library orchard bridge school market festival".split()


def write_articles(path: Path, start: int, count: int, tag: str = "") -> None:
    """count tiny JSON Lines articles with ids a<start>..; every one has the word 'story' and a marker word."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for n in range(start, start + count):
            f.write(json.dumps({
                "id": f"a{n}", "title": f"Story {n} about the {WORDS[n % 12]}{tag}", "date": f"2022-03-{n % 28 + 1:02d}",
                "text": f"The {WORDS[n % 12]} story number {n} says the {WORDS[n * 7 % 12]} was busy. Marker{n}{tag}.",
            }) + "\n")


def cli(*args) -> dict:
    """Run a read-only command in-process (`stats --json`, `search ... --json`) and return its JSON."""
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def assert_complete(index_dir: Path, count: int, n: int) -> None:
    """The live index holds exactly `count` articles, all searchable, and finds article a<n> by its marker."""
    assert cli("--index", index_dir, "stats", "--json")["articles"] == count
    assert cli("--index", index_dir, "search", "story", "--limit", "1", "--json")["total"] == count
    found = cli("--index", index_dir, "search", f"Marker{n}", "--json")
    assert [r["id"] for r in found["results"]] == [f"a{n}"]


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*"))


def assert_no_leftover_generations(index_dir: Path, where: str) -> None:
    """Beyond the live generation and the one before, only ones retired within the grace period remain
    (a request may still read them); nothing a crash left behind stays for good."""
    from search.indexer import RETIRE_GRACE_SECONDS

    gens = [index_dir / g for g in generations(index_dir)]
    assert gens[-1] == live_generation(index_dir), where
    for old, successor in zip(gens[:-2], gens[1:-1]):
        assert time.time() - successor.stat().st_ctime < RETIRE_GRACE_SECONDS, (where, old.name)


def wait_for_lock(proc, index_dir: Path, timeout: float = 60) -> None:
    """Until the subprocess holds the writer lock (it writes its pid into .lock)."""
    deadline = time.monotonic() + timeout
    lock = index_dir / ".lock"
    while time.monotonic() < deadline:
        try:
            if lock.read_text().strip() == f"pid {proc.pid}":
                return
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            return
        time.sleep(0.01)
    raise AssertionError("the writer never took the lock")


def kill_at(proc, delay: float) -> bool:
    """SIGKILL after delay seconds; True if it was still running (a real crash), False if it had finished."""
    time.sleep(delay)
    alive = proc.poll() is None
    proc.kill()
    proc.communicate(timeout=30)
    return alive


@pytest.fixture
def corpus(tmp_path):
    """Two versions of a corpus (A: 240 articles, B: A + 60) and an index built from A."""
    a = tmp_path / "A"
    for part in range(3):
        write_articles(a / f"part{part}.jsonl", part * 80, 80)
    b = tmp_path / "B"
    for part in range(3):
        write_articles(b / f"part{part}.jsonl", part * 80, 80)
    write_articles(b / "part3.jsonl", 240, 60)
    index_dir = tmp_path / "ix"
    prewarm(index_dir, [a, b])
    assert rebuild([str(a)], Settings(index=index_dir)).total_documents == 240  # in-process: no start-up cost
    return {"A": (a, 240), "B": (b, 300), "index": index_dir}


def timed_run(*args) -> float:
    started = time.monotonic()
    done = run_newsfacet(*args)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


@pytest.mark.slow
def test_kill_9_of_rebuild_at_random_moments(corpus):
    rng = random.Random(SEED)
    index_dir = corpus["index"]
    # How long a whole run takes here, so kill moments cover all of it.
    full = timed_run("--index", index_dir, "rebuild", corpus["B"][0], "--quiet")
    state = "B"
    crashes = 0
    for trial in range(4):
        target = "A" if state == "B" else "B"
        before = live_generation(index_dir)
        proc = newsfacet("--index", index_dir, "rebuild", corpus[target][0], "--quiet")
        if trial % 2:  # anywhere in the run, start-up included
            crashed = kill_at(proc, rng.uniform(0, full))
        else:  # while it writes: after it took the lock
            wait_for_lock(proc, index_dir)
            crashed = kill_at(proc, rng.uniform(0, max(0.2, full / 2)))
        crashes += crashed
        after = live_generation(index_dir)
        state = state if after == before else target  # killed after its switch: the new index is live
        where = f"seed {SEED}, trial {trial}"
        assert after is not None, where
        assert_complete(index_dir, corpus[state][1], 7)
        # The next run succeeds with no clean-up by hand, whatever the kill left behind.
        target = "A" if state == "B" else "B"
        done = run_newsfacet("--index", index_dir, "rebuild", corpus[target][0], "--quiet")
        assert done.returncode == 0, (where, done.stderr)
        state = target
        assert_complete(index_dir, corpus[state][1], 7)
        assert not list(index_dir.glob("gen-*.tmp")), where
        assert_no_leftover_generations(index_dir, where)
    assert crashes >= 2, f"only {crashes} of 4 kills hit a running rebuild (seed {SEED})"


@pytest.mark.slow
def test_kill_9_of_update_at_random_moments(corpus):
    rng = random.Random(SEED + 1)
    index_dir = corpus["index"]
    a, count = corpus["A"]
    full = None
    crashes = 0
    for trial in range(3):
        # Each trial adds 10 articles and changes one; they are in the cache, so spaCy never runs.
        write_articles(a / f"new{trial}.jsonl", 1000 + 10 * trial, 10)
        write_articles(a / "part0.jsonl", 0, 80, tag=f"x{trial}")
        prewarm(index_dir, [a])
        before = live_generation(index_dir)
        if full is None:
            full = timed_run("--index", index_dir, "update", a, "--quiet")
            count += 10
            assert_complete(index_dir, count, 1000)
            continue
        proc = newsfacet("--index", index_dir, "update", a, "--quiet")
        wait_for_lock(proc, index_dir)
        crashes += kill_at(proc, rng.uniform(0, full / 2))
        where = f"seed {SEED + 1}, trial {trial}"
        if live_generation(index_dir) == before:
            assert_complete(index_dir, count, 1000 + 10 * (trial - 1))
        else:
            assert_complete(index_dir, count + 10, 1000 + 10 * trial)
        done = run_newsfacet("--index", index_dir, "update", a, "--quiet")
        assert done.returncode == 0, (where, done.stderr)
        count += 10
        assert_complete(index_dir, count, 1000 + 10 * trial)
        assert cli("--index", index_dir, "search", f"Marker3x{trial}", "--json")["total"] == 1, where
        assert not list(index_dir.glob("gen-*.tmp")), where
    assert crashes >= 1, f"neither of 2 kills hit a running update (seed {SEED + 1})"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["rebuild", "update"])
def test_kill_9_inside_the_final_switch(corpus, command):
    """Killed after the new generation was renamed into place but before CURRENT pointed to it."""
    index_dir = corpus["index"]
    b, count = corpus["B"]
    before = live_generation(index_dir)
    proc = newsfacet("--index", index_dir, command, b, "--quiet", env=cli_env(NEWSFACET_TEST_SWITCH_PAUSE=30))
    deadline = time.monotonic() + 60
    orphan = []
    while not orphan and time.monotonic() < deadline and proc.poll() is None:
        orphan = [g for g in generations(index_dir) if not g.endswith(".tmp") and g != before.name]
        time.sleep(0.01)
    assert orphan, proc.communicate()
    assert kill_at(proc, 0.05)
    assert live_generation(index_dir) == before
    assert_complete(index_dir, corpus["A"][1], 7)
    # The next run finishes the job; the renamed-but-never-live generation is cleared away, and the
    # generation that was live stays on disk beside the new one for servers still reading it.
    done = run_newsfacet("--index", index_dir, command, b, "--quiet")
    assert done.returncode == 0, done.stderr
    assert_complete(index_dir, count, 250)
    assert not (index_dir / orphan[0]).exists()
    assert generations(index_dir) == sorted([before.name, live_generation(index_dir).name])


@pytest.mark.slow
def test_two_updates_at_once(corpus):
    """The second writer stops at once with a clear message (or waits with --wait); nothing is corrupted."""
    index_dir = corpus["index"]
    b, count = corpus["B"]
    first = newsfacet("--index", index_dir, "update", b, "--quiet")
    wait_for_lock(first, index_dir)
    os.kill(first.pid, signal.SIGSTOP)  # hold it inside its run, lock taken, for as long as the others need
    try:
        assert first.poll() is None
        waiting = newsfacet("--index", index_dir, "update", b, "--quiet", "--wait", 120)
        second = run_newsfacet("--index", index_dir, "update", b, "--quiet")
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode != 0
    assert f"is being written by pid {first.pid}" in second.stderr, second.stderr
    assert "--wait" in second.stderr and "Traceback" not in second.stderr
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert f"{count} unchanged" in out
    assert_complete(index_dir, count, 250)
