"""AppTest of the home page: renders, offers Lessons, Playground and Draw as three links, folds the feature
list into an expander, links to the Playground, names the training device once the server's background
warm-up has started torch (tests/test_app_warm_up.py has the box before that)."""
from playground.ui import server


def test_home_page_renders_and_names_the_device(open_page):
    server.start_warm_up()
    server.warm_up()  # waits for the background warm-up the first page load started: torch is ready
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Neural Playground"
    assert any("Training runs on" in box.value and "CPU" in box.value for box in at.info)


def test_home_page_switches_to_the_playground(open_page):
    at = open_page("pages/1_Playground.py")
    assert not at.exception
    assert at.title[0].value == "Playground"


def test_home_page_offers_three_ways_in(open_page):
    at = open_page()
    assert not at.exception
    links = at.main.get("page_link")  # the sidebar's navigation links are not counted
    assert [link.value for link in links] == ["Open Lessons", "Open Playground", "Open Draw a digit"]
    assert all(link.proto.page_script_hash for link in links)  # each resolved to one of the app's pages
    assert [link.proto.page for link in links] == ["Lessons", "Playground", "Draw"]  # their addresses


def test_home_page_folds_the_feature_list_into_an_expander(open_page):
    at = open_page()
    assert not at.exception
    (expander,) = [block for block in at.main.get("expander") if block.label == "Everything it can do"]
    texts = " ".join(md.value for md in expander.markdown)
    assert "**Datasets**" in texts and "**Training**" in texts and "python -m playground train" in texts
    assert sum("**Datasets**" in md.value for md in at.main.markdown) == 1  # only there, folded away
