"""The actors a server keeps warm between runs (`ray_warm`), without a cluster: killing is recorded (given to
each `WarmActors`, not patched into the module, where Ray backends of other tests may still kill real actors)."""
import pytest

from playground import ray_warm
from playground.ray_warm import Actor, WarmActors, split_ref


@pytest.fixture
def killed():
    return []


def recording(killed: list, keep_seconds: float, clock=ray_warm.time.monotonic) -> WarmActors:
    """Warm actors whose kills are recorded in `killed` (by name)."""
    return WarmActors(keep_seconds, kill_actor=lambda actor: killed.append(actor.name), clock=clock)


def test_an_idle_actor_is_taken_by_the_next_run_with_the_same_gpu_need(killed):
    warm = recording(killed, keep_seconds=60)
    cpu, gpu = Actor(None, 0), Actor(None, 1)
    warm.keep(cpu)
    warm.keep(gpu)
    assert warm.take(1) is gpu and warm.take(1) is None
    assert warm.take(0) is cpu and len(warm) == 0 and killed == []


def test_the_most_recently_idle_actor_is_taken_first(killed):
    warm = recording(killed, keep_seconds=60)
    older, newer = Actor(None, 0), Actor(None, 0)
    warm.keep(older)
    warm.keep(newer)
    assert warm.take(0) is newer


def test_actors_idle_past_their_time_are_killed_and_newer_ones_kept(killed):
    clock = [100.0]
    warm = recording(killed, keep_seconds=30, clock=lambda: clock[0])
    old = Actor(None, 0)
    warm.keep(old)
    clock[0] += 20
    young = Actor(None, 0)
    warm.keep(young)
    clock[0] += 10
    warm.reap()
    assert killed == [old.name] and len(warm) == 1 and warm.take(0) is young


def test_without_keep_seconds_or_once_closed_an_actor_is_killed_at_once(killed):
    never = recording(killed, keep_seconds=0)
    actor = Actor(None, 0)
    never.keep(actor)
    assert killed == [actor.name] and len(never) == 0
    warm = recording(killed, keep_seconds=60)
    kept, late = Actor(None, 0), Actor(None, 0)
    warm.keep(kept)
    warm.close()
    warm.keep(late)
    assert killed == [actor.name, kept.name, late.name] and len(warm) == 0


def test_a_job_ref_names_the_actor_and_counts_its_jobs():
    actor = Actor(None, 0)
    assert actor.next_job() == f"{actor.name}/1" and actor.next_job() == f"{actor.name}/2"
    assert split_ref(f"{actor.name}/2") == (actor.name, 2)


@pytest.mark.parametrize("ref", ["run-abc", "actor-x/", "actor-x/two", "/1", "actor-x/-1", "x" * 500])
def test_a_ref_that_no_job_has_is_refused(ref):
    with pytest.raises(ValueError, match="not a run on the cluster"):
        split_ref(ref)
