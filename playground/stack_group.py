"""Same-shaped runs of one worker trained as one stacked model, each still a `TrainingRunner` of its own.

A `StackGroup` owns one `batched.StackedTrainer` for one `batched.batch_key`. Its `join(runner)` is the
runner's `engine_factory`: the runner gets a `StackMember`, which has the part of `Engine`'s interface
the runner uses (`run()`, `epoch`, `predict`, `model`, `fork`, `final_metrics`...), so the runner keeps
its pacing, commands, frames, timeline and watchdog unchanged. The group trains one stacked epoch when
every member's thread has asked for its next one (a barrier on the group's Condition; the thread that
completes it trains, under the lock). A member leaves the stack between epochs, going on solo in the
same thread from its exact state (`batched.Snapshot.engine`: weights, optimizer state, batch order,
epoch, seconds), when its run finished or diverged, when it ends, and when its runner will not ask for
the next epoch at once (`TrainingRunner.trains_on` is false: paused, stepping, stopping, another
pace, its thread gone). The barrier asks that again every POLL_SECONDS while it waits, and lets go of
a member that has not come for STRAGGLER_SECONDS whatever the reason (it goes on solo: slower, same
numbers). A learning-rate change stays in the stack. A twin (`fork`) is a solo Engine from the
member's state; the member stays. Once left, a member never rejoins.

Locks: a runner's lock may be held while the group's is taken, never the other way round (the group
reads `trains_on` without the runner's lock). Only the pool's worker processes stack; the in-process
mode (`PLAYGROUND_WORKERS=0`) trains every run alone. Knows nothing about pools, pipes or the UI.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Iterator

import numpy as np

from .batched import StackedTrainer, batch_key
from .engine import Diverged, Engine, EpochEvent, Event
from .model import plan_for

POLL_SECONDS = 0.05  # a waiting barrier looks again this often for members that will not come
STRAGGLER_SECONDS = 3.0  # a member that has not come this long after the first of an epoch leaves the stack


class StackError(RuntimeError):
    """The stacked epoch failed: every member's run fails with it."""


class StackGroup:
    """One stack of runs in one worker; `join` is the engine factory of each runner routed to it."""

    def __init__(self):
        self.lock = threading.Condition()
        self.trainer: StackedTrainer | None = None
        self._members: list[StackMember] = []  # in the stack now
        self._arrived: set[StackMember] = set()  # waiting for the next epoch
        self._results: dict[StackMember, EpochEvent] = {}
        self._first_arrival: float | None = None
        self._error: BaseException | None = None

    def __len__(self) -> int:
        """Members in the stack now."""
        with self.lock:
            return len(self._members)

    def join(self, runner) -> "StackMember | Engine":
        """The engine of `runner` (a `TrainingRunner`): a member of the stack, or a solo Engine when it cannot
        join (a checkpoint to start from, another batch key, a failed stack)."""
        config = runner.config
        with self.lock:
            key = self.trainer.key if self.trainer is not None else batch_key(config)
            if runner.initial_state is not None or self._error is not None or key is None or batch_key(config) != key:
                return Engine(config, initial_state=runner.initial_state)
            if self.trainer is None:
                self.trainer = StackedTrainer([config])
                run_id = self.trainer.run_ids[0]
            else:
                run_id = self.trainer.add(config)
            member = StackMember(self, runner, run_id)
            self._members.append(member)
            self.lock.notify_all()
            return member

    def next_epoch(self, member: "StackMember") -> EpochEvent | None:
        """(On the member's thread) wait for the stack's next epoch and return how the member's ended; None
        when the member is no longer in the stack (it goes on solo)."""
        with self.lock:
            if member.solo is not None:
                return None
            self._arrived.add(member)
            self._first_arrival = self._first_arrival or time.monotonic()
            self.lock.notify_all()
            while True:
                if self._error is not None:
                    raise StackError(f"the stacked epoch failed: {self._error}") from self._error
                if member in self._results:
                    return self._results.pop(member)
                if member.solo is not None:
                    return None
                if self._complete():
                    self._train_epoch()
                else:
                    self.lock.wait(POLL_SECONDS)

    def leave(self, member: "StackMember") -> None:
        """(Under the lock) take `member` out of the stack between epochs; it goes on solo from its state."""
        if member in self._members:
            self._left(member, self.trainer.remove(member.id))

    # --- under the lock -------------------------------------------------------------------------

    def _complete(self) -> bool:
        """Whether every member in the stack is waiting; members that will not come soon leave first."""
        waited = time.monotonic() - (self._first_arrival or time.monotonic())
        for member in list(self._members):
            if member not in self._arrived and (not member.runner.trains_on or waited > STRAGGLER_SECONDS):
                self.leave(member)
        return bool(self._members) and all(member in self._arrived for member in self._members)

    def _train_epoch(self) -> None:
        """Train the stack one epoch and hand each member its event (finished and diverged runs leave)."""
        by_id = {member.id: member for member in self._members}
        for member in self._members:
            if member.requested_lr is not None:
                self.trainer.set_learning_rate(member.id, member.requested_lr)
        try:
            events = self.trainer.train_epoch()
        except Exception as error:  # noqa: BLE001 - a torch error: every member fails with it, none hangs
            self._error = error
            self.lock.notify_all()
            return
        for run_event in events:
            member = by_id[run_event.run]
            self._results[member] = run_event.event
            member.epoch_ended(run_event.event, len(self.trainer.dataset.y_train))
            if run_event.left is not None:
                self._left(member, run_event.left)
        self._arrived.clear()
        self._first_arrival = None
        self.lock.notify_all()

    def _left(self, member: "StackMember", snapshot) -> None:
        member.solo = snapshot.engine(self.trainer.dataset, member.samples)
        if member.requested_lr is not None:
            member.solo.set_learning_rate(member.requested_lr)
        self._members.remove(member)
        self._arrived.discard(member)
        self.lock.notify_all()


