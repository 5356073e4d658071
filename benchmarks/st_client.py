"""A minimal Streamlit browser stand-in: one websocket session speaking Streamlit 1.67's protocol.

It does what the browser's `App` does for a page, nothing more: opens `ws://HOST/_stcore/stream`
(subprotocol "streamlit"), sends `BackMsg.rerun_script` (page name on the first run, then the page
script hash; the query string of the address it was opened with, e.g. a shared link's, then the one the
server last wrote), keeps the widget states it has sent (booleans; string lists, as pills and segmented
controls send their chosen labels), clicks buttons (a `trigger_value` that is sent once), and reruns
every `run_every` fragment at the interval the server asked for in `ForwardMsg.auto_rerun` (timers end
with the next full-app `new_session`, or a `stop_auto_rerun`); it may send extra handshake headers,
e.g. a `Cookie` (the server reads `st.context.cookies` from the websocket's handshake). From the deltas
it keeps only what a test reads: widget ids by key, the last status badge, `st.metric` values, exception
texts, the option labels of keyed multiselects and the latest data of each keyed custom component (v2;
e.g. a chart's JSON); it also calls the
functions in `on_message` after every message (to time what arrives), logs when full-app runs start and
end, times each fragment rerun it asked for until the end of the fragment run that answered it
(`RunLog.fragment_trips`), and keeps a short trace of recent traffic for diagnosis. It renders nothing,
sends no cached-message hashes (so the server sends every message whole), no browser context (timezone,
URL) and no pings, and knows nothing about the Playground.
"""
from __future__ import annotations

import asyncio
import collections
import re
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import StringArray
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY  # a full-app run ended (fragment runs end with another status)
ELEMENT_ID = re.compile(r"^\$\$ID-[0-9a-f]+-(.+)$")  # keyed widgets' element ids end with the key
BADGE = re.compile(r":(\w+)-badge\[([^\]]+)\]")


@dataclass
class PageView:
    """What the session has seen of the page, newest values win."""

    widget_ids: dict[str, str] = field(default_factory=dict)  # key -> element id
    status: str = ""  # text of the last status badge, e.g. "Completed"
    statuses: list[str] = field(default_factory=list)  # every badge text seen, in order, once each
    metrics: dict[str, str] = field(default_factory=dict)  # st.metric label -> value text
    exceptions: list[str] = field(default_factory=list)
    components: dict[str, bytes] = field(default_factory=dict)  # custom component (v2) key -> its latest data
    options: dict[str, list[str]] = field(default_factory=dict)  # multiselect key -> its option labels

    def read(self, element) -> str:
        """Note what `element` shows; returns a line for the trace when it is a status or a metric."""
        kind = element.WhichOneof("type")
        if kind is None:
            return ""
        body = getattr(element, kind)
        key = ELEMENT_ID.match(getattr(body, "id", "") or "")
        if key:
            self.widget_ids[key.group(1)] = body.id
        if kind == "markdown" and (badge := BADGE.search(body.body)):
            self.status = badge.group(2)
            if self.status not in self.statuses:
                self.statuses.append(self.status)
            return f"status {self.status}"
        if kind == "metric":
            self.metrics[body.label] = body.body
            return f"{body.label} {body.body}"
        if kind == "exception":
            self.exceptions.append(f"{body.type}: {body.message}")
        if kind == "multiselect" and key:
            self.options[key.group(1)] = list(body.options)
        if kind == "bidi_component" and key:
            self.components[key.group(1)] = body.bytes or body.json.encode()
        return ""


