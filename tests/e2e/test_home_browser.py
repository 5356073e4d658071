"""The home page in a real browser: it shows at once, then names the training device by itself once the
server's background warm-up has started PyTorch (the box checks every second and reruns the page)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from harness import START_S, TEST_S, assert_no_exception, connect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(TEST_S)]


def test_the_home_page_names_the_device_once_pytorch_is_ready(page):
    connect(page, "/", "Neural Playground")
    device = page.locator("[data-testid='stAlertContentInfo']").filter(has_text=re.compile("Training runs on"))
    expect(device.filter(has_text=re.compile(r"Training runs on (CPU|CUDA|Apple MPS)"))).to_be_visible(
        timeout=START_S * 1000)
    expect(page.get_by_role("heading", name="Neural Playground")).to_be_visible()
    assert_no_exception(page)
