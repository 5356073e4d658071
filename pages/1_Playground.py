"""Playground: pick a dataset, stack layers, choose how to train, and watch it learn live."""
import math
import time
from dataclasses import replace

import streamlit as st

from playground import budget, export, frames, inspection, network, plots, share, tabular, ui
from playground.checkpoint import CheckpointError, checkpoint_bytes, model_for_state
from playground.config import MAX_EPOCHS, ConfigError, DatasetConfig, TrainConfig, default_batch
from playground.datasets import CLASSIFICATION, CSV, DATASETS, TASKS, TableChoice
from playground.devices import available_devices
from playground.engine import batch_problem, plan_for
from playground.frames import ImageFrame
from playground.images import ImageDataError, load_images
from playground.layers import LAYERS, LayerError
from playground.lessons import LESSONS, measure, verdict
from playground.losses import DEFAULT_LOSS, LOSSES, compatible_losses
from playground.optim import OPTIMIZERS, SCHEDULES
from playground.progress import COMPLETED, DIVERGED, FAILED, QUEUED
from playground.text import markdown_literal, plotly_literals

st.set_page_config(page_title="Playground · Neural Playground", page_icon="🎛️", layout="wide")
ui.navigation()

RUN = "pg_run"
LR_CHOICES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
DECAY_CHOICES = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.1)
BATCH_CHOICES = (0, 1, 8, 16, 32, 64, 128, 256, 512, 1024)
ADAM = {"pg_loss": "cross_entropy", "pg_opt": "adam", "pg_lr": 1e-3}
TOY_PRESETS = {  # label: (stack, tooltip, training settings it also sets)
    "Linear": ([{"type": "linear"}], "a single Linear layer: a straight decision boundary", {}),
    "ReLU net": ([{"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear"}],
                 "one hidden layer of 100 ReLU units", {}),
    "Tanh net": ([{"type": "linear", "out": 16}, {"type": "tanh"}, {"type": "linear", "out": 16},
                  {"type": "tanh"}, {"type": "linear"}], "two hidden layers of 16 Tanh units", {}),
}
IMAGE_PRESETS = {
    "One-conv CNN": ([{"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"},
                      {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}],
                     "the classic: conv 32 3x3 pad 1, ReLU, max-pool 2, Linear 10; cross-entropy + Adam 1e-3", ADAM),
    "Two-conv + dropout": ([{"type": "conv2d", "out": 10, "kernel": 5}, {"type": "maxpool2d", "kernel": 2},
                            {"type": "relu"}, {"type": "conv2d", "out": 20, "kernel": 5}, {"type": "dropout2d", "p": 0.5},
                            {"type": "maxpool2d", "kernel": 2}, {"type": "relu"}, {"type": "flatten"},
                            {"type": "linear", "out": 50}, {"type": "relu"}, {"type": "dropout", "p": 0.5},
                            {"type": "linear"}, {"type": "log_softmax"}],
                           "PyTorch's MNIST example: two 5x5 convs with dropout, log-softmax + NLL loss, "
                           "SGD 0.01 momentum 0.5 (needs 28x28 images)",
                           {"pg_loss": "nll", "pg_opt": "sgd", "pg_lr": 0.01, "pg_sgd_momentum": 0.5}),
    "Residual": ([{"type": "conv2d", "out": 16, "kernel": 3, "padding": 1}, {"type": "batchnorm2d"}, {"type": "relu"},
                  {"type": "residual"}, {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}],
                 "conv 16 + a residual block (two 3x3 convs with a skip connection), then Linear", ADAM),
    "MLP": ([{"type": "flatten"}, {"type": "linear", "out": 128}, {"type": "relu"}, {"type": "linear"}],
            "no convolutions: flatten the pixels into a 128-unit ReLU layer", ADAM),
}
DEFAULT_EPOCHS = {False: 1000, True: 3}  # toy data, images
SCHEDULE_TITLES = {"none": "Constant", "step": "Step decay", "cosine": "Cosine decay"}


# --- state: widget keys <-> config ------------------------------------------------------------

def state_for(config: TrainConfig) -> dict:
    """Widget values (by key) that show `config`."""
    d, o, s = config.dataset, config.optimizer, config.schedule
    return {"pg_dataset": d.name, "pg_ds_seed": d.seed, f"pg_ds_{d.name}_test_fraction": d.test_fraction,
            **{f"pg_ds_{d.name}_{k}": v for k, v in d.values.items()},
            "pg_loss": config.loss, "pg_opt": o.name, "pg_lr": o.lr, "pg_wd": o.weight_decay,
            f"pg_{o.name}_momentum": o.momentum, "pg_nesterov": o.nesterov, "pg_batch": config.batch_size,
            "pg_epochs": config.epochs, "pg_schedule": s.name, "pg_step_size": s.step_size, "pg_gamma": s.gamma,
            "pg_seed": config.seed, "pg_device": config.device, **table_state(d.table)}


def table_state(table) -> dict:
    if table is None:
        return {}
    return {"pg_csv_file": table.file, "pg_csv_label": table.label, "pg_csv_features": list(table.features),
            "pg_csv_task": table.task}


def apply_config(config: TrainConfig) -> None:
    st.session_state.update(state_for(config), pg_image_mode=DATASETS[config.dataset.name].is_image)
    set_layers(config.layers)


def set_layers(specs) -> None:
    st.session_state["pg_next_id"] = st.session_state.get("pg_next_id", 0) + len(specs)
    first = st.session_state["pg_next_id"] - len(specs)
    st.session_state["pg_layers"] = [{**spec, "id": first + i} for i, spec in enumerate(specs)]


def init_state() -> None:
    if "pg_layers" not in st.session_state:
        apply_config(TrainConfig())


# --- the link: the page's setup lives in the URL ------------------------------------------------

