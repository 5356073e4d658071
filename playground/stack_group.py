"""Same-shaped runs of one worker trained as one stacked model, each still a `TrainingRunner` of its own.

A `StackGroup` owns one `batched.StackedTrainer` for one `batched.batch_key`. Its `join(runner)` is the
runner's `engine_factory`: the runner gets a `StackMember`, which has the part of `Engine`'s interface
the runner uses (`run()`, `epoch`, `predict`, `model`, `fork`, `final_metrics`...), so the runner keeps
its pacing, commands, frames, timeline and watchdog unchanged. A member trains alone (its own Engine)
while fewer than `min_runs` of the group's runs train on (`stacking.min_stack`: on the CPU a stack of
one to three is slower than those runs alone); between epochs it enters the stack once there are
enough, carrying its exact state over (`batched.Snapshot.of`: weights, optimizer state, batch order,
epoch, seconds, the weights last seen finite). The group trains one stacked epoch when every stacked
member's thread has asked for its next one (a barrier on the group's Condition; the thread that
completes it trains, under the lock). A member leaves the stack between epochs, going on alone in the
same thread from its exact state (`batched.Snapshot.engine`), when its run finished, diverged or ends,
when its runner will not ask for the next epoch at once (`TrainingRunner.trains_on` is false: paused,
stepping, stopping, another pace, its thread gone), and every member does when too few train on. The
barrier asks that again every POLL_SECONDS while it waits, and lets go of a member that has not come
for STRAGGLER_SECONDS whatever the reason (it goes on alone: slower, same numbers). A learning-rate
change stays in the stack. A twin (`fork`) is an Engine of the member's state; the member stays. A
member that left enters again when it trains on (a pause, then Resume). So each run's numbers are its
solo run's, within float rounding, whatever the commands and wherever it trains.

Locks: a runner's lock may be held while the group's is taken, never the other way round (the group
reads `trains_on` without the runner's lock). Only the pool's worker processes stack; the in-process
mode (`PLAYGROUND_WORKERS=0`) trains every run alone. Knows nothing about pools, pipes or the UI.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Iterator

import numpy as np

from .batched import Snapshot, StackedTrainer, batch_key
from .engine import Diverged, Engine, EpochEvent, Event, load_dataset
from .stacking import MAX_STACK

POLL_SECONDS = 0.05  # a waiting barrier looks again this often for members that will not come
STRAGGLER_SECONDS = 3.0  # a member that has not come this long after the first of an epoch leaves the stack


class StackError(RuntimeError):
    """The stacked epoch failed: every member's run fails with it."""


class StackGroup:
    """One stack of runs in one worker; `join` is the engine factory of each runner routed to it.

    `min_runs`: the stack trains only while at least this many of its runs train on (`stacking.min_stack`:
    fewer are faster alone); until then, and whenever it drops below, they train alone."""

    def __init__(self, min_runs: int = 1):
        self.min_runs = min_runs
        self.lock = threading.Condition()
        self.trainer: StackedTrainer | None = None
        self.dataset = None  # the data every member shares (one batch key: the same data)
        self.key: tuple | None = None
        self._members: list[StackMember] = []  # every member whose run has not ended, stacked or alone
        self._stacked: list[StackMember] = []  # those in the stack now
        self._arrived: set[StackMember] = set()  # stacked members waiting for the next epoch
        self._results: dict[StackMember, EpochEvent] = {}
        self._first_arrival: float | None = None
        self._error: BaseException | None = None

    def __len__(self) -> int:
        """Members in the stack now."""
        with self.lock:
            return len(self._stacked)

    def join(self, runner) -> "StackMember | Engine":
        """The engine of `runner` (a `TrainingRunner`): a member of the group, or a plain Engine when it
        cannot join (a checkpoint to start from, another batch key, a failed stack)."""
        config = runner.config
        with self.lock:
            key = batch_key(config)
            if runner.initial_state is not None or self._error is not None or key is None or key != (self.key or key):
                return Engine(config, initial_state=runner.initial_state)
            if self.dataset is None:
                self.dataset, self.key = load_dataset(config), key
        member = StackMember(self, runner, Engine(config, self.dataset))
        with self.lock:
            self._members.append(member)
            self._enter(member)
        return member

    def enter(self, member: "StackMember") -> None:
        """(On the member's thread, between epochs) stack a member that trains alone, if the stack pays now."""
        with self.lock:
            self._enter(member)

    def forget(self, member: "StackMember") -> None:
        """(On the member's thread) its run ends: out of the stack, and no longer counted."""
        with self.lock:
            self.leave(member)
            if member in self._members:
                self._members.remove(member)

    def next_epoch(self, member: "StackMember") -> EpochEvent | None:
        """(On the member's thread) wait for the stack's next epoch and return how the member's ended; None
        when the member is no longer in the stack (it goes on alone)."""
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
        """(Under the lock) take `member` out of the stack between epochs; it goes on alone from its state."""
        if member in self._stacked:
            self._left(member, self.trainer.remove(member.id))

    # --- under the lock -------------------------------------------------------------------------

    def _training_on(self) -> int:
        """Members whose runs will ask for their next epoch at once."""
        return sum(member.runner.trains_on for member in self._members)

    def _enter(self, member: "StackMember") -> None:
        if (member.solo is None or self._error is not None or not member.runner.trains_on
                or self._training_on() < self.min_runs or len(self._stacked) >= MAX_STACK):
            return
        snapshot = Snapshot.of(member.solo)
        if self.trainer is None:
            self.trainer = StackedTrainer([member.config], self.dataset, [snapshot])
            run_id = self.trainer.run_ids[0]
        else:
            run_id = self.trainer.add(member.config, snapshot)
        member.entered(run_id)
        self._stacked.append(member)
        self.lock.notify_all()

    def _complete(self) -> bool:
        """Whether every stacked member is waiting. Members that will not come soon leave first, and all
        of them when fewer than `min_runs` train on."""
        waited = time.monotonic() - (self._first_arrival or time.monotonic())
        asking = sum(member.runner.trains_on or member in self._arrived for member in self._members)
        too_few = asking < self.min_runs  # (a member waiting here has asked for its epoch: it counts)
        for member in list(self._stacked):
            if too_few or (member not in self._arrived and (not member.runner.trains_on or waited > STRAGGLER_SECONDS)):
                self.leave(member)
        return bool(self._stacked) and all(member in self._arrived for member in self._stacked)

    def _train_epoch(self) -> None:
        """Train the stack one epoch and hand each member its event (finished and diverged runs leave)."""
        by_id = {member.id: member for member in self._stacked}
        for member in self._stacked:
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
            member.epoch_ended(run_event.event, len(self.dataset.y_train))
            if run_event.left is not None:
                self._left(member, run_event.left)
        self._arrived.clear()
        self._first_arrival = None
        self.lock.notify_all()

    def _left(self, member: "StackMember", snapshot: Snapshot) -> None:
        engine = snapshot.engine(self.dataset, member.samples)
        engine.set_learning_rate(member.requested_lr)
        member.solo = engine
        self._stacked.remove(member)
        self._arrived.discard(member)
        if not self._arrived:
            self._first_arrival = None  # nobody waits: the next epoch's wait starts with its first arrival
        self.lock.notify_all()


