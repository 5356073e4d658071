"""AppTest: text a user chose shows as typed on every page, never as a link, an image or markup.

Hostile links, a CSV whose file name, columns and labels are markdown and HTML, a checkpoint whose
class names are links and images, a run named with markdown. Each rendered element must hold the
text escaped (`text.markdown_literal` for Streamlit, `text.plotly_literal` for Plotly): no live
`[..](..)`, `![..](..)` or tag reaches the browser. (How Streamlit renders the escaped text was
checked in Chromium: the exact characters show, with no link, image, formula or icon.)
"""
import io
import json
import re
import secrets

import pytest
from streamlit.testing.v1 import AppTest

from app_popovers import open_data
from playground import share
from playground.checkpoint import save_checkpoint
from playground.config import TrainConfig
from playground.model import build_model, plan_for
from playground.progress import History
from playground.text import markdown_literal, plotly_literal
from playground.ui import server
from test_app_draw import blank, inject  # drawings injected as the canvas component's state
from test_live_chart import keyed_chart, whole  # the live view's charts are a component (UnknownElement in AppTest)

LINK, IMAGE, TAG = "[Click here](http://evil/)", "![x](http://x/y.png)", "<a href=x>b</a>"
XOR = TrainConfig.from_dict({"dataset": {"name": "xor", "n_samples": 40}, "epochs": 3})


@pytest.fixture
def workspace() -> str:
    return "escaping-" + secrets.token_hex(6)


def live_markup(markdown: str) -> list[str]:
    """Link, image and HTML syntax that would render: an unescaped "](", or "<" starting a tag."""
    return re.findall(r"(?<!\\)\]\(|(?<!\\)<[A-Za-z/!?]", markdown.replace("\\\\", ""))


def assert_shown_literally(elements, hostile: str) -> None:
    """Some element shows `hostile` escaped with no live markup around it, and none shows it raw."""
    values = [e.value if isinstance(e.value, str) else e.label for e in elements]
    forms = (markdown_literal(hostile), markdown_literal(f"x {hostile}")[2:])  # at the start, within a line
    shown = [value for value in values if any(form in value for form in forms)]
    assert shown and not [value for value in shown if live_markup(value)], values
    assert not [value for value in values if hostile in value]


def chart(app: AppTest, key: str) -> dict:
    plotly = [json.loads(c.proto.spec) for c in app.get("plotly_chart") if key in c.proto.id]
    return plotly[0] if plotly else whole(keyed_chart(app, key))  # the points put back, as the browser does


def chart_strings(figure: dict) -> list[str]:
    """Every string Plotly would render as a label: trace names, texts, categories, axis titles."""
    strings = []
    for trace in figure["data"]:
        for field in ("name", "x", "y", "text"):
            value = trace.get(field)
            strings += [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]
    layout = figure["layout"]
    strings += [axis["title"]["text"] for name, axis in layout.items()
                if name.startswith(("xaxis", "yaxis")) and "title" in axis and "text" in axis["title"]]
    return strings


# --- the Playground's links ---------------------------------------------------------------------

def test_a_lesson_link_holding_a_markdown_link_is_warned_about_literally(workspace, open_page):
    params = {**share.to_query(XOR), "lesson": LINK}
    app = open_page("pages/1_Playground.py", params, workspace=workspace)
    assert_shown_literally(app.warning, LINK)


def test_a_dataset_name_holding_an_image_is_warned_about_literally(workspace, open_page):
    app = open_page("pages/1_Playground.py", {"dataset.name": IMAGE}, workspace=workspace)
    assert_shown_literally(app.warning, IMAGE)


# --- a CSV whose names are markup ---------------------------------------------------------------

CSV_NAME = "![i](x.png) <img src=x>.csv"  # a file name has no slashes
HOSTILE_CSV = (f'"{LINK}","{TAG}",label\n'.encode()
               + b"".join(f'{i / 10},{(i * 7) % 5},"{(LINK, TAG, IMAGE)[i % 3]}"\n'.encode() for i in range(30)))


@pytest.fixture
def hostile_csv(workspace, open_page) -> AppTest:
    app = open_page("pages/1_Playground.py", workspace=workspace)
    open_data(app).selectbox(key="pg_dataset").set_value("csv").run()
    app.file_uploader(key="pg_csv_upload").set_value((CSV_NAME, HOSTILE_CSV, "text/csv")).run()
    assert not app.exception and not app.error
    return app


