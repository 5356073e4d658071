"""A `streamlit run app.py` of this repository on loopback, for the benchmarks and the browser tests.

A free port, the server command (headless, 127.0.0.1 only, no file watcher, no usage stats), a
launch in its own process group (so stopping it also ends its training workers), the health check
and the stop. Knows nothing about what is measured or tested.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(port: int, env: dict[str, str], log: Path, *options: str, script: str = "app.py") -> subprocess.Popen:
    """Start the app (or another Streamlit `script`, run from the app's folder and so with its config) on
    127.0.0.1:`port` with `env`, appending its output to `log`; extra `options` are Streamlit flags such
    as "--server.disconnectedSessionTTL", "5"."""
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *options]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def healthy(url: str) -> bool:
    """Whether `url`/_stcore/health answers "ok"."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "ok"
    except OSError:
        return False


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (its workers too), SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
