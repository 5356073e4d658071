"""A PostgreSQL server for the school's shared store, in a data folder the deployment owns.

`binaries()` finds Debian's newest /usr/lib/postgresql/*/bin; `create` runs initdb once (a superuser
`playground` with a random password kept in a 0600 file beside the data folder, password logins only)
and `start` runs it with `pg_ctl` on one host and port (no unix socket), creates the database
`playground` on the first start and returns the SQLAlchemy URL for PLAYGROUND_DB_URL (`url` gives it
again); `running` and `stop` (a fast shutdown: open transactions roll back) use `pg_ctl` too.
PostgreSQL refuses to run as root, so as root every server command runs as the `postgres` system user
(`runuser`), which must own and reach the data folder. The data folder is kept by `stop` (the school's runs live there).
Knows nothing about the tables: the app's store creates and migrates them.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

from .processes import DeployError

DATABASE = USER = "playground"
PG_ROOT = Path("/usr/lib/postgresql")


def binaries(root: Path = PG_ROOT) -> Path:
    """The bin folder of the newest PostgreSQL installed; DeployError naming the package when there is none."""
    found = sorted((p for p in root.glob("*/bin") if (p / "initdb").exists()),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not found:
        raise DeployError(f"PostgreSQL is not installed (no {root}/*/bin/initdb): apt-get install postgresql, "
                          "or start with --store sqlite")
    return found[-1]


def password_file(data: Path) -> Path:
    return data.with_name(data.name + ".password")


def create(data: Path, log: Path) -> None:
    """initdb into `data` unless it holds a cluster already."""
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    secret = password_file(data)
    secret.write_text(secrets.token_urlsafe(24))
    secret.chmod(0o600)
    pwfile = data.parent / ".initdb-password"  # initdb reads it as the postgres user, then it goes
    shutil.copy(secret, pwfile)
    _hand_over(data, pwfile)
    try:
        _server_command([str(binaries() / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}",
                         "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], log)
    finally:
        pwfile.unlink(missing_ok=True)


def start(data: Path, host: str, port: int, log: Path) -> str:
    """Start the server on `host`:`port` (waiting until it accepts connections), create the database when
    missing; returns its URL."""
    options = f"-c listen_addresses={host} -p {port} -c unix_socket_directories=''"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    _hand_over(data, log)  # pg_ctl writes the server's log as the postgres user
    _server_command([str(binaries() / "pg_ctl"), "start", "-D", str(data), "-w", "-t", "60", "-l", str(log),
                     "-o", options], log)
    password = password_file(data).read_text().strip()
    env = {**os.environ, "PGPASSWORD": password}
    exists = subprocess.run([str(binaries() / "psql"), "-h", host, "-p", str(port), "-U", USER, "-d", "postgres",
                             "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
                            env=env, capture_output=True, text=True, timeout=60)
    if exists.stdout.strip() != "1":
        subprocess.run([str(binaries() / "createdb"), "-h", host, "-p", str(port), "-U", USER, DATABASE],
                       env=env, check=True, capture_output=True, timeout=60)
    return url(data, host, port)


def url(data: Path, host: str, port: int) -> str:
    """The SQLAlchemy URL of the database `playground` on the server of `data`, with its password."""
    password = quote(password_file(data).read_text().strip(), safe="")
    return f"postgresql+psycopg://{USER}:{password}@{host}:{port}/{DATABASE}"


def running(data: Path) -> bool:
    if not (data / "PG_VERSION").exists():
        return False
    return _run_as_server([str(binaries() / "pg_ctl"), "status", "-D", str(data)]).returncode == 0


def stop(data: Path, log: Path) -> None:
    """A fast shutdown (connections closed, open transactions rolled back), waiting for the end."""
    if running(data):
        _server_command([str(binaries() / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w", "-t", "60"], log)


def _hand_over(data: Path, *files: Path) -> None:
    """As root: the data folder (and `files`) belong to the postgres user, who must reach them."""
    if os.geteuid() != 0:
        return
    for path in (data, *files):
        shutil.chown(path, "postgres", "postgres")
    data.chmod(0o700)
    if _run_as_server(["test", "-w", str(data)]).returncode != 0:
        raise DeployError(f"the postgres user cannot reach {data} (a parent folder is closed to it): put the "
                          "state folder where it can, e.g. under /srv or /tmp")


def _server_command(command: list[str], log: Path) -> None:
    result = _run_as_server(command)
    if result.returncode != 0:
        raise DeployError(f"{Path(command[0]).name} {command[1] if len(command) > 1 else ''} failed "
                          f"({result.returncode}): {(result.stdout + result.stderr).strip()[-800:]}; see {log}")


def _run_as_server(command: list[str]) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