def test_a_csv_file_name_is_shown_literally(hostile_csv):
    assert_shown_literally(hostile_csv.caption, CSV_NAME)


def test_csv_labels_and_columns_are_plain_text_in_the_boundary_chart(hostile_csv):
    figure = chart(hostile_csv, "pg_boundary")
    names = {trace["name"] for trace in figure["data"] if trace.get("showlegend", True) and "name" in trace}
    assert names == {plotly_literal(label) for label in (LINK, TAG, IMAGE)}
    assert figure["layout"]["xaxis"]["title"]["text"] == plotly_literal(LINK)
    assert figure["layout"]["yaxis"]["title"]["text"] == plotly_literal(TAG)
    assert not [s for s in chart_strings(figure) if "<" in s or ">" in s]


def test_csv_labels_and_columns_are_plain_text_in_the_network_diagram(hostile_csv):
    hostile_csv.number_input(key="pg_epochs").set_value(2).run()
    hostile_csv.button(key="pg_train").click().run()
    run = hostile_csv.session_state["pg_run"]
    run.join(60)
    assert not run.active
    hostile_csv.run()
    figure = chart(hostile_csv, "pg_network")
    labels = [text for trace in figure["data"] for text in trace.get("text") or [] if text]
    assert plotly_literal(TAG) in labels and plotly_literal(IMAGE) in labels
    assert not [s for s in chart_strings(figure) if "<a" in s]  # (the hover's own <br> is the diagram's)


# --- a run named with markdown ------------------------------------------------------------------

RUN_NAME = "**bold** [x](http://e)"


def test_a_run_name_is_shown_literally_on_the_runs_page(workspace, open_page):
    epochs = (1, 2, 3)
    history = History(epochs=epochs, train_loss=(1.0, 0.6, 0.4), eval_epochs=epochs, train_score=(0.5, 0.7, 0.8),
                      test_loss=(1.0, 0.7, 0.5), test_score=(0.5, 0.6, 0.75))
    run_id = server.run_store().save(workspace, XOR, history, {"epochs": 3, "test_accuracy": 0.75}, "completed",
                                 name=RUN_NAME)
    app = open_page("pages/4_Runs.py", workspace=workspace)
    label = f"#{run_id} · {RUN_NAME}"
    links = [e for e in app.get("page_link") if "Open" in e.proto.label]
    assert [e.proto.label for e in links] == [f"Open {markdown_literal(label)} in the Playground"]
    assert not live_markup(links[0].proto.label)
    for key in ("rn_loss", "rn_score"):
        assert [trace["name"] for trace in chart(app, key)["data"]] == [plotly_literal(label)]


# --- the Draw page: a checkpoint whose class names are markup ------------------------------------

CLASS_NAMES = tuple((f"[{d}](http://evil/{d})", f"![{d}](http://x/{d}.png)", f"<b>{d}</b>")[d % 3] for d in range(10))
SMALL_CNN = TrainConfig.from_dict({"dataset": {"name": "mnist"}, "epochs": 1, "layers": [
    {"type": "conv2d", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
    {"type": "flatten"}, {"type": "linear"}]})


def checkpoint(config: TrainConfig, class_names: tuple = ()) -> bytes:
    buffer = io.BytesIO()
    save_checkpoint(buffer, config, build_model(plan_for(config)), class_names, {"test_accuracy": 0.5})
    return buffer.getvalue()


def test_checkpoint_class_names_are_shown_literally_on_the_draw_page(workspace, open_page):
    app = open_page("pages/2_Draw.py", workspace=workspace)
    app.file_uploader(key="dr_upload").set_value(("links.pt", checkpoint(SMALL_CNN, CLASS_NAMES),
                                                   "application/octet-stream")).run()
    assert app.radio(key="dr_choice").value == "uploaded" and not app.error
    image = blank()
    image[50:230, 130:150] = 255
    inject(app, image)
    assert not app.exception
    guess = app.metric[0].value
    assert guess in [markdown_literal(name) for name in CLASS_NAMES] and not live_markup(guess)
    assert_shown_literally(app.caption, CLASS_NAMES[[markdown_literal(n) for n in CLASS_NAMES].index(guess)])
    bars = chart(app, "dr_probabilities")["data"][0]
    assert bars["x"] == [plotly_literal(name) for name in CLASS_NAMES]
