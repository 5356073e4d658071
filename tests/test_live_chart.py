"""The live chart (playground/ui/live_chart.py): what one frame sends to the browser, that the Playground's
live view mounts it with its figures, and how often a watched run is redrawn.

The component itself draws in the browser (tests/e2e/test_live_chart_browser.py); AppTest shows it as an
UnknownElement whose `bytes` are the payload, which `charts` reads beside st.plotly_chart's specs.
A payload's static traces (the data points) come whole only when the browser was not sent them yet:
`whole` puts them back, as the browser does.
"""
import base64
import json

import numpy as np
import pytest

from playground import chart_payload, pace, plots
from playground.config import TrainConfig
from playground.datasets import make_dataset
from playground.frames import CONFIDENCE_LEVELS, BoundaryFrame
from playground.progress import History
from playground.replay import replay_spec
from playground.runner import TrainingRunner
from playground.timeline import Timeline
from playground.ui import live_chart, session


def message_of(figure, key: str = "k", **options) -> dict:
    return json.loads(live_chart.payload(figure, key, **options)[0])


def whole(message: dict, kept: dict | None = None) -> dict:
    """`message` with its static traces (sent now, or from `kept`: key -> traces) back at their places."""
    part = message.get("static")
    if part is None:
        return message
    traces = message["static_traces"] if "static_traces" in message else kept[part["key"]]
    data, changing = [None] * (len(message["data"]) + len(part["at"])), iter(message["data"])
    for place, trace in zip(part["at"], traces):
        data[place] = trace
    return {**message, "data": [trace if trace is not None else next(changing) for trace in data]}


def charts(app) -> dict[str, dict]:
    """Every chart on an AppTest page, {element id: figure JSON}: st.plotly_chart's specs and the live
    charts' payloads (ids end with the element's key)."""
    found = {c.proto.id: json.loads(c.proto.spec) for c in app.get("plotly_chart")}
    found.update({c.proto.id: json.loads(c.proto.bytes) for c in app.get("bidi_component")
                  if c.proto.component_name == live_chart.COMPONENT})
    return found


def keyed_chart(app, key: str) -> dict:
    return next(figure for element_id, figure in charts(app).items() if element_id.endswith(f"-{key}"))


@pytest.fixture(scope="module")
def spiral():
    return make_dataset("spiral")


def boundary(spiral, epoch: int = 7):
    n = 100
    xs, ys = np.linspace(-1, 1, n, dtype=np.float32), np.linspace(-1, 1, n, dtype=np.float32)
    classes = (np.arange(n * n, dtype=np.uint8) % spiral.n_classes).reshape(n, n)
    return BoundaryFrame(epoch, xs, ys, classes, np.zeros((n, n), np.uint8))


def test_a_payload_is_the_figure_with_streamlits_look_and_the_key_as_its_ui_revision(spiral):
    figure = plots.data_figure(spiral, boundary(spiral))
    sent = whole(json.loads(live_chart.payload(figure, "pg_boundary")[0]))
    assert sent["layout"]["title"]["text"] == "Decision boundary — epoch 7"
    assert sent["layout"]["uirevision"] == "pg_boundary"  # Plotly.react keeps a user's zoom across frames
    assert sent["layout"]["template"] == live_chart.LOOK  # not the "streamlit" template's placeholder colours
    assert sent["layout"]["height"] == figure.layout.height and sent["config"]["displaylogo"] is False
    assert [t.get("name") for t in sent["data"]] == [t.name for t in figure.data]
    assert sent["key"] == "pg_boundary" and "replay" not in sent and "follow" not in sent


def test_a_payload_carries_the_player_or_the_chart_it_follows(spiral):
    figure = plots.data_figure(spiral, boundary(spiral))
    spec = replay_spec(figure, Timeline((boundary(spiral, 0), boundary(spiral))), run="7")
    sent = json.loads(live_chart.payload(figure, "pg_boundary", replay=spec)[0])
    assert sent["replay"]["epochs"] == [0, 7] and sent["replay"]["run"] == "7"
    assert sent["replay"]["frames"]["shape"] == [2, 100, 100]
    curve = message_of(plots.loss_figure(History(), 10), "pg_loss_chart", follow="pg_boundary")
    assert curve["follow"] == "pg_boundary" and "replay" not in curve


def test_a_payload_carries_the_grid_as_binary_that_plotly_js_decodes(spiral):
    frame = boundary(spiral)
    heatmap = message_of(plots.data_figure(spiral, frame))["data"][0]
    z = heatmap["z"]
    assert z["dtype"] == "u1" and z["shape"] in ("100, 100", [100, 100])
    decoded = np.frombuffer(base64.b64decode(z["bdata"]), np.uint8).reshape(100, 100)
    assert np.array_equal(decoded, frame.classes * CONFIDENCE_LEVELS + frame.confidence)