class StackMember:
    """One run's engine while its weights live in a stack (then, once it left, its solo Engine's front).

    Driven by its runner's thread, as an Engine is; the group's thread may make it leave between epochs."""

    def __init__(self, group: StackGroup, runner, run_id: int):
        self.group, self.runner, self.id = group, runner, run_id
        self.config = runner.config
        self.dataset = group.trainer.dataset
        self.plan = plan_for(self.config)
        self.solo: Engine | None = None  # set (under the group's lock) when it leaves the stack
        self.requested_lr: float | None = None
        self._epoch, self._seconds, self._samples = 0, 0.0, 0

    def run(self) -> Iterator[Event]:
        """The Engine's `run()`: stacked epochs while in the stack, then the solo engine's events."""
        while self.solo is None and self._epoch < self.config.epochs:
            event = self.group.next_epoch(self)
            if event is None:
                break
            yield event
            if isinstance(event, Diverged):
                return
        if self.solo is not None:
            yield from self.solo.run()

    def epoch_ended(self, event: EpochEvent, samples: int) -> None:
        """(The group, under its lock) the member's stacked epoch ended with `event`."""
        if not isinstance(event, Diverged):
            self._epoch, self._seconds, self._samples = event.epoch, event.seconds, self._samples + samples

    @property
    def epoch(self) -> int:
        return self.solo.epoch if self.solo is not None else self._epoch

    @property
    def seconds(self) -> float:
        return self.solo.seconds if self.solo is not None else self._seconds

    @property
    def samples(self) -> int:
        return self.solo.samples if self.solo is not None else self._samples

    @property
    def model(self):
        """The solo engine's model, or (in the stack) a view whose `state_dict()` is the run's weights."""
        return self.solo.model if self.solo is not None else _StackedWeights(self)

    def set_learning_rate(self, lr: float) -> None:
        """The base learning rate from the next epoch on (the group hands it to the stack)."""
        solo = self.solo
        if solo is None:
            with self.group.lock:
                self.requested_lr = float(lr)
                solo = self.solo
        if solo is not None:
            solo.set_learning_rate(lr)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._either(lambda trainer: trainer.predict(self.id, x), lambda engine: engine.predict(x))

    def state_dict(self) -> dict:
        return self._either(lambda trainer: trainer.state_dict(self.id), lambda engine: engine.model.state_dict())

    def fork(self) -> Engine:
        """A solo twin that trains on exactly as this run would (it stays in the stack)."""
        return self._either(lambda trainer: trainer.snapshot(self.id).engine(self.dataset, self._samples),
                            lambda engine: engine.fork())

    def cut_epoch_short(self) -> None:
        self._solo_engine().cut_epoch_short()  # only mid-epoch, where a stacked member never is

    def evaluate(self, split: str = "test"):
        return self._solo_engine().evaluate(split)

    def final_metrics(self) -> dict:
        return self._solo_engine().final_metrics()

    def release_training(self) -> None:
        self._solo_engine().release_training()

    def _solo_engine(self) -> Engine:
        """Leave the stack (if still in it) and return the solo engine."""
        if self.solo is None:
            with self.group.lock:
                self.group.leave(self)
        return self.solo

    def _either(self, stacked: Callable[[StackedTrainer], object], alone: Callable[[Engine], object]):
        """`stacked(trainer)` while in the stack (under the group's lock), else `alone(solo engine)`."""
        solo = self.solo
        if solo is None:
            with self.group.lock:
                if self.solo is None:
                    return stacked(self.group.trainer)
                solo = self.solo
        return alone(solo)


class _StackedWeights:
    """What `runner._small_weights` reads of a stacked member's model: its `state_dict()`."""

    def __init__(self, member: StackMember):
        self.state_dict = member.state_dict
