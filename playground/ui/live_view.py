"""The Playground's live view of its run: the status line, then the decision boundary (or fitted curve)
beside the metrics and the loss and score curves stacked (one screen at 1280x720), redrawn while the run is
active; beside the picture, a pinned earlier run (`pinned_view`).

Before a run, it shows the data (a chart of 2-D data, sample images of image data) and either why the
setup cannot train (`pg_blocked`, kept by `plan_panel`) or how to start. Reads the run's snapshots only;
the figures are `plots`' plain specs, prepared once per snapshot part (`live_chart.prepared`): the boundary
per frame object (shared by every viewer of that snapshot), the curves per history content (the loss chart
is not rebuilt while no epoch arrived). The choice of sample images is `inspection`'s. Knows nothing about
the controls or the other panels.
"""
from __future__ import annotations

import streamlit as st

from .. import plots
from ..config import TrainConfig
from ..losses import LOSSES
from ..progress import COMPLETED, DIVERGED, FAILED, QUEUED, RUNNING
from ..replay import replay_spec
from ..tasks import CLASSIFICATION
from ..text import markdown_literal, metric_value
from . import live_chart, pinned_view, server, session
from .data_view import before_a_run, chart_caption, data_chart, picture_columns, while_queued  # noqa: F401
from .schedule_more import lr_curve
from .widget_state import RUN

INSPECT_SECONDS = 2.0  # the inspection and the network view refresh less often than the curves
STATUS_BOX = {COMPLETED: st.success, DIVERGED: st.error, FAILED: st.error}
ROUTINE_MESSAGES = ("Stopped.",)  # end messages that only repeat the badge (besides "Completed N epochs.")
BADGE_COLOUR = {"queued": "violet", "running": "blue", "paused": "orange", COMPLETED: "green", DIVERGED: "red",
                FAILED: "red"}


def active() -> bool:
    """Whether this session's run is going (running, paused or queued)."""
    run = session.run_handle(RUN)
    return run is not None and run.active


def queued() -> bool:
    """Whether this session's run is waiting in the queue for a training worker."""
    run = session.run_handle(RUN)
    return run is not None and run.snapshot().status == QUEUED


def live(preview: TrainConfig | None) -> None:
    """The live view, polled while the run is active (`preview`: the setup to show before a run)."""
    session.live(lambda: render_live(preview), active=active(), waiting=queued, every=session.poll_seconds(RUN))


def render_live(preview: TrainConfig | None) -> bool:
    """The status line, then the boundary (or fitted curve) beside the metrics and the two stacked curves;
    image runs, which have no picture, get the metrics and the curves side by side."""
    run = session.run_handle(RUN)
    if run is None:
        before_a_run(preview)
        return False
    snap = run.snapshot()
    dataset = server.cached_dataset(run.config.dataset)
    status_line(snap, dataset.is_image)
    if snap.status == QUEUED:  # no curves yet: the data it will train on, never a blank area
        while_queued(dataset)
        return True
    figure = None if dataset.is_image else data_chart(dataset, snap.frame)
    if figure is None:
        metrics(snap, dataset.task)
        curves(run, snap, dataset.task, st.columns(2))
        return snap.active
    picture, beside = picture_columns()
    with picture, pinned_view.beside_pinned():
        live_chart.chart(figure, key="pg_boundary",
                         replay=replay_spec(spec_of(figure), snap.timeline, run=str(id(run)), live=snap.active))
        st.caption(chart_caption(dataset))
        pinned_view.pin_button(snap, run.config, dataset.task)
    with beside:
        metrics(snap, dataset.task)
        curves(run, snap, dataset.task, (st.container(), st.container()))
    return snap.active


def curves(run, snap, task: str, places) -> None:
    """The loss and the score curves, one in each of `places`."""
    with places[0]:
        live_chart.chart(loss_chart(snap.history, run.config.epochs, LOSSES[run.config.loss].title),
                         key="pg_loss_chart", follow="pg_boundary")
    with places[1]:
        live_chart.chart(score_chart(snap.history, run.config.epochs, task), key="pg_score_chart",
                         follow="pg_boundary")
        lr_curve(run, snap)


def spec_of(figure):
    """The plain figure a prepared chart was made from (what a replay spec reads); a Figure is its own."""
    return figure.figure if isinstance(figure, live_chart.Prepared) else figure


def loss_chart(history, epochs: int, title: str):
    """The loss curves, prepared once per history (by content: a new epoch, a new chart)."""
    return live_chart.prepared(("loss", history, epochs, title), lambda: plots.loss_spec(history, epochs, title))


def score_chart(history, epochs: int, task: str):
    """The score curves, prepared once per evaluated epochs and scores."""
    scores = (history.eval_epochs, history.train_score, history.test_score)
    return live_chart.prepared(("score", scores, epochs, task), lambda: plots.score_spec(history, epochs, task))


def status_line(snap, is_image: bool = False) -> None:
    """One line of progress, then the run's message when it says more than the badge."""
    colour = BADGE_COLOUR.get(snap.status, "gray")
    epoch = f"**{snap.epoch:,}**"
    if snap.active and snap.history.batch_epochs and snap.history.batch_epochs[-1] > snap.epoch:
        epoch = f"**{snap.history.batch_epochs[-1]:.1f}**"  # mid-way through a long epoch
    st.markdown(f":{colour}-badge[{snap.status.capitalize()}] &nbsp; epoch {epoch} / {snap.epochs:,}"
                f"{speed_text(snap, is_image)} · learning rate {snap.lr:g}")
    if snap.message and not routine(snap):  # a box only for news: it would push the charts down
        STATUS_BOX.get(snap.status, st.info)(markdown_literal(snap.message))


def metrics(snap, task: str) -> None:
    """The latest (or final) train and test loss and score, in a row."""
    score = "accuracy" if task == CLASSIFICATION else "R²"
    for col, label, value in zip(st.columns(4, gap="small"),
                                 ("Train loss", "Test loss", f"Train {score}", f"Test {score}"),
                                 latest_metrics(snap, task)):
        col.metric(label, metric_value(value))


def speed_text(snap, is_image: bool) -> str:
    """The line's speed: the live one while running, the average over the run once it ended; none while
    paused or queued (the rate of the last seconds of training would read as a live speed)."""
    if snap.final:
        rate, label = snap.final.get("epochs_per_second"), " on average"
    elif snap.status == RUNNING:
        rate, label = snap.epochs_per_second, ""
    else:
        return ""
    if is_image:
        return f" · **{rate or 0:.2f}** epochs/s{label} · **{snap.samples_per_second:,.0f}** images/s"
    return f" · **{rate or 0:,.0f}** epochs/s{label}"


def routine(snap) -> bool:
    """Whether the run's message only repeats what the badge says ("Completed 1000 epochs.", "Stopped.")."""
    return snap.message in (*ROUTINE_MESSAGES, f"Completed {snap.epoch} epochs.")


def latest_metrics(snap, task: str) -> list:
    """[train loss, test loss, train score, test score]: the final ones, else the latest of the history."""
    if snap.final:
        key = "accuracy" if task == CLASSIFICATION else "r2"
        return [snap.final.get("train_loss"), snap.final.get("test_loss"),
                snap.final.get(f"train_{key}"), snap.final.get(f"test_{key}")]
    h = snap.history
    return [_last(h.train_loss), _last(h.test_loss), _last(h.train_score), _last(h.test_score)]


def _last(values):
    return values[-1] if values else None
