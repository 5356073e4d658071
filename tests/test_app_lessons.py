"""AppTest of the Lessons page: every lesson card, its Playground link, and the optimizer race."""
import pytest

from playground import lessons
from playground.config import TrainConfig
from playground.lessons import LESSONS
from playground.ui import server, workspace


@pytest.fixture
def at(open_page):
    return open_page("pages/3_Lessons.py")


def test_every_lesson_has_a_card_with_its_story_and_promise(at):
    text = " ".join(m.value for m in at.markdown)
    captions = " ".join(c.value for c in at.caption)
    for lesson in LESSONS.values():
        assert lesson.title in " ".join(h.value for h in at.subheader)
        assert lesson.story in text
        assert lesson.outcome.promise in captions


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
    at.button(key="ls_start_optimizer-race").click().run()
    race = at.session_state["ls_race"]
    race.join(120)
    at.run()
    assert not at.exception
    assert any("Final train loss" in m.value for m in [*at.success, *at.warning])
    assert len(at.get("plotly_chart")) == 2
    owner = at.session_state[workspace.KEY]
    names = [record.name for record in server.run_store().runs(owner)]
    assert sorted(names) == sorted(f"Race: {name}" for name in lessons.RACE_ORDER)
    assert all(isinstance(TrainConfig.from_dict(r.config), TrainConfig) for r in server.run_store().runs(owner))
    for record in server.run_store().runs(owner):  # each entrant's boundary is saved: the Runs page shows it
        assert record.has_timeline and server.run_store().timeline(owner, record.id).final.epoch == 30