class StackMember:
    """One run's engine: its own `Engine` while it trains alone, a run of the group's stack while stacked.

    Driven by its runner's thread, as an Engine is. Only that thread puts it into the stack (between
    epochs); the group may take it out from another thread, under the group's lock, between epochs."""

    def __init__(self, group: StackGroup, runner, engine: Engine):
        self.group, self.runner, self.id = group, runner, -1
        self.config, self.dataset, self.plan = runner.config, engine.dataset, engine.plan
        self.solo: Engine | None = engine  # None while in the stack
        self.requested_lr = engine.base_lr
        self._epoch, self._seconds, self._samples = 0, 0.0, 0

    def run(self) -> Iterator[Event]:
        """The Engine's `run()`: each epoch stacked or alone, as the member is when it begins."""
        while self.epoch < self.config.epochs:
            if self.solo is None:
                event = self.group.next_epoch(self)
                if event is None:
                    continue  # it left the stack: this epoch trains alone
                yield event
            else:
                for event in self.solo.epoch_events():
                    yield event
            if isinstance(event, Diverged):
                return
            self.group.enter(self)  # between epochs (once the runner asks for the next one)

    def entered(self, run_id: int) -> None:
        """(The group, under its lock) it joined the stack as run `run_id`."""
        solo, self.id = self.solo, run_id
        self._epoch, self._seconds, self._samples = solo.epoch, solo.seconds, solo.samples
        self.requested_lr, self.solo = solo.base_lr, None

    def epoch_ended(self, event: EpochEvent, samples: int) -> None:
        """(The group, under its lock) the member's stacked epoch ended with `event`."""
        if not isinstance(event, Diverged):
            self._epoch, self._seconds, self._samples = event.epoch, event.seconds, self._samples + samples

    @property
    def epoch(self) -> int:
        solo = self.solo
        return solo.epoch if solo is not None else self._epoch

    @property
    def seconds(self) -> float:
        solo = self.solo
        return solo.seconds if solo is not None else self._seconds

    @property
    def samples(self) -> int:
        solo = self.solo
        return solo.samples if solo is not None else self._samples

    @property
    def model(self):
        """The engine's model, or (stacked) a view whose `state_dict()` is the run's weights."""
        solo = self.solo
        return solo.model if solo is not None else _StackedWeights(self)

    def set_learning_rate(self, lr: float) -> None:
        """The base learning rate from the next epoch on (stacked: the group hands it to the stack)."""
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
        """An Engine that trains on exactly as this run would (the run itself stays where it is)."""
        return self._either(lambda trainer: trainer.snapshot(self.id).engine(self.dataset, self._samples),
                            lambda engine: engine.fork())

    def cut_epoch_short(self) -> None:
        self._solo_engine().cut_epoch_short()  # only mid-epoch, where a stacked member never is

    def evaluate(self, split: str = "test"):
        return self._solo_engine().evaluate(split)

    def final_metrics(self) -> dict:
        """(At the run's end) it leaves the group; its engine's summary."""
        self.group.forget(self)
        return self.solo.final_metrics()

    def release_training(self) -> None:
        self._solo_engine().release_training()

    def _solo_engine(self) -> Engine:
        """Leave the stack (if in it) and return the engine."""
        if self.solo is None:
            with self.group.lock:
                self.group.leave(self)
        return self.solo

    def _either(self, stacked: Callable[[StackedTrainer], object], alone: Callable[[Engine], object]):
        """`stacked(trainer)` while in the stack (under the group's lock), else `alone(engine)`."""
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
