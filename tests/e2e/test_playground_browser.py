"""The Playground page in a real browser, used the way a person would use it.

Headless Chromium talks to a real `streamlit run app.py` (fixtures in conftest.py). Widgets are
found by their `.st-key-<key>` class; every wait is a Playwright auto-waiting `expect` or a
`wait_for_function` on the page, never a fixed sleep, except where the test must show that
something does *not* change (a paused run) and a short settle before the screenshot.

The main test also takes screenshot.png, the picture at the top of the README; the CNN test takes
inspect.png (the inspection of a model's mistakes): into the `screenshots` folder (conftest.py).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from harness import (
    FRESH,
    TEST_S,
    TRAIN_S,
    assert_no_exception,
    badge,
    button,
    click_option,
    keyed,
    metric,
    open_data,
    open_playground,
    save_full_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(TEST_S)]


# The epoch number of the status line ("<badge> epoch 1,234 / 20,000 · ..."), or -1.
READ_EPOCH = """() => {
  const badge = document.querySelector("%s .stMarkdownBadge");
  const m = badge && badge.parentElement.innerText.match(/epoch\\s+([\\d,]+)\\s*\\//);
  return m ? parseInt(m[1].replace(/,/g, ''), 10) : -1;
}""" % FRESH

# The largest N in the decision-boundary title "Decision boundary — epoch N", or -1.
READ_BOUNDARY_EPOCH = """() => Math.max(-1, ...[...document.querySelectorAll("%s.st-key-pg_boundary .gtitle")]
  .map(t => (t.textContent.match(/epoch (\\d+)/) || [])[1]).filter(Boolean).map(Number))""" % FRESH


# --- helpers ------------------------------------------------------------------------------------

def boundary_title(page: Page) -> Locator:
    return keyed(page, "pg_boundary").locator(".gtitle")


def choose(page: Page, key: str, option: str) -> None:
    """Pick `option` in the keyed st.selectbox, as a person would: open it, click the option."""
    box = keyed(page, key).locator("input[role='combobox']")
    click_option(page, box, option)
    expect(box).to_have_value(option)


def type_number(page: Page, field: Locator, value: str) -> None:
    """Type into an st.number_input and commit it with Enter (that triggers the rerun)."""
    field.fill(value)
    field.press("Enter")
    expect(field).to_have_value(value)


def epoch(page: Page) -> int:
    """The epoch the status line shows (waiting out the moment a rerun is replacing it)."""
    found = page.wait_for_function(f"() => {{ const n = ({READ_EPOCH})(); return n >= 0 ? String(n) : null; }}")
    return int(found.json_value())


def wait_for_epoch_above(page: Page, n: int, timeout_s: float = TRAIN_S) -> int:
    found = page.wait_for_function(f"() => {{ const e = ({READ_EPOCH})(); return e > {n} ? String(e) : null; }}",
                                   timeout=timeout_s * 1000)
    return int(found.json_value())


# --- tests --------------------------------------------------------------------------------------

def test_train_the_default_spiral(page: Page, screenshots: Path):
    """Train with the defaults: the boundary appears and sharpens, test accuracy passes 0.9."""
    open_playground(page)
    open_data(page)
    expect(keyed(page, "pg_dataset").locator("input")).to_have_value("Spiral")
    expect(keyed(page, "pg_opt").locator("input")).to_have_value("Adam")
    expect(keyed(page, "pg_epochs").locator("input")).to_have_value("1000")
    expect(page.get_by_text("603 parameters")).to_be_visible()  # 2-100-3: 300 + 303
    # Before training the chart shows only the data: no epoch in the title, no heatmap.
    expect(boundary_title(page)).to_have_text("Decision boundary")
    expect(keyed(page, "pg_boundary").locator(".heatmaplayer image")).to_have_count(0)

    button(page, "pg_train").click()

    # The boundary appears (a heatmap under the points, "— epoch N" in the title) and then moves on.
    page.wait_for_function(f"() => ({READ_BOUNDARY_EPOCH})() > 0", timeout=TRAIN_S * 1000)
    first = page.evaluate(READ_BOUNDARY_EPOCH)
    expect(keyed(page, "pg_boundary").locator(".heatmaplayer image").first).to_be_attached()
    if first < 1000:
        page.wait_for_function(f"() => ({READ_BOUNDARY_EPOCH})() > {first}", timeout=TRAIN_S * 1000)

    expect(badge(page)).to_have_text("Completed", timeout=TRAIN_S * 1000)
    expect(boundary_title(page)).to_have_text("Decision boundary — epoch 1000", timeout=TRAIN_S * 1000)
    expect(metric(page, "Test accuracy")).to_have_text(re.compile(r"^(0\.9\d*|1\.0*)$"), timeout=TRAIN_S * 1000)
    expect(metric(page, "Train accuracy")).to_have_text(re.compile(r"^(0\.9\d*|1\.0*)$"))
    assert epoch(page) == 1000
    # The status line says it all (no box repeating the badge pushes the charts down).
    expect(page.get_by_text(re.compile(r"epoch 1,000 / 1,000 ·"))).to_be_visible()
    expect(page.get_by_text("Completed 1000 epochs.")).to_have_count(0)
    # The run is over: Pause and Stop are off, Train is on again, the model can be downloaded.
    expect(button(page, "pg_pause")).to_be_disabled()
    expect(button(page, "pg_stop")).to_be_disabled()
    expect(button(page, "pg_train")).to_be_enabled()
    expect(button(page, "pg_download_model")).to_be_visible()
    expect(keyed(page, "pg_loss_chart").locator(".gtitle")).to_have_text("Loss (Cross-entropy)")
    expect(keyed(page, "pg_score_chart").locator(".gtitle")).to_have_text("Accuracy")
    assert_no_exception(page)

    save_full_page(page, screenshots / "screenshot.png", keyed(page, "pg_score_chart").locator(".main-svg").first)


def test_pause_resume_and_stop(page: Page):
    """Pause freezes the epoch counter, Resume continues it, Stop ends the run as "Stopped"."""
    open_playground(page)
    type_number(page, keyed(page, "pg_epochs").locator("input"), "100000")  # long enough not to finish
    button(page, "pg_train").click()
    expect(badge(page)).to_have_text("Running", timeout=TRAIN_S * 1000)
    wait_for_epoch_above(page, 0)

    button(page, "pg_pause").click()
    expect(badge(page), "Pause was clicked but the run did not pause").to_have_text("Paused")
    expect(button(page, "pg_resume")).to_be_enabled()  # Resume is its own button: Pause does not flip into it
    expect(button(page, "pg_pause")).to_be_disabled()
    paused_at = epoch(page)
    assert paused_at > 0
    page.wait_for_timeout(1500)  # several polls (every 0.4 s): the counter must not move
    expect(badge(page)).to_have_text("Paused")
    assert epoch(page) == paused_at

    button(page, "pg_resume").click()
    expect(badge(page), "Resume was clicked but the run did not go on").to_have_text("Running")
    expect(button(page, "pg_pause")).to_be_enabled()
    expect(button(page, "pg_resume")).to_be_disabled()
    wait_for_epoch_above(page, paused_at)

    button(page, "pg_stop").click()
    expect(badge(page), "Stop was clicked but the run did not stop").to_have_text("Stopped")
    stopped_at = epoch(page)
    assert paused_at < stopped_at < 100_000
    # The buttons follow in the full rerun the live view asks for on its next poll (a slow one on a busy machine).
    expect(button(page, "pg_stop")).to_be_disabled()
    expect(button(page, "pg_pause")).to_be_disabled()
    expect(button(page, "pg_train")).to_be_enabled()
    page.wait_for_timeout(1000)
    assert epoch(page) == stopped_at
    assert_no_exception(page)


def test_regression_dataset_and_a_bad_layer_stack(page: Page):
    """Switching to a regression dataset picks MSE; a wrong output size is explained, not a traceback."""
    open_playground(page)
    open_data(page)
    choose(page, "pg_dataset", "Linear regression y = 2x")
    expect(keyed(page, "pg_loss").locator("input")).to_have_value("MSE")  # cross-entropy cannot fit y
    expect(boundary_title(page)).to_have_text("Fitted curve")
    expect(button(page, "pg_train")).to_be_enabled()
    expect(page.get_by_text(re.compile(r"Input \[1\] → output \[1\]"))).to_be_visible()

    # The last Linear must output 1 value for MSE: 5 is refused with an explanation (in its chip's editor).
    page.locator("[data-testid='stLayoutWrapper'][class*='st-key-pg_chip_'] button:visible").last.click()
    last_size = page.locator("[data-testid='stPopoverBody'] [class*='st-key-pg_l'][class*='_linear_out'] input")
    type_number(page, last_size, "5")
    # under Model, and again beside the disabled Train button
    error = page.locator("[data-testid='stAlertContentError']").filter(has_text="outputs 5 values")
    expect(error).to_have_count(2)
    error = error.first
    expect(error).to_be_visible()
    expect(error).to_contain_text("needs 1")
    expect(button(page, "pg_train")).to_be_disabled()
    assert_no_exception(page)

    # Back to "auto" (inferred), and it trains: the fitted curve follows the epochs.
    last_size.fill("")
    last_size.press("Enter")
    expect(error).to_have_count(0)
    expect(button(page, "pg_train")).to_be_enabled()
    button(page, "pg_train").click()
    expect(badge(page)).to_have_text("Completed", timeout=TRAIN_S * 1000)
    expect(boundary_title(page)).to_have_text("Fitted curve — epoch 1000", timeout=TRAIN_S * 1000)
    expect(metric(page, "Train R²")).to_have_text(re.compile(r"^-?\d+\.\d{4}$"))
    expect(metric(page, "Test R²")).to_have_text("–")  # this dataset has no test split
    expect(keyed(page, "pg_loss_chart").locator(".gtitle")).to_have_text("Loss (MSE)")
    assert_no_exception(page)


def test_loading_a_config_file_sets_every_widget(page: Page, tmp_path: Path):
    """A downloaded config loads back into the page; a broken file is refused with the key named."""
    good = tmp_path / "y2x.json"
    good.write_text('{"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",'
                    ' "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.0}, "epochs": 321}')
    bad = tmp_path / "bad.json"
    bad.write_text('{"optimizer": {"name": "adam", "lr": -1}}')
    open_playground(page)
    page.get_by_text("Config JSON").click()
    upload = keyed(page, "pg_upload_config").locator("input[type='file']")

    upload.set_input_files(str(bad))
    error = page.locator("[data-testid='stAlertContentError']").filter(has_text="optimizer.lr").first
    expect(error).to_be_visible()
    open_data(page)
    expect(keyed(page, "pg_dataset").locator("input")).to_have_value("Spiral")  # nothing changed

    upload.set_input_files(str(good))
    expect(keyed(page, "pg_dataset").locator("input")).to_have_value("Linear regression y = 2x")
    expect(keyed(page, "pg_epochs").locator("input")).to_have_value("321")
    expect(keyed(page, "pg_opt").locator("input")).to_have_value("SGD")
    expect(keyed(page, "pg_loss").locator("input")).to_have_value("MSE")
    expect(page.get_by_text(re.compile(r"Input \[1\] → output \[1\] · 2 parameters"))).to_be_visible()
    expect(error).to_have_count(0)
    assert_no_exception(page)


def test_train_a_small_cnn_and_inspect_its_mistakes(page: Page, tmp_path: Path, screenshots: Path):
    """8x8 digits: the CNN preset trains on a subsample, the confusion matrix appears, a click on a
    cell shows those test images; the model downloads and loads back in, paused, to continue."""
    open_playground(page)
    open_data(page)
    choose(page, "pg_dataset", "8x8 digits")
    # Switching to images swaps in the one-conv CNN and mini-batches of 64.
    expect(page.get_by_text(re.compile(r"Input \[1, 8, 8\] → output \[10\]"))).to_be_visible()
    expect(keyed(page, "pg_batch").locator("input")).to_have_value("64")
    expect(page.get_by_text(re.compile(r"Source:.*scikit-learn"))).to_be_visible()
    type_number(page, keyed(page, "pg_ds_digits_train_images").locator("input"), "600")
    type_number(page, keyed(page, "pg_epochs").locator("input"), "4")
    # Train's callback gets the config of the last finished script run: wait for the one Enter started.
    expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0)

    button(page, "pg_train").click()
    expect(badge(page)).to_have_text("Completed", timeout=TRAIN_S * 1000)
    expect(page.get_by_text(re.compile(r"images/s"))).to_be_visible()
    accuracy = float(metric(page, "Test accuracy").inner_text())
    assert accuracy > 0.6, f"a CNN on 600 digits for 4 epochs should beat 60%, got {accuracy}"

    chart = keyed(page, "pg_confusion")
    expect(chart.locator(".heatmaplayer")).to_be_visible()
    # The inspection fragment refreshes every 2 s: the last epoch's caption may take a refresh or two.
    expect(page.get_by_text(re.compile(r"On the 359 test images after epoch 4"))).to_be_visible(timeout=TRAIN_S * 1000)
    # Click the top-left cell: true 0, predicted 0.
    area = chart.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(area["x"] + area["width"] / 20, area["y"] + area["height"] / 20)
    expect(keyed(page, "pg_cm_true").locator("input")).to_have_value("0")
    expect(keyed(page, "pg_cm_pred").locator("input")).to_have_value("0")
    grid = page.locator(".st-key-pg_grid_cell")  # a container, not an element: no FRESH prefix
    expect(grid.locator("img").first).to_be_visible()
    expect(grid.get_by_text(re.compile(r"^✓ 0 \d+%$")).first).to_be_visible()
    save_full_page(page, screenshots / "inspect.png", keyed(page, "pg_score_chart").locator(".main-svg").first)

    page.get_by_role("tab", name="First-layer filters").click()
    expect(page.get_by_text(re.compile(r"The 32 filters \(3x3\) of the first Conv2d"))).to_be_visible()
    assert_no_exception(page)

    # Save the model, then load it back: it opens paused, evaluated, ready to continue.
    with page.expect_download() as download:
        button(page, "pg_download_model").click()
    saved = tmp_path / "digits.pt"
    download.value.save_as(saved)
    page.get_by_text("Load a trained model").click()
    keyed(page, "pg_upload_model").locator("input[type='file']").set_input_files(str(saved))
    expect(page.get_by_text(re.compile(r"Loaded a 8x8 digits model"))).to_be_visible()
    expect(badge(page)).to_have_text("Paused")
    expect(page.get_by_text(re.compile(r"accuracy \d+\.\d+%")).first).to_be_visible()
    button(page, "pg_resume").click()
    expect(badge(page)).to_have_text("Completed", timeout=TRAIN_S * 1000)

    # A file that is not a model is refused with a message, and the page keeps working.
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    keyed(page, "pg_upload_model").locator("input[type='file']").set_input_files(str(junk))
    expect(page.locator("[data-testid='stAlertContentError']").filter(has_text="not loaded").first).to_be_visible()
    assert_no_exception(page)
