"""AppTest of the home page: renders, links to the Playground, names the training device."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def test_home_page_renders_and_names_the_device():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Neural Playground"
    assert any("Training runs on" in box.value and "CPU" in box.value for box in at.info)


def test_home_page_switches_to_the_playground():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/1_Playground.py").run()
    assert not at.exception
    assert at.title[0].value == "Playground"