def setup_from_link() -> None:
    """Apply the URL's setup when the page opens with one, or when a link changed it (e.g. a lesson).

    `?lesson=line` alone opens that lesson's setup.
    """
    params = link_params()
    if params == st.session_state.get("pg_link_written"):
        return
    st.session_state["pg_link_written"] = params
    first_visit = "pg_layers" not in st.session_state
    init_state()
    lesson = LESSONS.get(params.get(share.LESSON, ""))
    if lesson is not None and not share.has_config(params):
        params = {**share.to_query(lesson.config, lesson.hide, lesson.slug), **params}
    try:
        setup = share.from_query(params) if share.has_config(params) else None
    except ConfigError as error:
        return link_problem(f"This link's setup could not be used — {error}.", first_visit)
    if setup is None:
        if share.HIDE in params or share.LESSON in params:
            link_problem("This link names a lesson or hides controls but holds no setup.", first_visit)
        return
    apply_link(setup)


def apply_link(setup) -> None:
    apply_config(setup.config)
    unknown = setup.lesson and setup.lesson not in LESSONS
    st.session_state.update(pg_hidden=setup.hidden, pg_locked=setup.config if setup.hidden else None,
                            pg_lesson="" if unknown else setup.lesson, pg_link_error=None)
    if unknown:
        st.session_state["pg_link_error"] = f"This link names a lesson that does not exist ({setup.lesson!r})."


def link_problem(text: str, first_visit: bool) -> None:
    kept = "the default setup" if first_visit else "the setup it had"
    st.session_state["pg_link_error"] = f"{text} The page shows {kept} instead."


def link_params() -> dict:
    return {key: value for key, value in st.query_params.to_dict().items() if key != share.WORKSPACE}


def write_link(config: TrainConfig | None) -> None:
    """Keep the address bar's link equal to the page's setup, so copying it shares the setup."""
    if config is None:
        return
    wanted = share.to_query(config, st.session_state.get("pg_hidden", ()), st.session_state.get("pg_lesson", ""))
    if wanted != link_params():
        st.query_params.from_dict(wanted)
    st.session_state["pg_link_written"] = wanted


def shown(group: str) -> bool:
    """Whether the controls of `group` (see share.HIDEABLE) are on the page; a teacher's link may hide them."""
    return group not in st.session_state.get("pg_hidden", ()) or st.session_state.get("pg_locked") is None


def locked() -> TrainConfig:
    """The setup of the link that hid controls: hidden controls keep its values."""
    return st.session_state["pg_locked"]


def link_notices() -> None:
    if st.session_state.get("pg_link_error"):
        st.warning(markdown_literal(st.session_state["pg_link_error"]), icon="🔗")
    hidden = [share.HIDEABLE[name] for name in share.HIDEABLE if not shown(name)]
    if hidden:
        st.caption("🔒 Set by your teacher's link, so not shown: " + ", ".join(hidden).lower() + ".")


def lesson_banner() -> None:
    """The open lesson's story and promise, and once its run has ended, whether the promise held."""
    lesson = LESSONS.get(st.session_state.get("pg_lesson", ""))
    if lesson is None:
        return
    with st.container(border=True, key="pg_lesson_box"):
        text, close = st.columns([6, 1], vertical_alignment="top")
        text.markdown(f"**Lesson · {lesson.title}**  \n{lesson.story}")
        text.caption(f"Press **Train** and watch. Expected: {lesson.outcome.promise}.")
        close.button("Close", key="pg_lesson_close", on_click=lambda: st.session_state.update(pg_lesson=""),
                     help="leave the lesson and keep the setup")
        result = lesson_result(lesson)
        if result is not None:
            (st.success if result.as_promised else st.warning)(result.text, icon="🎓")


def lesson_result(lesson):
    """The verdict on the finished run when it trained the lesson's setup (any device), else None."""
    run = ui.runner(RUN)
    if run is None or run.active or run.engine is None or run.snapshot().status != COMPLETED:
        return None
    if run.config.replace(device=lesson.config.device) != lesson.config:
        return None
    judged = st.session_state.get("pg_verdict")
    if judged is None or judged[0] is not run:
        judged = st.session_state["pg_verdict"] = (run, verdict(lesson, measure(lesson, run.engine, run.snapshot().final)))
    return judged[1]


def with_choice(choices: tuple, value) -> list:
    return sorted({*choices, value})


# --- sidebar: data and training ---------------------------------------------------------------

def dataset_changed() -> None:
    """Switching between toy data and images swaps in a model and batch size that fit the new kind."""
    is_image = DATASETS[st.session_state["pg_dataset"]].is_image
    if st.session_state.get("pg_image_mode", False) == is_image:
        return
    st.session_state["pg_image_mode"] = is_image
    use_preset(*(IMAGE_PRESETS["One-conv CNN"] if is_image else TOY_PRESETS["ReLU net"]))
    st.session_state.update(pg_batch=default_batch(st.session_state["pg_dataset"]), pg_epochs=DEFAULT_EPOCHS[is_image])


def task_of(data: dict) -> tuple[str, int]:
    """The task and class count (0 for regression) of the dataset settings `data`."""
    spec = DATASETS[data["name"]]
    if spec.is_table:
        task = data.get("task") or CLASSIFICATION
        return task, table_classes(data) if task == CLASSIFICATION else 0
    return spec.task, int(data.get("classes", len(spec.class_names) or 2)) if spec.task == CLASSIFICATION else 0


def table_classes(data: dict) -> int:
    try:
        return DatasetConfig(name=CSV, table=TableChoice(data["file"], data["label"], tuple(data["features"]),
                                                        data["task"])).n_classes
    except (ConfigError, KeyError):
        return 2  # the config check below names the problem


