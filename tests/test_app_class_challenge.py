"""AppTest of the Class page's challenge: the teacher sets a preset and hides names, sees every member ranked
live (names as plain text), and a student sees their place, the best so far, and why they have no entry."""
from __future__ import annotations

import secrets

import pytest

from playground.challenge import PRESETS
from playground.classroom import ClassStore
from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunStore, default_path
from playground.text import markdown_literal

CLASS_PAGE = "pages/5_Class.py"
SPIRAL_GOAL = PRESETS["spiral_fewest_parameters"]
HOSTILE = "**Bo** [x](http://e.vil) <b>"


@pytest.fixture
def classroom():
    """A fresh class (its code, secret and store) and a workspace maker unique to this test."""
    classes = ClassStore(RunStore(default_path()))
    tag = secrets.token_hex(4)
    new = classes.create(f"test-ch-teacher-{tag}", "Challenge class")
    return classes, new.info.code, new.secret, lambda who: f"test-ch-{who}-{tag}"


def spiral(width: int) -> dict:
    return TrainConfig.from_dict({"dataset": {"name": "spiral"}, "layers": [
        {"type": "linear", "out": width}, {"type": "relu"}, {"type": "linear"}]}).to_dict()


def params(width: int) -> int:
    return 2 * width + width + width * 3 + 3


def save(classes: ClassStore, workspace: str, width: int, accuracy: float) -> None:
    classes.runs.save(workspace, spiral(width), History(), {"epochs": 100, "test_accuracy": accuracy,
                                                           "test_loss": 0.2}, "completed")


def open_teacher(open_page, code: str, secret: str, workspace: str):
    app = open_page(CLASS_PAGE, workspace=workspace)
    app.session_state["ui_class_teacher"] = (code, secret)
    app.session_state["cl_view"] = "Challenge"
    app.run()
    assert not app.exception
    return app


def texts(app) -> list[str]:
    return [element.value for kind in ("markdown", "success", "info", "caption") for element in getattr(app, kind)]


def test_the_teacher_sets_a_preset_and_hides_names(open_page, classroom):
    classes, code, secret, workspace = classroom
    app = open_teacher(open_page, code, secret, workspace("teacher"))
    assert any("No challenge yet" in text for text in texts(app))
    app.button(key="cl_ch_preset_spiral_fewest_parameters").click().run()
    assert classes.info(code).challenge == SPIRAL_GOAL.to_dict()
    assert any(SPIRAL_GOAL.describe() in text for text in texts(app))
    app.toggle(key="cl_ch_names").set_value(False).run()
    assert not classes.info(code).show_names and not app.exception
    app.button(key="cl_ch_clear").click().run()
    assert classes.info(code).challenge is None


def test_the_form_builds_a_challenge_and_refuses_a_bad_one(open_page, classroom):
    classes, code, secret, workspace = classroom
    app = open_teacher(open_page, code, secret, workspace("teacher"))
    app.selectbox(key="cl_ch_dataset").set_value("moons").run()
    app.selectbox(key="cl_ch_rank").set_value("parameters").run()  # the fewest parameters needs a goal
    app.button(key="cl_ch_set").click().run()
    assert classes.info(code).challenge is None and "needs a goal" in app.error[0].value
    app.selectbox(key="cl_ch_goal").set_value("test_accuracy").run()
    app.number_input(key="cl_ch_goal_test_accuracy").set_value(85.0).run()
    app.number_input(key="cl_ch_epochs").set_value(300).run()
    app.button(key="cl_ch_set").click().run()
    assert classes.info(code).challenge == {"dataset": "moons", "data": {"noise": 0.1}, "max_epochs": 300,
                                            "goal": {"metric": "test_accuracy", "value": 0.85}, "rank": "parameters"}


def test_students_are_ranked_and_each_sees_their_place(open_page, classroom):
    classes, code, secret, workspace = classroom
    ada, bo = classes.join(code, workspace("ada"), "Ada"), classes.join(code, workspace("bo"), HOSTILE)
    classes.join(code, workspace("cy"), "Cy")
    classes.set_challenge(code, secret, SPIRAL_GOAL.to_dict())
    save(classes, workspace("ada"), 16, 0.93)
    save(classes, workspace("bo"), 8, 0.95)
    save(classes, workspace("cy"), 4, 0.5)
    teacher = open_teacher(open_page, code, secret, workspace("teacher"))
    table = teacher.dataframe[0].value.to_dict("records")
    assert [(row["Rank"], row["Name"], row["Parameters"]) for row in table] == \
        [(1, HOSTILE, f"{params(8):,}"), (2, "Ada", f"{params(16):,}")]  # the name as typed, in a plain-text cell
    assert teacher.dataframe[1].value.to_dict("records")[0]["Why not"] == "best 50%: below the 90% goal"
    student = open_page(CLASS_PAGE, workspace=workspace("ada"))
    assert any(s.value == f"You are 2nd of 2 with {params(16)} parameters" for s in student.success)
    best = f"Best so far: {markdown_literal(HOSTILE)} with {params(8)} parameters"
    assert best in texts(student) and not any("<b>" in text and "\\<b" not in text for text in texts(student))
    assert ada.id != bo.id


def test_hidden_names_hide_the_best_and_a_missed_goal_says_what_to_try(open_page, classroom):
    classes, code, secret, workspace = classroom
    classes.join(code, workspace("ada"), "Ada")
    classes.join(code, workspace("cy"), "Cy")
    classes.set_show_names(code, secret, False)
    classes.set_challenge(code, secret, SPIRAL_GOAL.to_dict())
    save(classes, workspace("ada"), 16, 0.93)
    save(classes, workspace("cy"), 4, 0.871)
    student = open_page(CLASS_PAGE, workspace=workspace("cy"))
    assert f"Best so far: a classmate with {params(16)} parameters" in texts(student)
    assert not any("Ada" in text for text in texts(student) if "so far" in text or "You are" in text)
    assert any("best 87.1%: below the 90% goal" in i.value and "bigger model" in i.value for i in student.info)


def test_a_student_of_a_class_without_a_challenge_sees_no_panel(open_page, classroom):
    classes, code, _, workspace = classroom
    classes.join(code, workspace("ada"), "Ada")
    student = open_page(CLASS_PAGE, workspace=workspace("ada"))
    assert not any("Challenge" == header.value for header in student.subheader)


def test_a_student_gets_no_teacher_control_and_an_unreadable_challenge_is_named(open_page, classroom):
    classes, code, secret, workspace = classroom
    classes.join(code, workspace("ada"), "Ada")
    classes.set_challenge(code, secret, {"rank": "speed"})  # e.g. set by a newer version of the app
    student = open_page(CLASS_PAGE, workspace=workspace("ada"))
    assert not [w for w in [*student.button, *student.toggle] if (w.key or "").startswith("cl_ch_")]
    teacher = open_teacher(open_page, code, secret, workspace("teacher"))
    assert any("cannot be read" in w.value and "rank" in w.value for w in teacher.warning)
    teacher.button(key="cl_ch_preset_lowest_loss_200_epochs").click().run()
    assert classes.info(code).challenge == PRESETS["lowest_loss_200_epochs"].to_dict() and not teacher.exception
