"""Replicas behind nginx (deploy/school.py): sticky sessions, a run saved on one replica listed on the other, the
class board showing a run of the other replica, a killed replica's students reconnecting to the other, and
`down` stopping what `up` started.

A school of two replicas is started once for this file by the real command line (`python -m deploy.school up`,
free ports on 127.0.0.1, a temp state folder) and stopped by `down` at the end, even when a test fails. It runs
on STACK: PostgreSQL and Ray (the script's default), so runs train on the school's Ray cluster. A student is a
websocket client speaking Streamlit's protocol (benchmarks/st_client.py) through nginx, sending the cookies a
browser keeps: the workspace (ui/workspace.py) and the affinity cookie nginx hands out; which replica answered
is nginx's X-Playground-Replica header (on a health check, or on the websocket's handshake); the affinity
cookie's value is the replica's number, so a test pins a student to a replica by setting it. Each websocket
sends the Origin a browser would: Streamlit refuses one that does not match the Host nginx passes on (403). The
replica-killed test comes last: it kills replica 1 and repairs it.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from benchmarks.load_class import CLASS_PAGE, GRID, grid_html, grid_tiles
from benchmarks.load_scenarios import TEACHER_COOKIE, WORKSPACE_COOKIE, link_query
from benchmarks.load_test import TRAIN, train
from benchmarks.st_client import Session
from deploy import nginx_conf, postgres, processes
from deploy.school import Plan, check, read_plan
from playground.classroom import ClassStore
from playground.config import TrainConfig
from playground.runstore import RunStore

ROOT = Path(__file__).resolve().parents[1]
STACK: list[str] = []  # PostgreSQL + Ray, the script's default ("--store sqlite", "--no-ray": one machine, no Ray)
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")
WAIT_S = 180  # the longest any step may take (a replica's first page imports torch on a busy machine)
RUN = dataclasses.replace(TrainConfig(), epochs=30)  # the default spiral, short


def run_async(coroutine):
    """Run `coroutine` to its end on a fresh event loop in its own thread: the browser tests' Playwright keeps
    an event loop running in this thread for the whole session."""
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def school_command(command: str, state: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deploy.school", command, "--state", str(state), *options],
                          cwd=ROOT, capture_output=True, text=True, timeout=WAIT_S)


@pytest.fixture(scope="module")
def school():
    """Two replicas behind nginx, all on free ports; the Plan `up` saved. `down` at the end."""
    from playground.default_model import default_model

    default_model()  # the replicas share this data folder: trained (or loaded) once here, not in each of them
    state = Path(tempfile.mkdtemp(prefix="school", dir="/tmp"))
    try:
        started = school_command("up", state, "--port", "0", "--replica-port", "0", "--pg-port", "0",
                                 "--ray-port", "0", "--workers", "0", "--data", os.environ["PLAYGROUND_DATA"], *STACK)
        assert started.returncode == 0, started.stdout + started.stderr
        yield read_plan(state)
    finally:
        school_command("down", state)
        shutil.rmtree(state, ignore_errors=True)


def ask(url: str, replica: str = "") -> tuple[str, str]:
    """(the replica nginx sends a browser whose affinity cookie names `replica` to ("": none yet), the
    affinity cookie its answer sets ("": none)), from a health check."""
    headers = {"Cookie": f"{nginx_conf.AFFINITY_COOKIE}={replica}"} if replica else {}
    with urllib.request.urlopen(urllib.request.Request(f"{url}/_stcore/health", headers=headers), timeout=30) as answer:
        cookies = [c for c in answer.headers.get_all("Set-Cookie") or [] if c.startswith(nginx_conf.AFFINITY_COOKIE)]
        return answer.headers[nginx_conf.REPLICA_HEADER], (cookies or [""])[0]


def browser(url: str, page: str, key: str, workspace: str, query: str = "") -> Session:
    """A browser tab through nginx with its affinity key and workspace cookie."""
    cookie = f"{nginx_conf.AFFINITY_COOKIE}={key}; {WORKSPACE_COOKIE}={workspace}"
    return Session(url, page, query, {"Cookie": cookie, "Origin": url})


async def open_page(session: Session) -> str:
    """Load the page; returns the replica whose websocket it is."""
    assert await session.full_run(await session.rerun(), WAIT_S) is not None, session.view.exceptions
    assert not session.view.exceptions
    return session.ws.response.headers[nginx_conf.REPLICA_HEADER]


async def saved_runs(url: str, key: str, workspace: str) -> tuple[str, list[str]]:
    """(the replica that served it, the runs listed) on the Runs page of a browser with `key` and `workspace`."""
    async with browser(url, "Runs", key, workspace) as session:
        replica = await open_page(session)
        return replica, session.view.options.get("rn_pick", [])


@pytest.fixture(scope="module")
def trained(school):
    """A workspace whose browser trained one short run through nginx on replica 1, and that run's label."""
    workspace, key = secrets.token_hex(16), "1"

    async def train_one() -> list[str]:
        async with browser(school.url, "Playground", key, workspace, link_query(RUN)) as session:
            assert await open_page(session) == "1"
            assert TRAIN in session.view.widget_ids, session.view.exceptions
            result = await train(session, time.monotonic() + WAIT_S)
            assert result["status"] == "Completed", result
        return (await saved_runs(school.url, key, workspace))[1]
    listed = run_async(train_one())
    assert len(listed) == 1 and listed[0].startswith("#"), listed
    return workspace, listed[0]


