"""The class challenge: reading and describing it, judging saved runs, each member's best entry, the ranking
with shared ranks, the reasons of members without an entry, and reading a class's standings from the store."""
from __future__ import annotations

import pytest

from playground.challenge import (
    PRESETS,
    Challenge,
    ChallengeError,
    Goal,
    count_parameters,
    judge,
    trained_epochs,
)
from playground.challenge_rank import NO_RUN, Entry, StandingsCache, entries, ranking, read_standings
from playground.classroom import ClassStore, Member
from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunRecord, RunStore

SPIRAL_GOAL = PRESETS["spiral_fewest_parameters"]
LOSS_200 = PRESETS["lowest_loss_200_epochs"]


def spiral(width: int = 16, **dataset) -> dict:
    return TrainConfig.from_dict({"dataset": {"name": "spiral", **dataset},
                                  "layers": [{"type": "linear", "out": width}, {"type": "relu"}, {"type": "linear"}],
                                  "epochs": 100}).to_dict()


def record(config: dict | None = None, accuracy: float | None = 0.95, loss: float | None = 0.2, epochs: int = 100,
           status: str = "completed", created: float = 100.0, run_id: int = 1, curve: tuple = ()) -> RunRecord:
    final = {"epochs": epochs, "test_accuracy": accuracy, "test_loss": loss} if epochs else {}
    return RunRecord(run_id, "w", created, "", status, config or spiral(), History(epochs=curve), final)


def params(width: int) -> int:
    return 2 * width + width + width * 3 + 3  # Linear(2, width) and Linear(width, 3), as torch counts them


# --- reading and describing -------------------------------------------------------------------------

def test_the_issues_two_examples_are_presets_said_in_one_sentence():
    assert SPIRAL_GOAL.describe() == \
        "≥ 90% test accuracy on the spiral (classes 3, noise 0.2) with the fewest parameters"
    assert LOSS_200.describe() == "lowest test loss within 200 epochs"
    for preset in PRESETS.values():
        assert Challenge.from_dict(preset.to_dict()) == preset
    assert LOSS_200.to_dict() == {"max_epochs": 200, "rank": "test_loss"}


def test_other_challenges_read_as_sentences():
    assert Challenge.from_dict({"rank": "test_accuracy", "dataset": "mnist"}).describe() == \
        "highest test accuracy on the MNIST digits"
    assert Challenge.from_dict({"dataset": "sine", "goal": {"metric": "test_r2", "value": 0.95},
                                "rank": "epochs"}).describe() == \
        "≥ 0.950 test R² on the sine regression in the fewest epochs"
    assert Challenge.from_dict({"goal": {"metric": "test_loss", "value": 0.1}, "max_epochs": 50,
                                "rank": "test_accuracy"}).describe() == \
        "≤ 0.1 test loss within 50 epochs: the highest test accuracy wins"


@pytest.mark.parametrize("bad, key", [
    ([], "challenge"), ({}, "rank"), ({"rank": "speed"}, "rank"), ({"rank": "test_loss", "prize": 1}, "prize"),
    ({"rank": "parameters"}, "rank"),  # the fewest parameters without a goal: a 1-neuron run would win
    ({"rank": "test_accuracy", "dataset": "sine"}, "rank"), ({"rank": "test_loss", "dataset": "csv"}, "dataset"),
    ({"rank": "test_loss", "dataset": 7}, "dataset"), ({"rank": "test_loss", "data": {"noise": 0.1}}, "data"),
    ({"rank": "test_loss", "dataset": "spiral", "data": {"nois": 0.1}}, "data.nois"),
    ({"rank": "test_loss", "dataset": "spiral", "data": {"classes": 2.5}}, "data.classes"),
    ({"rank": "test_loss", "dataset": "spiral", "data": {"noise": 9}}, "data.noise"),
    ({"rank": "test_loss", "goal": 0.9}, "goal"),
    ({"rank": "test_loss", "goal": {"metric": "test_accuracy"}}, "goal.value"),
    ({"rank": "test_loss", "goal": {"metric": "test_accuracy", "value": 90}}, "goal.value"),
    ({"rank": "test_loss", "goal": {"metric": "test_accuracy", "value": float("nan")}}, "goal.value"),
    ({"rank": "test_loss", "goal": {"metric": "test_r2", "value": 0.9}, "dataset": "spiral"}, "goal.metric"),
    ({"rank": "test_loss", "goal": {"metric": "params", "value": 9}}, "goal.metric"),
    ({"rank": "test_loss", "goal": {"metric": "test_loss", "value": 1, "by": 2}}, "goal.by"),
    ({"rank": "test_loss", "max_epochs": 0}, "max_epochs"), ({"rank": "test_loss", "max_epochs": True}, "max_epochs"),
    ({"rank": "test_loss", "max_epochs": 10**400}, "max_epochs"),
    ({"rank": "test_loss", "max_epochs": 1.5}, "max_epochs"),
])
def test_a_bad_challenge_is_refused_naming_the_key(bad, key):
    with pytest.raises(ChallengeError) as caught:
        Challenge.from_dict(bad)
    assert caught.value.key.replace("challenge", "") == key.replace("challenge", "")
    assert len(str(caught.value)) < 300


