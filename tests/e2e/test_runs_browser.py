"""In a real browser: a run trained in the Playground (in a worker process) shows its final boundary on
the Runs page, side by side with the previous one, each titled with its name and test score."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from harness import FRESH, START_S, TEST_S, assert_no_exception, open_playground, train_to_completion
from playground import share
from playground.config import TrainConfig

pytestmark = [pytest.mark.browser, pytest.mark.timeout(TEST_S)]

SPIRAL = TrainConfig.from_dict({"dataset": {"name": "spiral", "classes": 2, "n_per_class": 100, "seed": 3},
                                "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
                                "optimizer": {"name": "adam", "lr": 0.03}, "epochs": 60, "seed": 3})


def test_two_trained_runs_show_their_final_boundaries_side_by_side(page: Page, app_url: str):
    for lr in (0.03, 0.001):
        config = SPIRAL.replace(optimizer=SPIRAL.optimizer.__class__(name="adam", lr=lr))
        open_playground(page, share.link(f"{app_url}/Playground", config))
        train_to_completion(page)
    page.locator("[data-testid='stSidebar']").get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="Final boundaries")).to_be_visible(timeout=START_S * 1000)
    charts = page.locator(f"{FRESH}[class*='st-key-rn_boundary_']")
    expect(charts).to_have_count(2)
    for chart in (charts.first, charts.nth(1)):
        expect(chart.locator(".main-svg").first).to_be_visible()
        expect(chart.get_by_role("button", name="▶ Play")).to_be_enabled()  # the saved frames replay here
    titles = page.get_by_text(re.compile(r"^Run \d+ · test (0\.\d{4}|1\.0000)$"))
    expect(titles.first).to_be_visible()
    expect(titles.nth(1)).to_be_visible()
    assert_no_exception(page)
