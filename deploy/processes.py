"""Processes a deployment starts and stops by their recorded id, from any shell.

`launch` starts a command in its own session (so its children are found again, and a terminal's Ctrl-C
does not reach it) with its output appended to a log, and returns a `Service` record (name, pid, the
process's start time, port, log) that `save`/`load` keep as JSON in the state folder. `alive` checks the
recorded process is still the one started (same pid AND same start time, so a reused pid is never
signalled); `stop` asks the process to end (one signal to it alone: a Streamlit server saves its runs,
nginx and `ray start --block` end their children) and SIGKILLs whatever is left of its session after a
grace period; `kill` is the crash (SIGKILL to the whole session at once). Also: a free loopback port, and
waiting for a port or an HTTP health URL. Knows nothing about which services run or why.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path


class DeployError(RuntimeError):
    """A deployment step failed; the message says which and what to look at."""


@dataclass(frozen=True)
class Service:
    name: str  # e.g. "replica1"
    pid: int  # also its session id: launched with start_new_session
    started: int  # the process's start time (clock ticks after boot, /proc/PID/stat field 22)
    port: int
    log: str  # where its output goes


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on at `host` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def launch(name: str, command: list[str], port: int, log: Path, env: dict[str, str], cwd: Path) -> Service:
    """Start `command` in a new session, output appended to `log`; returns its record."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    return Service(name, process.pid, _stat(process.pid)[1] or 0, port, str(log))


def save(service: Service, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{service.name}.json").write_text(json.dumps(asdict(service)))


def load(folder: Path) -> list[Service]:
    """Every service recorded in `folder`, in the order they were started."""
    records = [Service(**json.loads(path.read_text())) for path in folder.glob("*.json")] if folder.is_dir() else []
    return sorted(records, key=lambda s: s.started)


def forget(service: Service, folder: Path) -> None:
    (folder / f"{service.name}.json").unlink(missing_ok=True)


def alive(service: Service) -> bool:
    """Whether the recorded process still runs (not a zombie) and is the one that was started."""
    state, started = _stat(service.pid)
    return state not in ("", "Z", "X") and started == service.started


def members(service: Service) -> list[int]:
    """The living processes of the service's session (the service and its children); none when another
    process holds the pid now: the kernel reuses a pid only once no process of its session is left."""
    state, started = _stat(service.pid)
    if state and started != service.started:
        return []
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _fields(int(entry.name))
            if fields and fields[0] not in ("Z", "X") and int(fields[3]) == service.pid:  # field 6: session id
                found.append(int(entry.name))
    return found


def stop(service: Service, grace: float = 15.0, first: signal.Signals = signal.SIGTERM) -> None:
    """Signal the service's process (`first`), wait up to `grace` s for its session to end, SIGKILL the rest."""
    if alive(service):
        _signal(service.pid, first)
    if _wait_gone(service, grace):
        return
    kill(service)
    _wait_gone(service, 5.0)


def kill(service: Service) -> None:
    """SIGKILL every process of the service's session at once, as a crash would end them."""
    if not alive(service) and not members(service):
        return
    for pid in members(service):
        _signal(pid, signal.SIGKILL)


def wait_port(host: str, port: int, service: Service, timeout: float) -> None:
    """Wait until something accepts connections on `host`:`port`; DeployError if `service` exits first."""
    def ready() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            return False
    _wait(ready, service, timeout, f"{host}:{port}")


def wait_health(url: str, service: Service, timeout: float) -> None:
    """Wait until `url` answers "ok" (Streamlit's /_stcore/health); DeployError if `service` exits first."""
    _wait(lambda: health(url), service, timeout, url)


def health(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "ok"
    except OSError:
        return False


def log_tail(service: Service, lines: int = 15) -> str:
    try:
        return "\n".join(Path(service.log).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait(ready, service: Service, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if not alive(service):
            raise DeployError(f"{service.name} exited before {what} was ready; the end of {service.log}:\n"
                              f"{log_tail(service)}")
        if time.monotonic() > deadline:
            raise DeployError(f"{service.name}: {what} not ready after {timeout:.0f} s; see {service.log}")
        time.sleep(0.25)


def _wait_gone(service: Service, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while alive(service) or members(service):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _stat(pid: int) -> tuple[str, int | None]:
    """(state letter, start time) of `pid`; ("", None) when there is no such process."""
    fields = _fields(pid)
    return (fields[0], int(fields[19])) if fields else ("", None)


def _fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: [state, ppid, pgrp, session, ...]; [] when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []
