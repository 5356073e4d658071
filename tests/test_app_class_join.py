"""AppTest of the Class page's doors: joining by code (any case, with a dash, by the teacher's link),
names (friendly when empty; hostile ones refused or shown as text), starting a class (the join card
with its code, QR and link; the secret once), the teacher cookie of a new session, resuming on another
browser, what a student can never do, stopping and ending, the students list, renaming and leaving."""
from __future__ import annotations

import re
import secrets

import pytest

from playground.class_card import qr_svg
from playground.classroom import ClassStore
from playground.ratelimit import RateLimit
from playground.ui import class_session, class_tries, cookies, server
from test_app_escaping import live_markup

CLASS = "pages/5_Class.py"
HOSTILE = "<img src=x onerror=alert(1)>"


def store() -> ClassStore:
    return ClassStore(server.run_store())


def browser() -> str:
    return "test-cj-" + secrets.token_hex(6)


def new_class(title: str = "Maths"):
    return store().create(browser(), title)


def join(app, code: str, name: str = ""):
    app.text_input(key="cl_join_code").set_value(code)
    app.text_input(key="cl_join_name").set_value(name)
    return app.button(key="cl_join_submit").click().run()


def shown_text(app) -> list[str]:
    """Everything the page renders as markdown (markdown, captions, messages, labels of buttons and popovers)."""
    kinds = ("markdown", "caption", "error", "warning", "info", "success", "toast")
    texts = [element.value for kind in kinds for element in app.get(kind)]
    return texts + [element.label for element in app.get("button")]


def assert_no_markup(app) -> None:
    assert not [text for text in shown_text(app) if live_markup(text)], shown_text(app)


def errors(app) -> str:
    return " ".join(error.value for error in app.error)


def open_as_teacher(open_page, new, monkeypatch=None):
    app = open_page(CLASS, workspace=browser())
    app.session_state[class_session.TEACHER_KEY] = (new.info.code, new.secret)
    return app.run()


def test_a_stranger_joins_by_code_in_any_case_with_a_dash(open_page):
    new, me = new_class(), browser()
    app = open_page(CLASS, workspace=me)
    code = new.info.code
    join(app, f"{code[:3].lower()}-{code[3:].lower()}", "Ada")
    assert not app.exception and not app.error
    assert store().member(code, me).name == "Ada"
    assert any(f"({code}) as **Ada**" in text for text in shown_text(app))


def test_the_teachers_link_fills_in_the_code(open_page):
    new = new_class()
    app = open_page(CLASS, {"class": new.info.code}, workspace=browser())
    assert app.text_input(key="cl_join_code").value == new.info.code


def test_a_wrong_code_is_refused_plainly_and_the_form_keeps_what_was_typed(open_page):
    app = open_page(CLASS, workspace=browser())
    join(app, "ZZZZZZ", "Grace")
    assert "There is no class ZZZZZZ" in errors(app)
    join(app, "12", "Grace")
    assert "6 letters and digits" in errors(app)
    assert app.text_input(key="cl_join_code").value == "12" and app.text_input(key="cl_join_name").value == "Grace"


def test_guessing_codes_is_slow(open_page):
    app = open_page(CLASS, workspace=browser())
    for _ in range(class_tries.SESSION_TRIES.count):
        join(app, "ZZZZZZ")
    assert "Too many tries" not in errors(app)
    join(app, "ZZZZZZ")
    assert "Too many tries" in errors(app)


def test_one_address_failing_often_slows_every_session_from_it(open_page, monkeypatch):
    monkeypatch.setattr(class_tries, "_address", lambda: "203.0.113." + str(id(monkeypatch) % 250))
    monkeypatch.setattr(class_tries, "ADDRESS_FAILURES", RateLimit(count=3, size=3, window=60.0))
    first = open_page(CLASS, workspace=browser())
    for _ in range(3):
        join(first, "ZZZZZZ")
    second = join(open_page(CLASS, workspace=browser()), new_class().info.code)  # even a right code waits
    assert "Too many tries" in errors(second)


def test_an_empty_name_gets_a_friendly_one(open_page):
    new, me = new_class(), browser()
    join(open_page(CLASS, workspace=me), new.info.code, "   ")
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+( \d+)?", store().member(new.info.code, me).name)


@pytest.mark.parametrize("name, kept", [(HOSTILE, HOSTILE), ("\u202eevil\u202c [x](http://e/)", "evil [x](http://e/)"),
                                        ("*" * 500, None)])
def test_a_hostile_name_is_refused_or_shown_as_text(open_page, name, kept):
    new, me = new_class(), browser()
    app = join(open_page(CLASS, workspace=me), new.info.code, name)
    member = store().member(new.info.code, me)
    if kept is None:
        assert member is None and "at most 32 characters" in errors(app)
    else:
        assert member.name == kept
    assert_no_markup(app)
    teacher = open_as_teacher(open_page, new)
    teacher.segmented_control(key="cl_view").set_value("Students").run()
    assert_no_markup(teacher)
    if kept is not None:
        assert kept in teacher.dataframe[0].value["Name"].tolist()