def test_a_hostile_key_is_quoted_short():
    with pytest.raises(ChallengeError) as caught:
        Challenge.from_dict({"rank": "test_loss", **{"<b>" * 1000 + str(i): 1 for i in range(1000)}})
    assert len(str(caught.value)) < 300


# --- judging one run ----------------------------------------------------------------------------------

def test_parameters_are_counted_as_torch_counts_them():
    import torch

    oracle = sum(p.numel() for p in torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(),
                                                        torch.nn.Linear(16, 3)).parameters())
    assert count_parameters(spiral(16)) == oracle == params(16)
    assert count_parameters({"layers": "nonsense"}) is None and count_parameters({"x": {1, 2}}) is None


@pytest.mark.parametrize("run, why", [
    (record(status="diverged"), "it diverged"),
    (record(status="failed"), "did not finish"),
    (record(TrainConfig.from_dict({"dataset": {"name": "moons"}}).to_dict()), "another dataset"),
    (record(spiral(noise=0.5)), "data settings differ (noise)"),
    (record(accuracy=0.871), "87.1%: below the 90% goal"),
    (record(accuracy=None, loss=None), "no test accuracy"),
])
def test_a_run_that_breaks_a_rule_is_not_valid_and_says_why(run, why):
    verdict = judge(SPIRAL_GOAL, run)
    assert not verdict.valid and why in verdict.failure.text and verdict.failure.hint


def test_a_run_that_keeps_every_rule_is_valid_with_its_measures():
    verdict = judge(SPIRAL_GOAL, record(accuracy=0.9))
    assert verdict.valid and verdict.facts.parameters == params(16) and verdict.facts.test_accuracy == 0.9
    assert judge(SPIRAL_GOAL, record(status="stopped")).valid


def test_the_epoch_limit_counts_the_epochs_the_run_trained():
    assert judge(LOSS_200, record(epochs=200)).valid
    assert "250 epochs, more than 200" in judge(LOSS_200, record(epochs=250)).failure.text
    no_final = record(epochs=0, curve=(1, 2, 300))  # no final metrics: the curve says how far it went
    assert trained_epochs(no_final) == 300 and not judge(LOSS_200, no_final).valid
    assert trained_epochs(record(epochs=150, curve=(1, 2, 180))) == 180  # the larger of the two


# --- entries, ranking, reasons --------------------------------------------------------------------------

def member(member_id: int, joined: float = 0.0) -> Member:
    return Member(member_id, "ABCDEF", f"Student {member_id}", joined, f"w{member_id}")


def test_each_member_enters_their_best_valid_run_and_older_runs_do_not_count():
    runs = {"w1": [record(spiral(64), created=20, run_id=1), record(spiral(32), created=30, run_id=3),
                   record(spiral(8), created=5, run_id=2)],  # before the challenge
            "w2": [record(spiral(4), created=40, run_id=4), record(spiral(16), created=60, run_id=5)],  # before joining
            "w3": [record(spiral(4), accuracy=0.5, created=30, run_id=6)]}
    best, reasons = entries(SPIRAL_GOAL, 10.0, [member(1), member(2, joined=50.0), member(3), member(4)],
                            lambda workspace, since: runs.get(workspace, []))
    assert {m: (e.run_id, e.value) for m, e in best.items()} == {1: (3, params(32)), 2: (5, params(16))}
    assert reasons[3].text == "best 50%: below the 90% goal" and reasons[4] == NO_RUN


