"""The Playground's Training section (sidebar): loss, optimizer, learning rate (drawn where the page puts
it: beside the run buttons), schedule, batch size, epochs, model seed and device.

Returns the training part of a config (`TrainConfig.to_dict()` keys); controls a teacher's link
hides keep the link's values. Offers only the losses that fit the dataset's task. Knows nothing
about the model or the run: the learning rate reaches a running run through `controls`.
"""
from __future__ import annotations

import streamlit as st

from ..config import MAX_EPOCHS, dataset_task
from ..datasets import DATASETS
from ..losses import DEFAULT_LOSS, LOSSES, compatible_losses
from ..optim import OPTIMIZERS, SCHEDULES
from . import server
from .link import link_config, shown
from .schedule_more import more_settings, schedule_settings

LR_CHOICES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
DECAY_CHOICES = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.1)
BATCH_CHOICES = (0, 1, 8, 16, 32, 64, 128, 256, 512, 1024)
SCHEDULE_TITLES = {name: schedule.title for name, schedule in SCHEDULES.items()}


def with_choice(choices: tuple, value) -> list:
    """The slider's choices, with the current value among them (a link or a config may set any value)."""
    return sorted({*choices, value})


def training_section(data: dict, lr_place=None) -> dict:
    """The Training section for the dataset settings `data`; returns the settings it shows. The learning rate
    goes to `lr_place` (a container beside the run buttons) when given, else into the section."""
    st.header("Training")
    task, n_classes = dataset_task(data)
    losses = compatible_losses(task, n_classes)
    if st.session_state.get("pg_loss") not in losses:
        st.session_state["pg_loss"] = DEFAULT_LOSS[task]
    loss = st.selectbox("Loss", losses, format_func=lambda n: LOSSES[n].title, key="pg_loss") if shown("loss") \
        else link_config().loss
    optimizer = optimizer_inputs() if shown("optimizer") else link_config().optimizer.to_dict()
    optimizer["lr"] = learning_rate(lr_place or st) if shown("learning_rate") else link_config().optimizer.lr
    schedule = schedule_inputs() if shown("schedule") else link_config().schedule.to_dict()
    return {"loss": loss, "optimizer": optimizer, "schedule": schedule,
            **(run_inputs(DATASETS[data["name"]].is_image) if shown("training") else
               {key: getattr(link_config(), key) for key in ("batch_size", "epochs", "seed", "device")})}


def learning_rate(place) -> float:
    return place.select_slider("Learning rate", with_choice(LR_CHOICES, st.session_state["pg_lr"]),
                               format_func=lambda v: f"{v:g}", key="pg_lr", help="can be changed while training")


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
    return {**optimizer, **more_settings(name)}


def schedule_inputs() -> dict:
    schedule = {"name": st.selectbox("Learning-rate schedule", list(SCHEDULES), key="pg_schedule",
                                     format_func=SCHEDULE_TITLES.get)}
    if schedule["name"] == "step":
        schedule["step_size"] = st.number_input("Decay every (epochs)", 1, MAX_EPOCHS, key="pg_step_size")
        schedule["gamma"] = st.slider("Decay factor", 0.01, 1.0, step=0.01, key="pg_gamma")
    return {**schedule, **schedule_settings(schedule["name"])}


def run_inputs(is_image: bool) -> dict:
    return {"batch_size": st.selectbox("Batch size", with_choice(BATCH_CHOICES, st.session_state["pg_batch"]),
                                       format_func=lambda b: "full batch" if b == 0 else str(b), key="pg_batch"),
            "epochs": st.number_input("Epochs", 1, MAX_EPOCHS, step=1 if is_image else 100, key="pg_epochs"),
            "seed": st.number_input("Model seed", 0, 2**32 - 1, step=1, key="pg_seed"),
            "device": st.selectbox("Device", server.device_choices(st.session_state.get("pg_device", "auto")),
                                   key="pg_device")}