def test_a_height_overrides_the_figures_and_a_figure_without_one_gets_plotlys_default(spiral):
    assert message_of(plots.data_figure(spiral), height=300)["layout"]["height"] == 300
    bare = plots.figure([dict(type="scatter", x=[1, 2], y=[3, 4])], {})
    assert message_of(bare)["layout"]["height"] == 450


# --- a frame carries only what changed: the static traces go once, then as a key ---------------------

def test_the_data_points_go_whole_once_then_as_their_key(spiral):
    figure = plots.data_figure(spiral, boundary(spiral))
    first_bytes, key = live_chart.payload(figure, "pg_boundary")
    later_bytes, same_key = live_chart.payload(figure, "pg_boundary", known=key)
    first, later = json.loads(first_bytes), json.loads(later_bytes)
    points = [i for i, t in enumerate(figure.data) if t.type == "scattergl"]
    assert key == same_key and first["static"] == later["static"] == {"key": key, "at": points}
    assert [t["type"] for t in first["data"]] == ["heatmap"] == [t["type"] for t in later["data"]]
    assert len(first["static_traces"]) == 2 * spiral.n_classes and "static_traces" not in later
    assert len(later_bytes) < len(first_bytes) / 3  # the 3,000 points were most of the frame
    rebuilt = whole(later, {key: first["static_traces"]})
    assert rebuilt["data"] == whole(first)["data"]
    assert [t.get("name") for t in rebuilt["data"]] == [t.name for t in figure.data]


def test_the_static_key_is_the_points_content_not_the_frame(spiral):
    _, key = live_chart.payload(plots.data_figure(spiral), "a")
    assert live_chart.payload(plots.data_figure(spiral, boundary(spiral, 9)), "b")[1] == key  # any frame, any chart
    assert live_chart.payload(plots.data_figure(make_dataset("moons")), "a")[1] != key
    assert live_chart.payload(plots.loss_figure(History(), 10), "a")[1] is None  # curves: everything changes
    assert "static" not in message_of(plots.loss_figure(History(), 10))


def test_a_static_part_is_serialised_once_per_content(spiral, monkeypatch):
    live_chart.payload(plots.data_figure(spiral), "k")  # serialised here (or by an earlier test)
    calls = []
    real = chart_payload.to_json_plotly
    monkeypatch.setattr(chart_payload, "to_json_plotly", lambda value: calls.append(value) or real(value))
    live_chart.payload(plots.data_figure(spiral, boundary(spiral)), "k")
    assert not any(isinstance(value, list) for value in calls)  # the points' JSON (a list of traces) was kept


def test_the_servers_cache_of_static_parts_is_bounded(spiral):
    traces = plots.data_figure(spiral).to_plotly_json()["data"]
    for shift in range(chart_payload.MOST_STATIC + 5):
        live_chart.split([{**t, "name": f"{t.get('name')} {shift}"} for t in traces])
    assert len(chart_payload._STATIC) == chart_payload.MOST_STATIC


def test_a_session_is_sent_the_points_once_and_again_after_the_browser_reports_a_miss(open_playground):
    at = open_playground()
    assert "static_traces" in keyed_chart(at, "pg_boundary")  # a new session (a reload, a new tab): whole
    at.run()
    again = keyed_chart(at, "pg_boundary")
    assert "static_traces" not in again and again["static"]["key"] == at.session_state[live_chart.SENT]["pg_boundary"]
    sent_keys = dict(at.session_state[live_chart.SENT])
    sent_keys.pop("pg_boundary")  # what `forget` does when the browser's trigger "miss" arrives
    at.session_state[live_chart.SENT] = sent_keys
    at.run()
    assert "static_traces" in keyed_chart(at, "pg_boundary") and not at.exception


def test_the_components_script_redraws_with_plotly_react_and_plotly_js_is_there_to_serve():
    js = live_chart.JS_FILE.read_text()
    assert "Plotly.react" in js and "export default function (component, plotly)" in js
    assert 'setTriggerValue("miss"' in js and "static_traces" in js  # the miss the server answers
    assert (live_chart.PLOTLY_DIR / "plotly.min.js").is_file()
    assert sorted(p.name for p in live_chart.ASSETS.iterdir()) == ["live_chart.js"]  # the folder served: nothing else


def test_a_frame_carries_a_tiny_loader_that_imports_the_script_served_as_a_file():
    loader = live_chart.loader()
    assert len(loader) < 600 and "import(" in loader and "Plotly.react" not in loader
    script_url = loader.split('new URL("')[1].split('"')[0]
    assert script_url.startswith("component/") and "/live_chart.js?v=" in script_url  # its content names it
    assert 'new URL("component/' in loader.split("script.default(component, ")[1]  # and plotly.js's URL


