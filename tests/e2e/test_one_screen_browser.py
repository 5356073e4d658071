"""The Playground on one screen, in a real browser, at a projector's size and on a phone.

At 1280x720 and 1440x900, while the default spiral trains, everything a class watches is inside the
viewport without scrolling: the six run buttons with their whole labels, the learning rate, the speed
control, the status line, the decision boundary (at least 380 px tall), the loss curve and the accuracy
curve; chart ticks are at least 14 px and dark. On a phone, Train comes before the layer table, on the
first screen. Screenshots go to the `screenshots` folder (conftest.py) for a person to look at.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from harness import (
    FRESH,
    START_S,
    TEST_S,
    TRAIN_S,
    assert_no_exception,
    badge,
    button,
    open_playground,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(TEST_S)]

RUN_BUTTONS = {"pg_train": "Train", "pg_pause": "Pause", "pg_resume": "Resume", "pg_step": "Step",
               "pg_stop": "Stop", "pg_reset": "Reset"}
MIN_BOUNDARY_PX = 380
MIN_TICK_PX = 14

# Whether an element's text is cut short (an ellipsis or a clipped label): wider inside than shown.
CUT_SHORT = "e => [e, ...e.querySelectorAll('*')].some(n => n.scrollWidth > n.clientWidth + 1)"
# The font size (px) and colour of every tick label of a chart.
TICKS = """e => [...e.querySelectorAll('.xtick text, .ytick text')].map(t => {
  const style = getComputedStyle(t); return [parseFloat(style.fontSize), style.fill]; })"""


def shown(page: Page, key: str) -> Locator:
    """The keyed element on the page now (not one Streamlit keeps for a moment while a rerun moves it)."""
    return page.locator(f"{FRESH}:not([data-retained='true']).st-key-{key}")


def status_line(page: Page) -> Locator:
    """The status line: the Markdown that holds the run's badge."""
    return badge(page).locator("xpath=ancestor::*[@data-testid='stMarkdownContainer'][1]")


def watched(page: Page) -> dict[str, Locator]:
    """Everything a class watches while a run trains, by name."""
    return {**{label: button(page, key) for key, label in RUN_BUTTONS.items()},
            "learning rate": shown(page, "pg_lr"), "speed": shown(page, "pg_pace"), "status line": status_line(page),
            "boundary": shown(page, "pg_boundary"), "loss curve": shown(page, "pg_loss_chart"),
            "accuracy curve": shown(page, "pg_score_chart")}


def outside_the_screen(page: Page, elements: dict[str, Locator]) -> dict[str, dict]:
    """The elements not wholly inside the viewport below Streamlit's header, with where they are."""
    view = page.viewport_size
    top = page.locator("[data-testid='stHeader']").bounding_box()["height"]
    outside = {}
    for name, element in elements.items():
        box = element.bounding_box()
        if box is None or box["y"] < top - 1 or box["x"] < 0 or box["y"] + box["height"] > view["height"] + 1 \
                or box["x"] + box["width"] > view["width"] + 1:
            outside[name] = box
    return outside


@pytest.mark.parametrize("person", [(1280, 720), (1440, 900)], indirect=True, ids=["1280x720", "1440x900"])
def test_a_training_run_fits_on_one_screen(person: Page, screenshots: Path):
    page = person
    open_playground(page)
    button(page, "pg_train").click()
    expect(badge(page)).to_have_text("Running", timeout=TRAIN_S * 1000)
    expect(shown(page, "pg_boundary").locator(".gtitle")).to_contain_text("epoch", timeout=TRAIN_S * 1000)
    expect(shown(page, "pg_score_chart").locator(".xtick").first).to_be_attached()
    elements = watched(page)
    for element in elements.values():
        expect(element).to_be_visible()
    view = page.viewport_size
    page.mouse.move(view["width"] - 5, view["height"] - 5)  # no tooltip over the page in the picture
    for chart in ("pg_boundary", "pg_loss_chart", "pg_score_chart"):  # a picture with the charts drawn
        expect(shown(page, chart).locator(".main-svg").first).to_be_visible()
    page.screenshot(path=str(screenshots / f"one_screen_{view['width']}x{view['height']}.png"))

    assert outside_the_screen(page, elements) == {}, "must be on the first screen, without scrolling"
    for key, label in RUN_BUTTONS.items():
        expect(button(page, key).locator("p")).to_have_text(label)  # the whole word, no "Tr…"
        assert not button(page, key).evaluate(CUT_SHORT), f"the {label} button's label is cut short"
    assert shown(page, "pg_boundary").bounding_box()["height"] >= MIN_BOUNDARY_PX
    for chart in ("pg_boundary", "pg_loss_chart", "pg_score_chart"):
        ticks = shown(page, chart).evaluate(TICKS)
        assert ticks and all(size >= MIN_TICK_PX for size, _ in ticks), f"{chart}: ticks {ticks[:3]}"
        assert all(dark(colour) for _, colour in ticks), f"{chart}: light ticks {ticks[:3]}"
    assert_no_exception(page)


def dark(colour: str) -> bool:
    """Whether a CSS rgb() colour is dark enough to read at a distance (each channel at most 80 of 255)."""
    channels = [float(c) for c in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3]]
    return max(channels) <= 80


@pytest.mark.parametrize("person", [(390, 844)], indirect=True, ids=["phone"])
def test_on_a_phone_train_comes_before_the_layer_table(person: Page, screenshots: Path):
    page = person
    open_playground(page)
    table = page.locator("[data-testid='stMain'] [data-testid='stDataFrame']").first
    first_layer = page.locator("[data-testid='stMain'] .st-key-pg_chips").first  # the row of layer chips
    expect(table).to_be_attached(timeout=START_S * 1000)
    page.screenshot(path=str(screenshots / "one_screen_phone.png"))
    train = button(page, "pg_train").bounding_box()
    assert train["y"] + train["height"] <= page.viewport_size["height"], "Train must be on the first screen"
    assert train["y"] < first_layer.bounding_box()["y"] < table.bounding_box()["y"]
    assert_no_exception(page)
