"""A real OpenSearch cluster for tests, started and stopped with scripts/opensearch.sh.

Each cluster gets its own folder under /var/tmp (the nodes run as an unprivileged user, who cannot enter
pytest's root-only temporary folders) and its own free ports. A machine without Java or Maven skips the
tests that need one, saying how to run them; a failed download or a node that does not start fails them.
"""
from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "opensearch.sh"
HOW_TO_RUN = ("needs Java 17 and Maven to run OpenSearch from Maven Central: `bash scripts/opensearch.sh deps` "
              "installs them (Debian, as root), then `make test` / `make test-long`")


def missing_tools() -> list[str]:
    """What the script needs and this machine lacks."""
    return [tool for tool in ("java", "mvn", "curl", "unzip") if shutil.which(tool) is None]


def _ports_free(base: int, n: int) -> bool:
    for port in [base + i for i in range(n)] + [base + 100 + i for i in range(n)]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


class Cluster:
    """N nodes on 127.0.0.1 in a folder of their own; `urls` is the comma-separated list of node URLs."""

    def __init__(self, nodes: int):
        self.nodes = nodes
        self.home = Path(tempfile.mkdtemp(prefix=f"newsfacet-os{nodes}-", dir="/var/tmp"))
        self.home.chmod(0o755)
        rng = random.Random(os.getpid() * 31 + nodes)
        for _ in range(50):
            base = rng.randrange(19200, 29000, 10)
            if _ports_free(base, nodes):
                break
        else:
            raise RuntimeError("no free ports for an OpenSearch test cluster")
        self.port = base
        self.urls = ""

    def env(self) -> dict:
        """The script's environment for this cluster."""
        return {**os.environ, "NEWSFACET_OPENSEARCH_HOME": str(self.home), "NEWSFACET_OPENSEARCH_PORT": str(self.port),
                "NEWSFACET_OPENSEARCH_HEAP": os.environ.get("NEWSFACET_TEST_OPENSEARCH_HEAP", "512m")}

    def run(self, *args: str, timeout: float = 900) -> str:
        """Run the script; its failure (a download, a node) fails the test with the script's own message."""
        proc = subprocess.run(["bash", str(SCRIPT), *args], env=self.env(), capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:
            pytest.fail(f"scripts/opensearch.sh {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-6000:]}",
                        pytrace=False)
        return proc.stdout

    def start(self) -> str:
        """Start every node not running and wait for the cluster; returns the node URLs."""
        self.urls = self.run("start", str(self.nodes)).strip().splitlines()[-1]
        return self.urls

    def stop_node(self, i: int) -> None:
        """Stop one node (SIGTERM, as an operator or a scheduler stops it)."""
        self.run("stop-node", str(i))

    def node_url(self, i: int) -> str:
        """The HTTP URL of node i."""
        return f"http://127.0.0.1:{self.port + i}"

    def close(self) -> None:
        """Stop every node and delete the folder."""
        subprocess.run(["bash", str(SCRIPT), "stop", "--wipe"], env=self.env(), capture_output=True, timeout=300)
        shutil.rmtree(self.home, ignore_errors=True)


def start_cluster(nodes: int) -> Cluster:
    """A running cluster of `nodes` nodes, or a skip saying how to run these tests."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"OpenSearch tests skipped: {', '.join(missing)} not found; this {HOW_TO_RUN}")
    cluster = Cluster(nodes)
    try:
        cluster.start()
    except BaseException:
        cluster.close()
        raise
    return cluster