def test_the_live_view_mounts_the_boundary_as_a_live_chart(open_playground):
    at = open_playground()
    figure = whole(keyed_chart(at, "pg_boundary"))
    assert figure["layout"]["title"]["text"] == "Decision boundary"  # the data, before a run
    assert [t["type"] for t in figure["data"]] == ["scattergl"] * 6  # the points, no boundary yet
    assert figure["layout"]["uirevision"] == "pg_boundary"
    at.number_input(key="pg_epochs").set_value(5).run()
    at.button(key="pg_train").click().run()
    at.session_state["pg_run"].join(60)
    at.run()
    assert not at.exception
    finished = keyed_chart(at, "pg_boundary")
    assert finished["layout"]["title"]["text"] == "Decision boundary — epoch 5"
    assert finished["replay"]["epochs"] == [0, 1, 2, 3, 4, 5] and not finished["replay"]["live"]  # the timeline
    assert finished["replay"]["frames"]["shape"] == [6, 100, 100]
    for key in ("pg_loss_chart", "pg_score_chart"):  # the curves mark the replayed epoch
        assert keyed_chart(at, key)["data"] and keyed_chart(at, key)["follow"] == "pg_boundary"


def test_a_watched_run_makes_frames_five_times_a_second_and_a_fast_one_as_before():
    assert pace.poll_seconds(pace.WATCH) <= 0.25  # >= 4 redraws a second (issue 15) ...
    assert pace.frame_seconds(pace.WATCH) < pace.poll_seconds(pace.WATCH)  # ... each poll finding a new frame
    assert pace.frame_seconds(pace.FAST) == 0.4  # the benchmarks' path, unchanged
    runner = TrainingRunner(TrainConfig(), pace=pace.WATCH)
    assert runner._frame_seconds() == pace.frame_seconds(pace.WATCH)
    runner.set_pace(pace.FAST)  # the pace changes mid-run: so does the frame rate
    assert runner._frame_seconds() == pace.frame_seconds(pace.FAST)
    assert TrainingRunner(TrainConfig(), frame_interval=3600)._frame_seconds() == 3600  # asked for: kept


def test_a_page_polls_a_watched_run_as_often_as_it_makes_frames(monkeypatch):
    handles = {"watched": TrainingRunner(TrainConfig(), pace=pace.WATCH), "race": object()}
    monkeypatch.setattr(session, "run_handle", handles.get)
    assert session.poll_seconds("watched") == pace.poll_seconds(pace.WATCH)
    assert session.poll_seconds("race") == session.POLL_SECONDS
    assert session.poll_seconds("none") == session.POLL_SECONDS


# --- a poll is cheap: plain specs, prepared once and shared ------------------------------------------

def curve_history(epochs: int = 30, batches: bool = False) -> History:
    steps = tuple(range(1, epochs + 1))
    loss = tuple(1.0 / e for e in steps)
    return History(epochs=steps, train_loss=loss, eval_epochs=steps[::2], train_score=tuple(0.5 for _ in steps[::2]),
                   test_loss=loss[::2], test_score=tuple(0.4 for _ in steps[::2]),
                   batch_epochs=tuple(e - 0.5 for e in steps) if batches else (),
                   batch_loss=loss if batches else ())


@pytest.mark.parametrize("build", ["boundary", "bare boundary", "loss", "loss with batches", "score", "curve"])
def test_a_plain_spec_sends_exactly_what_its_figure_sends(spiral, build):
    """The look is unchanged: the live view's specs (no graph_objects) give the Figure's very payload."""
    sine = make_dataset("sine") if build == "curve" else None
    spec = {"boundary": lambda: plots.data_spec(spiral, boundary(spiral)),
            "bare boundary": lambda: plots.data_spec(spiral),
            "loss": lambda: plots.loss_spec(curve_history(), 100, "MSE"),
            "loss with batches": lambda: plots.loss_spec(curve_history(batches=True), 100),
            "score": lambda: plots.score_spec(curve_history(), 100, "classification"),
            "curve": lambda: plots.data_spec(sine)}[build]
    for known in (None, live_chart.payload(plots.as_figure(spec()), "k")[1]):
        assert message_of(spec(), known=known) == message_of(plots.as_figure(spec()), known=known)