def test_the_nearest_miss_is_the_reason():
    runs = [record(status="diverged", run_id=1), record(accuracy=0.8, run_id=2), record(accuracy=0.85, run_id=3)]
    _, reasons = entries(SPIRAL_GOAL, 0.0, [member(1)], lambda workspace, since: runs)
    assert reasons[1].text == "best 85%: below the 90% goal" and "bigger model" in reasons[1].hint
    _, reasons = entries(LOSS_200, 0.0, [member(1)], lambda workspace, since: [record(epochs=500)])
    assert reasons[1].text == "your run: it trained 500 epochs, more than 200" and "200 or fewer" in reasons[1].hint


def test_ties_share_a_rank_and_the_earlier_entry_is_listed_first():
    chosen = [Entry(member_id, f"S{member_id}", member_id, created, judge(LOSS_200, record()).facts, value)
              for member_id, created, value in ((1, 5.0, 0.3), (2, 9.0, 0.1), (3, 1.0, 0.3), (4, 2.0, 0.5))]
    rows = ranking(LOSS_200, chosen)
    assert [(r.rank, r.member_id) for r in rows] == [(1, 2), (2, 3), (2, 1), (4, 4)]
    assert rows[0].value_text == "0.1" and rows[0].params == params(16)


def test_a_members_tied_runs_enter_the_earlier_one():
    runs = [record(spiral(16), created=30, run_id=2), record(spiral(16), created=20, run_id=1)]
    best, _ = entries(SPIRAL_GOAL, 0.0, [member(1)], lambda workspace, since: runs)
    assert best[1].run_id == 1


# --- a class in the store -------------------------------------------------------------------------------

@pytest.fixture
def classes(tmp_path):
    return ClassStore(RunStore(tmp_path / "runs.sqlite"))


def test_standings_read_from_the_store_rank_the_class_and_hide_names_on_request(classes):
    new = classes.create("teacher1")
    code, secret = new.info.code, new.secret
    ada, bo = classes.join(code, "ada-ws", "Ada"), classes.join(code, "bo-ws", "<b>Bo</b>")
    classes.runs.save("ada-ws", spiral(4), History(), {"epochs": 100, "test_accuracy": 0.99}, "completed")  # too early
    assert read_standings(classes, code) is None  # no challenge yet
    classes.set_challenge(code, secret, SPIRAL_GOAL.to_dict())
    classes.runs.save("ada-ws", spiral(32), History(), {"epochs": 100, "test_accuracy": 0.93}, "completed")
    classes.runs.save("bo-ws", spiral(16), History(), {"epochs": 100, "test_accuracy": 0.91}, "stopped")
    classes.runs.save("bo-ws", spiral(8), History(), {"epochs": 100, "test_accuracy": 0.6}, "completed")
    standings = read_standings(classes, code)
    assert [(r.rank, r.name, r.params) for r in standings.rows] == \
        [(1, "<b>Bo</b>", params(16)), (2, "Ada", params(32))]
    assert standings.row_of(ada.id).rank == 2 and standings.row_of(bo.id).accuracy == 0.91
    assert standings.members == 2 and standings.show_names and standings.names[bo.id] == "<b>Bo</b>"
    classes.set_show_names(code, secret, False)
    assert not read_standings(classes, code).show_names


def test_a_stored_challenge_this_version_cannot_read_says_so(classes):
    new = classes.create("teacher1")
    classes.set_challenge(new.info.code, new.secret, {"rank": "speed"})
    with pytest.raises(ChallengeError, match="rank"):
        read_standings(classes, new.info.code)


