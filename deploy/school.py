"""Hold a school on one machine: `python -m deploy.school up|down|status|repair --state DIR [options]`.

`up` starts, in this order and each in its own session: PostgreSQL (deploy/postgres.py; `--store sqlite`:
one shared SQLite file instead), a Ray head (`ray start --head --block`; `--no-ray`: each replica trains
on its own local pool), N Streamlit replicas of app.py on 127.0.0.1 (PLAYGROUND_DB_URL,
PLAYGROUND_RAY_ADDRESS, one shared PLAYGROUND_DATA folder, one cookie secret), and nginx in front with
sticky sessions (deploy/nginx_conf.py: a cookie names the replica that serves a browser). It waits until
each answers, writes what it started into DIR (school.json, services/*.json: pids, ports, logs in logs/),
prints the address for the students, and returns; the services keep running. If a step fails it stops
what it had started and says why. `down` (from any shell) stops them in the reverse order; the store
(DIR/postgres or DIR/playground.sqlite) and the shared data folder stay for the next `up`. `status`
prints one line per service and exits 1 when one is not running; `repair` starts again what has stopped
(a crashed replica), the rest untouched. Default ports: nginx 8080, replicas 8501.., PostgreSQL 5433,
Ray 6379; 0 picks free ones. As root, PostgreSQL runs as the `postgres` user and nginx's workers as
`nobody`, so DIR is opened for traversal (mode 711) and must lie where they can reach it (e.g. /srv or
/tmp, not /root). Knows nothing about training or the tables: the app reads the environment it is given.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from . import nginx_conf, postgres
from .processes import DeployError, Service, alive, free_port, health, launch, load, save, wait_health, wait_port
from .processes import forget as forget_service
from .processes import stop as stop_service

ROOT = Path(__file__).resolve().parents[1]  # the app's checkout: app.py and .streamlit/config.toml
LOOPBACK = "127.0.0.1"
HOST = re.compile(r"[A-Za-z0-9.:-]{1,253}")  # an IPv4/IPv6 address or a host name (they go into nginx.conf)
PATH = re.compile(r"[A-Za-z0-9._/+@-]{1,200}")
STREAMLIT_FLAGS = ("--server.headless", "true", "--browser.gatherUsageStats", "false",
                   "--server.fileWatcherType", "none")


@dataclass(frozen=True)
class Plan:
    """What `up` starts; saved as DIR/school.json with the ports actually used."""

    state: str
    listen: str = LOOPBACK  # nginx's address: 0.0.0.0 opens the school to the classroom's network
    port: int = 8080  # nginx: the students' address
    replicas: int = 2
    replica_port: int = 8501  # replica i listens on replica_port + i - 1 (0: free ports)
    store: str = "postgres"  # or "sqlite": one SQLite file in DIR shared by the replicas
    pg_port: int = 5433
    ray: bool = True
    ray_host: str = LOOPBACK  # the head's address: the LAN address lets other machines join
    ray_port: int = 6379
    data: str = ""  # PLAYGROUND_DATA shared by the replicas ("": DIR/data)
    workers: int | None = None  # PLAYGROUND_WORKERS of each replica (None: the app's default)
    replica_ports: tuple[int, ...] = ()  # filled in by `resolve`
    ray_temp: str = ""  # Ray's --temp-dir (short: unix socket paths), filled in by `up`

    @property
    def folder(self) -> Path:
        return Path(self.state)

    @property
    def services(self) -> Path:
        return self.folder / "services"

    @property
    def logs(self) -> Path:
        return self.folder / "logs"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK if self.listen in ('0.0.0.0', '') else self.listen}:{self.port}"


# --- up ------------------------------------------------------------------------------------------

def up(plan: Plan, say=print) -> Plan:
    """Start everything `plan` names; returns the plan with its ports. DeployError (after stopping what
    started) when a step fails."""
    check(plan)
    _refuse_if_running(plan)
    plan = resolve(plan)
    _prepare(plan)
    try:
        env = _replica_env(plan, _start_store(plan, say), _start_ray(plan, say))
        _start_replicas(plan, env, say)
        _start_nginx(plan, say)
    except BaseException:
        down(plan.folder, say=lambda line: None)
        raise
    say(f"The school is open at {plan.url} (replicas: {', '.join(map(str, plan.replica_ports))}).")
    return plan


def check(plan: Plan) -> None:
    """DeployError naming the option for a value that cannot work."""
    if not 1 <= plan.replicas <= 16:
        raise DeployError(f"--replicas must be 1 to 16, not {plan.replicas}")
    for name in ("port", "replica_port", "pg_port", "ray_port"):
        if not 0 <= getattr(plan, name) <= 65535:
            raise DeployError(f"--{name.replace('_', '-')} must be a port number 0-65535 (0: a free one), "
                              f"not {getattr(plan, name)}")
    if plan.store not in ("postgres", "sqlite"):
        raise DeployError(f"--store must be postgres or sqlite, not {plan.store!r}")
    if plan.workers is not None and plan.workers < 0:
        raise DeployError(f"--workers must be 0 or more, not {plan.workers}")
    for name in ("listen", "ray_host"):
        if not HOST.fullmatch(getattr(plan, name)):
            raise DeployError(f"--{name.replace('_', '-')} must be an IP address or a host name, "
                              f"not {getattr(plan, name)!r}")
    if not PATH.fullmatch(str(Path(plan.state).resolve())):
        raise DeployError(f"--state must be a path of letters, digits and ._/+@- (it goes into nginx.conf), "
                          f"not {plan.state!r}")


def resolve(plan: Plan) -> Plan:
    """The plan with every 0 port replaced by a free one."""
    def pick(port: int) -> int:
        return port or free_port()
    replica_ports = tuple(pick(plan.replica_port and plan.replica_port + i) for i in range(plan.replicas))
    return replace(plan, port=pick(plan.port), pg_port=pick(plan.pg_port), ray_port=pick(plan.ray_port),
                   replica_ports=replica_ports)


def _refuse_if_running(plan: Plan) -> None:
    running = [s.name for s in load(plan.services) if alive(s)]
    if plan.store == "postgres" and postgres.running(_pg_data(plan)):
        running.append("postgres")
    if running:
        raise DeployError(f"{', '.join(running)} already running from {plan.folder}: "
                          f"`python -m deploy.school down --state {plan.folder}` first")


def _prepare(plan: Plan) -> None:
    for folder in (plan.folder, plan.logs, _data(plan)):
        folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:  # postgres and nginx's workers must pass through it
        plan.folder.chmod(plan.folder.stat().st_mode | 0o011)
    (plan.folder / "school.json").write_text(json.dumps(asdict(plan), indent=1))


def _data(plan: Plan) -> Path:
    return Path(plan.data) if plan.data else plan.folder / "data"


def _pg_data(plan: Plan) -> Path:
    return plan.folder / "postgres"


def _start_store(plan: Plan, say) -> str:
    """The store's URL: PostgreSQL started (and created on the first `up`), or the shared SQLite file."""
    if plan.store == "sqlite":
        return f"sqlite:///{plan.folder.resolve() / 'playground.sqlite'}"
    log = plan.logs / "postgres.log"
    postgres.create(_pg_data(plan), log)
    url = postgres.start(_pg_data(plan), LOOPBACK, plan.pg_port, log)
    say(f"PostgreSQL on {LOOPBACK}:{plan.pg_port} (data in {_pg_data(plan)})")
    return url