def dataset_section() -> dict:
    st.header("Data")
    if not shown("data"):
        st.caption(f"🔒 {DATASETS[locked().dataset.name].title}, set by the link.")
        return locked().dataset.to_dict()
    name = st.selectbox("Dataset", list(DATASETS), format_func=lambda n: DATASETS[n].title, key="pg_dataset",
                        on_change=dataset_changed)
    spec = DATASETS[name]
    st.caption(spec.description)
    values = {"name": name, **(table_section() if spec.is_table else {})}
    for p in spec.params:
        key = f"pg_ds_{name}_{p.name}"
        st.session_state.setdefault(key, int(p.default) if p.integer else float(p.default))
        label = p.name.replace("_", " ").capitalize() if spec.is_image else p.help.capitalize()
        if p.integer:
            values[p.name] = st.number_input(label, int(p.low), int(p.high), step=1 if not spec.is_image else 1000,
                                             key=key, help=p.help if spec.is_image else None)
        else:
            values[p.name] = st.slider(label, float(p.low), float(p.high), step=0.01, key=key)
    images = image_source(name) if spec.is_image else None
    if images is None or images.x_test is None:
        key = f"pg_ds_{name}_test_fraction"
        st.session_state.setdefault(key, spec.test_fraction)
        values["test_fraction"] = st.slider("Test share", 0.05 if spec.is_image else 0.0, 0.9, step=0.05, key=key,
                                            help="fraction of points held out to measure generalisation")
    values["seed"] = st.number_input("Data seed", 0, 2**32 - 1, step=1, key="pg_ds_seed")
    if images is not None:
        st.caption(f"**Source:** {images.source}. Pixels are scaled to 0–1, then normalised as "
                   f"(x − {images.mean:.4f}) / {images.std:.4f}, the training images' mean and std.")
    return values


def table_section() -> dict:
    """Upload a CSV, then pick its label and feature columns and the task (detected, can be changed)."""
    st.file_uploader("CSV file", type=["csv", "txt", "tsv"], key="pg_csv_upload", on_change=store_upload,
                     help=f"a table with a header row, up to {tabular.MAX_BYTES // 2**20} MB")
    if st.session_state.get("pg_csv_error"):
        st.error(markdown_literal(st.session_state["pg_csv_error"]), icon="🚫")
    file = st.session_state.get("pg_csv_file")
    table = read_stored_table(file) if file else None
    if table is None:  # no file yet, or one that cannot be read any more (read_stored_table said why)
        if not st.session_state.get("pg_data_error"):
            st.session_state["pg_data_prompt"] = "Upload a CSV file to train on it: the label and feature " \
                                                 "columns are picked next."
        return {}
    st.caption(f"**{markdown_literal(table.name)}**: {table.rows:,} rows, {len(table.columns)} columns.")
    st.session_state.setdefault("pg_csv_label", table.columns[-1])
    if st.session_state["pg_csv_label"] not in table.columns:
        st.session_state["pg_csv_label"] = table.columns[-1]
    label = st.selectbox("Label column (what to predict)", table.columns, key="pg_csv_label", on_change=label_changed)
    options = [c for c in table.columns if c != label]
    st.session_state["pg_csv_features"] = [c for c in st.session_state.get("pg_csv_features", options) if c in options]
    features = st.multiselect("Feature columns (the inputs)", options, key="pg_csv_features")
    guess = tabular.guess_task(table, label)
    st.session_state.setdefault("pg_csv_task", guess)
    task = st.radio("Task", TASKS, key="pg_csv_task", horizontal=True,
                    format_func=lambda t: f"{t} (detected)" if t == guess else t)
    return {"file": file, "label": label, "features": list(features), "task": task}


def store_upload() -> None:
    """Keep an uploaded CSV on the server under its content id; the config names the table by that id.

    The name this session uploaded it under stays with this session (a classmate's upload of the same
    bytes under another name changes nothing for either); uploads per minute are limited per session."""
    upload = st.session_state.get("pg_csv_upload")
    st.session_state["pg_csv_error"] = None
    if upload is None:
        return
    data = upload.getvalue()
    try:
        upload_allowed(len(data))
        file = tabular.save_upload(data, upload.name)
    except tabular.TableError as error:
        previous = read_stored_table(st.session_state.get("pg_csv_file"))
        still = f" The page still uses {previous.name}." if previous is not None else ""
        st.session_state["pg_csv_error"] = f"{upload.name} was not loaded: {error.message.rstrip('.')}.{still}"
        return
    st.session_state.setdefault("pg_csv_names", {})[file] = upload.name
    st.session_state["pg_csv_file"] = file
    table = read_stored_table(file)
    if table is None:
        return
    st.session_state["pg_csv_label"] = table.columns[-1]
    label_changed()


def upload_allowed(size: int) -> None:
    """Count an upload of `size` bytes against this session's rate; TableError saying when to try again."""
    limit, log, now = tabular.upload_rate(), st.session_state.setdefault("pg_upload_log", []), time.time()
    wait = limit.wait(log, size, now)
    if wait > 0:
        raise tabular.TableError(f"this page uploaded {len(log)} files ({sum(b for _, b in log) / 2**20:.1f} MB) "
                                 f"in the last minute, the most allowed is {limit.count} files or "
                                 f"{limit.size / 2**20:.0f} MB; try again in {math.ceil(wait)} seconds")
    limit.record(log, size, now)


def label_changed() -> None:
    """A new label column: the other numeric columns become the features, and the task is detected again."""
    table = read_stored_table(st.session_state.get("pg_csv_file"))
    if table is None:
        return
    label = st.session_state["pg_csv_label"]
    st.session_state["pg_csv_features"] = list(tabular.default_features(table, label))
    st.session_state["pg_csv_task"] = tabular.guess_task(table, label)


def read_stored_table(file: str | None):
    """The stored table `file`, shown under the name this session uploaded it as (if it did); None when
    there is none or it cannot be read (the reason goes to the page)."""
    try:
        name = st.session_state.get("pg_csv_names", {}).get(file)
        return tabular.load_upload(file, name=name) if file else None
    except tabular.TableError as error:
        st.session_state["pg_data_error"] = f"The table could not be read: {error.message}"
        return None


def image_source(name: str):
    """The loaded images of `name`, or None with an error shown when no source could be read."""
    try:
        with st.spinner(f"Loading {DATASETS[name].title}…"):
            return load_images(name)
    except ImageDataError as error:
        st.session_state["pg_data_error"] = f"{DATASETS[name].title} is not available here: {error}"
        return None


