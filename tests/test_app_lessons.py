"""AppTest of the Lessons page: every lesson card, its Playground link, and the optimizer race."""
import pytest

from playground import lessons
from playground.config import TrainConfig
from playground.lessons import LESSONS
from playground.ui import server, workspace


@pytest.fixture
def at(open_page):
    return open_page("pages/3_Lessons.py")


def test_every_lesson_card_asks_its_question_before_it_tells_its_story(at):
    text = " ".join(m.value for m in at.markdown)
    captions = " ".join(c.value for c in at.caption)
    for lesson in LESSONS.values():
        assert lesson.title in " ".join(h.value for h in at.subheader)
        assert lesson.story not in text and lesson.outcome.promise not in captions  # they give the answer away
        if lesson.is_race:
            assert at.radio(key=f"ls_quiz_{lesson.slug}").value is None  # nothing picked for the student
        else:
            assert f"Asks first:** {lesson.question.prompt}" in captions


def test_once_answered_every_card_tells_its_story_and_promise(at):
    at.session_state["quiz_answers"] = {slug: lesson.question.answer for slug, lesson in LESSONS.items()}
    at.run()
    text = " ".join(m.value for m in at.markdown)
    captions = " ".join(c.value for c in at.caption)
    for lesson in LESSONS.values():
        assert lesson.story in text and lesson.outcome.promise in captions


def test_just_show_me_tells_the_race_story_without_a_prediction(at):
    race = LESSONS["optimizer-race"]
    at.button(key="ls_quiz_skip_optimizer-race").click().run()
    assert race.story in " ".join(m.value for m in at.markdown) and not at.exception
    assert at.radio(key="ls_quiz_optimizer-race").value is None
    assert "ls_quiz_skip_optimizer-race" not in {b.key for b in at.get("button")}


def test_single_lessons_link_to_the_playground_with_their_setup(at):
    links = [element for element in at.get("page_link") if "Open in the Playground" in element.proto.label]
    assert len(links) == sum(not lesson.is_race for lesson in LESSONS.values())
    assert all(link.proto.page.endswith("Playground") or "1_Playground" in link.proto.page for link in links)


def test_the_race_runs_saves_four_runs_and_gives_its_verdict(at, monkeypatch):
    quick = tuple((name, config.replace(epochs=30, dataset=config.dataset.__class__(
        name="spiral", params=(("classes", 3), ("n_per_class", 60), ("noise", 0.2)))))
        for name, config in LESSONS["optimizer-race"].race)
    monkeypatch.setitem(LESSONS, "optimizer-race", LESSONS["optimizer-race"].__class__(
        **{**LESSONS["optimizer-race"].__dict__, "race": quick}))
    at.run()
    at.radio(key="ls_quiz_optimizer-race").set_value(2).run()  # "Adam ends highest": the wrong answer
    at.button(key="ls_start_optimizer-race").click().run()
    assert at.radio(key="ls_quiz_optimizer-race").disabled  # the prediction stands while the race runs
    race = at.session_state["ls_race"]
    race.join(120)
    at.run()
    assert not at.exception
    assert any("Final train loss" in m.value for m in [*at.success, *at.warning])
    compared = " ".join(m.value for m in [*at.success, *at.info])
    assert "You predicted Adam;" in compared, compared
    assert not at.radio(key="ls_quiz_optimizer-race").disabled
    assert len(at.get("plotly_chart")) == 2
    owner = at.session_state[workspace.KEY]
    names = [record.name for record in server.run_store().runs(owner)]
    assert sorted(names) == sorted(f"Race: {name}" for name in lessons.RACE_ORDER)
    assert {record.prediction["answer"] for record in server.run_store().runs(owner)} == {"Adam"}
    assert all(isinstance(TrainConfig.from_dict(r.config), TrainConfig) for r in server.run_store().runs(owner))
    for record in server.run_store().runs(owner):  # each entrant's boundary is saved: the Runs page shows it
        assert record.has_timeline and server.run_store().timeline(owner, record.id).final.epoch == 30
