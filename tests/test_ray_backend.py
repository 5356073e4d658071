"""The Ray backend beyond the pool's handle contract (tests/test_pool.py runs that against both backends):
a lost Ray worker fails only its own run, the timeline comes back whole, a run is readable from another
process by its name, image runs ask for a GPU only where the cluster has one, an unreachable cluster fails
runs at once, and `make_backend` imports Ray only for a cluster.

All share the test session's loopback cluster (tests/ray_cluster.py); they wait on snapshots, never on
the clock, except for generous bounds that only catch hangs.
"""
import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from playground.progress import COMPLETED, FAILED, QUEUED, RUNNING, STOPPED
from playground.runner import TrainingRunner
from playground.timeline import keep_epochs
from test_pool import HANG_S, endless, spiral, wait_for
from test_pool_timeline import SPIRAL

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def backend(ray_cluster):
    """One CPU a run: the 2-CPU cluster trains two runs at once. Its idle actors are kept 10 s, not 30: the
    tests with a backend of their own need both CPUs soon after."""
    from playground.ray_backend import RayBackend

    backend = RayBackend(ray_cluster, cpus_per_run=1, abandoned_seconds=HANG_S, warm_seconds=10)
    yield backend
    backend.close(HANG_S)


def test_a_killed_ray_worker_fails_only_its_run_and_new_runs_train(backend):
    import ray

    saved = []
    doomed = backend.run(endless(1), on_end=saved.append).start()
    other = backend.run(endless(2)).start()
    for run in (doomed, other):
        wait_for(lambda run=run: run.snapshot().status == RUNNING, "both runs to train")
    os.kill(ray.get(doomed._actor.handle.ready.remote()), signal.SIGKILL)  # as the out-of-memory killer would
    doomed.join(HANG_S)
    snap = doomed.snapshot()
    assert snap.status == FAILED and snap.message.startswith("The Ray worker training this run was lost: its process")
    assert snap.message.endswith("Train again to start it elsewhere.") and saved == []
    assert other.snapshot().status == RUNNING and other.active
    after = backend.run(spiral()).start()  # takes the freed CPU
    after.join(HANG_S)
    assert after.snapshot().status == COMPLETED
    other.stop()
    other.join(HANG_S)
    assert other.snapshot().status == STOPPED
    assert doomed._actor.name not in {actor.name for actor in backend._warm._idle}  # a lost actor is never reused


def test_a_run_waiting_for_its_actor_where_the_cluster_has_room_says_starting_not_queued(backend, monkeypatch):
    monkeypatch.setattr(backend, "free_slots", lambda: 1)  # as Ray's view of the cluster says while it starts one
    run = backend.run(spiral()).start()
    assert run.snapshot().status != QUEUED and run.snapshot().place == 0
    run.join(HANG_S)
    assert run.snapshot().status == COMPLETED


def test_a_ray_run_ends_with_the_same_timeline_as_in_process(backend):
    """Each update carries only the frames not sent yet; the server puts the timeline back together."""
    saved = []
    run = backend.run(SPIRAL, on_end=saved.append, pace="watch").start()
    run.join(HANG_S)
    snap = run.snapshot()
    local = TrainingRunner(SPIRAL, pace="watch").start()
    local.join(HANG_S)
    assert snap.status == COMPLETED and snap.timeline.epochs == keep_epochs(200)
    assert saved[0].timeline.epochs == snap.timeline.epochs
    for ours, theirs in zip(snap.timeline.frames, local.snapshot().timeline.frames, strict=True):
        assert np.array_equal(ours.classes, theirs.classes)


ATTACH = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {root!r})
    from playground.ray_backend import RayBackend
    backend = RayBackend({address!r})
    run = backend.attach({ref!r})
    snap = run.snapshot(touch=False)
    print(json.dumps({{"status": snap.status, "epoch": snap.epoch, "active": run.active}}))
    for ref in ("run-none", "actor-none/1"):
        try:
            backend.attach(ref)
        except ValueError:
            print(json.dumps("no such run"))
