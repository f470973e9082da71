"""A real `newsfacet serve` for tests: a free loopback port, started and stopped around a block."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from warm_cache import cli_env


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(index_dir: Path, log: Path, threads: int = 8, timeout: float = 60, options=()):
    """Run `newsfacet serve` over index_dir until the block ends; yields the base URL. Output goes to log.
    `options` go before `serve` (--backend opensearch --opensearch-url URL ...)."""
    port = free_port()
    # A file, not a pipe: a full pipe would stall the server's logging.
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "search.cli", "--index", str(index_dir), *options, "serve",
                                 "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)],
                                env=cli_env(), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(base + "/api/search", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"newsfacet serve did not start: {log.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