def _start_ray(plan: Plan, say) -> str:
    """The Ray head's address for PLAYGROUND_RAY_ADDRESS ("" with --no-ray)."""
    if not plan.ray:
        return ""
    temp = tempfile.mkdtemp(prefix="r", dir="/tmp")  # Ray's unix sockets need a short path
    (plan.folder / "school.json").write_text(json.dumps(asdict(replace(plan, ray_temp=temp)), indent=1))
    command = [_ray_executable(), "start", "--head", "--block", "--node-ip-address", plan.ray_host,
               "--port", str(plan.ray_port), "--dashboard-agent-listen-port", str(free_port()),
               "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", temp]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(ROOT)}
    service = launch("ray", command, plan.ray_port, plan.logs / "ray.log", env, ROOT)
    save(service, plan.services)
    wait_port(plan.ray_host, plan.ray_port, service, timeout=120)
    say(f"Ray head on {plan.ray_host}:{plan.ray_port}")
    return f"{plan.ray_host}:{plan.ray_port}"


def _ray_executable() -> str:
    beside = Path(sys.executable).with_name("ray")
    found = str(beside) if beside.exists() else shutil.which("ray")
    if not found:
        raise DeployError("Ray is not installed: pip install -r requirements-school.txt, or start with --no-ray")
    return found