@dataclass
class RunLog:
    """Full-app runs by id: when each started (`new_session`) and finished successfully, and which
    were reported interrupted by a rerun (the next full run carries on for them); when this client
    asked for full runs."""

    started: dict[str, float] = field(default_factory=dict)  # in the order they started
    finished: dict[str, float] = field(default_factory=dict)
    interrupted: set[str] = field(default_factory=set)
    requested: list[float] = field(default_factory=list)  # when full reruns were sent
    fragment_runs: int = 0
    last: str = ""  # the latest full-app run's id
    running: str = ""  # the run (full or fragment) whose messages are arriving, until its end
    fragment_asked: dict[str, list[float]] = field(default_factory=dict)  # fragment id -> reruns not yet answered
    fragment_began: dict[str, tuple] = field(default_factory=dict)  # run id -> (fragment id, asked, began)
    fragment_trips: list[tuple[str, float]] = field(default_factory=list)  # (fragment id, s from asking to its end)
    fragment_superseded: int = 0  # fragment reruns asked for that a full-app run overtook (never answered alone)

    def idle(self) -> bool:
        """No run is sending its elements right now: a page read now is not half updated."""
        return not self.running

    def last_finished(self) -> bool:
        """Whether the latest full-app run has finished (no full run under way or interrupted)."""
        return bool(self.last) and self.last in self.finished

    def outcome(self, sent: float) -> float | str:
        """For a request sent at `sent`: when the full run that answered it finished, following it
        to the next full run when it was interrupted (an `st.rerun()` in the script starts the next
        one without reporting the end of the first); "pending"; or "lost" when this client had to
        ask again before any end of it was reported (its `script_finished` never came)."""
        later = [run for run, started in self.started.items() if started >= sent]
        for run, following in zip(later, [*later[1:], None]):
            if run in self.finished:
                return self.finished[run]
            if following is None:
                return "pending"
            asked_again = any(self.started[run] < t < self.started[following] for t in self.requested)
            if run not in self.interrupted and asked_again:
                return "lost"
        return "pending"

    # --- fragment round trips: a fragment rerun asked for at t is answered by the next run of that fragment
    # that starts after t and ends successfully; Streamlit folds requests for a fragment that wait together
    # into one run, so that run answers all of them (timed from the oldest); a full-app run drops them.

    def fragment_asked_at(self, fragment_id: str, sent: float) -> None:
        self.fragment_asked.setdefault(fragment_id, []).append(sent)

    def fragment_started(self, run: str, fragment_ids, at: float) -> None:
        """A fragment run began (its `new_session` arrived at `at`): note the oldest request it answers."""
        for fragment_id in fragment_ids:
            asked = [t for t in self.fragment_asked.get(fragment_id, []) if t <= at]
            if asked:
                self.fragment_began[run] = (fragment_id, asked[0], at)
                return

    def fragment_finished(self, run: str, ok: bool, at: float) -> None:
        """A fragment run ended (`ok`: successfully): its round trip, from the oldest request it answered."""
        began = self.fragment_began.pop(run, None)
        if began is None or not ok:
            return  # not one this client asked for, or cut short: its requests wait for the next run
        fragment_id, asked, started = began
        self.fragment_trips.append((fragment_id, at - asked))
        self.fragment_asked[fragment_id] = [t for t in self.fragment_asked[fragment_id] if t > started]

    def full_run_started(self) -> None:
        """A full-app run overtakes the fragment reruns still waiting (its own fragments rerun within it)."""
        self.fragment_superseded += sum(len(asked) for asked in self.fragment_asked.values())
        self.fragment_asked.clear()
        self.fragment_began.clear()


