"""The Runs page's panels: this browser's saved runs, the pick of runs to compare, their overlaid
curves, the settings that differ, and open / rename / delete.

Owns the page's keys (`rn_pick`, `rn_table`, `rn_loss`, `rn_score`, `rn_differences`, `rn_manage`,
`rn_name_<id>`, `rn_delete`) and its messages (`rn_notice`, `rn_problem`). Reads and changes the
runs through the server's run store under this browser's workspace; knows nothing about training.
"""
from __future__ import annotations

import streamlit as st

from .. import compare, plots, quiz, share
from ..config import ConfigError, TrainConfig
from ..runstore import RunStoreError
from ..text import markdown_literal
from . import server, workspace

# metric -> (the chart's title, whether its y axis is logarithmic)
CURVE_TITLES = {"train_loss": ("Train loss", True), "test_loss": ("Test loss", True),
                "train_score": ("Train accuracy / R²", False), "test_score": ("Test accuracy / R²", False)}
SHOWN_AT_FIRST = 3  # the newest runs are compared when nothing has been picked yet


def saved_runs() -> list:
    """This browser's saved runs, newest first; stops the page with a message when the file cannot be read."""
    try:
        return server.run_store().runs(workspace.current())
    except RunStoreError as error:
        st.error(markdown_literal(f"The saved runs cannot be read right now: {error}. Runs you train stay on "
                                  "their page meanwhile; try again later."), icon="🚫")
        st.stop()


def messages() -> None:
    """What the last delete or failed change left to say (shown once)."""
    notice = st.session_state.pop("rn_notice", None)
    if notice:
        st.success(notice, icon="🗑️")
    if problem := st.session_state.pop("rn_problem", None):
        st.error(problem, icon="🚫")


def pick(records: list) -> list:
    """The runs picker and the table of every run; returns the picked records."""
    by_id = {r.id: r for r in records}
    default = [r.id for r in records[:SHOWN_AT_FIRST]]
    st.session_state["rn_pick"] = [i for i in st.session_state.get("rn_pick", default) if i in by_id]
    picked = st.multiselect("Runs to compare", list(by_id), format_func=lambda i: label(by_id[i]), key="rn_pick")
    predicted = any(r.prediction for r in records)  # a lesson's runs: the prediction made before Train
    st.dataframe([{"compared": r.id in picked, **compare.summary(r),
                   **({"prediction": quiz.describe(r.prediction)} if predicted else {})} for r in records],
                 hide_index=True, width="stretch", key="rn_table",
                 column_config={"test score": st.column_config.NumberColumn(format="%.4f")})
    return [by_id[i] for i in picked]


def label(record) -> str:
    return f"#{record.id} · {record.name or compare.summary(record)['model']}"


def overlay(chosen: list, metric: str, key: str) -> None:
    """One chart of `metric`'s curve for every chosen run."""
    title, log = CURVE_TITLES[metric]
    series = [(label(r), *compare.curve(r, metric)) for r in chosen]
    epochs = max((int(max(xs)) for _, xs, _ in series if xs), default=1)
    st.plotly_chart(plots.overlay_figure(series, title, epochs, log=log), key=key, width="stretch")


def differences(chosen: list) -> None:
    """A table of the settings in which the chosen runs differ."""
    if len(chosen) < 2:
        st.caption("Pick a second run to see which settings differ.")
        return
    rows = compare.differences([r.config for r in chosen])
    if not rows:
        st.caption("These runs have the same settings, seeds included, so they trained the same way.")
        return
    st.dataframe([{"setting": key, **{label(r): _cell(v) for r, v in zip(chosen, values)}} for key, values in rows],
                 hide_index=True, width="stretch", key="rn_differences")


def _cell(value) -> str:
    return "–" if value is None else str(value)


def open_links(chosen: list) -> None:
    """A link per chosen run that opens its setup in the Playground."""
    for record in chosen:
        try:
            config = TrainConfig.from_dict(record.config)
        except ConfigError as error:
            st.caption(markdown_literal(f"{label(record)} cannot be opened here: {error}"))
            continue
        st.page_link("pages/1_Playground.py", label=f"Open {markdown_literal(label(record))} in the Playground",
                     icon=":material/open_in_new:", query_params=share.to_query(config))


def manage(chosen: list) -> None:
    """Rename (one run picked) and delete (with a confirmation)."""
    if len(chosen) == 1:
        record = chosen[0]
        st.text_input("Name", value=record.name, key=f"rn_name_{record.id}", max_chars=80,
                      on_change=rename, args=(record.id,), placeholder=compare.summary(record)["name"])
    with st.popover(f"Delete {len(chosen)} run{'s' * (len(chosen) != 1)}", icon=":material/delete:"):
        st.write("Deleted runs cannot be brought back.")
        st.button("Delete", type="primary", key="rn_delete", on_click=delete, args=([r.id for r in chosen],))


def store_change(what: str, change) -> int | None:
    """Run `change()` on the runs file; a failure is kept as a message for the page (never raised)."""
    try:
        return change()
    except RunStoreError as error:
        st.session_state["rn_problem"] = f"{what} did not work: {error}. Nothing was changed; try again later."
        return None


def rename(run_id: int) -> None:
    store_change("Renaming the run", lambda: server.run_store().rename(workspace.current(), run_id,
                                                                    st.session_state[f"rn_name_{run_id}"]))


def delete(run_ids: list[int]) -> None:
    removed = store_change("Deleting", lambda: server.run_store().delete(workspace.current(), run_ids))
    if removed is None:
        return
    st.session_state["rn_pick"] = [i for i in st.session_state.get("rn_pick", []) if i not in run_ids]
    st.session_state["rn_notice"] = f"Deleted {removed} run{'s' * (removed != 1)}."
