"""Lessons that ask first: a lesson's question checked against its promise, which choice a run's result
falls into, the words that set a student's prediction against the result, and the prediction as a
saved run keeps it.

A prediction is the index of the chosen answer. Every value that claims to be one (from a session,
a form or a saved run) is checked here (`valid_choice`, `from_record`) before it is used; anything
else counts as no prediction. Knows nothing about Streamlit, training or the run store's file.
"""
from __future__ import annotations

import bisect
import math
from typing import Any, Mapping

from .lessons import LESSONS, Lesson, Question, Verdict, shown_value

MIN_CHOICES, MAX_CHOICES = 2, 5
MAX_TEXT = 200  # characters of a choice kept with a saved run


def problems(lesson: Lesson) -> list[str]:
    """What is wrong with the lesson's question, in words (empty when it is sound): it must have 2-5
    choices and a valid answer; with edges, one cut point fewer than choices, ascending, and the
    answer's range must hold the outcome's whole promised range, so a run that keeps the promise
    lands on the expected answer."""
    question = lesson.question
    if question is None:
        return [f"lesson {lesson.slug!r} asks no question"]
    found = []
    if not MIN_CHOICES <= len(question.choices) <= MAX_CHOICES:
        found.append(f"{len(question.choices)} choices (wanted {MIN_CHOICES} to {MAX_CHOICES})")
    if valid_choice(question, question.answer) is None:
        found.append(f"answer {question.answer!r} is not the index of a choice")
    elif question.edges:
        found += _edge_problems(lesson, question)
    return found


def _edge_problems(lesson: Lesson, question: Question) -> list[str]:
    edges, outcome = question.edges, lesson.outcome
    if len(edges) != len(question.choices) - 1 or list(edges) != sorted(edges):
        return [f"edges {edges} are not {len(question.choices) - 1} ascending cut points"]
    low, high = _range(question, question.answer)
    if not (low <= outcome.low and outcome.high < high):
        return [f"the answer {question.choices[question.answer]!r} covers {low} to {high}, "
                f"but the lesson promises {outcome.low} to {outcome.high}"]
    return []


def _range(question: Question, choice: int) -> tuple[float, float]:
    """The measured values choice `choice` covers: from its lower edge (included) to its upper one."""
    edges = (-math.inf, *question.edges, math.inf)
    return edges[choice], edges[choice + 1]


def valid_choice(question: Question | None, value: Any) -> int | None:
    """`value` when it is the index of one of the question's choices, else None (hostile values too)."""
    if question is None or isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value < len(question.choices) else None


def choice_for(lesson: Lesson, result: Verdict) -> int | None:
    """The choice the run's result bears out: the range its measured value falls into when the question
    has edges, else the expected answer when the lesson's promise held; None when it cannot tell."""
    question = lesson.question
    if question is None:
        return None
    if question.edges:
        if result.value is None or not math.isfinite(result.value):
            return None
        return bisect.bisect_right(question.edges, result.value)
    return question.answer if result.as_promised else None


def comparison(lesson: Lesson, picked: int | None, result: Verdict) -> tuple[bool | None, str]:
    """Whether the prediction `picked` was right (None: no prediction, or the run cannot tell) and the
    sentence that says so, e.g. "You predicted about 95%; the run reached 46.17%: about 50%. ..."."""
    question = lesson.question
    if question is None:
        return None, ""
    picked, actual = valid_choice(question, picked), choice_for(lesson, result)
    outcome = _outcome_text(lesson, result, actual)
    if picked is None:
        return None, f"You trained without a prediction. {outcome}"
    said = f"You predicted {question.choices[picked]}; {outcome[0].lower()}{outcome[1:]}"
    if actual is None:
        return None, said
    if picked == actual:
        return True, f"{said} Well predicted!"
    return False, (f"{said} Not what you expected: the lesson's story says why. Change one thing and train "
                   "again to see what it takes.")


def _outcome_text(lesson: Lesson, result: Verdict, actual: int | None) -> str:
    question = lesson.question
    if question.edges and result.value is not None and actual is not None:
        return f"The run reached {shown_value(lesson.outcome.measure, result.value)}: {question.choices[actual]}."
    if actual is not None:
        return f"The run's answer: {question.choices[actual]}."
    return "The result does not settle the question: the run did not end as the lesson expected."


def to_record(lesson: Lesson, picked: int | None) -> dict | None:
    """What a saved run keeps of the prediction made before it trained (None: no prediction)."""
    question = lesson.question
    picked = valid_choice(question, picked)
    if picked is None:
        return None
    return {"lesson": lesson.slug, "choice": picked, "answer": question.choices[picked][:MAX_TEXT],
            "expected": question.choices[question.answer][:MAX_TEXT]}


def describe(record: Any) -> str:
    """A saved run's prediction for the runs table ("about 50% ✓", "about 95% (expected about 50%)"),
    or "" when it has none or what it holds is not a prediction."""
    if not isinstance(record, Mapping):
        return ""
    answer, expected = record.get("answer"), record.get("expected")
    if not isinstance(answer, str) or not isinstance(expected, str) or not answer:
        return ""
    answer, expected = answer[:MAX_TEXT], expected[:MAX_TEXT]
    return f"{answer} ✓" if answer == expected else f"{answer} (expected {expected})"


def lesson_named(slug: Any) -> Lesson | None:
    """The lesson a link or session names, when it names one that asks a question; else None."""
    lesson = LESSONS.get(slug) if isinstance(slug, str) else None
    return lesson if lesson is not None and lesson.question is not None else None
