"""AppTest of hand-outs: the teacher hands out their Playground's setup or a lesson; the student's one
click ("Open the teacher's setup") puts exactly that setup in their Playground, with the hand-out's id
in session state for the board; the Playground itself offers a newer hand-out; a whole new setup (a
link, a preset) forgets the hand-out id."""
from __future__ import annotations

import secrets

from playground import share
from playground.config import TrainConfig
from playground.lessons import LESSONS
from playground.ui import class_session
from playground.ui.widget_state import SHOWN
from test_app_class_join import CLASS, assert_no_markup, browser, new_class, open_as_teacher, store

PLAYGROUND = "pages/1_Playground.py"
XOR = TrainConfig.from_dict({"dataset": {"name": "xor", "n_samples": 60, "noise": 0.1, "seed": 3},
                             "layers": [{"type": "linear", "out": 8}, {"type": "tanh"}, {"type": "linear"}],
                             "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}, "epochs": 40, "seed": 7,
                             "device": "cpu"})


def student_in(open_page, new, page: str = CLASS):
    me = browser()
    store().join(new.info.code, me, "Ada")
    return open_page(page, workspace=me)


def test_the_teacher_hands_out_their_playground_setup(open_page):
    new = new_class()
    app = open_page(PLAYGROUND, share.to_query(XOR), workspace=browser())
    app.session_state[class_session.TEACHER_KEY] = (new.info.code, new.secret)
    app.switch_page(CLASS).run()
    app.segmented_control(key="cl_view").set_value("Hand out").run()
    assert any("xor" in c.value.lower() and "sgd lr 0.1" in c.value for c in app.caption)
    app.button(key="cl_hand_setup").click().run()
    handout = store().handout(new.info.code)
    assert handout.kind == "setup" and TrainConfig.from_dict(handout.payload) == XOR
    assert any("Handed out" in m.value for m in app.markdown)
    app.selectbox(key="cl_hand_lesson").select("spiral-relu")
    app.button(key="cl_hand_lesson_send").click().run()
    assert store().handout(new.info.code).payload == "spiral-relu"


def test_a_teacher_without_a_playground_setup_is_sent_to_the_playground(open_page):
    app = open_as_teacher(open_page, new_class())
    app.segmented_control(key="cl_view").set_value("Hand out").run()
    assert "cl_hand_setup" not in [b.key for b in app.button]


def test_the_student_opens_exactly_the_teachers_setup(open_page):
    new = new_class()
    handout = store().hand_out(new.info.code, new.secret, "setup", XOR.to_dict())
    app = student_in(open_page, new)
    assert_no_markup(app)
    app.button(key="cl_hand_open").click().run()
    assert not app.exception
    assert app.session_state[class_session.HANDOUT_KEY] == handout.id
    assert app.session_state[SHOWN] == XOR and share.from_query(app.query_params).config == XOR
    assert "cl_hand_bar_open" not in [b.key for b in app.button]  # no offer: it is open


def test_a_lesson_hand_out_opens_the_lesson(open_page):
    new = new_class()
    lesson = LESSONS["spiral-relu"]
    handout = store().hand_out(new.info.code, new.secret, "lesson", lesson.slug)
    app = student_in(open_page, new)
    app.button(key="cl_hand_open").click().run()
    assert app.session_state["pg_lesson"] == lesson.slug and app.session_state[SHOWN] == lesson.config
    assert app.session_state[class_session.HANDOUT_KEY] == handout.id


def test_the_playground_offers_a_newer_hand_out_and_a_new_setup_forgets_it(open_page):
    new = new_class()
    app = student_in(open_page, new, PLAYGROUND)
    assert "cl_hand_bar_open" not in [b.key for b in app.button]  # nothing handed out yet
    handout = store().hand_out(new.info.code, new.secret, "setup", XOR.to_dict())
    app.run()
    app.button(key="cl_hand_bar_open").click().run()
    assert app.session_state[class_session.HANDOUT_KEY] == handout.id and app.session_state[SHOWN] == XOR
    assert "cl_hand_bar_open" not in [b.key for b in app.button]
    app.query_params.clear()
    app.query_params.update(share.to_query(XOR.replace(epochs=41)))  # a share link: another setup
    app.run()
    assert class_session.HANDOUT_KEY not in app.session_state
    assert "cl_hand_bar_open" not in [b.key for b in app.button]  # it was opened already: no nagging


def test_a_later_hand_out_is_offered_and_can_be_put_off(open_page):
    new = new_class()
    store().hand_out(new.info.code, new.secret, "setup", XOR.to_dict())
    app = student_in(open_page, new, PLAYGROUND)
    app.button(key="cl_hand_bar_later").click().run()
    assert "cl_hand_bar_open" not in [b.key for b in app.button]
    store().hand_out(new.info.code, new.secret, "lesson", "line")
    app.run()
    app.button(key="cl_hand_bar_open").click().run()
    assert app.session_state["pg_lesson"] == "line"


def test_a_hand_out_this_version_cannot_read_says_so(open_page):
    new = new_class()
    store().hand_out(new.info.code, new.secret, "setup", {"dataset": {"name": "nope-" + secrets.token_hex(2)}})
    app = student_in(open_page, new)
    app.button(key="cl_hand_open").click().run()
    assert "could not be opened" in app.error[0].value and class_session.HANDOUT_KEY not in app.session_state


def test_a_race_lesson_hand_out_opens_the_lessons_page(open_page):
    new = new_class()
    store().hand_out(new.info.code, new.secret, "lesson", "optimizer-race")
    app = student_in(open_page, new)
    app.button(key="cl_hand_open").click().run()
    assert app.title[0].value == "Lessons" and class_session.HANDOUT_KEY not in app.session_state