def test_runs_since_skips_older_runs(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    first = store.save("w", spiral(), History(), {}, "completed")
    cutoff = store.get("w", first).created
    second = store.save("w", spiral(), History(), {}, "completed")
    assert [r.id for r in store.runs("w", since=cutoff)] == [second]
    assert [r.id for r in store.runs("w")] == [second, first]


def test_the_cache_reads_a_class_once_per_refresh(classes):
    new = classes.create("teacher1")
    classes.set_challenge(new.info.code, new.secret, LOSS_200.to_dict())
    now = [0.0]
    cache = StandingsCache(seconds=3.0, clock=lambda: now[0])
    first = cache.get(classes, new.info.code)
    assert cache.get(classes, new.info.code) is first and cache.reads == 1
    now[0] = 3.5
    cache.get(classes, new.info.code)
    cache.forget(new.info.code)
    cache.get(classes, new.info.code)
    assert cache.reads == 3


def test_a_slow_read_is_reused_longer(classes, monkeypatch):
    from playground import challenge_rank

    new = classes.create("teacher1")
    now = [0.0]
    monkeypatch.setattr(challenge_rank, "read_standings", lambda store, code: now.__setitem__(0, now[0] + 1.0))
    cache = StandingsCache(seconds=3.0, clock=lambda: now[0])
    cache.get(classes, new.info.code)  # a read of one second: kept for ten
    now[0] += 9.0
    cache.get(classes, new.info.code)
    assert cache.reads == 1
    now[0] += 1.5
    cache.get(classes, new.info.code)
    assert cache.reads == 2


def test_the_cache_keeps_a_bounded_number_of_classes(classes):
    cache = StandingsCache(most=2)
    codes = [classes.create(f"teacher{i}").info.code for i in range(4)]
    for code in codes:
        assert cache.get(classes, code) is None
    assert len(cache._kept) == 2


def test_a_goal_says_which_way_it_points():
    assert Goal("test_accuracy", 0.9).reached(0.9) and not Goal("test_accuracy", 0.9).reached(0.89)
    assert Goal("test_loss", 0.1).reached(0.05) and not Goal("test_loss", 0.1).reached(0.2)


def test_a_run_started_from_a_saved_model_does_not_count_where_epochs_do():
    started = record({**spiral(), "start_from": "run:0123456789abcdef"}, epochs=10)
    assert "saved model" in judge(LOSS_200, started).failure.text
    assert judge(SPIRAL_GOAL, started).valid  # no limit on epochs: its parameters are its own
    assert judge(LOSS_200, record({**spiral(), "start_from": "torchvision:resnet18"}, epochs=10)).valid


def test_the_store_reads_runs_without_their_curves_on_request(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    store.save("w", spiral(), History(epochs=(1, 2), train_loss=(0.5, 0.4)), {"epochs": 2}, "completed")
    light, = store.runs("w", curves=False)
    assert light.history == History() and light.final == {"epochs": 2} and trained_epochs(light) == 2
    assert store.runs("w")[0].history.epochs == (1, 2)


def test_places_read_as_a_sentence():
    from playground.challenge_rank import Standings, ordinal, your_place

    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
    facts = judge(SPIRAL_GOAL, record(spiral(16))).facts
    chosen = [Entry(i, f"S{i}", i, float(i), facts, value) for i, value in ((1, 99.0), (2, 1203.0), (3, 1203.0))]
    standings = Standings(SPIRAL_GOAL, tuple(ranking(SPIRAL_GOAL, chosen)))
    assert your_place(standings, 1) == "You are 1st of 3 with 99 parameters"
    assert your_place(standings, 3) == "You are 2nd (tied) of 3 with 1,203 parameters"
    assert your_place(standings, 9) is None


def test_the_default_data_pins_what_makes_it_harder_not_its_size():
    from playground.challenge import default_data

    assert default_data("spiral") == (("classes", 3), ("noise", 0.2))
    assert default_data("mnist") == ()


@pytest.mark.parametrize("config, final, status", [
    ([1, 2], {"epochs": 1}, "completed"), ({"dataset": "spiral"}, [], "completed"),
    ({"dataset": {"name": "spiral", "noise": "loud"}}, {"epochs": "many", "test_accuracy": "NaN"}, "completed"),
    ({"layers": [{"type": "linear", "out": 10**12}]}, {"epochs": 5, "test_accuracy": 0.99}, "<b>odd</b>" * 50),
    ({"start_from": {"x": 1}}, {"epochs": float("inf"), "test_accuracy": float("nan")}, "completed"),
])
def test_a_damaged_or_hostile_saved_run_is_judged_not_valid_without_raising(config, final, status):
    run = RunRecord(1, "w", 1.0, "", status, config, History(), final)
    for challenge in (SPIRAL_GOAL, LOSS_200):
        verdict = judge(challenge, run)
        assert not verdict.valid and len(verdict.failure.text) < 200