def training_section(task: str, n_classes: int, task_is_image: bool = False) -> dict:
    st.header("Training")
    losses = compatible_losses(task, n_classes)
    if st.session_state.get("pg_loss") not in losses:
        st.session_state["pg_loss"] = DEFAULT_LOSS[task]
    loss = st.selectbox("Loss", losses, format_func=lambda n: LOSSES[n].title, key="pg_loss") if shown("loss") \
        else locked().loss
    optimizer = optimizer_inputs() if shown("optimizer") else locked().optimizer.to_dict()
    optimizer["lr"] = st.select_slider("Learning rate", with_choice(LR_CHOICES, st.session_state["pg_lr"]),
                                       format_func=lambda v: f"{v:g}", key="pg_lr",
                                       help="can be changed while training") if shown("learning_rate") \
        else locked().optimizer.lr
    schedule = schedule_inputs() if shown("schedule") else locked().schedule.to_dict()
    return {"loss": loss, "optimizer": optimizer, "schedule": schedule,
            **(run_inputs(task_is_image) if shown("training") else
               {key: getattr(locked(), key) for key in ("batch_size", "epochs", "seed", "device")})}


def optimizer_inputs() -> dict:
    name = st.selectbox("Optimizer", list(OPTIMIZERS), format_func=lambda n: OPTIMIZERS[n].title, key="pg_opt")
    optimizer = {"name": name,
                 "weight_decay": st.select_slider("Weight decay", with_choice(DECAY_CHOICES, st.session_state["pg_wd"]),
                                                  format_func=lambda v: f"{v:g}", key="pg_wd")}
    if "momentum" in OPTIMIZERS[name].options:
        st.session_state.setdefault(f"pg_{name}_momentum", 0.9 if name == "sgd" else 0.0)
        optimizer["momentum"] = st.slider("Momentum", 0.0, 0.99, step=0.01, key=f"pg_{name}_momentum")
    if "nesterov" in OPTIMIZERS[name].options:
        optimizer["nesterov"] = st.checkbox("Nesterov", key="pg_nesterov", disabled=optimizer["momentum"] == 0) \
            and optimizer["momentum"] > 0
    return optimizer


def schedule_inputs() -> dict:
    schedule = {"name": st.selectbox("Learning-rate schedule", list(SCHEDULES), key="pg_schedule",
                                     format_func=SCHEDULE_TITLES.get)}
    if schedule["name"] == "step":
        schedule["step_size"] = st.number_input("Decay every (epochs)", 1, MAX_EPOCHS, key="pg_step_size")
        schedule["gamma"] = st.slider("Decay factor", 0.01, 1.0, step=0.01, key="pg_gamma")
    return schedule


def run_inputs(task_is_image: bool) -> dict:
    return {"batch_size": st.selectbox("Batch size", with_choice(BATCH_CHOICES, st.session_state["pg_batch"]),
                                       format_func=lambda b: "full batch" if b == 0 else str(b), key="pg_batch"),
            "epochs": st.number_input("Epochs", 1, MAX_EPOCHS, step=1 if task_is_image else 100, key="pg_epochs"),
            "seed": st.number_input("Model seed", 0, 2**32 - 1, step=1, key="pg_seed"),
            "device": st.selectbox("Device", ["auto", *available_devices()], key="pg_device")}


# --- the layer stack --------------------------------------------------------------------------

# Callbacks name layers by id and debounce what cannot be repeated safely: see ui.first_call.

def move_layer(layer_id: int, offset: int) -> None:
    layers = st.session_state["pg_layers"]
    position = next((i for i, layer in enumerate(layers) if layer["id"] == layer_id), None)
    if position is None or not 0 <= position + offset < len(layers) or not ui.first_call(f"move {layer_id}"):
        return
    layers[position], layers[position + offset] = layers[position + offset], layers[position]


def remove_layer(layer_id: int) -> None:
    st.session_state["pg_layers"] = [layer for layer in st.session_state["pg_layers"] if layer["id"] != layer_id]


def add_layer() -> None:
    if not ui.first_call("add layer"):
        return
    spec = {"type": st.session_state["pg_add_type"]}
    set_layers([*[{k: v for k, v in layer.items() if k != "id"} for layer in st.session_state["pg_layers"]], spec])


def layer_row(position: int, layer: dict, count: int) -> dict:
    """Widgets for one layer: type, first parameter and buttons; further parameters on a line below."""
    cols = st.columns([3, 3, 1, 1, 1], vertical_alignment="bottom")
    type_key = f"pg_l{layer['id']}_type"
    st.session_state.setdefault(type_key, layer["type"])
    kind = cols[0].selectbox(f"Layer {position + 1}", list(LAYERS), format_func=lambda n: LAYERS[n].title,
                             key=type_key)
    layer["type"], spec = kind, {"type": kind}
    params = [p for p in LAYERS[kind].params if p.name != "in"]
    below = st.columns(len(params) - 1) if len(params) > 1 else []
    for column, param in zip([cols[1], *below], params):
        layer[param.name] = spec[param.name] = param_input(column, layer, kind, param)
    key = f"pg_l{layer['id']}"
    cols[2].button("", icon=":material/arrow_upward:", key=f"{key}_up", on_click=move_layer,
                   args=(layer["id"], -1), disabled=position == 0, help="move up")
    cols[3].button("", icon=":material/arrow_downward:", key=f"{key}_down", on_click=move_layer,
                   args=(layer["id"], 1), disabled=position == count - 1, help="move down")
    cols[4].button("", icon=":material/close:", key=f"{key}_remove", on_click=remove_layer, args=(layer["id"],),
                   help="remove")
    return {k: v for k, v in spec.items() if v is not None}


PARAM_LABELS = {("linear", "out"): "Output size", ("conv2d", "out"): "Out channels", ("residual", "out"): "Out channels"}


def param_input(column, layer: dict, kind: str, param):
    """One number input for a layer parameter; optional ones (default None) may be left empty ("auto")."""
    key = f"pg_l{layer['id']}_{kind}_{param.name}"
    label = PARAM_LABELS.get((kind, param.name), param.name.replace("_", " ").capitalize())
    st.session_state.setdefault(key, layer.get(param.name, param.default))
    whole = param.kind is int
    low, high = (int(param.low), int(param.high)) if whole else (param.low, param.high)
    return column.number_input(label, low, high, step=1 if whole else 0.01, key=key, help=param.help,
                               **({"value": None, "placeholder": "auto"} if param.default is None else {}))


