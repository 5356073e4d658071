"""A class session in a real browser: a teacher and three students, each in their own browser context.

The teacher starts a class and hands out a small XOR setup; three students join with the code, open
the teacher's setup, and train (one of them changes the activation to Tanh first); the teacher's board
shows three live tiles with what each changed, a click on a tile shows that run large; a challenge set
before the runs ranks them, and each student sees their place; a student gives two drawings to the
class and the class's digits train in the Playground. Screenshots at 1280x720 (the projector) go to the
`screenshots` folder (conftest.py). Every wait is an auto-waiting `expect`.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from harness import (
    CONNECTED,
    FRESH,
    START_S,
    TEST_S,
    TRAIN_S,
    assert_no_exception,
    badge,
    button,
    canvas,
    chips,
    click_option,
    click_until,
    connect,
    in_popover,
    keyed,
    new_person,
    open_playground,
    plus,
    stroke,
)
from playground.classroom import ClassStore
from playground.runstore import RunStore, default_path

pytestmark = [pytest.mark.browser, pytest.mark.timeout(2 * TEST_S)]

PROJECTOR = {"width": 1280, "height": 720}
MODEL_S = START_S + TRAIN_S  # the Draw page's default model may still be training on a fresh server
# The teacher's setup: XOR of 80 points, 8 ReLU units, 30 epochs: seconds to train.
SETUP = ("/Playground?dataset.name=xor&dataset.n_samples=80&layers=linear(out=8),relu,linear"
         "&optimizer.name=adam&optimizer.lr=0.03&epochs=30&seed=7")
STUDENTS = ("Ada", "Grace <b>Hopper</b>", "Alan")  # a name with markup must show as text


def container(page: Page, key: str):
    """A keyed layout container (st.container(key=...)): not an element container, so no stale marker."""
    return page.locator(f".st-key-{key}").first


def start_class(teacher: Page) -> str:
    """The teacher opens the small setup in the Playground, starts a class and hands the setup out; the code."""
    open_playground(teacher, SETUP)
    # the Playground's run must finish (it keeps the setup shown in the session last) before leaving it
    expect(teacher.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_be_attached()
    teacher.get_by_role("link", name="Class", exact=True).click()  # the same session: it keeps the Playground's setup
    expect(teacher.get_by_role("heading", name="Class", exact=True)).to_be_visible()
    keyed(teacher, "cl_join_title").locator("input").fill("Year 9 networks")
    button(teacher, "cl_join_start").click()
    code_box = container(teacher, "cl_join_bigcode")
    expect(code_box).to_have_text(re.compile(r"[A-Z0-9]{6}"))
    code = re.search(r"[A-Z2-9]{6}", code_box.inner_text()).group(0)
    keyed(teacher, "cl_view").get_by_text("Hand out", exact=True).click()
    button(teacher, "cl_hand_setup").click()
    expect(teacher.get_by_text(re.compile(r"Handed out .*:")).first).to_be_visible()
    return code


def set_challenge(teacher: Page) -> None:
    """Highest test accuracy on XOR (any goal), set before the students train: their runs count."""
    keyed(teacher, "cl_view").get_by_text("Challenge", exact=True).click()
    click_option(teacher, keyed(teacher, "cl_ch_dataset"), "XOR")
    click_option(teacher, keyed(teacher, "cl_ch_rank"), "highest test accuracy")
    button(teacher, "cl_ch_set").click()
    expect(teacher.get_by_text("The challenge is set", exact=False)).to_be_visible()


def join(student: Page, code: str, name: str) -> None:
    """Open the class's join link, give a name, join, and open the teacher's setup in the Playground."""
    connect(student, f"/Class?class={code.lower()}", "Class")
    expect(keyed(student, "cl_join_code").locator("input")).to_have_value(re.compile(code, re.I))
    keyed(student, "cl_join_name").locator("input").fill(name)
    button(student, "cl_join_submit").click()
    expect(container(student, "cl_join_student")).to_contain_text(name)
    button(student, "cl_hand_open").click()
    expect(button(student, "pg_train")).to_be_enabled(timeout=TRAIN_S * 1000)
    expect(chips(student)).to_have_text(["Linear 8", "ReLU", "Linear auto"])


def relu_to_tanh(student: Page) -> None:
    """Replace the ReLU by a Tanh from the layer row, as a student would."""
    remove = in_popover(student).get_by_role("button", name="Remove")
    click_until(student, chips(student).filter(has_text="ReLU"), remove)
    remove.click()
    expect(chips(student)).to_have_text(["Linear 8", "Linear auto"])
    student.keyboard.press("Escape")
    tanh = in_popover(student).get_by_role("radio", name="Tanh", exact=True)
    click_until(student, plus(student, 1), tanh)
    tanh.click()
    expect(chips(student)).to_have_text(["Linear 8", "Tanh", "Linear auto"])
    student.keyboard.press("Escape")


def open_class_as_member(student: Page) -> None:
    """Open the Class page anew (a new session: the browser's workspace cookie says which class it is in)."""
    student.goto("/Class")
    expect(student.locator(CONNECTED)).to_be_attached()
    expect(container(student, "cl_join_student")).to_be_visible()


def train(student: Page) -> None:
    button(student, "pg_train").click()
    expect(badge(student)).to_have_text("Completed", timeout=TRAIN_S * 1000)


def board_grid(teacher: Page):
    """The board's tiles (inside the tile grid component)."""
    return teacher.locator(f"{FRESH}.st-key-cl_board_grid .clb-tile")


def test_a_teacher_watches_three_students_train_rank_and_share_their_digits(browser: Browser, app_url: str,
                                                                           screenshots: Path):
    teacher = new_person(browser, app_url, PROJECTOR)
    students = [new_person(browser, app_url, PROJECTOR) for _ in STUDENTS]
    try:
        code = start_class(teacher)
        set_challenge(teacher)
        for student, name in zip(students, STUDENTS):
            join(student, code, name)
        relu_to_tanh(students[1])
        for student in students:
            train(student)

        keyed(teacher, "cl_view").get_by_text("Board", exact=True).click()
        tiles = board_grid(teacher)
        expect(tiles).to_have_count(3)
        expect(tiles.filter(has_text="Grace <b>Hopper</b>").locator(".clb-changes")).to_have_text("ReLU → Tanh")
        expect(tiles.filter(has_text="Ada")).to_contain_text("as handed out")
        expect(tiles.filter(has_text="completed")).to_have_count(3)
        teacher.mouse.move(5, 5)
        teacher.screenshot(path=str(screenshots / "class_board_1280x720.png"))

        tiles.filter(has_text="Grace").click()  # a click on a tile shows that run large
        expect(button(teacher, "cl_board_back")).to_be_visible()
        expect(teacher.get_by_text("ReLU → Tanh").first).to_be_visible()
        teacher.screenshot(path=str(screenshots / "class_board_run_1280x720.png"))
        button(teacher, "cl_board_back").click()
        expect(board_grid(teacher)).to_have_count(3)

        keyed(teacher, "cl_view").get_by_text("Challenge", exact=True).click()
        ranking = container(teacher, "cl_ch_ranking")
        for name in STUDENTS:
            expect(ranking).to_contain_text(name)
        teacher.screenshot(path=str(screenshots / "class_challenge_1280x720.png"))
        open_class_as_member(students[0])
        expect(students[0].get_by_text(re.compile(r"You are \d+\w* (\(tied\) )?of 3")).first).to_be_visible()

        give_two_drawings_and_train_on_them(students[2], code, screenshots)
        for person in (teacher, *students):
            assert_no_exception(person)
    finally:
        for person in (teacher, *students):
            person.context.close()


def classmates_gave(code: str, count: int) -> None:
    """`count` drawings given earlier by a classmate (straight into the class store: what the Draw page stores)."""
    store = ClassStore(RunStore(default_path()))
    store.join(code, "e2e-classmate", "Classmate")
    rng = np.random.default_rng(0)
    for n in range(count):
        digit = np.zeros((28, 28), np.uint8)
        digit[4:24, 12 + n % 3:16 + n % 3] = 255 if n % 2 else rng.integers(128, 256, (20, 4))
        store.add_digit(code, "e2e-classmate", n % 10, digit)


def give(student: Page, label: int, points: list, version: int, now_has: int) -> None:
    """Draw on canvas `version`, set the label, give the drawing; the page thanks and counts."""
    student.wait_for_timeout(1000)  # a fresh canvas shows before its drawing library listens for the mouse
    stroke(student, points, version)
    label_box = keyed(student, "cl_dg_label").locator("input")
    expect(label_box).to_be_visible(timeout=MODEL_S * 1000)
    label_box.fill(str(label))
    label_box.press("Enter")
    expect(label_box).to_have_value(str(label))
    button(student, "cl_dg_give").click()
    expect(student.get_by_text(f"Thank you: a {label} for class")).to_contain_text(f"now has {now_has} drawings")
    expect(canvas(student, version + 1)).to_be_visible()


def give_two_drawings_and_train_on_them(student: Page, code: str, screenshots: Path) -> None:
    """Classmates gave 18 drawings; this student gives a 1 and a 0 from the Draw page; the 20 train."""
    classmates_gave(code, 18)
    student.goto("/Draw")
    expect(student.locator(CONNECTED)).to_be_attached(timeout=MODEL_S * 1000)
    expect(student.get_by_text(re.compile(r"test accuracy \d+\.\d%"))).to_be_visible(timeout=MODEL_S * 1000)
    give(student, 1, [(140, 50 + 9 * i) for i in range(21)], 0, 19)
    loop = [(140 + 55 * math.sin(t * math.pi / 15), 140 - 85 * math.cos(t * math.pi / 15)) for t in range(32)]
    give(student, 0, loop, 1, 20)
    student.screenshot(path=str(screenshots / "class_digit_given_1280x720.png"))
    open_class_as_member(student)
    button(student, "cl_dg_train").click()
    expect(button(student, "pg_train")).to_be_enabled(timeout=TRAIN_S * 1000)
    train(student)
