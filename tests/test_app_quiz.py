"""AppTest of lessons that ask first on the Playground: the question before the story, the prediction
against the result, the prediction saved with the run, and hostile lesson or answer values."""
import pytest

from playground import share
from playground.lessons import LESSONS
from playground.ui import server, workspace

LINE = LESSONS["line"]  # 1,000 epochs of four points: trains in a moment, predicts 9.965 for x = 5


def finish(app):
    app.session_state["pg_run"].join(120)
    app.run()


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def open_line(open_playground, **params):
    return open_playground({**share.to_query(LINE.config.replace(device="cpu"), LINE.hide, LINE.slug), **params})


def saved(app) -> list:
    return server.run_store().runs(app.session_state[workspace.KEY])


def test_the_lesson_asks_before_it_tells(open_playground):
    app = open_line(open_playground)
    radio = app.radio(key="pg_quiz_line")
    assert radio.value is None and radio.options == list(LINE.question.choices)
    assert LINE.question.prompt in radio.label and LINE.title in texts(app.markdown)
    assert LINE.story not in texts(app.markdown) and LINE.outcome.promise not in texts(app.caption)
    assert not app.button(key="pg_train").disabled  # training without a prediction stays possible
    radio.set_value(1).run()
    assert LINE.story in texts(app.markdown) and LINE.outcome.promise in texts(app.caption)
    assert app.session_state["quiz_answers"] == {"line": 1} and "pg_quiz_skip_line" not in {
        b.key for b in app.get("button")}


def test_the_prediction_is_shown_against_the_result_and_saved_with_the_run(open_playground):
    app = open_line(open_playground)
    app.radio(key="pg_quiz_line").set_value(1).run()  # "about 5"
    app.button(key="pg_train").click().run()
    finish(app)
    assert "as the lesson said" in texts(app.success)
    compared = texts(app.info)
    assert "You predicted about 5; the run reached 9.9" in compared and ": about 10. Not what you expected" in compared
    (record,) = saved(app)
    assert record.prediction == {"lesson": "line", "choice": 1, "answer": "about 5", "expected": "about 10"}
    app.switch_page("pages/4_Runs.py").run()
    table = app.dataframe[0].value
    assert list(table["prediction"]) == ["about 5 (expected about 10)"] and not app.exception


def test_a_right_prediction_is_praised(open_playground):
    app = open_line(open_playground)
    app.radio(key="pg_quiz_line").set_value(2).run()
    app.button(key="pg_train").click().run()
    finish(app)
    assert "You predicted about 10; the run reached" in texts(app.success) and "Well predicted!" in texts(app.success)
    assert saved(app)[0].prediction["answer"] == "about 10"


def test_the_prediction_stands_while_its_run_trains(open_playground):
    app = open_line(open_playground)
    app.radio(key="pg_quiz_line").set_value(3).run()
    app.button(key="pg_step").click().run()  # one epoch, then paused: the run is still going
    assert app.radio(key="pg_quiz_line").disabled and app.session_state["pg_run_prediction"]["choice"] == 3
    assert "Your prediction stands while this run trains." in texts(app.caption)
    app.button(key="pg_reset").click().run()
    assert not app.radio(key="pg_quiz_line").disabled and "pg_run_prediction" not in app.session_state


def test_just_show_me_skips_the_question_and_train_without_a_prediction_works(open_playground):
    app = open_line(open_playground)
    app.button(key="pg_quiz_skip_line").click().run()
    assert LINE.story in texts(app.markdown) and app.radio(key="pg_quiz_line").value is None
    app.button(key="pg_train").click().run()
    finish(app)
    assert "You trained without a prediction. The run reached 9.9" in texts(app.info)
    assert saved(app)[0].prediction is None


def test_a_changed_setup_is_no_answer_to_the_question(open_playground):
    app = open_line(open_playground)
    app.radio(key="pg_quiz_line").set_value(2).run()
    app.number_input(key="pg_epochs").set_value(5).run()
    app.button(key="pg_train").click().run()
    finish(app)
    assert "You predicted" not in texts([*app.info, *app.success]) and saved(app)[0].prediction is None


def test_a_teacher_link_that_hides_controls_still_asks(open_playground):
    app = open_line(open_playground, hide="model,learning_rate")
    assert "Set by your teacher's link" in texts(app.caption) and app.radio(key="pg_quiz_line").value is None
    app.radio(key="pg_quiz_line").set_value(2).run()
    app.button(key="pg_train").click().run()
    finish(app)
    assert "Well predicted!" in texts(app.success) and app.query_params["hide"] == "model,learning_rate"


@pytest.mark.parametrize("slug", ["<script>alert(1)</script>", "line ", "x" * 500, "__class__"])
def test_a_hostile_lesson_name_is_refused_and_asks_nothing(open_playground, slug):
    app = open_playground({"lesson": slug})
    assert not app.exception and not app.get("radio")
    assert "names a lesson or hides controls but holds no setup" in texts(app.warning)


def test_an_answer_in_the_link_is_refused_by_name(open_playground):
    app = open_playground({"lesson": "line", "answer": "2"})
    assert "answer" in texts(app.warning) and not app.exception
    assert "quiz_answers" not in app.session_state or not app.session_state["quiz_answers"]


@pytest.mark.parametrize("answers", ["garbage", {"line": 99}, {"line": -1}, {"line": True}, {"line": "2"}, [2]])
def test_hostile_answers_in_the_session_count_as_none(open_playground, answers):
    app = open_line(open_playground)
    app.session_state["quiz_answers"] = answers
    app.run()
    assert not app.exception and app.radio(key="pg_quiz_line").value is None
    assert LINE.story not in texts(app.markdown)
    app.button(key="pg_train").click().run()
    finish(app)
    assert "You trained without a prediction" in texts(app.info) and saved(app)[0].prediction is None
