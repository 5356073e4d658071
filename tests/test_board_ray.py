"""The class board across servers on a real Ray cluster: a run that another server process (a second process
with its own RayBackend) trains for a class member is published with its ref, and this process's board
attaches to it by that ref and reads its snapshot, curves included; once that process let the run go, a new
attach falls back to the numbers.

Uses the test session's loopback cluster (tests/ray_cluster.py); waits on snapshots and records, never on
the clock, except for generous bounds that only catch hangs.
"""
from __future__ import annotations

import json
import select
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from playground.board_attach import Attachments
from playground.board_publish import Published, read_record
from playground.classroom import ClassStore
from playground.progress import RUNNING
from playground.runstore import RunStore
from test_pool import HANG_S, spiral, wait_for

ROOT = Path(__file__).resolve().parents[1]
TRAINS = spiral(dataset={"name": "spiral", "classes": 3, "n_per_class": 200, "seed": 1}, batch_size=1, epochs=1000)

SERVER = textwrap.dedent("""
    import json, select, sys
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    from playground.board_publish import Publisher
    from playground.class_live import ClassLive
    from playground.classroom import ClassStore
    from playground.config import TrainConfig
    from playground.ray_backend import RayBackend
    from playground.runstore import RunStore
    from test_pool import wait_for

    config = TrainConfig.from_dict({config!r})
    backend = RayBackend({address!r}, cpus_per_run=1, abandoned_seconds=120)
    run = backend.run(config).start()
    wait_for(lambda: run.snapshot().epoch >= 2, "the run to train")
    live, store = ClassLive(), ClassStore(RunStore({store!r}))
    live.report({code!r}, {member!r}, run, config.to_dict())
    publisher = Publisher(live, store.publish_tiles, store.handout_by_id)
    publisher.publish_once()
    print(json.dumps(run.ref), flush=True)
    while not select.select([sys.stdin], [], [], 0.2)[0]:  # this server's page polls its student's run
        run.snapshot()
    run.stop()
    run.join(120)
    publisher.publish_once()
    backend.close(60)
    print(json.dumps("let go"), flush=True)
""")


@pytest.fixture(scope="module")
def backend(ray_cluster):
    from playground.ray_backend import RayBackend

    backend = RayBackend(ray_cluster, cpus_per_run=1, abandoned_seconds=HANG_S)
    yield backend
    backend.close(HANG_S)


def line_from(process, log: Path) -> object:
    ready = select.select([process.stdout], [], [], HANG_S)[0]
    line = process.stdout.readline() if ready else ""
    assert line.startswith(("{", '"')), f"the other server said {line!r}: {log.read_text()[-2000:]}"
    return json.loads(line)


def test_a_run_on_another_server_is_published_with_its_ref_and_attached_here(backend, ray_cluster, tmp_path,
                                                                              monkeypatch):
    from playground.ui import class_board_remote, server

    store = ClassStore(RunStore(tmp_path / "runs.db"))
    code = store.create("test-ray-board-teacher", "Board").info.code
    member = store.join(code, "test-ray-board-cy", "Cy").id
    script = SERVER.format(root=str(ROOT), tests=str(ROOT / "tests"), config=TRAINS.to_dict(), address=ray_cluster,
                           store=str(tmp_path / "runs.db"), code=code, member=member)
    log = tmp_path / "other-server.log"
    with open(log, "w") as errors:
        other = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=errors, text=True, cwd=ROOT)
    try:
        ref = line_from(other, log)
        [(published_member, started, updated, text)] = store.published_tiles(code)
        board_tile, remote = read_record(text, "Cy", updated, updated)
        assert published_member == member and board_tile.status == RUNNING
        assert remote.ref == ref and remote.config == TRAINS.to_dict()

        kept = Attachments()
        monkeypatch.setattr(server, "training_pool", lambda: backend)
        monkeypatch.setattr(class_board_remote, "attachments", lambda: kept)
        run, note = class_board_remote.remote_run(Published(started, board_tile, remote), member)
        snap = run.handle.snapshot(touch=False)
        assert note == "" and snap.status == RUNNING and snap.epoch >= 2 and len(snap.history.epochs) >= 2
        assert run.handle.config == TRAINS and ref in kept

        other.stdin.write("stop\n")
        other.stdin.flush()
        assert line_from(other, log) == "let go"
        other.wait(HANG_S)
        [(_, _, updated, text)] = store.published_tiles(code)
        assert read_record(text, "Cy", updated, updated)[1].ref == ref  # the final tile still names the run
        wait_for(lambda: not kept.snapshot(backend.attach, ref).active, "the attached run to see the end")
        assert kept.snapshot(backend.attach, ref).epoch >= 2  # the kept handle keeps what it read
        monkeypatch.setattr(class_board_remote, "attachments", Attachments)  # a server that never attached it
        wait_for(lambda: class_board_remote.remote_run(Published(started, board_tile, remote), member)[0] is None,
                 "the cluster to let the run's name go")
        assert class_board_remote.remote_run(Published(started, board_tile, remote), member)[1] == \
            class_board_remote.CANNOT_ATTACH
    finally:
        if other.poll() is None:
            other.kill()
            other.wait(HANG_S)