class Session:
    """One browser tab on one page. Use `async with Session(url, page) as s:`."""

    def __init__(self, url: str, page_name: str, query: str = "", headers: dict[str, str] | None = None):
        """`query`: the query string of the address the tab opens (without "?"), e.g. a shared link's;
        `headers`: extra headers of the websocket handshake, e.g. {"Cookie": "name=value; other=value"}."""
        self.ws_url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.page_name, self.page_hash, self.query = page_name, "", query
        self.headers = dict(headers or {})
        self.on_message: list = []  # functions called with no arguments after every message
        self.view, self.runs = PageView(), RunLog()
        self.widgets: dict[str, WidgetState] = {}  # element id -> the state this "browser" holds
        self.timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (interval, timer)
        self.intervals: set[float] = set()  # every run_every interval the server asked for
        self.received_bytes, self.last_message = 0, time.monotonic()
        self.trace: collections.deque = collections.deque(maxlen=60)  # recent traffic, for diagnosis
        self.changed = asyncio.Event()  # set after every message; waiters clear it
        self.closed = False

    async def __aenter__(self) -> "Session":
        # proxy=None: loopback only, never an environment proxy; no pings, as browsers send none
        self.ws = await connect(self.ws_url, subprotocols=["streamlit"], max_size=None, proxy=None,
                                ping_interval=None, open_timeout=60, additional_headers=self.headers or None)
        self.reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        for _, timer in self.timers.values():
            timer.cancel()
        self.reader.cancel()
        await self.ws.close()

    # --- sending ------------------------------------------------------------------------------

    async def rerun(self, fragment_id: str = "", auto: bool = False, trigger: str = "") -> float:
        """Send one rerun request as the browser does; returns when it was sent (monotonic)."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string, state.fragment_id, state.is_auto_rerun = self.query, fragment_id, auto
        if self.page_hash:
            state.page_script_hash = self.page_hash
        else:
            state.page_name = self.page_name
        state.widget_states.widgets.extend(self.widgets.values())
        if trigger:
            state.widget_states.widgets.add(id=trigger, trigger_value=True)
        sent = time.monotonic()
        if not fragment_id:
            self.runs.requested.append(sent)
        else:
            self.runs.fragment_asked_at(fragment_id, sent)
        self.trace.append((round(sent, 3), "-> rerun", fragment_id or ("trigger" if trigger else "full")))
        await self.ws.send(msg.SerializeToString())
        return sent

    async def click(self, key: str) -> float:
        """Press the button with this key (a full-app rerun with its trigger set once)."""
        return await self.rerun(trigger=self.view.widget_ids[key])

    async def set_bool(self, key: str, value: bool) -> float:
        """Set a checkbox or toggle (kept in the states sent from now on)."""
        wid = self.view.widget_ids[key]
        self.widgets[wid] = WidgetState(id=wid, bool_value=value)
        return await self.rerun()

    async def set_strings(self, key: str, values: list[str]) -> float:
        """Choose options of a pills or segmented control by their labels (kept in the states sent from now on)."""
        wid = self.view.widget_ids[key]
        self.widgets[wid] = WidgetState(id=wid, string_array_value=StringArray(data=values))
        return await self.rerun()

    # --- receiving ----------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for data in self.ws:
                self.received_bytes, self.last_message = self.received_bytes + len(data), time.monotonic()
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg)
                for listener in self.on_message:
                    listener()
                self.changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self.changed.set()

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind != "delta":
            run = msg.metadata.run
            self.trace.append((round(time.monotonic(), 3), kind, run.script_run_id[:8], list(run.fragment_ids),
                               msg.script_finished if kind == "script_finished" else ""))
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            if note := self.view.read(msg.delta.new_element):
                self.trace.append((round(time.monotonic(), 3), note))
        elif kind == "new_session":
            self._new_session(msg)
        elif kind == "navigation":  # names the page that ran (new_session's hash is the main script's)
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fragment_id)
        elif kind == "script_finished":
            self.runs.fragment_finished(msg.metadata.run.script_run_id or self.runs.running,
                                        msg.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
                                        time.monotonic())
            run = msg.metadata.run.script_run_id or self.runs.last  # the id may be left out
            if run == self.runs.running or not msg.metadata.run.script_run_id:
                self.runs.running = ""
            if msg.script_finished == FINISHED:
                self.runs.finished[run] = time.monotonic()
            elif msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self.runs.interrupted.add(run)

    def _new_session(self, msg: ForwardMsg) -> None:
        self.runs.running = msg.metadata.run.script_run_id
        if msg.metadata.run.fragment_ids:
            self.runs.fragment_runs += 1
            self.runs.fragment_started(self.runs.running, msg.metadata.run.fragment_ids, time.monotonic())
            return
        self.runs.full_run_started()
        self.runs.last = msg.metadata.run.script_run_id
        self.runs.started[self.runs.last] = time.monotonic()
        for fragment_id in list(self.timers):  # a full run re-registers the fragments it still shows
            self._stop_timer(fragment_id)

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if not fragment_id or self.timers.get(fragment_id, (None,))[0] == interval:
            return  # the same interval again leaves the countdown alone, as the browser does
        self._stop_timer(fragment_id)
        self.intervals.add(round(interval, 3))
        self.timers[fragment_id] = (interval, asyncio.create_task(self._tick(fragment_id, interval)))

    def _stop_timer(self, fragment_id: str) -> None:
        entry = self.timers.pop(fragment_id, None)
        if entry is not None:
            entry[1].cancel()

    async def _tick(self, fragment_id: str, interval: float) -> None:
        """The browser's setInterval: rerun the fragment every `interval` s, busy or not."""
        while not self.closed:
            await asyncio.sleep(interval)
            try:
                await self.rerun(fragment_id=fragment_id, auto=True)
            except ConnectionClosed:
                return

    # --- waiting ------------------------------------------------------------------------------

    async def until(self, condition, timeout: float, poll: float = 0.5) -> bool:
        """Wait until `condition()` holds (checked after every message and every `poll` seconds);
        False on timeout or when the connection closed."""
        deadline = time.monotonic() + timeout
        while True:
            self.changed.clear()  # before the check, so a message that lands after it wakes us
            if condition():
                return True
            if self.closed or time.monotonic() > deadline:
                return False
            try:
                await asyncio.wait_for(self.changed.wait(), min(max(deadline - time.monotonic(), 0.001), poll))
            except asyncio.TimeoutError:
                pass

    def quiet_for(self) -> float:
        """Seconds since the last message from the server."""
        return time.monotonic() - self.last_message

    async def full_run(self, sent: float, timeout: float) -> float | None:
        """Seconds from `sent` until the full-app run that answered it finished; None if that took
        longer than `timeout` or its end never arrived (see `RunLog.outcome`)."""
        await self.until(lambda: self.runs.outcome(sent) != "pending", timeout)
        outcome = self.runs.outcome(sent)
        return None if isinstance(outcome, str) else outcome - sent