def _replica_env(plan: Plan, db_url: str, ray_address: str) -> dict[str, str]:
    """The environment every replica gets: the same store, Ray, data folder and cookie secret."""
    env = {k: v for k, v in os.environ.items() if k not in ("PLAYGROUND_RAY_ADDRESS", "PLAYGROUND_RUNS_DB")}
    env.update(PLAYGROUND_DB_URL=db_url, PLAYGROUND_DATA=str(_data(plan).resolve()),
               STREAMLIT_SERVER_COOKIE_SECRET=_secret(plan))
    if db_url.startswith("sqlite:///"):  # the run store of today reads its file from here
        env["PLAYGROUND_RUNS_DB"] = db_url.removeprefix("sqlite:///")
    if ray_address:
        env["PLAYGROUND_RAY_ADDRESS"] = ray_address
    if plan.workers is not None:
        env["PLAYGROUND_WORKERS"] = str(plan.workers)
    return env


def _secret(plan: Plan) -> str:
    """One cookie secret for every replica (a cookie one signed is valid on the others), kept in DIR."""
    path = plan.folder / "cookie-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _start_replicas(plan: Plan, env: dict[str, str], say, only: set[str] | None = None) -> None:
    """Launch every replica (or those named in `only`), then wait until each answers its health check."""
    started = []
    for number, port in enumerate(plan.replica_ports, 1):
        if only is not None and f"replica{number}" not in only:
            continue
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                   "--server.address", LOOPBACK, *STREAMLIT_FLAGS]
        service = launch(f"replica{number}", command, port, plan.logs / f"replica{number}.log", env, ROOT)
        save(service, plan.services)
        started.append(service)
    for service in started:
        wait_health(f"http://{LOOPBACK}:{service.port}/_stcore/health", service, timeout=180)
        say(f"{service.name} on {LOOPBACK}:{service.port}")


def _start_nginx(plan: Plan, say) -> None:
    folder = (plan.folder / "nginx").resolve()
    folder.mkdir(exist_ok=True)
    replicas = [f"{LOOPBACK}:{port}" for port in plan.replica_ports]
    (folder / "nginx.conf").write_text(nginx_conf.render(plan.listen, plan.port, replicas, folder))
    command = [_nginx_executable(), "-p", str(folder), "-c", str(folder / "nginx.conf")]
    service = launch("nginx", command, plan.port, plan.logs / "nginx.log", dict(os.environ), ROOT)
    save(service, plan.services)
    wait_health(f"{plan.url}/_stcore/health", service, timeout=30)
    say(f"nginx on {plan.listen}:{plan.port}")


def _nginx_executable() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise DeployError("nginx is not installed: apt-get install nginx")
    return found


# --- repair, down and status -------------------------------------------------------------------------------

def read_plan(state: Path) -> Plan:
    path = state / "school.json"
    if not path.exists():
        raise DeployError(f"no school was started from {state} (no school.json)")
    saved = json.loads(path.read_text())
    return Plan(**{**saved, "replica_ports": tuple(saved.get("replica_ports", ()))})


def repair(state: Path, say=print) -> list[str]:
    """Start again what of a running school has stopped (a crashed replica, say), on its recorded ports and
    with the same environment; what still runs keeps its students. Returns the names started."""
    plan = read_plan(state)
    running = {s.name for s in load(plan.services) if alive(s)}
    if not running:
        raise DeployError(f"nothing of the school in {state} runs: `python -m deploy.school up` starts it")
    pg_down = plan.store == "postgres" and not postgres.running(_pg_data(plan))
    db_url = _start_store(plan, say) if plan.store == "sqlite" or pg_down else \
        postgres.url(_pg_data(plan), LOOPBACK, plan.pg_port)
    ray_down = plan.ray and "ray" not in running
    ray_address = _start_ray(plan, say) if ray_down else f"{plan.ray_host}:{plan.ray_port}" if plan.ray else ""
    replicas = {f"replica{n}" for n in range(1, plan.replicas + 1)} - running
    _start_replicas(plan, _replica_env(plan, db_url, ray_address), say, only=replicas)
    if "nginx" not in running:
        _start_nginx(plan, say)
    names = ["postgres"] * pg_down + ["ray"] * ray_down + sorted(replicas) + ["nginx"] * ("nginx" not in running)
    say(f"started again: {', '.join(names)}" if names else "everything runs")
    return names


