"""A lesson that asks first, in a real browser: the Lessons page's card asks the question, the Playground
poses it before the story, the student answers, trains, and sees the prediction against the result,
which the saved run keeps too.

Headless Chromium at 1280x720 talks to a real `streamlit run app.py` (fixtures in conftest.py).
Every wait is a Playwright auto-waiting `expect` on the app's own signals (the story appearing, the
"Completed" badge, the comparison box). Screenshots of the question and the result go to
$PLAYGROUND_SCREENSHOTS when set, else to the test's temporary folder: never into the repository.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from harness import (
    START_S,
    TEST_S,
    WAIT_S,
    assert_no_exception,
    button,
    connect,
    keyed,
    new_person,
    train_to_completion,
    wait_for_saved_runs,
    workspace_of,
)
from playground.lessons import LESSONS
from playground.runstore import RunStore, default_path

pytestmark = [pytest.mark.browser, pytest.mark.timeout(TEST_S)]

LINE = LESSONS["line"]  # y = 2x: 1,000 epochs of four points, about ten seconds at the watched pace
SCREEN = {"width": 1280, "height": 720}


@pytest.fixture
def student(browser: Browser, app_url: str):
    page = new_person(browser, app_url, viewport=SCREEN)
    try:
        yield page
    finally:
        page.context.close()


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PLAYGROUND_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pick(question: Locator, choice: str) -> None:
    """Click the choice until it is checked: on a busy machine a click can land just as a rerun redraws the
    radio (as harness.open_popover clicks again rather than wait for what will not come)."""
    radio = question.get_by_role("radio", name=choice, exact=True)
    deadline = time.monotonic() + WAIT_S
    while True:
        question.get_by_text(choice, exact=True).click()
        try:
            expect(radio).to_be_checked(timeout=10_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def test_a_lesson_asks_then_shows_the_prediction_against_the_result(student: Page, tmp_path: Path):
    connect(student, "/Lessons", "Lessons")
    card = student.locator(".st-key-ls_card_line")
    expect(card).to_contain_text(f"Asks first: {LINE.question.prompt}")
    expect(card).not_to_contain_text(LINE.story)  # the story gives the answer away
    card.get_by_role("link", name="Open in the Playground").click()

    expect(student.get_by_role("heading", name="Playground", exact=True)).to_be_visible(timeout=START_S * 1000)
    banner = student.locator(".st-key-pg_lesson_box")
    question = keyed(student, "pg_quiz_line")
    expect(banner).to_contain_text(f"Lesson · {LINE.title}")
    expect(question).to_contain_text(LINE.question.prompt)
    for choice in LINE.question.choices:
        expect(question.get_by_role("radio", name=choice, exact=True)).not_to_be_checked()  # nothing picked for them
    expect(banner).not_to_contain_text(LINE.story)
    expect(button(student, "pg_train")).to_be_enabled(timeout=START_S * 1000)
    student.screenshot(path=str(shots(tmp_path) / "lesson-question.png"))

    pick(question, "about 5")
    expect(banner).to_contain_text(LINE.story)  # predicted: now the lesson tells its story
    train_to_completion(student)

    result = student.locator(".st-key-pg_quiz_result")  # a container, not an element: no FRESH prefix
    expect(result).to_have_text(re.compile(r"You predicted about 5; the run reached (9\.9\d\d|10\.0\d\d|10\.100): "
                                           r"about 10\. Not what you expected"))
    expect(banner).to_contain_text("as the lesson said")
    result.scroll_into_view_if_needed()
    student.screenshot(path=str(shots(tmp_path) / "lesson-result.png"))

    (run,) = wait_for_saved_runs(RunStore(default_path()), workspace_of(student), 1)
    assert run.prediction == {"lesson": "line", "choice": 1, "answer": "about 5", "expected": "about 10"}
    assert_no_exception(student)
