"""AppTest of a class's own digits: a member gives a drawing on the Draw page (a stranger cannot), the teacher's
panel lists, removes and offers them, a student tests the MNIST model on them, the Playground trains on them for
members only and refuses another class's drawings from a link, whatever else the link holds."""
from __future__ import annotations

import secrets

import numpy as np
import pytest

from app_popovers import open_data
from playground import share
from playground.class_digits import class_store
from playground.config import TrainConfig
from playground.drawing import mnist_digit
from playground.text import markdown_literal
from playground.ui import class_digits_view
from test_app_draw import blank, inject
from test_class_digits import add

SMALL_CNN = [{"type": "conv2d", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
             {"type": "flatten"}, {"type": "linear"}]


def workspace(who: str) -> str:
    return f"test-dg-{who}-{secrets.token_hex(4)}"


@pytest.fixture
def classroom():
    """A fresh class in the app's store: (code, secret, a member's workspace)."""
    store = class_store()
    made = store.create(workspace("teacher"))
    member = workspace("member")
    store.join(made.info.code, member, "<b>Ana</b>")
    return made.info.code, made.secret, member


def stroke() -> np.ndarray:
    image = blank()
    image[50:230, 130:150] = 255  # a vertical stroke: a 1
    return image


def class_link(code: str, **settings) -> dict:
    return share.to_query(TrainConfig.from_dict({"dataset": {"name": "class_digits", "class": code},
                                                 "layers": SMALL_CNN, "epochs": 1, "batch_size": 8, **settings}))


def test_a_member_gives_the_drawing_the_model_saw_with_the_label_they_confirm(open_page, classroom):
    code, _, member = classroom
    app = inject(open_page("pages/2_Draw.py", workspace=member), stroke())
    assert app.number_input(key="cl_dg_label").value == 1  # the model's guess to start with
    app.number_input(key="cl_dg_label").set_value(7).run()
    app.button(key="cl_dg_give").click().run()
    assert not app.exception
    digits = class_store().digits(code)
    assert [d.label for d in digits] == [7]
    np.testing.assert_array_equal(digits[0].pixels, mnist_digit(stroke()))  # the Draw page's own 28x28 digit
    assert any(f"class {code}, which now has 1 drawings" in s.value for s in app.success)
    assert app.session_state["dr_canvas_version"] == 1  # a fresh canvas for the next drawing


def test_giving_is_rate_limited_per_session(open_page, classroom):
    code, _, member = classroom
    app = open_page("pages/2_Draw.py", workspace=member)
    app.session_state["cl_dg_given"] = [(1e12, 1)] * 12  # twelve gifts "just now"
    inject(app, stroke()).button(key="cl_dg_give").click().run()
    assert any("give the next in" in w.value for w in app.warning)
    assert class_store().digit_count(code) == 0


def test_a_stranger_sees_no_give_button_but_a_hint(open_page):
    app = inject(open_page("pages/2_Draw.py", workspace=workspace("stranger")), stroke())
    assert not [b for b in app.button if b.key == "cl_dg_give"]
    assert any("Join it on the Class page" in c.value for c in app.caption)


def teacher_view(open_page, code: str, secret: str):
    app = open_page(None, workspace=workspace("teacher-view"))
    app.session_state["ui_class_teacher"] = (code, secret)
    app.session_state["cl_view"] = "Class digits"
    return app.switch_page("pages/5_Class.py").run()


def test_the_teacher_sees_the_drawings_with_who_gave_them_and_removes_one(open_page, classroom):
    code, secret, member = classroom
    ids = add(class_store(), code, member, 3)
    app = teacher_view(open_page, code, secret)
    assert not app.exception
    assert any(f"{len(ids)} drawings" in s.value for s in app.subheader)
    captions = [c for image in app.get("image") for c in image.proto.imgs if " · " in c.caption]  # not the QR code
    assert len(captions) == 3 and all(markdown_literal("<b>Ana</b>") in c.caption for c in captions)
    assert {b.proto.label for b in app.get("download_button")} == {"Download as CSV", "Download as a PNG grid"}
    app.multiselect(key="cl_dg_pick").set_value([ids[1]]).run()
    app.button(key="cl_dg_remove").click().run()
    assert [d.id for d in class_store().digits(code)] == [ids[0], ids[2]]
    assert any("Removed 1 drawing." in s.value for s in app.success) and not app.exception


def test_train_on_them_opens_the_playground_on_the_class_s_digits(open_page, classroom):
    code, secret, member = classroom
    add(class_store(), code, member, 20)
    app = teacher_view(open_page, code, secret)
    app.button(key="cl_dg_train").click().run()
    assert not app.exception
    assert app.session_state["pg_dataset"] == "class_digits" and app.session_state["pg_ds_class"] == code
    assert not app.button(key="pg_train").disabled
    assert class_digits_view.train_config(code).dataset.classroom.code == code


def test_a_student_sees_the_class_s_count_and_their_own(open_page, classroom):
    code, _, member = classroom
    add(class_store(), code, member, 2)
    app = open_page("pages/5_Class.py", workspace=member)
    assert any("**2** drawings; **2** of them are yours" in m.value for m in app.markdown)
    assert app.button(key="cl_dg_train").disabled  # 2 of the 20 needed
    app.toggle(key="cl_dg_test").set_value(True).run()
    reads = next(m for m in app.metric if m.label == "The MNIST model reads")
    assert reads.value.endswith("%") and "of the class's 2 drawings right" in reads.proto.delta
    assert app.get("plotly_chart") and not app.exception  # the confusion matrix


def test_only_members_see_our_class_s_digits_in_the_picker(open_playground, classroom):
    stranger = open_data(open_playground(workspace=workspace("stranger")))
    assert "class_digits" not in stranger.selectbox(key="pg_dataset").options
    code, _, member = classroom
    app = open_data(open_playground(workspace=member))
    app.selectbox(key="pg_dataset").set_value("class_digits").run()
    assert app.selectbox(key="pg_ds_class").value == code
    assert any("needs at least 20" in e.value for e in app.error)
    assert app.button(key="pg_train").disabled and not app.exception


def test_a_link_to_another_class_s_digits_is_refused_and_the_rest_of_it_kept(open_playground, classroom):
    code, _, member = classroom
    add(class_store(), code, member, 25)
    app = open_playground(class_link(code, epochs=3), workspace=workspace("outsider"))
    assert app.button(key="pg_train").disabled and not app.exception
    assert any(f"drawings of class {code}" in e.value and "join the class" in e.value for e in app.error)
    assert app.session_state["pg_epochs"] == 3 and [s["type"] for s in app.session_state["pg_layers"]][0] == "conv2d"
    assert "pg_run" not in app.session_state or app.session_state["pg_run"] is None


def test_a_model_file_trained_on_another_class_s_digits_loads_its_setup_but_starts_no_run(open_playground, classroom):
    import io

    import torch

    from playground.checkpoint import save_checkpoint
    from playground.model import build_model, plan_for

    code, _, member = classroom
    add(class_store(), code, member, 25)
    config = share.from_query(class_link(code)).config
    buffer = io.BytesIO()
    save_checkpoint(buffer, config, build_model(plan_for(config), torch.tensor(0.1), torch.tensor(0.3)),
                    tuple(map(str, range(10))), {})
    app = open_playground(workspace=workspace("outsider"))
    app.file_uploader(key="pg_upload_model").set_value(("theirs.pt", buffer.getvalue(), "application/octet-stream"))
    app.run()
    assert "pg_run" not in app.session_state or app.session_state["pg_run"] is None
    assert any(f"drawings of class {code}" in e.value for e in app.error) and not app.exception
    assert app.session_state["pg_dataset"] == "class_digits" and app.button(key="pg_train").disabled


def test_a_member_trains_on_the_class_s_digits_for_one_epoch(open_playground, classroom):
    code, _, member = classroom
    add(class_store(), code, member, 30)
    app = open_playground(class_link(code), workspace=member)
    app.button(key="pg_train").click().run()
    run = app.session_state["pg_run"]
    run.join(120)
    snap = run.snapshot()
    assert snap.status == "completed", snap.message
    assert run.config.dataset.classroom.count == 30 and not app.exception
    add(class_store(), code, member, 2, start=30)  # given after the run started: its page shows what it trained on
    app.run()
    assert any("On the 10 test images after epoch 1" in c.value for c in app.caption) and not app.exception