def test_plan_refuses_values_that_cannot_work():
    for changes, named in (({"replicas": 0}, "--replicas"), ({"port": 70000}, "--port"),
                           ({"pg_port": -1}, "--pg-port"), ({"workers": -2}, "--workers"),
                           ({"store": "mysql"}, "--store"), ({"listen": "0.0.0.0; include x"}, "--listen"),
                           ({"state": "/tmp/a b;"}, "--state")):
        with pytest.raises(processes.DeployError, match=named):
            check(Plan(**{"state": "/nonexistent", **changes}))


def test_a_record_whose_pid_now_names_another_process_is_never_signalled(tmp_path):
    sleeper = processes.launch("sleeper", ["sleep", "60"], 0, tmp_path / "sleep.log", dict(os.environ), tmp_path)
    try:
        stale = dataclasses.replace(sleeper, started=sleeper.started - 1)  # same pid, another start time
        assert processes.alive(sleeper) and not processes.alive(stale)
        processes.stop(dataclasses.replace(stale, pid=sleeper.pid), grace=0.5)
        assert processes.alive(sleeper)
        processes.save(sleeper, tmp_path / "services")
        assert processes.load(tmp_path / "services") == [sleeper]
    finally:
        processes.stop(sleeper, grace=5)
    assert not processes.alive(sleeper)


def test_the_generated_nginx_conf_is_valid(tmp_path):
    conf = nginx_conf.render("127.0.0.1", processes.free_port(), ["127.0.0.1:1", "127.0.0.1:2"], tmp_path)
    (tmp_path / "nginx.conf").write_text(conf)
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "proxy_pass http://$route;" in conf and "proxy_set_header Upgrade $http_upgrade" in conf
    assert "upstream replica2 {\n        server 127.0.0.1:1 max_fails=1 fail_timeout=10s backup;" in conf


def test_a_browser_stays_on_one_replica_and_browsers_spread(school):
    served, cookie = ask(school.url)  # a new browser: any replica, and a cookie naming it
    assert cookie.startswith(f"{nginx_conf.AFFINITY_COOKIE}={served};") and "HttpOnly" in cookie
    assert [ask(school.url, served) for _ in range(5)] == [(served, "")] * 5  # then always that replica
    assert {ask(school.url)[0] for _ in range(6)} == {"1", "2"}


def test_a_run_trained_on_replica_1_is_listed_on_replica_2(school, trained):
    workspace, label = trained
    assert run_async(saved_runs(school.url, "2", workspace)) == ("2", [label])
    assert run_async(saved_runs(school.url, "2", secrets.token_hex(16)))[1] == []


def test_the_class_board_on_replica_2_shows_a_run_trained_on_replica_1(school):
    """A student trains on replica 1; the teacher's board on replica 2 shows the run's tile (replica 1 publishes
    its class runs' tiles to the shared store, `board_publish`), with where its setup came from."""
    replica2 = next(s for s in processes.load(school.services) if s.name == "replica2")
    store = ClassStore(RunStore(environment(replica2)["PLAYGROUND_DB_URL"]))
    teacher, student = secrets.token_hex(16), secrets.token_hex(16)
    new = store.create(teacher, "School")
    store.join(new.info.code, student, "Ada")
    store.hand_out(new.info.code, new.secret, "setup", TrainConfig().to_dict())

    async def train_then_look() -> list[tuple[str, str]]:
        async with browser(school.url, "Playground", "1", student, link_query(RUN)) as session:
            assert await open_page(session) == "1"
            assert (await train(session, time.monotonic() + WAIT_S))["status"] == "Completed"
        cookie = (f"{nginx_conf.AFFINITY_COOKIE}=2; {WORKSPACE_COOKIE}={teacher}; "
                  f"{TEACHER_COOKIE}={new.info.code}.{new.secret}")
        async with Session(school.url, CLASS_PAGE, "", {"Cookie": cookie, "Origin": school.url}) as board:
            assert await open_page(board) == "2"
            shown = lambda: grid_tiles(grid_html(board.view.components.get(GRID)) or "")  # noqa: E731
            assert await board.until(lambda: [status for status, _ in shown()] == ["completed"], WAIT_S), shown()
            return shown()
    [(status, changed)] = run_async(train_then_look())
    assert changed == "own setup"  # from a link, not from the hand-out: the published tile says so


