"""Whether the page's setup can train, and the Model column's display of it: the layer summary table,
or why the setup cannot train.

`assess` decides (the settings' config, its plan, and the problem if any; no widget drawn);
`show_plan` displays that and keeps the problem (`pg_blocked`) for the live view beside the disabled
Train button. The headless checks (layers, batch memory, run budget) are `budget.training_problem`'s;
this module knows the page's own problems: a table still to upload, data that cannot be read,
settings that do not make a config.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from .. import budget, settings
from ..config import ConfigError, TrainConfig
from ..model import ModelPlan
from ..text import markdown_literal
from ..transfer import trainable_parameters
from . import class_data, server, transfer_panel

# How each kind of budget.training_problem shows: (text as Markdown, icon)
PROBLEM_DISPLAY = {budget.LAYERS: (markdown_literal, "🚫"), budget.BATCH: (markdown_literal, "🚫"),
                   budget.BUDGET: (str, "⏱️")}
UPLOAD_ICON = ":material/upload_file:"


@dataclass(frozen=True)
class Problem:
    text: str  # Markdown
    icon: str
    invitation: bool = False  # something to do first (upload a table), not an error


@dataclass(frozen=True)
class Assessment:
    config: TrainConfig | None  # None when the settings do not make a config
    plan: ModelPlan | None  # None when there is no config or its layers do not fit the data
    problem: Problem | None  # why it cannot train; None when it can

    @property
    def trainable(self) -> TrainConfig | None:
        """The config when it can train, else None."""
        return self.config if self.problem is None else None


def assess(data: dict, layers: list[dict], training: dict) -> Assessment:
    """Whether the settings the panels show (dataset, layers, training) can train, and if not, why."""
    try:
        config, error = TrainConfig.from_dict({"dataset": data, "layers": layers, **training}), None
    except ConfigError as problem:
        config, error = None, f"Settings problem — {problem}"
    refused = config and class_data.refusal(config)  # another class's drawings: never to a run
    if refused:
        return Assessment(config, None, Problem(markdown_literal(refused), "🔒"))
    config = config and class_data.pinned(config)
    if st.session_state.get("pg_data_prompt"):
        return Assessment(config, None, Problem(st.session_state["pg_data_prompt"], UPLOAD_ICON, invitation=True))
    error = st.session_state.get("pg_data_error") or error
    if error:
        return Assessment(config, None, Problem(markdown_literal(error), "🚫"))
    n_train = len(server.cached_dataset(config.dataset).y_train)
    plan, found = budget.training_problem(config, n_train, settings.budget_minutes())
    if found is None:
        return Assessment(config, plan, None)
    kind, reason = found
    as_markdown, icon = PROBLEM_DISPLAY[kind]
    return Assessment(config, plan, Problem(as_markdown(reason), icon))


def show_plan(assessment: Assessment) -> None:
    """The layer summary table (when the layers fit the data), then why the setup cannot train."""
    plan, problem = assessment.plan, assessment.problem
    blocking = problem is not None and not problem.invitation
    st.session_state["pg_blocked"] = (problem.text, problem.icon) if blocking else None
    if problem is not None and problem.invitation:
        st.info(problem.text, icon=problem.icon)
        return
    if plan is not None:
        plan_table(plan, assessment.config.freeze)
        transfer_panel.start_note(assessment.config, plan)
    if blocking:
        st.error(problem.text, icon=problem.icon)


def plan_table(plan: ModelPlan, freeze: int = 0) -> None:
    """The layer table; with frozen layers, a column marking them and the count of weights that learn."""
    frozen = (lambda row: {"frozen": row.index < freeze}) if freeze else (lambda row: {})
    st.dataframe([{"#": row.index + 1, "layer": row.title, "detail": row.detail,
                   "output shape": str(list(row.output_shape)), "parameters": row.parameters, **frozen(row)}
                  for row in plan.rows], hide_index=True, width="stretch")
    trainable = f" · {trainable_parameters(plan, freeze):,} trainable" if freeze else ""
    st.caption(f"Input {list(plan.input_shape)} → output {list(plan.output_shape)} · "
               f"**{plan.parameters:,} parameters**{trainable}")
    for warning in plan.warnings:
        st.warning(markdown_literal(warning), icon="⚠️")
