"""A Ray cluster of our own on loopback, for the tests and the benchmarks.

`RayNode.head(num_cpus)` runs `ray start --head --block` on 127.0.0.1 with free ports, no dashboard, no
usage stats and a short temp dir, in its own process group; `RayNode.worker(head, num_cpus)` adds a node to
it (`ray start --address`). `stop()` signals the node's process group (SIGTERM, then SIGKILL after a grace
period): never `ray stop`, which would end every Ray cluster on the machine (other tests run their own).
`ray_cluster` is the session-scoped fixture (registered in conftest.py) that the Ray backend's tests
share: one head of 2 CPUs for the whole test session. It skips only where the `ray` command is missing.
Asked for 127.0.0.1 (`--node-ip-address`), Ray 2.60 still advertises the machine's own address and its
gRPC servers (GCS, raylet) listen on every interface (`services.resolve_ip_for_localhost`); their ports
are free ones chosen here, and the nodes live only as long as the fixture or benchmark that started them.
Knows nothing about the playground.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

START_SECONDS = 120.0  # only to turn a cluster that never comes up into a failure
GRACE_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ports() -> list[str]:
    """Every port a node would otherwise pick at random or by default, free now."""
    names = ("--node-manager-port", "--object-manager-port", "--runtime-env-agent-port",
             "--dashboard-agent-grpc-port", "--dashboard-agent-listen-port", "--metrics-export-port")
    return [part for name in names for part in (name, str(free_port()))]


class RayNode:
    """One `ray start --block` process group; `address` is the head's "127.0.0.1:PORT"."""

    def __init__(self, args: list[str], address: str, temp_dir: str, num_cpus: int, log_name: str):
        self.address, self.temp_dir, self.num_cpus = address, temp_dir, num_cpus
        self.log_path = os.path.join(temp_dir, log_name)
        command = [shutil.which("ray") or "ray", "start", "--block", *args, f"--num-cpus={num_cpus}", "--num-gpus=0",
                   "--disable-usage-stats", "--node-ip-address=127.0.0.1", *_ports()]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                            start_new_session=True, env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
        self._wait_until_up()

    @classmethod
    def head(cls, num_cpus: int = 2) -> "RayNode":
        temp_dir = tempfile.mkdtemp(prefix="r", dir="/tmp")  # unix socket paths must stay under 100 chars
        port = free_port()
        args = ["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp_dir}"]
        return cls(args, f"127.0.0.1:{port}", temp_dir, num_cpus, "head.log")

    @classmethod
    def worker(cls, head: "RayNode", num_cpus: int = 1) -> "RayNode":
        """Another node of `head`'s cluster on this machine (as a second machine would join it)."""
        name = f"node-{free_port()}.log"
        return cls([f"--address={head.address}"], head.address, head.temp_dir, num_cpus, name)

    def _wait_until_up(self) -> None:
        """Until `ray start` says the node runs (in its log); RuntimeError if the process ends first."""
        deadline = time.monotonic() + START_SECONDS
        while True:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                text = log.read()
            if "Ray runtime started" in text:
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ray start failed: {text[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """End the node's process group: SIGTERM, SIGKILL after GRACE_SECONDS."""
        for sig, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, GRACE_SECONDS)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def remove(self) -> None:
        """Stop the node and delete its temp dir (the head's; a worker node shares it)."""
        self.stop()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_cluster():
    """A 2-CPU Ray head on loopback for the whole test session; its address ("127.0.0.1:PORT")."""
    if shutil.which("ray") is None:
        pytest.skip("the `ray` command is missing: pip install -r requirements-school.txt (ray)")
    node = RayNode.head(num_cpus=2)
    try:
        yield node.address
    finally:
        from playground import ray_backend

        ray_backend.disconnect()
        node.remove()
