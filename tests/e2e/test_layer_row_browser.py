"""The model as a row of layer chips, in a real browser at 1280x720 (a projector) and 1440x900.

A person removes the ReLU between the two Linear layers: the "+" between them is marked and the collapse
note shows; they click that "+", pick ReLU, and the ReLU chip appears between the two Linear chips and the
note goes. Then they change the first Linear's output size in its chip: the chip's label follows and
its editor stays open (the popover draws its widgets only while open, and keeps open across the
label's change). Screenshots of the Model column go to the `screenshots` folder (conftest.py) to look at.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from harness import TEST_S, alert, assert_no_exception, chips, click_until, in_popover, open_playground, plus

pytestmark = [pytest.mark.browser, pytest.mark.timeout(TEST_S)]

COLLAPSE = "collapse into one linear map"


def model_column(page: Page) -> Locator:
    return page.locator(".st-key-pg_chips").locator("xpath=ancestor::*[@data-testid='stColumn'][1]")


@pytest.mark.parametrize("person", [(1280, 720), (1440, 900)], indirect=True, ids=["1280x720", "1440x900"])
def test_insert_a_relu_between_two_linears_from_the_row(person: Page, screenshots: Path):
    page = person
    size = f"{page.viewport_size['width']}x{page.viewport_size['height']}"
    open_playground(page)
    expect(chips(page)).to_have_text(["Linear 100", "ReLU", "Linear auto"])
    model_column(page).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"layer_row_{size}.png"))
    column = model_column(page).bounding_box()
    for chip in chips(page).all():  # the row fits the Model column
        box = chip.bounding_box()
        assert column["x"] <= box["x"] and box["x"] + box["width"] <= column["x"] + column["width"] + 1

    remove = in_popover(page).get_by_role("button", name="Remove")
    click_until(page, chips(page).filter(has_text="ReLU"), remove)
    remove.click()
    expect(chips(page)).to_have_text(["Linear 100", "Linear auto"])
    expect(alert(page, "Warning", COLLAPSE)).to_be_visible()
    page.keyboard.press("Escape")

    relu = in_popover(page).get_by_role("radio", name="ReLU", exact=True)
    click_until(page, plus(page, 1), relu)  # the marked "+" between the two Linears
    relu.click()
    expect(chips(page)).to_have_text(["Linear 100", "ReLU", "Linear auto"])
    expect(page.locator("[data-testid='stAlertContentWarning']").filter(has_text=COLLAPSE)).to_have_count(0)
    page.keyboard.press("Escape")
    page.screenshot(path=str(screenshots / f"layer_row_inserted_{size}.png"))

    size_input = in_popover(page).get_by_role("spinbutton", name="Output size")
    click_until(page, chips(page).first, size_input)
    size_input.fill("16")
    size_input.press("Enter")
    expect(chips(page)).to_have_text(["Linear 16", "ReLU", "Linear auto"], timeout=30_000)
    expect(size_input).to_have_value("16")  # still open, showing the edit
    page.screenshot(path=str(screenshots / f"layer_row_edited_{size}.png"))
    assert_no_exception(page)
