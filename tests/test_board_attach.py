"""board_attach: a server's attached runs, read without touching them, kept a few while they are read, and
None (never an error) where a run cannot be attached or read."""
from __future__ import annotations

import pytest

from playground.board_attach import Attachments, Seen, attach_errors
from playground.progress import RUNNING, Snapshot


class Attached:
    """An attached run's handle: counts its reads and those that touched it."""

    def __init__(self, ref: str, fails: Exception | None = None):
        self.ref, self.fails, self.reads, self.touches = ref, fails, 0, 0

    def snapshot(self, touch: bool = True) -> Snapshot:
        self.reads, self.touches = self.reads + 1, self.touches + int(touch)
        if self.fails is not None:
            raise self.fails
        return Snapshot(RUNNING, 3, 50, 0.01, 5.0, message=self.ref)


class Cluster:
    """A backend's `attach`: the runs it knows, and how often it was asked."""

    def __init__(self, *refs: str):
        self.runs = {ref: Attached(ref) for ref in refs}
        self.asked: list[str] = []

    def attach(self, ref: str) -> Attached:
        self.asked.append(ref)
        if ref not in self.runs:
            raise ValueError(f"Failed to look up actor with name '{ref}'")
        return self.runs[ref]


def test_a_run_is_attached_once_and_read_without_touching_it():
    cluster, kept = Cluster("run-a"), Attachments()
    assert kept.snapshot(cluster.attach, "run-a").message == "run-a"
    assert kept.snapshot(cluster.attach, "run-a").epoch == 3
    assert cluster.asked == ["run-a"] and cluster.runs["run-a"].reads == 2 and cluster.runs["run-a"].touches == 0


def test_a_run_the_cluster_does_not_have_is_none_and_not_kept():
    cluster, kept = Cluster(), Attachments()
    assert kept.snapshot(cluster.attach, "run-gone") is None and "run-gone" not in kept
    assert kept.snapshot(cluster.attach, "run-gone") is None and cluster.asked == ["run-gone", "run-gone"]


@pytest.mark.parametrize("error", [ValueError("gone"), ConnectionError("down"), TimeoutError()])
def test_a_run_that_cannot_be_read_is_none_and_let_go(error):
    cluster, kept = Cluster("run-a"), Attachments()
    cluster.runs["run-a"].fails = error
    assert kept.snapshot(cluster.attach, "run-a") is None and "run-a" not in kept


def test_rays_errors_count_as_a_run_that_cannot_be_read():
    exceptions = pytest.importorskip("ray.exceptions", reason="pip install -r requirements-school.txt (ray)")
    RayActorError, RayError = exceptions.RayActorError, exceptions.RayError

    assert RayError in attach_errors()
    cluster, kept = Cluster("run-a"), Attachments()
    cluster.runs["run-a"].fails = RayActorError()
    assert kept.snapshot(cluster.attach, "run-a") is None


def test_other_errors_are_not_hidden():
    cluster, kept = Cluster("run-a"), Attachments()
    cluster.runs["run-a"].fails = KeyError("a bug")
    with pytest.raises(KeyError):
        kept.snapshot(cluster.attach, "run-a")


def test_a_few_runs_are_kept_the_least_recently_read_and_the_unread_go():
    clock = [0.0]
    cluster, kept = Cluster("a", "b", "c"), Attachments(most=2, idle_seconds=10.0, clock=lambda: clock[0])
    for ref in ("a", "b", "a", "c"):
        kept.snapshot(cluster.attach, ref)
    assert len(kept) == 2 and "b" not in kept and "a" in kept and "c" in kept
    clock[0] = 8.0
    kept.snapshot(cluster.attach, "c")
    clock[0] = 15.0  # "a" not read for 15 s: the board stopped looking at it
    kept.snapshot(cluster.attach, "c")
    assert "a" not in kept and "c" in kept and cluster.asked == ["a", "b", "c"]


def test_seen_answers_as_a_handle_for_the_large_view():
    snap = Snapshot(RUNNING, 3, 50, 0.01, 5.0)
    seen = Seen(snap, config="the config")
    assert seen.snapshot(touch=False) is snap and seen.active and seen.config == "the config"
