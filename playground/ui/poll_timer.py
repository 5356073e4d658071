"""Change how often the running `run_every` fragment polls, from inside it, without a full rerun.

Streamlit arms a fragment's browser timer with an `AutoRerun` message when the page's full run
registers the fragment; its frontend (1.67) replaces a fragment's timer when a message with another
interval arrives for the same fragment id. `rearm(seconds)` sends that message from the fragment's
own run, as `st.fragment` itself does, so a busy server can slow every live page's polling at the cost
of one small message instead of a full page run per page (which, for a class, was the load that made
the server busy). Uses Streamlit internals that `st.fragment` uses (`ForwardMsg.auto_rerun`, the
thread's fragment id): where they are missing it says so, and the caller reruns the page instead.
`fragment_only_run()` tells a fragment's run of its own from its run inside a full page run: a page
whose full run ended its polling but never got that run's messages (Streamlit drops a replaced
run's messages under load) keeps its old timer, and its next poll is such a run.
Knows nothing about what the fragment shows or why its pace changes.
"""
from __future__ import annotations


def rearm(seconds: float) -> bool:
    """Make the browser rerun the fragment now running every `seconds`; False when that cannot be done
    here (not inside a fragment's run, or a Streamlit without these internals)."""
    def fill(message, fragment_id: str) -> None:
        message.auto_rerun.interval = seconds
        message.auto_rerun.fragment_id = fragment_id
    return _send_for_fragment(fill)


def stop() -> bool:
    """Stop the browser timer of the fragment now running; False when that cannot be done here."""
    def fill(message, fragment_id: str) -> None:
        message.stop_auto_rerun.fragment_ids.append(fragment_id)
    return _send_for_fragment(fill)


def _send_for_fragment(fill) -> bool:
    """Send the browser a ForwardMsg that `fill(message, fragment_id)` writes for the fragment now running."""
    try:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx
    except ImportError:  # pragma: no cover - another Streamlit
        return False
    ctx = get_script_run_ctx(suppress_warning=True)
    fragment_id = getattr(ThreadState.get(), "fragment_id", None) if ctx is not None else None
    if not fragment_id:  # not a script run's thread, or not inside a fragment
        return False
    message = ForwardMsg()
    fill(message, fragment_id)
    ctx.enqueue(message)
    return True


def fragment_only_run() -> bool:
    """Whether this script run reruns fragments only (a poll, a widget inside a fragment), not the page."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
    except ImportError:  # pragma: no cover - another Streamlit
        return False
    ctx = get_script_run_ctx(suppress_warning=True)
    return bool(ctx is not None and getattr(ctx, "fragment_ids_this_run", None))