def environment(service: processes.Service) -> dict[str, str]:
    """The environment a running process was started with."""
    pairs = Path(f"/proc/{service.pid}/environ").read_bytes().split(b"\0")
    return dict(pair.decode().split("=", 1) for pair in pairs if b"=" in pair)


@pytest.mark.skipif(not list(postgres.PG_ROOT.glob("*/bin/initdb")), reason="needs postgresql (apt-get install "
                    "postgresql)")
def test_up_starts_postgres_and_ray_down_stops_all_and_up_refuses_twice():
    """The script's default stack with one replica: the replica is given a working database URL and the Ray
    head's address; a second `up` is refused; `down`, from another process, stops every piece."""
    pytest.importorskip("ray", reason="needs Ray (pip install -r requirements-school.txt)")
    import sqlalchemy

    state = Path(tempfile.mkdtemp(prefix="school", dir="/tmp"))
    try:
        options = ("--port", "0", "--replica-port", "0", "--replicas", "1", "--pg-port", "0", "--ray-port", "0")
        started = school_command("up", state, *options)
        assert started.returncode == 0, started.stdout + started.stderr
        plan, services = read_plan(state), processes.load(state / "services")
        assert [s.name for s in services] == ["ray", "replica1", "nginx"] and all(map(processes.alive, services))
        env = environment(services[1])
        assert env["PLAYGROUND_RAY_ADDRESS"] == f"127.0.0.1:{plan.ray_port}"
        with sqlalchemy.create_engine(env["PLAYGROUND_DB_URL"]).connect() as db:
            assert db.execute(sqlalchemy.text("SELECT current_database()")).scalar() == "playground"
        again = school_command("up", state, *options)
        assert again.returncode == 2 and "already running" in again.stderr and "down" in again.stderr
        assert school_command("down", state).returncode == 0
        assert not any(processes.alive(s) or processes.members(s) for s in services)
        assert not postgres.running(state / "postgres")
        stopped = school_command("status", state)
        assert stopped.returncode == 1 and stopped.stdout.count("NOT RUNNING") == 4, stopped.stdout
    finally:
        school_command("down", state)
        shutil.rmtree(state, ignore_errors=True)


def test_a_killed_replicas_students_reconnect_to_the_other_and_find_their_runs(school, trained):
    """Replica 1 killed: its student's page loses its connection, reconnects (same cookies) to replica 2 and
    finds the saved run; the cookie now names replica 2. `repair` starts replica 1 again: that student stays
    on replica 2 (its session is there now), new browsers reach replica 1 again."""
    workspace, label = trained
    replica1 = next(s for s in processes.load(school.services) if s.name == "replica1")

    async def crash_and_reconnect() -> tuple[str, list[str]]:
        async with browser(school.url, "Playground", "1", workspace) as tab:
            assert await open_page(tab) == "1"
            processes.kill(replica1)  # as the kernel's OOM killer would
            assert await tab.until(lambda: tab.closed, WAIT_S)  # the page sees its connection go
        return await saved_runs(school.url, "1", workspace)  # the browser reconnects with the same cookies
    assert run_async(crash_and_reconnect()) == ("2", [label])
    assert ask(school.url, "1") == ("2", f"{nginx_conf.AFFINITY_COOKIE}=2; Path=/; HttpOnly; SameSite=Lax")
    status = school_command("status", school.folder)
    assert status.returncode == 1 and "replica1" in status.stdout and "NOT RUNNING" in status.stdout

    repaired = school_command("repair", school.folder)
    assert repaired.returncode == 0 and "replica1" in repaired.stdout, repaired.stdout + repaired.stderr
    assert school_command("status", school.folder).returncode == 0
    assert run_async(saved_runs(school.url, "2", workspace)) == ("2", [label])
    assert wait_for(lambda: ask(school.url, "1")[0] == "1")  # once nginx tries replica 1 again (10 s)


def wait_for(condition, timeout: float = WAIT_S) -> bool:
    """Whether `condition()` holds within `timeout` s (checked every half second)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True
