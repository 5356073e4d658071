"""The draw-a-digit page in a real browser: mouse strokes on the real canvas, predictions read back.

The first test also takes draw.png (into the `screenshots` folder, conftest.py). The test session
trained the default MNIST model before the servers started (tests/conftest.py), so a server only
loads it, in the background from its first page visit; the page waits for it with a progress bar.
Strokes are Playwright mouse moves on the canvas component's upper canvas.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from harness import CONNECTED, FRESH, START_S, TEST_S, TRAIN_S, canvas, stroke

pytestmark = [pytest.mark.browser, pytest.mark.timeout(TEST_S)]

MODEL_S = START_S + TRAIN_S  # a cold server, then the default model (trained on the first visit without the fixture)


def clear(page: Page, new_version: int) -> None:
    """Press Clear and wait for the fresh canvas. It shows before its drawing library listens for
    the mouse, and nothing on the page tells when it does: settle a second before drawing."""
    page.locator(".st-key-dr_clear button").first.click()
    expect(page.get_by_text("Draw a digit from 0 to 9")).to_be_visible()
    expect(canvas(page, new_version)).to_be_visible()
    expect(canvas(page, new_version - 1)).to_have_count(0)
    page.wait_for_timeout(1000)


def guess(page: Page):
    return page.locator(f"{FRESH} [data-testid='stMetric']").filter(has_text="The model's guess") \
        .locator("[data-testid='stMetricValue']")


def test_draw_a_one_then_a_zero(page: Page, screenshots: Path):
    page.goto("/Draw")
    expect(page.locator(CONNECTED)).to_be_attached(timeout=MODEL_S * 1000)
    expect(page.get_by_text(re.compile(r"test accuracy \d+\.\d%"))).to_be_visible(timeout=MODEL_S * 1000)
    expect(page.get_by_text("Draw a digit from 0 to 9")).to_be_visible()  # a hint, not a guess
    expect(canvas(page, 0)).to_be_visible()

    stroke(page, [(140, 50 + 9 * i) for i in range(21)])  # a vertical stroke
    expect(guess(page)).to_have_text("1")
    expect(page.get_by_text(re.compile(r"^\d+% sure$"))).to_be_visible()
    expect(page.locator(f"{FRESH}.st-key-dr_probabilities .main-svg").first).to_be_visible()

    clear(page, 1)
    loop = [(140 + 55 * math.sin(t * math.pi / 15), 140 - 85 * math.cos(t * math.pi / 15)) for t in range(32)]
    stroke(page, loop, version=1)
    expect(guess(page)).to_have_text("0")

    # Two strokes make one digit: the canvas keeps the first while the second is drawn.
    clear(page, 2)
    stroke(page, [(70 + 7 * i, 60) for i in range(21)], version=2)  # the bar of a 7
    expect(guess(page)).to_be_visible(timeout=30_000)
    stroke(page, [(210 - 4 * i, 60 + 8.5 * i) for i in range(21)], version=2)  # its diagonal
    expect(guess(page)).to_have_text("7")
    expect(page.get_by_role("tab", name="Which strokes drove the guess")).to_be_visible()
    page.mouse.move(5, 5)  # no hover highlight in the picture
    page.wait_for_timeout(500)  # let the bar chart finish drawing
    page.screenshot(path=str(screenshots / "draw.png"))
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def test_upload_a_model_or_refuse_one_that_cannot_read_drawings(page: Page, tmp_path):
    """A 28x28 checkpoint becomes the model in use; a spiral model and junk are refused with reasons."""
    from playground.checkpoint import save_checkpoint
    from playground.config import TrainConfig
    from playground.engine import Engine

    digits = TrainConfig.from_dict({"dataset": {"name": "mnist", "train_images": 300, "test_images": 100},
                                    "layers": [{"type": "flatten"}, {"type": "linear"}], "epochs": 1})
    spiral = TrainConfig.from_dict({"dataset": {"name": "spiral", "n_per_class": 20}, "epochs": 1})
    for name, config in (("digits.pt", digits), ("spiral.pt", spiral)):
        engine = Engine(config)
        list(engine.run())
        save_checkpoint(tmp_path / name, config, engine.model, engine.dataset.class_names, engine.final_metrics())
    (tmp_path / "junk.pt").write_bytes(b"not a model")

    page.goto("/Draw")
    expect(page.get_by_text(re.compile(r"test accuracy \d+\.\d%"))).to_be_visible(timeout=MODEL_S * 1000)
    upload = page.locator(".st-key-dr_upload input[type='file']")
    upload.set_input_files(str(tmp_path / "spiral.pt"))
    expect(page.get_by_text(re.compile(r"That model takes 2 inputs; drawings need a model of 28x28"))).to_be_visible()
    upload.set_input_files(str(tmp_path / "junk.pt"))
    expect(page.get_by_text(re.compile(r"That model was not loaded: .*damaged"))).to_be_visible()
    upload.set_input_files(str(tmp_path / "digits.pt"))
    expect(page.get_by_text(re.compile(r"Using a 2-layer model trained on MNIST digits"))).to_be_visible()
    expect(page.get_by_role("radio", name="An uploaded model (.pt)")).to_be_checked()
    stroke(page, [(140, 50 + 9 * i) for i in range(21)])
    expect(guess(page)).to_be_visible(timeout=30_000)  # whatever this weak model thinks, it answers
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
