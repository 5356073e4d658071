"""poll_timer in a real browser: a fragment re-arms its own `run_every` timer without a full rerun.

A page of its own (not the app) whose fragment polls every 0.25 s and, on its fourth run, re-arms
itself to 2 s: afterwards it keeps polling, at the slower rate. Counts of runs, never times, are
asserted: a slow machine makes fewer runs, not more.
"""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from benchmarks import local_server
from harness import WAIT_S, Server, free_port

PAGE = '''import streamlit as st
from playground.ui import poll_timer

st.session_state.setdefault("runs", 0)
st.session_state.setdefault("full_runs", 0)
st.session_state["full_runs"] += 1

@st.fragment(run_every=0.25)
def poll():
    st.session_state["runs"] += 1
    if st.session_state["runs"] == 4:
        st.session_state["rearmed"] = poll_timer.rearm(2.0)
    st.markdown(f"runs {st.session_state['runs']} · rearmed {st.session_state.get('rearmed')} · "
                f"full runs {st.session_state['full_runs']} · own run {poll_timer.fragment_only_run()}")

poll()
'''


class PageServer(Server):
    """The Server of the browser tests, running `script` instead of app.py."""

    def __init__(self, script, log):
        super().__init__(free_port(), dict(os.environ), log)
        self.script = str(script)

    def start(self):
        original = local_server.launch
        local_server.launch = lambda port, env, log: original(port, env, log, script=self.script)
        try:
            return super().start()
        finally:
            local_server.launch = original


@pytest.fixture
def page_url(tmp_path):
    script = tmp_path / "poll_page.py"
    script.write_text(PAGE)
    server = PageServer(script, tmp_path / "server.log").start()
    try:
        yield server.url
    finally:
        server.stop()


def runs(page) -> tuple[int, str, int, str]:
    text = page.get_by_text(re.compile(r"^runs \d+")).inner_text()
    found = re.match(r"runs (\d+) · rearmed (\w+) · full runs (\d+) · own run (\w+)", text)
    return int(found[1]), found[2], int(found[3]), found[4]


def test_a_fragment_slows_its_own_polling_without_a_full_rerun(browser, page_url):
    page = browser.new_page()
    try:
        page.goto(page_url)
        expect(page.get_by_text(re.compile(r"^runs 4 · rearmed True"))).to_be_visible(timeout=WAIT_S * 1000)
        start, _, _, own = runs(page)
        assert own == "True"  # the timer's runs are the fragment's own
        page.wait_for_timeout(4000)  # at 0.25 s that would be ~16 more runs; at 2 s about 2
        later, rearmed, full_runs, _ = runs(page)
        assert later - start <= 5, f"{later - start} runs in 4 s after re-arming at 2 s"
        assert rearmed == "True" and full_runs == 1  # no full rerun was needed
        expect(page.get_by_text(re.compile(rf"^runs (?!{later} )\d+"))).to_be_visible(timeout=WAIT_S * 1000)
    finally:
        page.close()