def test_a_prepared_figure_is_kept_under_its_key_and_built_again_for_another(spiral):
    builds = []

    def build(frame):
        return lambda: builds.append(frame) or plots.data_spec(spiral, frame)

    frame = boundary(spiral)
    first = live_chart.prepared(("t", live_chart.Same(frame)), build(frame))
    assert live_chart.prepared(("t", live_chart.Same(frame)), build(frame)) is first and len(builds) == 1
    twin = boundary(spiral)  # equal numbers, another object: another snapshot's frame
    assert live_chart.prepared(("t", live_chart.Same(twin)), build(twin)) is not first and len(builds) == 2
    assert message_of(first, "a") == message_of(plots.data_figure(spiral, frame), "a")


def test_the_prepared_figures_are_bounded_least_recently_used_out_first():
    kept = live_chart.prepared(("bounded", -1), lambda: plots.loss_spec(History(), 10))
    for i in range(chart_payload.MOST_PREPARED + 5):
        live_chart.prepared(("bounded", i), lambda: plots.loss_spec(History(), 10))
        live_chart.prepared(("bounded", -1), lambda: None)  # used again: stays
    assert len(chart_payload._PREPARED) == chart_payload.MOST_PREPARED
    assert chart_payload._PREPARED[("bounded", -1)] is kept and ("bounded", 0) not in chart_payload._PREPARED


def test_same_compares_by_identity_and_holds_its_value():
    frame, twin = object(), object()
    assert live_chart.Same(frame) == live_chart.Same(frame) and hash(live_chart.Same(frame)) == id(frame)
    assert live_chart.Same(frame) != live_chart.Same(twin) and live_chart.Same(frame) != frame


def test_the_live_views_charts_are_shared_per_snapshot_part_and_rebuilt_when_it_changes(spiral):
    from playground.ui import live_view

    frame, history = boundary(spiral), curve_history(10)
    assert live_view.data_chart(spiral, frame) is live_view.data_chart(spiral, frame)  # another viewer, same frame
    assert live_view.data_chart(spiral, boundary(spiral, 8)) is not live_view.data_chart(spiral, frame)
    loss = live_view.loss_chart(history, 100, "MSE")
    assert live_view.loss_chart(curve_history(10), 100, "MSE") is loss  # an equal history (a new snapshot object)
    assert live_view.loss_chart(curve_history(11), 100, "MSE") is not loss  # a new epoch: a new chart
    score = live_view.score_chart(history, 100, "classification")
    unevaluated = History(**{**history.__dict__, "epochs": (*history.epochs, 11),
                             "train_loss": (*history.train_loss, 0.1)})
    assert live_view.score_chart(unevaluated, 100, "classification") is score  # no new score: not rebuilt
    assert live_view.data_chart(spiral, frame).static.key == live_chart.prepare(plots.data_figure(spiral)).static.key


def test_a_replay_spec_reads_a_plain_spec_as_it_reads_its_figure(spiral):
    timeline = Timeline((boundary(spiral, 0), boundary(spiral)))
    spec = live_chart.prepare(plots.data_spec(spiral, boundary(spiral))).figure  # what the live view keeps
    assert replay_spec(spec, timeline, run="1") == replay_spec(plots.data_figure(spiral, boundary(spiral)), timeline,
                                                               run="1")
    assert replay_spec(live_chart.prepare(plots.data_spec(spiral)).figure, timeline) is None  # no frame: no player


@pytest.mark.parametrize("array", [np.arange(7, dtype=np.float32), np.arange(12, dtype=np.uint8).reshape(3, 4),
                                   np.arange(5, dtype=np.int32), np.arange(5, dtype=np.int64), np.zeros(0, np.float32),
                                   np.linspace(0, 1, 6)[::2]])
def test_a_typed_array_is_what_plotly_writes(array):
    from _plotly_utils.utils import to_typed_array_spec

    ours, plotlys = chart_payload.typed_array(array), to_typed_array_spec(array)
    assert (ours.tolist() == plotlys.tolist()) if isinstance(ours, np.ndarray) else ours == plotlys


def test_a_finished_runs_frames_go_to_a_chart_once_until_it_reports_them_missing(spiral):
    figure = plots.data_figure(spiral, boundary(spiral))
    spec = replay_spec(figure, Timeline((boundary(spiral, 0), boundary(spiral))), run="7")
    sent = {}
    assert live_chart.unsent_frames(spec, sent, "pg_boundary") is spec  # the first time: whole
    again = live_chart.unsent_frames(spec, sent, "pg_boundary")
    assert again["frames"] is None and again["frames_key"] == spec["frames_key"] and again["epochs"] == [0, 7]
    assert spec["frames"] is not None  # the shared spec is not changed
    assert live_chart.unsent_frames(spec, sent, "rn_boundary_3") is spec  # another chart has not had them
    assert live_chart.unsent_frames(None, sent, "pg_boundary") is None
    live = replay_spec(figure, Timeline(()), run="8", live=True)
    assert live_chart.unsent_frames(live, sent, "pg_boundary") is live
