"""The Playground's widgets <-> a `TrainConfig`: which widget key holds which setting.

`state_for` gives the widget values that show a config, `apply_config` puts them (and the layer
rows) into session state, `use_preset` loads a preset's layers and the training settings it comes
with. The Playground's run lives under `RUN`. Knows the widget keys (`pg_*`), not how the widgets
are drawn: the panels draw them.
"""
from __future__ import annotations

import streamlit as st

from ..config import TrainConfig
from ..datasets import DATASETS
from ..presets import Preset
from .class_session import HANDOUT_KEY
from .schedule_more import optimizer_state, schedule_state

RUN = "pg_run"  # session-state key of the Playground's run
SHOWN = "pg_shown_config"  # the setup the Playground showed last (plain state: it outlives the widgets)


def state_for(config: TrainConfig) -> dict:
    """Widget values (by key) that show `config`."""
    d, o, s = config.dataset, config.optimizer, config.schedule
    return {"pg_dataset": d.name, "pg_ds_seed": d.seed, f"pg_ds_{d.name}_test_fraction": d.test_fraction,
            **{f"pg_ds_{d.name}_{k}": v for k, v in d.values.items()},
            "pg_loss": config.loss, "pg_opt": o.name, "pg_lr": o.lr, "pg_wd": o.weight_decay,
            f"pg_{o.name}_momentum": o.momentum, "pg_nesterov": o.nesterov, "pg_batch": config.batch_size,
            "pg_epochs": config.epochs, "pg_schedule": s.name, "pg_step_size": s.step_size, "pg_gamma": s.gamma,
            "pg_seed": config.seed, "pg_device": config.device, **table_state(d.table), **optimizer_state(o),
            **schedule_state(s), **augment_state(config.augment), "pg_start": config.start_from or "",
            "pg_freeze": config.freeze, **({"pg_ds_class": d.classroom.code} if d.classroom else {})}


def table_state(table) -> dict:
    """Widget values that show an uploaded table's choice of label, features and task."""
    if table is None:
        return {}
    return {"pg_csv_file": table.file, "pg_csv_label": table.label, "pg_csv_features": list(table.features),
            "pg_csv_task": table.task}


AUGMENT_KEYS = {"crop": "pg_aug_crop", "flip": "pg_aug_flip", "rotate": "pg_aug_rotate"}  # setting -> widget key
AUGMENT_OFF = {"crop": 0, "flip": False, "rotate": 0.0}


def augment_state(settings) -> dict:
    """Widget values that show augmentation `settings` (a config's `AugmentConfig`, or None: all off)."""
    values = settings.to_dict() if settings is not None else AUGMENT_OFF
    return {AUGMENT_KEYS[name]: value for name, value in values.items()}


def training_state(training: dict) -> dict:
    """Widget values of a preset's training fragment ({"loss": ..., "optimizer": {"name", "lr", "momentum"}})."""
    state = {"pg_loss": training["loss"]} if "loss" in training else {}
    optimizer = training.get("optimizer", {})
    names = {"name": "pg_opt", "lr": "pg_lr", "momentum": f"pg_{optimizer.get('name')}_momentum"}
    return {**state, **{names[key]: value for key, value in optimizer.items()}}


def apply_config(config: TrainConfig) -> None:
    """Make every widget show `config` (a whole new setup: no longer the one a class hand-out gave)."""
    st.session_state.update(state_for(config), pg_image_mode=DATASETS[config.dataset.name].is_image)
    st.session_state.pop(HANDOUT_KEY, None)
    set_layers(config.layers)


def set_layers(specs) -> None:
    """Replace the layer rows with `specs`, each with a new id (so its widgets start afresh)."""
    st.session_state["pg_next_id"] = st.session_state.get("pg_next_id", 0) + len(specs)
    first = st.session_state["pg_next_id"] - len(specs)
    st.session_state["pg_layers"] = [{**spec, "id": first + i} for i, spec in enumerate(specs)]


def use_preset(preset: Preset) -> None:
    """Load a preset's layers and the training settings it comes with (loss, optimizer, learning rate)."""
    set_layers(preset.stack())
    st.session_state.pop(HANDOUT_KEY, None)
    st.session_state.update(training_state(preset.training))


def init() -> None:
    """On a session's first run, the widgets show the default config; back from another page, the
    setup they showed last (`restore_widgets`)."""
    if "pg_layers" not in st.session_state:
        apply_config(TrainConfig())
    else:
        restore_widgets()


def restore_widgets() -> None:
    """Streamlit drops the values of widgets a page run did not draw, so after a visit to another page
    the Playground's widgets would start from their defaults (or fail where a widget reads its own
    value). The layer rows are plain state and stay; the other widgets get back the values of the
    setup the page showed last (`SHOWN`, kept by `link.write_link`), where they lost them."""
    shown = st.session_state.get(SHOWN)
    if shown is not None:
        st.session_state.update({key: value for key, value in state_for(shown).items() if key not in st.session_state})