def layer_editor(is_image: bool) -> list[dict]:
    st.subheader("Model")
    if not shown("model"):
        st.caption("🔒 The layers are set by the link; the table below shows them.")
        return [dict(spec) for spec in locked().layers]
    layers = st.session_state["pg_layers"]
    specs = [layer_row(i, layer, len(layers)) for i, layer in enumerate(layers)]
    add_type, add_button = st.columns([3, 2], vertical_alignment="bottom")
    add_type.selectbox("New layer", list(LAYERS), format_func=lambda n: LAYERS[n].title, key="pg_add_type")
    add_button.button("Add layer", icon=":material/add:", on_click=add_layer, width="stretch", key="pg_add_layer")
    presets = list((IMAGE_PRESETS if is_image else TOY_PRESETS).items())
    per_row = 2 if is_image else 3  # image preset names are longer
    for start in range(0, len(presets), per_row):
        for col, (title, (stack, tip, settings)) in zip(st.columns(per_row), presets[start:start + per_row]):
            col.button(title, on_click=use_preset, args=(stack, tip, settings), width="stretch",
                       key=f"pg_preset_{title}", help=tip)
    return specs


def use_preset(stack: list, tip: str, settings: dict) -> None:
    """Load a preset stack and the training settings it comes with (loss, optimizer, learning rate)."""
    set_layers(stack)
    st.session_state.update(settings)


def show_plan(config: TrainConfig | None, config_error: str | None):
    """Layer summary table, or the reason the stack cannot train. Returns the config if it can."""
    st.session_state["pg_blocked"] = None
    if st.session_state.get("pg_data_prompt"):
        st.info(st.session_state["pg_data_prompt"], icon=":material/upload_file:")
        return None
    if config_error:
        return blocked(markdown_literal(config_error))
    try:
        plan = plan_for(config)
    except LayerError as error:
        return blocked(markdown_literal(error))
    st.dataframe([{"#": row.index + 1, "layer": row.title, "detail": row.detail,
                   "output shape": str(list(row.output_shape)), "parameters": row.parameters} for row in plan.rows],
                 hide_index=True, width="stretch")
    st.caption(f"Input {list(plan.input_shape)} → output {list(plan.output_shape)} · "
               f"**{plan.parameters:,} parameters**")
    for warning in plan.warnings:
        st.warning(markdown_literal(warning), icon="⚠️")
    problem = batch_problem(plan, config.batch_size, len(ui.cached_dataset(config.dataset).y_train))
    if problem:
        return blocked(markdown_literal(f"Batch size: {problem}."))
    if problem := budget.run_problem(config, budget.budget_minutes()):
        return blocked(problem, icon="⏱️")
    return config


def blocked(message: str, icon: str = "🚫") -> None:
    """Show why this setup cannot train, and keep it for the live view beside the disabled Train button."""
    st.error(message, icon=icon)
    st.session_state["pg_blocked"] = (message, icon)


# --- controls ---------------------------------------------------------------------------------

def request(action: str) -> None:
    """Train or Step pressed: remembered here, carried out by this script run once it has read every
    widget (`start_requested`). A callback's arguments come from the previous run, so a value typed
    just before the click would otherwise be missed."""
    if ui.first_call(action):
        st.session_state["pg_requested"] = action


def start_requested(config: TrainConfig | None) -> None:
    """Start the run that Train or Step asked for, with the settings the widgets show now."""
    action, run = st.session_state.pop("pg_requested", None), ui.runner(RUN)
    if action == "step" and run is not None and run.active:
        run.step()  # a step of the run in progress needs no settings (they may be mid-edit)
    elif action is None or config is None:
        return
    elif action == "step":
        ui.start_runner(RUN, config, paused=True).step()
    else:
        ui.start_runner(RUN, config, initial_state=loaded_weights_for(config))


def loaded_weights_for(config: TrainConfig) -> dict | None:
    """The uploaded model's weights when the user chose to continue from them and they fit `config`."""
    loaded = st.session_state.get("pg_loaded")
    if loaded is None or not st.session_state.get("pg_continue", True):
        return None
    same_model = loaded.config.dataset.name == config.dataset.name and \
        plan_for(loaded.config).layers == plan_for(config).layers and loaded.config.loss == config.loss
    return loaded.model.state_dict() if same_model else None


def set_paused(paused: bool) -> None:
    """Pause or resume: an absolute intent, so a repeated callback cannot undo it."""
    run = ui.runner(RUN)
    if run is None:
        return
    if paused:  # a statement, not a conditional expression: Streamlit's magic would st.write its None
        run.pause()
    else:
        run.resume()


def controls(config: TrainConfig | None) -> None:
    run = ui.runner(RUN)
    active = run is not None and run.active
    cols = st.columns(5)
    cols[0].button("Train", icon=":material/play_arrow:", type="primary", disabled=config is None, on_click=request,
                   args=("train",), width="stretch", key="pg_train", help="start a new run with these settings")
    paused = active and run.paused
    cols[1].button("Resume" if paused else "Pause", icon=":material/play_circle:" if paused else ":material/pause:",
                   disabled=not active, on_click=set_paused, args=(not paused,), width="stretch", key="pg_pause")
    cols[2].button("Step", icon=":material/skip_next:", disabled=config is None and not active, on_click=request,
                   args=("step",), width="stretch", key="pg_step", help="train one epoch, then pause")
    cols[3].button("Stop", icon=":material/stop:", disabled=not active, on_click=lambda: ui.runner(RUN).stop(),
                   width="stretch", key="pg_stop")
    cols[4].button("Reset", icon=":material/restart_alt:", disabled=run is None, on_click=ui.discard_runner, args=(RUN,),
                   width="stretch", key="pg_reset", help="discard the run and its charts")


def follow_learning_rate(lr: float) -> None:
    """Changing the learning rate takes effect in the running run, as in TF Playground."""
    run = ui.runner(RUN)
    if run is not None and run.requested_lr != lr and run.active:
        run.set_learning_rate(lr)