def down(state: Path, say=print) -> None:
    """Stop every service started from `state`, newest first; the store and the data stay."""
    plan = read_plan(state)
    for service in reversed(load(plan.services)):
        stop_service(service)
        forget_service(service, plan.services)
        say(f"stopped {service.name} (pid {service.pid})")
    if plan.store == "postgres" and _pg_data(plan).exists():
        postgres.stop(_pg_data(plan), plan.logs / "postgres.log")
        say("stopped postgres")
    if plan.ray_temp:
        shutil.rmtree(plan.ray_temp, ignore_errors=True)


def status(state: Path) -> list[tuple[str, str, bool]]:
    """(service, where, running and answering) for everything `up` starts."""
    plan = read_plan(state)
    recorded = {s.name: s for s in load(plan.services)}
    rows = []
    if plan.store == "postgres":
        rows.append(("postgres", f"{LOOPBACK}:{plan.pg_port}",
                     _pg_data(plan).exists() and postgres.running(_pg_data(plan))))
    names = (["ray"] if plan.ray else []) + [f"replica{n}" for n in range(1, plan.replicas + 1)] + ["nginx"]
    for name in names:
        service = recorded.get(name)
        rows.append((name, _where(plan, name), service is not None and alive(service) and _answers(plan, service)))
    return rows


def _where(plan: Plan, name: str) -> str:
    if name == "ray":
        return f"{plan.ray_host}:{plan.ray_port}"
    if name == "nginx":
        return plan.url
    return f"{LOOPBACK}:{plan.replica_ports[int(name.removeprefix('replica')) - 1]}"


def _answers(plan: Plan, service: Service) -> bool:
    if service.name == "ray":
        return True
    base = plan.url if service.name == "nginx" else f"http://{LOOPBACK}:{service.port}"
    return health(f"{base}/_stcore/health")


# --- command line ---------------------------------------------------------------------------------

def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deploy.school", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "down", "status", "repair"))
    parser.add_argument("--state", type=Path, required=True, help="folder for pids, logs, the store and data")
    defaults = Plan(state="")
    parser.add_argument("--listen", default=defaults.listen, help="nginx's address (0.0.0.0: the whole network)")
    parser.add_argument("--port", type=int, default=defaults.port, help="nginx's port (0: a free one)")
    parser.add_argument("--replicas", type=int, default=defaults.replicas)
    parser.add_argument("--replica-port", type=int, default=defaults.replica_port, help="the first replica's")
    parser.add_argument("--store", choices=("postgres", "sqlite"), default=defaults.store)
    parser.add_argument("--pg-port", type=int, default=defaults.pg_port)
    parser.add_argument("--no-ray", dest="ray", action="store_false", help="each replica trains on its own pool")
    parser.add_argument("--ray-host", default=defaults.ray_host, help="the head's address other nodes join")
    parser.add_argument("--ray-port", type=int, default=defaults.ray_port)
    parser.add_argument("--data", default="", help="the shared PLAYGROUND_DATA folder (default: STATE/data)")
    parser.add_argument("--workers", type=int, help="PLAYGROUND_WORKERS of each replica")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        if args.command == "up":
            options = {k: v for k, v in vars(args).items() if k not in ("command", "state")}
            up(Plan(state=str(args.state.resolve()), **options))
        elif args.command == "down":
            down(args.state)
        elif args.command == "repair":
            repair(args.state)
        else:
            rows = status(args.state)
            for name, where, ok in rows:
                print(f"{name:<10} {where:<28} {'running' if ok else 'NOT RUNNING'}")
            return 0 if all(ok for _, _, ok in rows) else 1
    except (DeployError, subprocess.SubprocessError) as error:
        print(f"deploy.school {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