""")


def test_a_run_is_readable_from_another_process_by_its_name(backend, ray_cluster):
    run = backend.run(endless()).start()
    wait_for(lambda: run.snapshot().epoch >= 1 or run.snapshot().history.batch_epochs, "the run to train")
    assert run.ref.startswith("actor-")
    script = ATTACH.format(root=str(ROOT), address=ray_cluster, ref=run.ref)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG_S, cwd=ROOT)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith(("{", '"'))]
    assert lines[0]["status"] == RUNNING and lines[0]["active"], out.stderr[-2000:]
    assert lines[1:] == ["no such run", "no such run"]
    attached = backend.attach(run.ref)  # a second handle in this process reads it too
    assert attached.snapshot().status == RUNNING
    run.stop()
    run.join(HANG_S)
    wait_for(lambda: not attached.active, "the attached handle to see the end")
    assert attached.snapshot().status in (STOPPED, COMPLETED)


def test_image_runs_ask_for_a_gpu_only_where_the_cluster_has_one(backend, monkeypatch):
    mnist = spiral(dataset={"name": "mnist"}, layers=[{"type": "flatten"}, {"type": "linear"}])
    assert backend.run(mnist)._gpus() == 0  # the test cluster has no GPU
    monkeypatch.setattr(backend, "gpus", True)
    assert backend.run(mnist)._gpus() == 1 and backend.run(spiral())._gpus() == 0
    assert backend.run(replace(mnist, device="cpu"))._gpus() == 0
    assert backend.race((("a", spiral()), ("b", mnist)))._gpus() == 1


@pytest.mark.parametrize("text, reason", [
    ("The actor is dead because its worker process has died. Worker exit type: SYSTEM_ERROR",
     "its process ended (out of memory, or its machine went away?)"),
    ("The actor is dead because it was killed by `ray.kill`.", "it was stopped on the cluster"),
    ("The actor died because its node has died. Node Id: 5f3c", "its machine left the cluster"),
])
def test_a_lost_actor_is_told_in_plain_words(text, reason):
    from playground.ray_backend import LOST, lost_reason

    assert lost_reason(RuntimeError(text)) == reason
    assert LOST.format(reason=reason).endswith(f"lost: {reason}. Train again to start it elsewhere.")


UNREACHABLE = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from playground.ray_backend import RayBackend
    from test_pool import spiral
    backend = RayBackend("127.0.0.1:{port}")  # nothing listens there: no wait for Ray's minutes of retries
    run = backend.run(spiral()).start()
    print(run.snapshot().status, run.active)
    print(run.snapshot().message)
""")


def test_an_unreachable_cluster_fails_runs_at_once_with_a_message():
    from ray_cluster import free_port

    script = UNREACHABLE.format(root=str(ROOT), port=free_port())
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG_S,
                         cwd=ROOT / "tests")
    status, message = out.stdout.splitlines()[:2]
    assert status == f"{FAILED} False", out.stderr[-2000:]
    assert message.startswith("The training cluster cannot be reached (Ray at 127.0.0.1:")
    assert message.endswith("so this run cannot start. Ask whoever runs this server.")


def test_make_backend_picks_ray_only_when_its_address_is_set(ray_cluster, monkeypatch):
    from playground.backend import make_backend
    from playground.ray_backend import RayBackend

    monkeypatch.setenv("PLAYGROUND_RAY_ADDRESS", ray_cluster)
    assert isinstance(make_backend(), RayBackend)
    monkeypatch.delenv("PLAYGROUND_RAY_ADDRESS")
    assert make_backend(workers=0) is None


def test_without_an_address_neither_ray_nor_torch_is_imported_to_choose():
    script = ("import sys; from playground.backend import make_backend; assert make_backend(workers=0) is None; "
              "print(sorted(m for m in ('ray', 'torch') if m in sys.modules))")
    env = {key: value for key, value in os.environ.items() if key != "PLAYGROUND_RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG_S,
                         cwd=ROOT, env=env)
    assert out.stdout.strip() == "[]", out.stderr