# --- live view --------------------------------------------------------------------------------

STATUS_BOX = {COMPLETED: st.success, DIVERGED: st.error, FAILED: st.error}
BADGE_COLOUR = {"queued": "violet", "running": "blue", "paused": "orange", COMPLETED: "green", DIVERGED: "red", FAILED: "red"}


def queued() -> bool:
    """Whether this session's run is waiting in the queue for a training worker."""
    run = ui.runner(RUN)
    return run is not None and run.snapshot().status == QUEUED


def render_live(preview: TrainConfig | None) -> bool:
    """Status, metrics, the boundary (or fitted curve) and the curves of the current run."""
    run = ui.runner(RUN)
    if run is None:
        if preview is not None:
            figure = plots.data_figure(ui.cached_dataset(preview.dataset))
            if figure is not None:
                st.plotly_chart(figure, key="pg_boundary", width="stretch")
        if st.session_state.get("pg_blocked"):  # the Model column's reason, where the disabled Train button is
            message, icon = st.session_state["pg_blocked"]
            st.error(message, icon=icon)
        else:
            st.info("Press **Train** to start, or **Step** to train one epoch at a time.", icon=":material/touch_app:")
        return False
    snap = run.snapshot()
    dataset = ui.cached_dataset(run.config.dataset)
    status_line(snap, dataset.task, dataset.is_image)
    if snap.status == QUEUED:  # nothing to chart yet: keep a queued page's polls cheap
        st.caption("The charts appear when your run starts.")
        return True
    figure = None if dataset.is_image else plots.data_figure(dataset, snap.frame)
    if figure is not None:
        st.plotly_chart(figure, key="pg_boundary", width="stretch")
        st.caption("Dots: training points · diamonds: test points · stronger shade: more confident.")
    loss_col, score_col = st.columns(2)
    loss_col.plotly_chart(plots.loss_figure(snap.history, run.config.epochs, LOSSES[run.config.loss].title),
                          key="pg_loss_chart", width="stretch")
    score_col.plotly_chart(plots.score_figure(snap.history, run.config.epochs, dataset.task),
                           key="pg_score_chart", width="stretch")
    return snap.active


def status_line(snap, task: str, is_image: bool = False) -> None:
    """One line of progress, then the latest (or final) loss and score."""
    rate = snap.final.get("epochs_per_second") if snap.final else snap.epochs_per_second
    colour = BADGE_COLOUR.get(snap.status, "gray")
    epoch = f"**{snap.epoch:,}**"
    if snap.active and snap.history.batch_epochs and snap.history.batch_epochs[-1] > snap.epoch:
        epoch = f"**{snap.history.batch_epochs[-1]:.1f}**"  # mid-way through a long epoch
    speed = (f"**{rate or 0:.2f}** epochs/s · **{snap.samples_per_second:,.0f}** images/s" if is_image
             else f"**{rate or 0:,.0f}** epochs/s")
    st.markdown(f":{colour}-badge[{snap.status.capitalize()}] &nbsp; epoch {epoch} / {snap.epochs:,}"
                f" · {speed} · learning rate {snap.lr:g}")
    score = "accuracy" if task == CLASSIFICATION else "R²"
    if snap.final:
        key = "accuracy" if task == CLASSIFICATION else "r2"
        values = [snap.final.get("train_loss"), snap.final.get("test_loss"),
                  snap.final.get(f"train_{key}"), snap.final.get(f"test_{key}")]
    else:
        h = snap.history
        values = [_last(h.train_loss), _last(h.test_loss), _last(h.train_score), _last(h.test_score)]
    for col, label, value in zip(st.columns(4), ("Train loss", "Test loss", f"Train {score}", f"Test {score}"), values):
        col.metric(label, _fmt(value))
    if snap.message:
        STATUS_BOX.get(snap.status, st.info)(markdown_literal(snap.message))


def _last(values):
    return values[-1] if values else None


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.4f}"


# --- inspecting an image classifier -----------------------------------------------------------

INSPECT_SECONDS = 2.0  # the inspection refreshes less often than the curves


def render_inspection() -> bool:
    """Confusion matrix, per-class scores, test images and filters of the current image run."""
    run = ui.runner(RUN)
    if run is None or not DATASETS[run.config.dataset.name].is_image:
        return False
    snap = run.snapshot()
    frame = snap.frame
    st.subheader("Inspect the model")
    if not isinstance(frame, ImageFrame):
        st.caption("The confusion matrix and the test images appear after the first epoch.")
        return snap.active
    dataset = ui.cached_dataset(run.config.dataset)
    matrix = inspection.confusion_matrix(dataset.y_test, frame.predicted, dataset.n_classes)
    accuracy = float(matrix.trace() / max(matrix.sum(), 1))
    st.caption(f"On the {len(dataset.y_test):,} test images after epoch {frame.epoch}: accuracy {accuracy:.2%}.")
    confusion, scores, images, filters = st.tabs(["Confusion matrix", "Per-class scores", "Test images",
                                                  "First-layer filters"])
    with confusion:
        confusion_tab(matrix, dataset, frame)
    with scores:
        scores_tab(matrix, dataset.class_names)
    with images:
        st.caption("Mistakes first (the most confident ones), then the least confident correct answers.")
        image_grid(dataset, frame, None, None, key="pg_grid_all")
    with filters:
        filters_tab(frame)
    return snap.active


def confusion_tab(matrix, dataset, frame: ImageFrame) -> None:
    names = dataset.class_names
    options = [None, *range(len(names))]
    label = lambda c: "any class" if c is None else names[c]  # noqa: E731
    true_col, pred_col = st.columns(2)
    true_class = true_col.selectbox("True class", options, format_func=label, key="pg_cm_true")
    predicted = pred_col.selectbox("Predicted as", options, format_func=label, key="pg_cm_pred")
    st.plotly_chart(plots.confusion_figure(matrix, names, (true_class, predicted)), key="pg_confusion",
                    on_select=select_cell, selection_mode="points", width="stretch")
    worst = inspection.most_confused(matrix)
    if worst:
        st.caption("Most confused (true → predicted): " +
                   " · ".join(f"{names[t]} → {names[p]} ({n})" for t, p, n in worst))
    if true_class is None and predicted is None:
        st.caption("Click a cell, or pick a true and a predicted class, to see those test images.")
    else:
        image_grid(dataset, frame, true_class, predicted, key="pg_grid_cell")


