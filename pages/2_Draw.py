"""Draw a digit: the model you trained (or a default one) says what it sees, on every stroke."""
import copy

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from playground import explain, inspection, plots, ui
from playground.budget import forward_flops
from playground.checkpoint import LoadedModel
from playground.datasets import DATASETS
from playground.drawing import mnist_digit
from playground.model import plan_for
from playground.text import markdown_literal

st.set_page_config(page_title="Draw a digit · Neural Playground", page_icon="✏️", layout="wide")
ui.navigation()

DIGIT_SHAPE = (1, 28, 28)
PROGRESS_SECONDS = 0.5  # the default model's progress bar moves this often while it is prepared
SESSION, UPLOADED, DEFAULT = "session", "uploaded", "default"
CHOICE_TITLES = {SESSION: "The model trained on the Playground", UPLOADED: "An uploaded model (.pt)",
                 DEFAULT: "The default MNIST model"}


# --- which model --------------------------------------------------------------------------------

def session_model() -> LoadedModel | None:
    """The Playground's finished run, if it is a 28x28 image classifier (copied once to the CPU)."""
    run = ui.runner("pg_run")
    if run is None or run.active or run.engine is None or DATASETS[run.config.dataset.name].image_shape != DIGIT_SHAPE:
        return None
    cached = st.session_state.get("dr_session_model")
    if cached is None or cached[0] is not run:
        engine = run.engine
        model = copy.deepcopy(engine.model).cpu().eval()
        cached = (run, LoadedModel(run.config, model, engine.dataset.class_names, run.snapshot().final or {}))
        st.session_state["dr_session_model"] = cached
    return cached[1]


def load_upload() -> None:
    st.session_state.pop("dr_uploaded", None)
    loaded = ui.uploaded_checkpoint("dr_upload", "dr_upload_error")
    if loaded is None:
        return
    if loaded.input_shape != DIGIT_SHAPE:
        shape = "x".join(map(str, loaded.input_shape))
        st.session_state["dr_upload_error"] = (f"That model takes {shape} inputs; drawings need a model of "
                                               "28x28 grey images (MNIST or Fashion-MNIST).")
        return
    if not drawing_work(loaded).fits:
        st.session_state["dr_upload_error"] = too_large(drawing_work(loaded))
        return
    st.session_state["dr_uploaded"] = loaded
    st.session_state["dr_choice"] = UPLOADED


def choose_model() -> LoadedModel | None:
    with st.sidebar:
        st.header("Model")
        choices = [c for c, ok in ((SESSION, session_model() is not None),
                                   (UPLOADED, "dr_uploaded" in st.session_state), (DEFAULT, True)) if ok]
        if st.session_state.get("dr_choice") not in choices:
            st.session_state["dr_choice"] = choices[0]
        choice = st.radio("Predict with", choices, format_func=CHOICE_TITLES.get, key="dr_choice")
        st.file_uploader("Upload a model (.pt)", type=["pt"], key="dr_upload", on_change=load_upload,
                         help="a checkpoint downloaded from the Playground, trained on 28x28 images")
        if st.session_state.get("dr_upload_error"):
            st.error(markdown_literal(st.session_state["dr_upload_error"]), icon="🚫")
    if choice == SESSION:
        return session_model()
    if choice == UPLOADED:
        return st.session_state["dr_uploaded"]
    return default_model()


def default_model() -> LoadedModel:
    """The server's default model; while it is still being prepared, its progress (this run waits)."""
    preparing, bar = ui.default_digit_model(), None
    while not preparing.wait(PROGRESS_SECONDS):  # a click elsewhere reruns the page, which waits again
        fraction, text = preparing.progress()
        bar = bar or st.progress(0.0)
        bar.progress(fraction, text=f"{text} (once per server)")
    if bar is not None:
        bar.empty()
    if preparing.model is None:
        st.error(f"The default model could not be prepared ({preparing.error}). Upload a model (.pt) trained "
                 "on 28x28 digits in the sidebar instead.", icon="🚫")
        st.stop()
    return preparing.model


def drawing_work(model: LoadedModel) -> explain.DrawingWork:
    """What explaining one drawing costs `model` on this server (counted, not run)."""
    return explain.drawing_work(forward_flops(plan_for(model.config)), *DIGIT_SHAPE[1:])


