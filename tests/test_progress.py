"""What a run reports and offers: every handle satisfies the RunHandle protocol; curves freeze into a History."""
import dataclasses
import inspect

import pytest

from playground.engine import BatchProgress, EpochEnd, Metrics
from playground.pool import PooledRace, PooledRunner
from playground.progress import (
    ACTIVE,
    COMPLETED,
    QUEUED,
    CurveLists,
    History,
    RaceSnapshot,
    RunHandle,
    Snapshot,
    TrainingHandle,
)
from playground.race import Race
from playground.runner import TrainingRunner


def handles(config) -> dict[str, object]:
    """One handle of each kind, none started (the pooled ones need no pool until they start)."""
    entrants = (("a", config), ("b", config))
    return {"TrainingRunner": TrainingRunner(config), "Race": Race(entrants),
            "PooledRunner": PooledRunner(None, config, None, None, {}),
            "PooledRace": PooledRace(None, entrants, None, {})}


def test_every_kind_of_handle_is_a_run_handle(tiny_spiral):
    for name, handle in handles(tiny_spiral).items():
        assert isinstance(handle, RunHandle), name


def test_single_trainings_are_training_handles_and_races_are_not(tiny_spiral):
    kinds = {name: isinstance(handle, TrainingHandle) for name, handle in handles(tiny_spiral).items()}
    assert kinds == {"TrainingRunner": True, "PooledRunner": True, "Race": False, "PooledRace": False}


@pytest.mark.parametrize("protocol, classes", [(RunHandle, (TrainingRunner, Race, PooledRunner, PooledRace)),
                                               (TrainingHandle, (TrainingRunner, PooledRunner))])
def test_handles_accept_every_argument_their_protocol_names(protocol, classes):
    """isinstance() only sees that the names exist: this also checks the parameters and their defaults."""
    methods = [name for name, value in vars(protocol).items() if inspect.isfunction(value) and name[0] != "_"]
    assert methods
    for cls in classes:
        for name in methods:
            wanted = inspect.signature(getattr(protocol, name)).parameters
            offered = inspect.signature(getattr(cls, name)).parameters
            for parameter in wanted.values():
                assert parameter.name in offered, f"{cls.__name__}.{name} lacks {parameter.name}"
                assert offered[parameter.name].default == parameter.default, f"{cls.__name__}.{name}({parameter.name})"


def test_curve_lists_grow_from_engine_events_and_freeze_into_a_history():
    curves = CurveLists()
    curves.add_batch_progress(BatchProgress(0.5, 2.0, 32))
    curves.add_epoch(EpochEnd(1, Metrics(1.5, accuracy=0.5), Metrics(1.6, accuracy=0.4), 0.01, 0.1))
    curves.add_epoch(EpochEnd(2, Metrics(1.2), None, 0.01, 0.2))  # not an evaluated epoch: no scores
    frozen = curves.freeze()
    assert frozen == History(epochs=(1, 2), train_loss=(1.5, 1.2), batch_epochs=(0.5,), batch_loss=(2.0,),
                             eval_epochs=(1,), train_score=(0.5,), test_loss=(1.6,), test_score=(0.4,), lr=(0.01,))
    curves.add_epoch(EpochEnd(3, Metrics(1.0), None, 0.01, 0.3))
    assert frozen.epochs == (1, 2)  # a frozen history never changes
    with pytest.raises(dataclasses.FrozenInstanceError):
        frozen.epochs = ()


def test_snapshots_are_active_exactly_while_their_status_is():
    assert Snapshot(QUEUED, 0, 10, 0.01, 0.0).active and QUEUED in ACTIVE
    assert not Snapshot(COMPLETED, 10, 10, 0.01, 0.0).active
    assert not RaceSnapshot(COMPLETED, 3, 3, ()).active and RaceSnapshot(QUEUED, 0, 3, ()).active