def select_cell() -> None:
    """A click on a confusion-matrix cell picks that (true, predicted) pair."""
    points = st.session_state["pg_confusion"].selection.get("points", [])
    names = list(DATASETS[ui.runner(RUN).config.dataset.name].class_names) if ui.runner(RUN) else []
    if points and names and points[0].get("y") in names and points[0].get("x") in names:
        st.session_state["pg_cm_true"] = names.index(points[0]["y"])
        st.session_state["pg_cm_pred"] = names.index(points[0]["x"])


def image_grid(dataset, frame: ImageFrame, true_class, predicted, key: str, limit: int = 30) -> None:
    chosen = inspection.cell_examples(dataset.y_test, frame.predicted, true_class, predicted, frame.confidence, limit)
    if len(chosen) == 0:
        st.caption("No test images in this cell.")
        return
    names = dataset.class_names
    pictures = [inspection.upscale(dataset.x_test[i, 0], 96) for i in chosen]
    captions = [(f"✓ {names[frame.predicted[i]]}" if frame.predicted[i] == dataset.y_test[i] else
                 f"✗ {names[frame.predicted[i]]} (true {names[dataset.y_test[i]]})") + f" {frame.confidence[i]:.0%}"
                for i in chosen]
    with st.container(key=key):
        st.image(pictures, caption=captions, width=96)


def scores_tab(matrix, class_names) -> None:
    rows = inspection.class_scores(matrix, class_names)
    table = [{"class": r.name, "precision": r.precision, "recall": r.recall, "F1": r.f1, "test images": r.support}
             for r in [*rows, inspection.macro_average(rows)]]
    st.dataframe(table, hide_index=True, width="stretch", key="pg_class_scores",
                 column_config={name: st.column_config.NumberColumn(format="%.3f")
                                for name in ("precision", "recall", "F1")})
    st.caption("Precision: of the images predicted as the class, how many are. Recall: of the class's images, "
               "how many were found. F1: their harmonic mean. Empty: undefined (never predicted).")


def filters_tab(frame: ImageFrame) -> None:
    if frame.filters is None:
        st.caption("This model has no convolution layer, so there are no filters to show.")
        return
    out, inputs, k, _ = frame.filters.shape
    st.caption(f"The {out} filters ({k}x{k}) of the first Conv2d, averaged over its {inputs} input channel(s): "
               "white = most positive weight, black = most negative.")
    st.image(inspection.filter_images(frame.filters[:64], 56), caption=[f"#{i + 1}" for i in range(min(out, 64))],
             width=56)


# --- inside an MLP ----------------------------------------------------------------------------

def render_inside() -> bool:
    """The network diagram (edges = weights) and, for 2-D data, each hidden neuron's output map."""
    run = ui.runner(RUN)
    if run is None:
        st.caption("The network diagram appears when training starts.")
        return False
    snap = run.snapshot()
    model = inside_model(run.config, snap.weights)
    if model is None or not network.is_mlp(model):
        st.caption("The diagram shows small fully connected networks (up to 50,000 weights).")
        return snap.active
    dataset = ui.cached_dataset(run.config.dataset)
    outputs = dataset.class_names if len(dataset.class_names) == plan_for(run.config).output_shape[0] else ("y",)
    st.plotly_chart(network.network_figure(network.diagram(model), plotly_literals(dataset.feature_names),
                                           plotly_literals(outputs)),
                    key="pg_network", width="stretch", config={"displayModeBar": False})
    st.caption("Blue edges: positive weights, orange: negative; thicker means larger.")
    maps = network.neuron_maps(model, frames.axis_ranges(dataset)) if dataset.n_features == 2 else None
    if maps is not None and maps.layers:
        st.plotly_chart(network.neuron_figure(maps), key="pg_neurons", width="stretch",
                        config={"displayModeBar": False})
        st.caption("What each hidden neuron outputs over the input plane (blue: positive, orange: negative).")
    return snap.active


def inside_model(config: TrainConfig, weights: dict | None):
    if weights is None:
        return None
    try:
        return model_for_state(config, weights)
    except CheckpointError:
        return None


# --- share, export ------------------------------------------------------------------------------

def share_panel(config: TrainConfig | None) -> None:
    """The link to this setup; in teacher mode the link can hide chosen controls from students."""
    with st.expander("Share a link to this setup", icon=":material/link:", key="pg_share_panel"):
        if config is None:
            st.caption("Fix the settings problem first: only a setup that can train is shared.")
            return
        teacher = st.toggle("Teacher mode: hide controls from students who open the link", key="pg_teacher")
        hidden = st.multiselect("Hide", list(share.HIDEABLE), format_func=share.HIDEABLE.get, key="pg_share_hide",
                                disabled=not teacher) if teacher else []
        address = share.link(st.context.url or "http://localhost:8501/Playground", config, hidden,
                             st.session_state.get("pg_lesson", ""))
        st.code(address, language=None, wrap_lines=True)
        st.caption("The link holds the whole setup, seeds included: whoever opens it gets the same data, the "
                   "same starting weights and the same run." + (" Hidden controls keep the link's values." if
                                                                 hidden else ""))


def export_panel(config: TrainConfig | None) -> None:
    """The setup as a standalone PyTorch script, and the data as CSV."""
    with st.expander("Export as a PyTorch script, and the data as CSV", icon=":material/code:",
                     key="pg_export_panel"):
        if config is None:
            st.caption("Fix the settings problem first: only a setup that can train is exported.")
            return
        script = export.export_script(config)
        st.download_button("Download the script", script, export.script_name(config), "text/x-python",
                           key="pg_download_script", icon=":material/download:")
        st.code(script, language="python", line_numbers=True, height=360)
        data_download(config)


