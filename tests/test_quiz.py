"""Lessons that ask first: every lesson's question agrees with its promise, a result falls into one
choice, and the sentence that sets a prediction against the result says what happened."""
import dataclasses
import math

import pytest

from playground import quiz
from playground.lessons import LESSONS, Outcome, Question, Verdict, verdict

SPIRAL = LESSONS["spiral-linear"]
RACE = LESSONS["optimizer-race"]


@pytest.mark.parametrize("slug", list(LESSONS))
def test_every_lesson_asks_a_sound_question(slug):
    lesson = LESSONS[slug]
    question = lesson.question
    assert question is not None and question.prompt and 2 <= len(question.choices) <= 5
    assert 0 <= question.answer < len(question.choices) and len(set(question.choices)) == len(question.choices)
    assert quiz.problems(lesson) == []


@pytest.mark.parametrize("slug", [slug for slug, lesson in LESSONS.items() if lesson.question.edges])
def test_a_result_that_keeps_the_promise_lands_on_the_expected_answer(slug):
    lesson = LESSONS[slug]
    low, high = lesson.outcome.low, lesson.outcome.high
    for value in (low, (low + high) / 2, high):
        assert quiz.choice_for(lesson, verdict(lesson, value)) == lesson.question.answer


def with_question(lesson, **changes):
    return dataclasses.replace(lesson, question=dataclasses.replace(lesson.question, **changes))


def test_problems_name_what_is_wrong():
    assert quiz.problems(dataclasses.replace(SPIRAL, question=None)) == ["lesson 'spiral-linear' asks no question"]
    assert "1 choices" in quiz.problems(with_question(SPIRAL, choices=("a",), edges=()))[0]
    assert "not the index" in quiz.problems(with_question(SPIRAL, answer=3))[0]
    assert "ascending" in quiz.problems(with_question(SPIRAL, edges=(0.8, 0.3)))[0]
    assert "ascending" in quiz.problems(with_question(SPIRAL, edges=(0.5,)))[0]
    wrong = quiz.problems(with_question(SPIRAL, answer=2))  # "about 95%" for a model promised near 50%
    assert wrong and "about 95%" in wrong[0] and "0.35 to 0.62" in wrong[0]
    straddles = dataclasses.replace(SPIRAL, outcome=Outcome("test_accuracy", 0.3, 0.6, "near 50%"))
    assert quiz.problems(straddles)  # the promise reaches into "about 33%": the answer does not hold it


def test_a_measured_value_falls_into_one_choice():
    for value, choice in ((0.2, 0), (0.34, 1), (0.5, 1), (0.7499, 1), (0.75, 2), (0.99, 2)):
        assert quiz.choice_for(SPIRAL, Verdict(value, False, "")) == choice
    assert quiz.choice_for(SPIRAL, Verdict(None, False, "")) is None
    assert quiz.choice_for(SPIRAL, Verdict(math.nan, False, "")) is None


def test_without_edges_the_verdict_decides():
    assert quiz.choice_for(RACE, Verdict(None, True, "")) == RACE.question.answer
    assert quiz.choice_for(RACE, Verdict(None, False, "")) is None


def test_the_comparison_sets_the_prediction_against_the_result():
    result = verdict(SPIRAL, 0.512)
    right, text = quiz.comparison(SPIRAL, 2, result)
    assert right is False and text.startswith("You predicted about 95%; the run reached 51.20%: about 50%.")
    assert "story says why" in text
    right, text = quiz.comparison(SPIRAL, 1, result)
    assert right is True and "Well predicted" in text
    right, text = quiz.comparison(SPIRAL, None, result)
    assert right is None and text == "You trained without a prediction. The run reached 51.20%: about 50%."


def test_a_race_without_its_promised_order_does_not_settle_the_question():
    right, text = quiz.comparison(RACE, 0, Verdict(None, False, "Not every entrant finished"))
    assert right is None and "does not settle the question" in text and "You predicted plain SGD" in text
    right, text = quiz.comparison(RACE, 2, Verdict(None, True, ""))
    assert right is False and "the run's answer: plain SGD." in text


@pytest.mark.parametrize("hostile", [-1, 3, 99, True, 1.0, "1", None, [1], {"choice": 1}, 2**70])
def test_hostile_choices_count_as_no_prediction(hostile):
    assert quiz.valid_choice(SPIRAL.question, hostile) is None
    assert quiz.to_record(SPIRAL, hostile) is None
    assert quiz.comparison(SPIRAL, hostile, verdict(SPIRAL, 0.5))[0] is None


def test_a_saved_prediction_reads_back_for_the_runs_table():
    record = quiz.to_record(SPIRAL, 2)
    assert record == {"lesson": "spiral-linear", "choice": 2, "answer": "about 95%", "expected": "about 50%"}
    assert quiz.describe(record) == "about 95% (expected about 50%)"
    assert quiz.describe(quiz.to_record(SPIRAL, 1)) == "about 50% ✓"


@pytest.mark.parametrize("stored", [None, "text", [], {}, {"answer": 5, "expected": "x"}, {"answer": ""},
                                    {"answer": "a"}, {"expected": "a"}])
def test_a_damaged_saved_prediction_shows_nothing(stored):
    assert quiz.describe(stored) == ""


def test_a_saved_prediction_is_kept_short():
    assert len(quiz.describe({"answer": "x" * 5000, "expected": "x" * 5000})) <= quiz.MAX_TEXT + 2


@pytest.mark.parametrize("slug", ["spiral-linear", "optimizer-race"])
def test_lesson_named_finds_lessons_that_ask(slug):
    assert quiz.lesson_named(slug) is LESSONS[slug]


@pytest.mark.parametrize("hostile", ["", "alchemy", None, 3, ["spiral-linear"], "spiral-linear " * 100])
def test_lesson_named_refuses_anything_else(hostile):
    assert quiz.lesson_named(hostile) is None


def test_a_question_is_plain_data():
    question = Question("Pick:", ("a", "b"), 1)
    assert question.edges == () and dataclasses.asdict(question)["choices"] == ("a", "b")
