"""poll_timer: re-arming a fragment's browser timer works only inside a fragment's run."""
from streamlit.testing.v1 import AppTest


def page() -> None:
    import streamlit as st

    from playground.ui import poll_timer

    st.text(f"outside {poll_timer.rearm(1.0)}")

    @st.fragment(run_every=0.5)
    def poll():
        st.text(f"inside {poll_timer.rearm(2.0)}")

    poll()


def test_only_a_fragment_can_rearm_its_timer():
    app = AppTest.from_function(page).run()
    assert not app.exception
    assert [text.value for text in app.text] == ["outside False", "inside True"]


def test_outside_streamlit_nothing_is_sent():
    from playground.ui import poll_timer
    assert poll_timer.rearm(1.0) is False



def test_a_page_run_is_no_fragment_only_run():
    """(A fragment's own run is only seen in a browser: tests/e2e/test_poll_timer_browser.py.)"""
    def page():
        import streamlit as st

        from playground.ui import poll_timer
        st.text(f"page {poll_timer.fragment_only_run()}")

        @st.fragment
        def part():
            st.text(f"part {poll_timer.fragment_only_run()}")
        part()

    app = AppTest.from_function(page).run()
    assert [text.value for text in app.text] == ["page False", "part False"]