def data_download(config: TrainConfig) -> None:
    if config.dataset.table is not None:
        st.download_button("Download the table (data.csv, for the script's --csv)",
                           lambda: table_download(config.dataset.table.file), "data.csv", "text/csv",
                           key="pg_download_table")
        return
    dataset = ui.cached_dataset(config.dataset)
    if dataset.is_image and len(dataset.y_train) + len(dataset.y_test) > tabular.MAX_IMAGE_ROWS:
        st.caption(f"Image data downloads as CSV up to {tabular.MAX_IMAGE_ROWS:,} images: set Train images "
                   "and Test images lower to download them.")
        return
    st.download_button("Download the data as CSV", lambda: tabular.dataset_csv(dataset),
                       f"{config.dataset.name}.csv", "text/csv", key="pg_download_data",
                       help="every point with its label and whether it is a training or a test point")


def table_download(file: str) -> bytes:
    """The table for download (formulas made harmless); a table gone since the page showed it gives a file
    saying so, since a click on a download cannot show a message on the page."""
    try:
        return tabular.table_bytes(file)
    except tabular.TableError as error:
        return f"The table could not be downloaded: {error.message}.\n".encode()


# --- config and model files -------------------------------------------------------------------

def config_panel(config: TrainConfig | None) -> None:
    """The config as JSON (download, load) and the trained model as a checkpoint."""
    with st.expander("Config JSON — share it, or train it headlessly with `python -m playground train`",
                     key="pg_config_panel"):
        if config is not None:
            st.code(config.to_json(), language="json")
            st.download_button("Download config", config.to_json(), "playground-config.json", "application/json",
                               key="pg_download_config")
        st.file_uploader("Load a config", type=["json"], key="pg_upload_config", on_change=load_uploaded_config)
        if st.session_state.get("pg_upload_error"):
            st.error(markdown_literal(st.session_state["pg_upload_error"]), icon="🚫")
    model_upload()
    run = ui.runner(RUN)
    if run is not None and run.engine is not None and not run.active:
        engine, final = run.engine, run.snapshot().final
        st.download_button("Download trained model (.pt)",  # the bytes are made only when it is clicked
                           lambda: checkpoint_bytes(run.config, engine.model, engine.dataset.class_names, final),
                           "playground-model.pt", key="pg_download_model",
                           help="config and weights in one file: load it here again, or use it with "
                                "python -m playground predict playground-model.pt X1 X2 (or IMAGE.png)")


def model_upload() -> None:
    """Load a .pt checkpoint: its config fills the page and its weights can be trained further."""
    with st.expander("Load a trained model (.pt) to inspect it or continue training it", key="pg_model_panel"):
        st.file_uploader("Model file", type=["pt"], key="pg_upload_model", on_change=load_uploaded_model)
        if st.session_state.get("pg_model_error"):
            st.error(markdown_literal(st.session_state["pg_model_error"]), icon="🚫")
        loaded = st.session_state.get("pg_loaded")
        if loaded is not None:
            metrics = loaded.metrics
            score = metrics.get("test_accuracy", metrics.get("test_r2"))
            st.success(f"Loaded a {DATASETS[loaded.config.dataset.name].title} model with "
                       f"{len(loaded.config.layers)} layers" + (f", test score {score:.4f}" if score is not None else "")
                       + ". Press Resume to continue training it.", icon="✅")
            st.checkbox("Train starts from the loaded weights (when the model and dataset still match)",
                        value=True, key="pg_continue")


def load_uploaded_model() -> None:
    loaded = ui.uploaded_checkpoint("pg_upload_model", "pg_model_error")
    if loaded is None:
        return
    st.session_state["pg_loaded"] = loaded
    apply_config(loaded.config)
    ui.start_runner(RUN, loaded.config, paused=True, initial_state=loaded.model.state_dict())


def load_uploaded_config() -> None:
    upload = st.session_state.get("pg_upload_config")
    st.session_state["pg_upload_error"] = None
    if upload is None:
        return
    try:
        apply_config(TrainConfig.from_json(upload.getvalue().decode("utf-8", errors="replace")))
    except ConfigError as error:
        st.session_state["pg_upload_error"] = f"That config was not loaded: {error}"


# --- page -------------------------------------------------------------------------------------

ui.warm_up()
setup_from_link()
st.title("Playground")
link_notices()
lesson_banner()
st.session_state.update(pg_data_error=None, pg_data_prompt=None)
with st.sidebar:
    data = dataset_section()
    spec = DATASETS[data["name"]]
    task, n_classes = task_of(data)
    training = training_section(task, n_classes, spec.is_image)

model_col, live_col = st.columns([2, 3], gap="large")
with model_col:
    layers = layer_editor(spec.is_image)
try:
    config, config_error = TrainConfig.from_dict({"dataset": data, "layers": layers, **training}), None
except ConfigError as error:
    config, config_error = None, f"Settings problem — {error}"
config_error = st.session_state["pg_data_error"] or config_error
with model_col:
    trainable = show_plan(config, config_error)
with live_col:
    start_requested(trainable)
    controls(trainable)
    follow_learning_rate(training["optimizer"]["lr"])
    run = ui.runner(RUN)
    if run is not None and trainable is not None and run.active and \
            trainable.replace(optimizer=replace(trainable.optimizer, lr=run.config.optimizer.lr)) != run.config:
        st.caption("Settings changed since this run started: press Train to restart with them "
                   "(the learning rate applies at once).")
    ui.live(lambda: render_live(trainable), active=run is not None and run.active, key=RUN, waiting=queued)
    if spec.is_image or (run is not None and DATASETS[run.config.dataset.name].is_image):
        ui.live(render_inspection, active=run is not None and run.active, key="pg_inspect", every=INSPECT_SECONDS)
    elif st.toggle("See inside the network", value=True, key="pg_inside"):
        ui.live(render_inside, active=run is not None and run.active, key="pg_inside_view", every=INSPECT_SECONDS)
share_panel(trainable)
export_panel(trainable)
config_panel(trainable)
write_link(trainable)
