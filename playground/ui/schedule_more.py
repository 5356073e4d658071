"""The Training section's extra controls for issue 17: the optimizer's "more" settings (Adam/AdamW betas
and eps, RMSprop alpha, Adadelta rho, Adagrad lr_decay) in a popover beside the optimizer, the settings of
the new schedules (multistep, exponential, onecycle, plateau), the caption on how a learning rate changed
by hand combines with a schedule, and the learning-rate curve of a run.

The popover draws its widgets only while open (`lazy_blocks`); closed, the settings are read from session
state, where the widgets keep them (`persist_state="page"`). Only settings away from torch's defaults go
into the config. Knows the widget keys (`pg_opt_*`, `pg_sched_*`), not the rest of the page.
"""
from __future__ import annotations

import streamlit as st

from .. import plots
from ..config import MAX_EPOCHS, OptimizerConfig, ScheduleConfig
from ..optim import OPTIMIZER_DEFAULTS, OPTIMIZERS
from . import live_chart
from .lazy_blocks import lazy_popover

EPS_CHOICES = (1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 0.1)
DECAY_CHOICES = (0.0, 1e-4, 1e-3, 1e-2, 0.1)
MAX_LR_CHOICES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
GAMMA_DEFAULTS = {"multistep": 0.1, "exponential": 0.99}  # step keeps its own slider (pg_gamma)
HAND_SET = ("A learning rate changed by hand while training becomes the new base: from the next epoch the "
            "schedule's rates are scaled by new ÷ configured rate (plateau's cuts stay on top).")


def optimizer_state(optimizer) -> dict:
    """Widget values that show an OptimizerConfig's "more" settings."""
    return {"pg_opt_beta1": optimizer.betas[0], "pg_opt_beta2": optimizer.betas[1], "pg_opt_eps": optimizer.eps,
            "pg_opt_alpha": optimizer.alpha, "pg_opt_rho": optimizer.rho, "pg_opt_lr_decay": optimizer.lr_decay}


def schedule_state(schedule: ScheduleConfig) -> dict:
    """Widget values that show a ScheduleConfig's settings (a gamma only for its own schedule)."""
    gamma = {f"pg_sched_{schedule.name}_gamma": schedule.gamma} if schedule.name in GAMMA_DEFAULTS else {}
    return {"pg_sched_milestones": ", ".join(map(str, schedule.milestones)), "pg_sched_factor": schedule.factor,
            "pg_sched_patience": schedule.patience, "pg_sched_max_lr": schedule.max_lr, **gamma}


def more_settings(name: str) -> dict:
    """The "More" popover of optimizer `name` (none for SGD); returns its settings that differ from torch's."""
    keys = OPTIMIZERS[name].more
    if not keys:
        return {}
    for key, value in optimizer_state(OptimizerConfig()).items():
        st.session_state.setdefault(key, value)
    box = lazy_popover("More", "pg_opt_more", icon=":material/tune:", help=f"{OPTIMIZERS[name].title}'s other settings")
    if box.open:
        with box:
            for key in keys:
                MORE_INPUTS[key]()
    state = st.session_state
    values = {"betas": (state["pg_opt_beta1"], state["pg_opt_beta2"]), "eps": state["pg_opt_eps"],
              "alpha": state["pg_opt_alpha"], "rho": state["pg_opt_rho"], "lr_decay": state["pg_opt_lr_decay"]}
    values["betas"] = tuple(values["betas"])
    return {key: list(values[key]) if key == "betas" else values[key]
            for key in keys if values[key] != OPTIMIZER_DEFAULTS[key]}


def _betas() -> None:
    st.number_input("β₁ (average of gradients)", 0.0, 0.9999, step=0.01, format="%.4f", key="pg_opt_beta1",
                    persist_state="page")
    st.number_input("β₂ (average of squared gradients)", 0.0, 0.9999, step=0.001, format="%.4f", key="pg_opt_beta2",
                    persist_state="page")


def _select(label: str, choices: tuple, key: str) -> None:
    st.select_slider(label, sorted({*choices, st.session_state[key]}), format_func=lambda v: f"{v:g}", key=key,
                     persist_state="page")


def _eps() -> None:
    _select("ε (added to the denominator)", EPS_CHOICES, "pg_opt_eps")


def _alpha() -> None:
    st.number_input("α (average of squared gradients)", 0.0, 0.9999, step=0.01, format="%.4f", key="pg_opt_alpha",
                    persist_state="page")


def _rho() -> None:
    st.number_input("ρ (average of squared gradients and steps)", 0.0, 1.0, step=0.05, format="%.3f", key="pg_opt_rho",
                    persist_state="page")


def _lr_decay() -> None:
    _select("Learning-rate decay per step", DECAY_CHOICES, "pg_opt_lr_decay")


MORE_INPUTS = {"betas": _betas, "eps": _eps, "alpha": _alpha, "rho": _rho, "lr_decay": _lr_decay}


def schedule_settings(name: str) -> dict:
    """The settings of the new schedules (step's are the panel's own), then the caption on hand-set rates."""
    for key, value in schedule_state(ScheduleConfig()).items():
        st.session_state.setdefault(key, value)
    settings = SCHEDULE_INPUTS.get(name, dict)()
    if name != "none":
        st.caption(HAND_SET)
    return settings


def _gamma(name: str, label: str) -> float:
    key = f"pg_sched_{name}_gamma"
    st.session_state.setdefault(key, GAMMA_DEFAULTS[name])
    return st.number_input(label, 0.001, 1.0, step=0.01 if name == "multistep" else 0.001, format="%.3f", key=key)


def _milestones() -> dict:
    text = st.text_input("Decay at epochs", key="pg_sched_milestones", help="epochs separated by commas, e.g. 30, 60")
    parts = [part.strip() for part in text.split(",")]
    milestones = [int(part) for part in parts] if all(part.isdigit() for part in parts) else text
    return {"milestones": milestones, "gamma": _gamma("multistep", "Decay factor")}


def _exponential() -> dict:
    return {"gamma": _gamma("exponential", "Factor per epoch")}


def _onecycle() -> dict:
    choices = sorted({*MAX_LR_CHOICES, st.session_state["pg_sched_max_lr"]})
    return {"max_lr": st.select_slider("Peak learning rate", choices, format_func=lambda v: f"{v:g}",
                                       key="pg_sched_max_lr")}


def _plateau() -> dict:
    return {"factor": st.slider("Cut factor", 0.05, 0.95, step=0.05, key="pg_sched_factor"),
            "patience": st.number_input("Patience (evaluations)", 0, MAX_EPOCHS, key="pg_sched_patience",
                                        help="test evaluations without improvement before a cut")}


SCHEDULE_INPUTS = {"multistep": _milestones, "exponential": _exponential, "onecycle": _onecycle, "plateau": _plateau}


def lr_curve(run, snap) -> None:
    """The learning rate over the run, when it changes (a schedule, or a rate set by hand)."""
    history = snap.history
    if run.config.schedule.name == "none" and len(set(history.lr)) <= 1:
        return
    figure = live_chart.prepared(("lr", history.eval_epochs, history.lr, run.config.epochs),
                                 lambda: plots.lr_spec(history, run.config.epochs))
    live_chart.chart(figure, key="pg_lr_chart")
