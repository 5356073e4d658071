"""A throwaway PostgreSQL server for the store tests: `initdb` into a fresh temp folder, started on
127.0.0.1 at a free port, stopped (and its folder removed) at the end of the test session.

PostgreSQL refuses to run as root, so under root (CI) every server command runs as the `postgres`
system user (`runuser`), in a folder it owns. Each test gets a database of its own (`new_database`,
dropped afterwards). `stop()` and `start()` restart the server mid-test (the database-restart fault).
The fixtures skip only when PostgreSQL is not installed (Debian's `postgresql` package). Knows nothing
about the app's tables.
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

PACKAGE = "postgresql"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One PostgreSQL server in its own folder; `url(database)` names a database on it."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="pg", dir="/tmp"))
        self.data, self.port = self.root / "data", free_port()
        self.as_postgres, self.running = os.geteuid() == 0, False
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server (nothing to do when it runs)."""
        if self.running:
            return
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -F -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (nothing to do when it is stopped); its data stays for `start`."""
        self.running = False
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def sql(self, statement: str) -> None:
        """Run one statement as the superuser (outside a transaction: CREATE/DROP DATABASE)."""
        self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                  "-v", "ON_ERROR_STOP=1", "-q", "-c", statement)

    def new_database(self) -> str:
        name = "t_" + secrets.token_hex(6)
        self.sql(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            log = (self.root / "log").read_text(errors="replace")[-2000:] if (self.root / "log").exists() else ""
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr or result.stdout}\n{log}")


@pytest.fixture(scope="session")
def pg_server():
    """A running PostgreSQL server for the whole test session (started on first use)."""
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL is not installed (Debian package {PACKAGE!r})")
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def pg_url(pg_server):
    """The URL of a fresh database of this test's own on the session's server (dropped afterwards)."""
    from playground.database import dispose_all

    name = pg_server.new_database()
    yield pg_server.url(name)
    dispose_all()
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request, tmp_path):
    """Where a store keeps its runs and classes, once per database: a SQLite file, then a PostgreSQL URL."""
    if request.param == "sqlite":
        return tmp_path / "runs.sqlite"
    return request.getfixturevalue("pg_url")
