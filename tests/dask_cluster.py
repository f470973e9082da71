"""A real Dask cluster on 127.0.0.1 for tests: a `dask scheduler` and `dask worker --nthreads 1` processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle

from servers import free_port
from warm_cache import cli_env

DASK = str(Path(sys.executable).with_name("dask"))


class Cluster:
    """Scheduler and worker processes, each logging to a file under `root`; `stop()` ends them all."""

    def __init__(self, root: Path, env: dict | None = None, tls: dict | None = None):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.env = cli_env(**(env or {}))
        self.port = free_port()
        self.tls = tls  # {"ca": ..., "cert": ..., "key": ...}: PEM files every process uses
        self.address = f"{'tls' if tls else 'tcp'}://127.0.0.1:{self.port}"
        self.scheduler: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}
        self._client = None

    def _tls_args(self) -> list[str]:
        if not self.tls:
            return []
        return ["--protocol", "tls", "--tls-ca-file", str(self.tls["ca"]), "--tls-cert", str(self.tls["cert"]),
                "--tls-key", str(self.tls["key"])]

    def _start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        with open(self.root / f"{name}.log", "w") as log:  # a file: a full pipe would stall the process
            return subprocess.Popen([DASK, *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.root, start_new_session=True)

    def start_scheduler(self, pythonpath: Path | None = None) -> "Cluster":
        """Start the scheduler; returns self once it accepts connections."""
        env = dict(self.env, **({"PYTHONPATH": str(pythonpath)} if pythonpath is not None else {}))
        self.scheduler = self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                                   "--no-dashboard", *self._tls_args()], env)
        self._wait(lambda: "Scheduler at:" in self.log("scheduler"), "the scheduler to start", self.scheduler)
        return self

    def add_worker(self, name: str, preload: Path | None = None, pythonpath: Path | None = None,
                   env: dict | None = None) -> subprocess.Popen:
        """Start `dask worker` (its nanny restarts it when killed) with one thread, and env added to its
        environment."""
        env = dict(self.env, **(env or {}))
        if pythonpath is not None:
            env["PYTHONPATH"] = str(pythonpath)
        args = ["worker", self.address, "--nthreads", "1", "--name", name, "--host", "127.0.0.1",
                "--no-dashboard", "--local-directory", str(self.root / "scratch")]
        if preload is not None:
            args += ["--preload", str(preload)]
        args += self._tls_args()
        self.workers[name] = proc = self._start(f"worker-{name}", args, env)
        return proc

    def client(self):
        """A client of this cluster in the test process (for watching it and finding worker processes)."""
        if self._client is None:
            from distributed import Client
            from distributed.security import Security

            security = Security(tls_ca_file=str(self.tls["ca"]), tls_client_cert=str(self.tls["cert"]),
                                tls_client_key=str(self.tls["key"]), require_encryption=True) if self.tls else None
            self._client = Client(self.address, set_as_default=False, timeout=30, security=security)
        return self._client

    def wait_for_workers(self, n: int, timeout: float = 90) -> None:
        """Until n workers are registered."""
        self._wait(lambda: len(self.client().scheduler_info(n_workers=-1)["workers"]) >= n,
                   f"{n} Dask workers", None, timeout)

    def address_of(self, name: str) -> str:
        """The address of the worker of that name (it changes when its nanny restarts it)."""
        info = self.client().scheduler_info(n_workers=-1)["workers"]
        return next(a for a, w in info.items() if w.get("name") == name)

    def pipelines_loaded(self, name: str) -> int:
        """How many spaCy pipelines the worker of that name has loaded."""
        address = self.address_of(name)
        return self.client().run(_pipelines_loaded, workers=[address])[address]

    def large_buffers_kept(self) -> dict[str, bool | None]:
        """Per worker name: whether analysing set glibc's mmap threshold (None: it has analysed nothing)."""
        info = self.client().scheduler_info(n_workers=-1)["workers"]
        return {info[a]["name"]: kept for a, kept in self.client().run(_large_buffers_kept).items()}

    def worker_pid(self, name: str) -> int:
        """The process id of the worker (not its nanny) of that name."""
        address = self.address_of(name)
        return self.client().run(os.getpid, workers=[address])[address]

    def busy_worker(self, timeout: float = 120) -> str:
        """The name of a worker running one of newsfacet's batches, as soon as there is one."""
        found: list[str] = []

        def running():
            info = self.client().scheduler_info(n_workers=-1)["workers"]
            for address, keys in self.client().processing().items():
                if any("newsfacet-enrich" in str(k) for k in keys) and address in info:
                    found.append(info[address]["name"])
                    return True
            return False

        self._wait(running, "a worker running a batch", None, timeout, every=0.05)
        return found[0]

    def wait_for_batches(self, n: int, timeout: float = 120) -> None:
        """Until the workers have run n tasks between them."""
        self._wait(lambda: sum(self.client().run(_executed).values()) >= n, f"{n} batches run", None, timeout,
                   every=0.1)

    def kill_scheduler(self) -> None:
        """kill -9 the scheduler."""
        if self._client is not None:
            self._client.close()
            self._client = None
        os.kill(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait()

    def stop_worker(self, name: str) -> None:
        """End a worker and its nanny."""
        _end(self.workers.pop(name))

    def stop(self) -> None:
        """End every process of the cluster."""
        if self._client is not None:
            self._client.close()
            self._client = None
        for name in list(self.workers):
            self.stop_worker(name)
        if self.scheduler is not None:
            _end(self.scheduler)

    def log(self, name: str) -> str:
        """What a process (scheduler, worker-<name>) wrote so far."""
        try:
            return (self.root / f"{name}.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _wait(self, ready, what: str, proc, timeout: float = 60, every: float = 0.2) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if proc is not None and proc.poll() is not None or time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.root.glob("*.log"))
                raise AssertionError(f"waited in vain for {what}\n{logs}")
            time.sleep(every)


def make_certificates(folder: Path) -> dict:
    """A throw-away CA and one certificate it signed for 127.0.0.1 (scheduler, workers and client share it)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=newsfacet test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=127.0.0.1")
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "node.pem", "-days", "2", "-extfile", "san.cnf")
    return {"ca": folder / "ca.pem", "cert": folder / "node.pem", "key": folder / "node.key"}


def _pipelines_loaded() -> int:
    import search.cluster

    return len(search.cluster._pipelines)


def _large_buffers_kept() -> bool | None:
    from search.cluster import keep_large_buffers

    # the cached answer of its one run in this worker, without running it here
    return keep_large_buffers() if keep_large_buffers.cache_info().currsize else None


def _executed(dask_worker) -> int:
    return dask_worker.state.executed_count


# Workers cannot import this test helper: functions of it that run there travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _end(proc: subprocess.Popen) -> None:
    """SIGTERM the process group (nanny and worker), SIGKILL what is left after 20 s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # a worker its nanny left behind
    except (ProcessLookupError, PermissionError):
        pass