def billions(flops: int) -> str:
    return f"{flops / 1e9:,.1f} billion"


def too_large(work: explain.DrawingWork) -> str:
    return (f"That model is too large to run here on every stroke: each drawing would cost {billions(work.guess)} "
            f"operations, and this server allows {billions(work.cap)} per drawing (about a second of one "
            "processor core). Use fewer or narrower convolution layers, or pool earlier.")


def describe(model: LoadedModel) -> str:
    accuracy = model.metrics.get("test_accuracy")
    score = f"test accuracy **{accuracy:.1%}**" if accuracy is not None else "no recorded test accuracy"
    data = DATASETS[model.config.dataset.name].title
    return f"Using a {len(model.config.layers)}-layer model trained on {data}: {score}."


# --- page ---------------------------------------------------------------------------------------

def clear_canvas() -> None:
    st.session_state["dr_canvas_version"] = st.session_state.get("dr_canvas_version", 0) + 1


ui.warm_up()  # also keeps the server's torch on one thread: a drawing must not take every core
st.title("Draw a digit")
model = choose_model()
work = drawing_work(model)
st.caption(describe(model))
if not work.fits:  # an uploaded model is refused on upload; a Playground run can still be this large
    st.error(too_large(work), icon="🚫")
    st.stop()
draw_col, see_col, guess_col = st.columns([3, 2, 4], gap="large")
with draw_col:
    width = st.slider("Pen width", 6, 40, 18, key="dr_pen")
    canvas = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_color="#000000", width=280, height=280,
                       drawing_mode="freedraw", return_image_data=True,
                       key=f"dr_canvas_{st.session_state.get('dr_canvas_version', 0)}")
    st.button("Clear", icon=":material/delete:", on_click=clear_canvas, key="dr_clear",
              help="start again (the canvas toolbar also has undo and redo)")
digit = mnist_digit(canvas.image_data) if canvas is not None and canvas.image_data is not None else None
with see_col:
    st.markdown("**What the model sees**")
    if digit is not None:
        st.image(inspection.upscale(digit, 168), width=168,
                 caption="28x28: cropped to the ink, scaled to 20 px, centred by mass, as MNIST was made")
with guess_col:
    if digit is None:
        st.info("Draw a digit from 0 to 9 in the black square: the guess appears as you draw.",
                icon=":material/draw:")
    else:
        probabilities = model.predict(digit[None, None])[0]
        best = int(probabilities.argmax())
        st.metric("The model's guess", markdown_literal(model.class_names[best]), f"{probabilities[best]:.0%} sure",
                  delta_color="off", delta_arrow="off")
        st.plotly_chart(plots.probability_figure(probabilities, model.class_names), key="dr_probabilities",
                        width="stretch")

if digit is not None:
    why, inside = st.tabs(["Which strokes drove the guess", "First conv layer on your drawing"])
    with why:
        if work.explains:
            heat = explain.occlusion_map(model.predict, digit, best)
            st.image(explain.overlay(inspection.upscale(digit, 168), inspection.upscale(heat, 168)), width=168)
            st.caption(f"Red: where hiding a small patch of the drawing lowers the model's confidence in "
                       f"**{markdown_literal(model.class_names[best])}** the most (occlusion: the 28x28 image with "
                       "one 6x6 patch blacked out at a time).")
        else:
            st.caption(f"This model is too large for the occlusion map here: it would cost "
                       f"{billions(work.guess + work.occlusion)} operations per drawing, over this server's "
                       f"{billions(work.cap)}. The guess and the feature maps are still shown.")
    with inside:
        maps = explain.conv_activations(model.model, digit)
        if maps is None:
            st.caption("This model has no convolution layer, so there are no feature maps to show.")
        else:
            shown = maps[:32]
            st.image(explain.activation_pictures(shown, 84), width=84,
                     caption=[f"#{i + 1}" for i in range(len(shown))])
            st.caption(f"What the first Conv2d's {len(maps)} filters respond to in your drawing "
                       f"({maps.shape[1]}x{maps.shape[2]} each; white = strong response).")
