"""AppTest of the home page: renders, links to the Playground, names the training device."""


def test_home_page_renders_and_names_the_device(open_page):
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Neural Playground"
    assert any("Training runs on" in box.value and "CPU" in box.value for box in at.info)


def test_home_page_switches_to_the_playground(open_page):
    at = open_page("pages/1_Playground.py")
    assert not at.exception
    assert at.title[0].value == "Playground"