def test_an_actor_whose_run_ended_trains_the_next_run_and_a_reader_of_the_first_sees_it_ended(backend):
    from playground.ray_backend import ELSEWHERE

    first = backend.run(endless()).start()
    wait_for(lambda: first.snapshot().status == RUNNING, "the first run to train")
    attached = backend.attach(first.ref)
    assert attached.snapshot().status == RUNNING
    first.stop()
    first.join(HANG_S)
    wait_for(lambda: backend.warm >= 1, "the actor to be kept warm")
    second = backend.run(endless()).start()
    wait_for(lambda: second.snapshot().status == RUNNING, "the second run to train")
    name, number = first.ref.rsplit("/", 1)
    assert second.ref == f"{name}/{int(number) + 1}"  # the same actor, its next job
    seen = attached.snapshot()  # the first run's reader: not the second run's numbers
    assert seen.status == STOPPED and seen.message == ELSEWHERE and not attached.active
    assert backend.attach(second.ref).snapshot().status == RUNNING
    second.stop()
    second.join(HANG_S)


def test_a_run_waiting_for_a_place_gets_the_actor_a_finished_run_lets_go(ray_cluster):
    """Both CPUs taken: the third run waits; when the first ends, its actor trains the third."""
    from playground.ray_backend import RayBackend

    backend = RayBackend(ray_cluster, cpus_per_run=1, abandoned_seconds=HANG_S)
    try:
        first, second = backend.run(endless(1)).start(), backend.run(endless(2)).start()
        for run in (first, second):
            wait_for(lambda run=run: run.snapshot().status == RUNNING, "both runs to train")
        third = backend.run(spiral()).start()
        assert third.snapshot().status == QUEUED and third.snapshot().place == 1
        first.stop()
        third.join(HANG_S)
        assert third.snapshot().status == COMPLETED
        assert third.ref == first.ref.rsplit("/", 1)[0] + "/2"
    finally:
        backend.close(HANG_S)
    assert backend.warm == 0  # closing killed the warm actors


def test_without_warm_seconds_every_run_has_a_fresh_actor(ray_cluster):
    from playground.ray_backend import RayBackend

    backend = RayBackend(ray_cluster, cpus_per_run=1, abandoned_seconds=HANG_S, warm_seconds=0)
    try:
        refs = []
        for _ in range(2):
            run = backend.run(spiral()).start()
            run.join(HANG_S)
            assert run.snapshot().status == COMPLETED
            refs.append(run.ref)
        assert backend.warm == 0 and refs[0].split("/")[0] != refs[1].split("/")[0] and refs[1].endswith("/1")
    finally:
        backend.close(HANG_S)


def test_beyond_the_live_limit_ray_runs_wait_here_before_asking_the_cluster(ray_cluster):
    from playground.ray_backend import RayBackend

    backend = RayBackend(ray_cluster, cpus_per_run=1, abandoned_seconds=HANG_S, live_limit=1)
    try:
        first = backend.run(endless(1)).start()
        wait_for(lambda: first.snapshot().status == RUNNING, "the first run to train")
        second = backend.run(spiral()).start()  # the cluster has a CPU free, but the limit is reached
        snap = second.snapshot()
        assert snap.status == QUEUED and snap.place == 1 and second._actor is None
        first.stop()
        second.join(HANG_S)
        assert second.snapshot().status == COMPLETED and backend.waiting == 0
    finally:
        backend.close(HANG_S)


def test_a_warm_actor_that_died_while_idle_is_replaced_and_the_run_trains(backend):
    import ray

    first = backend.run(spiral()).start()
    first.join(HANG_S)
    wait_for(lambda: backend.warm >= 1, "the actor to be kept warm")
    for actor in list(backend._warm._idle):
        os.kill(ray.get(actor.handle.ready.remote()), signal.SIGKILL)
    run = backend.run(spiral()).start()
    run.join(HANG_S)
    assert run.snapshot().status == COMPLETED
    assert run.ref.split("/")[0] != first.ref.split("/")[0] and run.ref.endswith("/1")