def test_starting_a_class_shows_the_join_card_and_the_secret_only_when_asked(open_page):
    app = open_page(CLASS, workspace=browser())
    app.text_input(key="cl_join_title").set_value(HOSTILE)
    app.button(key="cl_join_start").click().run()
    code, secret = app.session_state[class_session.TEACHER_KEY]
    assert store().is_teacher(code, secret) and store().info(code).title == HOSTILE
    assert code in [m.value for m in app.markdown]  # the big code
    link = f"http://localhost:8501/Class?class={code}"
    assert [c.value for c in app.code] == [link]  # the link never holds the secret, nor is it shown unasked
    app.toggle(key="cl_join_secret_show").set_value(True).run()  # the screen may be projected: only on a switch
    assert [c.value for c in app.code] == [link, secret]
    assert app.get("image"), "no QR code"
    assert_no_markup(app)
    app.button(key="cl_join_secret_done").click().run()
    assert secret not in [c.value for c in app.code]


def test_the_join_link_follows_the_address_the_teacher_sees(open_page):
    new = new_class()
    app = open_page(CLASS, workspace=browser())
    app.context["url"] = "https://school.example/np/Class"
    app.session_state[class_session.TEACHER_KEY] = (new.info.code, new.secret)
    app.run()
    assert f"https://school.example/np/Class?class={new.info.code}" in [c.value for c in app.code]
    assert qr_svg("x").startswith("<svg")


def test_a_new_session_of_the_teachers_browser_teaches_on(open_page, monkeypatch):
    new = new_class()
    monkeypatch.setattr(cookies, "sent", lambda name: f"{new.info.code}.{new.secret}"
                        if name == class_session.TEACHER_COOKIE else "")
    app = open_page(CLASS, workspace=browser())
    assert app.session_state[class_session.TEACHER_KEY] == (new.info.code, new.secret)
    assert new.info.code in [m.value for m in app.markdown]
    app.button(key="cl_join_stop").click().run()  # stop teaching: the cookie the session opened with is not read again
    assert app.title[0].value == "Class" and app.session_state[class_session.TEACHER_KEY] is None


@pytest.mark.parametrize("cookie", ["{code}.{wrong}", "{code}.{code}", "{code}", "{code}.<b>x</b>", ""])
def test_a_cookie_without_the_secret_teaches_nothing(open_page, monkeypatch, cookie):
    new = new_class()
    text = cookie.format(code=new.info.code, wrong=secrets.token_urlsafe(16))
    monkeypatch.setattr(cookies, "sent", lambda name: text if name == class_session.TEACHER_COOKIE else "")
    app = open_page(CLASS, workspace=browser())
    assert app.title[0].value == "Class" and not app.get("image")


def test_a_student_never_becomes_the_teacher(open_page):
    new, me = new_class(), browser()
    app = join(open_page(CLASS, workspace=me), new.info.code, "Ada")
    for secret in (new.info.code, secrets.token_urlsafe(16), ""):
        app.session_state[class_session.TEACHER_KEY] = (new.info.code, secret)  # even forged session state
        app.run()
        assert not app.get("image") and "cl_view" not in app.session_state
    stranger = open_page(CLASS, workspace=browser())
    stranger.text_input(key="cl_join_resume_code").set_value(new.info.code)
    stranger.text_input(key="cl_join_resume_secret").set_value(new.info.code)
    stranger.button(key="cl_join_resume").click().run()
    assert "does not match" in errors(stranger) and not stranger.get("imgs")


def test_another_browser_resumes_teaching_with_the_code_and_the_secret(open_page):
    new = new_class()
    app = open_page(CLASS, workspace=browser())
    app.text_input(key="cl_join_resume_code").set_value(new.info.code.lower())
    app.text_input(key="cl_join_resume_secret").set_value(new.secret)
    app.button(key="cl_join_resume").click().run()
    assert app.session_state[class_session.TEACHER_KEY] == (new.info.code, new.secret)
    assert new.secret not in [c.value for c in app.code]  # shown once, in the browser that started the class


def test_the_teacher_sees_removes_and_hides_students(open_page):
    new = new_class()
    code = new.info.code
    ada, bob = browser(), browser()
    store().join(code, ada, "Ada")
    store().join(code, bob, "Bob")
    store().add_digit(code, ada, 3, __import__("numpy").zeros((28, 28)))
    app = open_as_teacher(open_page, new)
    app.segmented_control(key="cl_view").set_value("Students").run()
    table = app.dataframe[0].value
    assert table["Name"].tolist() == ["Ada", "Bob"] and table["Drawings"].tolist() == [1, 0]
    app.toggle(key="cl_join_show_names").set_value(False).run()
    assert store().info(code).show_names is False
    app.selectbox(key="cl_join_remove_who").select(store().member(code, bob).id)
    app.button(key="cl_join_remove").click().run()
    assert store().member(code, bob) is None and store().member(code, ada) is not None


def test_ending_the_class_needs_a_confirmation(open_page):
    new = new_class()
    app = open_as_teacher(open_page, new)
    assert app.button(key="cl_join_end").disabled
    app.checkbox(key="cl_join_end_sure").check().run()
    app.button(key="cl_join_end").click().run()
    assert store().info(new.info.code) is None and app.title[0].value == "Class"


def test_a_student_renames_and_leaves(open_page):
    new, me, other = new_class(), browser(), browser()
    store().join(new.info.code, other, "Bob")
    app = join(open_page(CLASS, workspace=me), new.info.code, "Ada")
    app.text_input(key="cl_join_rename").set_value("bob")
    app.button(key="cl_join_rename_submit").click().run()
    assert "already called" in errors(app) and store().member(new.info.code, me).name == "Ada"
    app.text_input(key="cl_join_rename").set_value("Ada L.")
    app.button(key="cl_join_rename_submit").click().run()
    assert store().member(new.info.code, me).name == "Ada L."
    app.button(key="cl_join_leave").click().run()
    assert store().member(new.info.code, me) is None and app.title[0].value == "Class"
