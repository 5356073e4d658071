"""Every lesson trains to the outcome it promises, and its texts and links hold together."""
import pytest
import torch

from playground.engine import Engine
from playground.lessons import LESSONS, MEASURES, RACE_ORDER, Lesson, Outcome, measure, race_verdict, verdict
from playground.share import HIDEABLE, from_query, to_query

SINGLE = [slug for slug, lesson in LESSONS.items() if not lesson.is_race]


@pytest.fixture(autouse=True)
def one_thread():
    """Lessons train on one thread in the app; the promised numbers are measured that way."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def train(config):
    engine = Engine(config.replace(device="cpu"))
    list(engine.run())
    return engine, engine.final_metrics()


@pytest.mark.parametrize("slug", SINGLE)
def test_each_lesson_trains_to_its_promised_outcome(slug):
    lesson = LESSONS[slug]
    engine, final = train(lesson.config)
    value = measure(lesson, engine, final)
    result = verdict(lesson, value)
    assert result.as_promised, result.text
    assert "as the lesson said" in result.text


def test_the_optimizer_race_finishes_in_the_promised_order():
    lesson = LESSONS["optimizer-race"]
    losses = {name: train(config)[1]["train_loss"] for name, config in lesson.race}
    result = race_verdict(losses)
    assert result.as_promised, result.text
    assert losses["SGD"] > losses["SGD + momentum"] > max(losses["Adam"], losses["RMSprop"])


def test_race_entrants_differ_only_in_the_optimizer():
    race = LESSONS["optimizer-race"].race
    assert tuple(name for name, _ in race) == RACE_ORDER
    base = race[0][1]
    for _, config in race[1:]:
        assert config.replace(optimizer=base.optimizer) == base
    assert len({config.optimizer for _, config in race}) == 4


def test_every_lesson_has_a_story_a_promise_and_a_valid_link():
    for slug, lesson in LESSONS.items():
        assert lesson.slug == slug and lesson.title and lesson.story.count(".") >= 2
        assert lesson.outcome.measure in MEASURES and lesson.outcome.low <= lesson.outcome.high
        assert set(lesson.hide) <= set(HIDEABLE)
        setup = from_query(to_query(lesson.config, lesson.hide, slug))
        assert setup.config == lesson.config and setup.lesson == slug


def test_the_classic_lessons_are_all_there():
    assert {"spiral-linear", "spiral-relu", "line", "coffee", "mnist-cnn", "mnist-dropout", "residual",
            "optimizer-race"} <= set(LESSONS)
    assert LESSONS["coffee"].config.loss == "bce" and LESSONS["coffee"].config.optimizer.name == "adam"
    assert LESSONS["mnist-dropout"].config.loss == "nll"
    assert any(layer["type"] == "residual" for layer in LESSONS["residual"].config.layers)


def test_a_verdict_outside_the_range_says_what_was_expected():
    lesson = LESSONS["spiral-relu"]
    result = verdict(lesson, 0.5)
    assert not result.as_promised and "50.00%" in result.text and "about 95%" in result.text
    assert not verdict(lesson, None).as_promised


def test_the_prediction_verdict_shows_the_value():
    result = verdict(LESSONS["line"], 9.97)
    assert result.as_promised and "9.970" in result.text


def test_a_race_with_a_missing_entrant_has_no_result():
    assert not race_verdict({"SGD": 1.0, "SGD + momentum": 0.5, "Adam": None, "RMSprop": 0.1}).as_promised
    wrong = race_verdict({"SGD": 0.1, "SGD + momentum": 0.5, "Adam": 0.2, "RMSprop": 0.3})
    assert not wrong.as_promised and "Not the order" in wrong.text


def test_outcome_and_lesson_are_frozen():
    lesson = LESSONS["line"]
    with pytest.raises(Exception):
        lesson.title = "x"
    assert isinstance(lesson, Lesson) and isinstance(lesson.outcome, Outcome)


def test_every_race_has_a_judge_of_its_entrants_finals():
    for lesson in LESSONS.values():
        assert lesson.is_race == (lesson.judge is not None), lesson.slug
    finals = {"SGD": {"train_loss": 1.0}, "SGD + momentum": {"train_loss": 0.5}, "Adam": {"train_loss": 0.1},
              "RMSprop": {"train_loss": 0.2}}
    from playground.lessons import race_result
    assert race_result(LESSONS["optimizer-race"], finals).as_promised
    assert not race_result(LESSONS["optimizer-race"], {**finals, "Adam": None}).as_promised


def test_augmentation_narrows_the_gap_between_train_and_test_accuracy():
    from playground.lessons import race_result

    lesson = LESSONS["augmentation"]
    finals = {name: train(config)[1] for name, config in lesson.race}
    result = race_result(lesson, finals)
    assert result.as_promised, result.text
    assert lesson.question.choices[lesson.question.answer].startswith("smaller")
    plain, augmented = (config for _, config in lesson.race)
    assert plain.augment is None and augmented.replace(augment=None) == plain  # only the augmentation differs


def test_the_augmentation_judge_needs_both_finals_and_a_smaller_gap():
    from playground.lessons import augment_race_verdict

    wide, narrow = {"train_accuracy": 1.0, "test_accuracy": 0.85}, {"train_accuracy": 0.95, "test_accuracy": 0.88}
    assert augment_race_verdict({"Plain": wide, "Augmented": narrow}).as_promised
    assert not augment_race_verdict({"Plain": narrow, "Augmented": wide}).as_promised
    assert not augment_race_verdict({"Plain": wide, "Augmented": None}).as_promised


def test_the_plateau_lesson_rescues_the_too_high_learning_rate():
    from playground.lessons import PLATEAU_ORDER, race_result
    lesson = LESSONS["schedule-plateau"]
    assert tuple(name for name, _ in lesson.race) == PLATEAU_ORDER and lesson.question.answer == 1
    constant, plateau = (config for _, config in lesson.race)
    assert constant.replace(schedule=plateau.schedule) == plateau  # they differ only in the schedule
    finals = {name: train(config)[1] for name, config in lesson.race}
    result = race_result(lesson, finals)
    assert result.as_promised, result.text
    assert not race_result(lesson, {**finals, "Reduce on plateau": None}).as_promised


def test_the_transfer_race_keeps_its_promise_and_its_entrants_differ_only_in_the_start():
    from playground.default_model import default_model

    default_model()  # the start: the Draw page's model, which the app trains when it starts
    lesson = LESSONS["transfer"]
    reused, scratch = (config for _, config in lesson.race)
    assert reused.replace(start_from=None, freeze=0) == scratch and reused.start_from == "default:mnist"
    result = lesson.judge({name: train(config)[1] for name, config in lesson.race})
    assert result.as_promised, result.text
    assert lesson.question.choices[lesson.question.answer] == "the reused digit features"
    assert not lesson.judge({name: None for name, _ in lesson.race}).as_promised
