"""Figure builders: the right traces, lengths, fixed axis ranges and compact arrays; the clickable
confusion matrix and the batch-level loss line."""
import json

import numpy as np
import pytest

from playground.datasets import Dataset, make_dataset
from playground.frames import CONFIDENCE_LEVELS, axis_ranges, boundary_frame, curve_frame
from playground.plots import (
    MAX_CURVE_POINTS,
    TRAIN_COLOUR,
    boundary_figure,
    confusion_figure,
    curve_figure,
    data_figure,
    loss_figure,
    score_figure,
)
from playground.progress import History
from playground.tasks import CLASSIFICATION, REGRESSION


def history(epochs: int, every: int = 5, test: bool = True) -> History:
    """A run of `epochs` with scores (and test values) on epoch 1 and every `every` epochs."""
    evaluated = tuple(e for e in range(1, epochs + 1) if e == 1 or e % every == 0 or e == epochs)
    loss = lambda e: 1.0 / e  # noqa: E731
    return History(epochs=tuple(range(1, epochs + 1)), train_loss=tuple(loss(e) for e in range(1, epochs + 1)),
                   eval_epochs=evaluated, train_score=tuple(min(1.0, e / epochs) for e in evaluated),
                   test_loss=tuple(1.2 * loss(e) for e in evaluated) if test else (),
                   test_score=tuple(0.9 * min(1.0, e / epochs) for e in evaluated) if test else ())


def traces(fig, kind: str | None = None) -> list:
    return [t for t in fig.data if kind is None or t.type == kind]


def by_name(fig) -> dict:
    return {t.name: t for t in fig.data}


@pytest.fixture(scope="module")
def spiral():
    return make_dataset("spiral", {"classes": 3, "n_per_class": 20}, seed=1)


def confident(x: np.ndarray) -> np.ndarray:
    p = np.full((len(x), 3), 0.05, dtype=np.float32)
    p[np.arange(len(x)), (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)] = 0.9
    return p


def test_loss_figure_has_train_and_test_curves_of_the_right_lengths():
    h = history(50)
    fig = loss_figure(h, 50, "Cross-entropy")
    curves = by_name(fig)
    assert list(curves) == ["train", "test"]
    assert len(curves["train"].x) == len(curves["train"].y) == 50
    assert len(curves["test"].x) == len(curves["test"].y) == len(h.eval_epochs)
    assert list(curves["test"].x) == list(h.eval_epochs)
    np.testing.assert_allclose(curves["train"].y, h.train_loss, rtol=1e-6)
    assert "Cross-entropy" in fig.layout.title.text


def test_loss_figure_uses_a_log_axis_and_a_fixed_epoch_range():
    fig = loss_figure(history(30), 200)
    assert fig.layout.yaxis.type == "log"
    assert list(fig.layout.xaxis.range) == [0, 200]
    low, high = fig.layout.yaxis.range
    assert low < np.log10(1 / 30) and high > np.log10(1.2)


def test_epoch_range_is_never_empty():
    assert list(loss_figure(History(), 0).layout.xaxis.range) == [0, 1]


def test_long_curves_are_thinned_keeping_the_ends():
    h = history(5000, every=10_000)
    train = by_name(loss_figure(h, 5000))["train"]
    assert len(train.x) <= MAX_CURVE_POINTS + 1 and len(train.x) == len(train.y)
    assert train.x[0] == 1 and train.x[-1] == 5000
    assert train.y[-1] == pytest.approx(1 / 5000)


def test_short_curves_are_not_thinned():
    h = history(MAX_CURVE_POINTS, every=10_000)
    assert len(by_name(loss_figure(h, MAX_CURVE_POINTS))["train"].x) == MAX_CURVE_POINTS


def test_empty_history_gives_an_empty_chart_with_fixed_axes():
    fig = loss_figure(History(), 100)
    assert traces(fig) == []
    assert list(fig.layout.xaxis.range) == [0, 100]


def test_score_figure_plots_train_and_test_scores_on_evaluated_epochs():
    h = history(40)
    fig = score_figure(h, 40, CLASSIFICATION)
    curves = by_name(fig)
    assert list(curves) == ["train", "test"]
    assert list(curves["train"].x) == list(h.eval_epochs) == list(curves["test"].x)
    assert len(curves["train"].y) == len(curves["test"].y) == len(h.eval_epochs)
    assert fig.layout.title.text == "Accuracy"
    assert list(fig.layout.yaxis.range) == [0.0, 1.02]
    assert list(fig.layout.xaxis.range) == [0, 40]


def test_regression_score_axis_shows_negative_r2_down_to_minus_one():
    base = dict(epochs=(1, 2, 3), train_loss=(3.0, 2.0, 1.0), eval_epochs=(1, 2, 3))
    assert score_figure(History(**base, train_score=(-0.4, 0.2, 0.8)), 3, REGRESSION).layout.yaxis.range[0] == -0.4
    assert score_figure(History(**base, train_score=(-7.0, 0.2, 0.8)), 3, REGRESSION).layout.yaxis.range[0] == -1.0
    assert score_figure(History(**base, train_score=(0.3, 0.5, 0.8)), 3, REGRESSION).layout.title.text == "R²"


@pytest.mark.parametrize("build", [lambda h: loss_figure(h, 20), lambda h: score_figure(h, 20, REGRESSION)],
                         ids=["loss", "score"])
def test_run_without_test_split_has_no_test_curve(build):
    fig = build(history(20, test=False))
    assert [t.name for t in fig.data] == ["train"]


def test_boundary_figure_has_one_heatmap_and_points_per_class(spiral):
    frame = boundary_frame(spiral, confident, epoch=12, size=20)
    fig = boundary_figure(spiral, frame)
    heatmaps = traces(fig, "heatmap")
    points = traces(fig, "scattergl")
    assert len(heatmaps) == 1 and fig.data[0].type == "heatmap"
    assert len(points) == 2 * spiral.n_classes
    assert [t.name for t in points] == ["class 0", "class 0 (test)", "class 1", "class 1 (test)",
                                        "class 2", "class 2 (test)"]
    assert sum(len(t.x) for t in points) == len(spiral.x_all)
    assert "epoch 12" in fig.layout.title.text


def test_boundary_heatmap_is_uint8_codes_of_class_and_confidence(spiral):
    frame = boundary_frame(spiral, confident, epoch=1, size=20)
    heatmap = traces(boundary_figure(spiral, frame), "heatmap")[0]
    z = np.asarray(heatmap.z)
    assert z.dtype == np.uint8 and z.shape == (20, 20)
    np.testing.assert_array_equal(z, frame.classes.astype(int) * CONFIDENCE_LEVELS + frame.confidence)
    assert heatmap.zmax == pytest.approx(3 * CONFIDENCE_LEVELS - 0.5)


def test_boundary_axes_are_fixed_to_the_data_ranges(spiral):
    fig = boundary_figure(spiral, boundary_frame(spiral, confident, epoch=1, size=10))
    (x0, x1), (y0, y1) = axis_ranges(spiral)
    assert list(fig.layout.xaxis.range) == pytest.approx([x0, x1])
    assert list(fig.layout.yaxis.range) == pytest.approx([y0, y1])
    assert fig.layout.xaxis.title.text == "x1" and fig.layout.yaxis.title.text == "x2"


def test_boundary_figure_without_a_frame_shows_only_the_points(spiral):
    fig = boundary_figure(spiral)
    assert traces(fig, "heatmap") == []
    assert len(traces(fig, "scattergl")) == 6


def test_curve_figure_draws_the_model_line_over_the_points():
    line = make_dataset("linear_regression")
    fig = curve_figure(line, curve_frame(line, lambda x: 2 * x, epoch=4, size=30))
    curves = by_name(fig)
    assert list(curves) == ["train", "model"]
    assert curves["model"].type == "scatter" and curves["model"].mode == "lines"
    assert len(curves["model"].x) == 30
    assert len(curves["train"].x) == 4
    assert "epoch 4" in fig.layout.title.text
    ((x0, x1),) = axis_ranges(line)
    assert list(fig.layout.xaxis.range) == pytest.approx([x0, x1])
    low, high = fig.layout.yaxis.range
    assert low < 2.0 and high > 8.0


def test_curve_figure_shows_test_points_when_there_are_some():
    sine = make_dataset("sine", {"n_samples": 40}, test_fraction=0.25)
    assert [t.name for t in curve_figure(sine).data] == ["train", "test"]


def test_data_figure_picks_the_figure_the_dataset_supports(spiral):
    assert traces(data_figure(spiral), "scattergl")
    assert data_figure(make_dataset("linear_regression")).data[0].name == "train"
    x = np.zeros((4, 3), np.float32)
    y = np.zeros(4, np.int64)
    three_d = Dataset("custom", CLASSIFICATION, x, y, x[:0], y[:0], ("a", "b", "c"), ("p", "q"), False)
    assert data_figure(three_d) is None


def test_figures_serialise_to_plotly_json(spiral):
    frame = boundary_frame(spiral, confident, epoch=1, size=10)
    for fig in (loss_figure(history(10), 10), score_figure(history(10), 10, CLASSIFICATION),
                boundary_figure(spiral, frame), curve_figure(make_dataset("linear_regression"))):
        payload = json.loads(fig.to_json())
        assert len(payload["data"]) == len(fig.data)


# --- confusion matrix ------------------------------------------------------------------------------

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
SMALL = np.array([[5, 1, 0], [2, 3, 4], [0, 0, 0]])  # class "c" has no test images


def cells(fig) -> dict:
    """The clickable layer's (true, predicted) -> count."""
    layer = fig.data[1]
    return {(y, x): int(count) for x, y, count in zip(layer.x, layer.y, layer.customdata)}


def test_confusion_figure_is_a_heatmap_with_the_counts_as_text():
    fig = confusion_figure(SMALL, ("a", "b", "c"))
    heatmap = fig.data[0]
    assert heatmap.type == "heatmap" and len(traces(fig, "heatmap")) == 1
    assert list(heatmap.x) == list(heatmap.y) == ["a", "b", "c"]
    assert np.asarray(heatmap.text).tolist() == [["5", "1", "0"], ["2", "3", "4"], ["0", "0", "0"]]
    assert heatmap.texttemplate == "%{text}"
    assert fig.layout.yaxis.autorange == "reversed"  # first class on top, like a table
    assert fig.layout.xaxis.title.text == "predicted" and fig.layout.yaxis.title.text == "true"


def test_confusion_colour_is_the_share_of_each_true_class():
    z = np.asarray(confusion_figure(SMALL, ("a", "b", "c")).data[0].z)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z, [[5 / 6, 1 / 6, 0], [2 / 9, 3 / 9, 4 / 9], [0, 0, 0]], rtol=1e-6)


def test_confusion_figure_has_a_clickable_marker_on_every_cell():
    fig = confusion_figure(SMALL, ("a", "b", "c"))
    layer = fig.data[1]
    assert layer.type == "scatter" and layer.mode == "markers" and layer.showlegend is False
    assert len(layer.x) == len(layer.y) == len(layer.customdata) == 9
    assert cells(fig) == {(t, p): int(SMALL[i, j]) for i, t in enumerate("abc") for j, p in enumerate("abc")}
    assert 0 < layer.marker.opacity < 0.1  # invisible but still hit by clicks
    assert "select" in fig.layout.clickmode


def test_confusion_figure_highlights_the_selected_cell():
    fig = confusion_figure(SMALL, ("a", "b", "c"), selected=(1, 2))
    assert len(fig.data) == 3
    highlight = fig.data[2]
    assert highlight.type == "scatter"
    assert list(highlight.y) == ["b"] and list(highlight.x) == ["c"]  # true b, predicted c
    assert highlight.marker.symbol == "square-open"


@pytest.mark.parametrize("selected", [None, (None, None), (1, None), (None, 2)])
def test_confusion_figure_without_a_whole_cell_selected_has_no_highlight(selected):
    assert len(confusion_figure(SMALL, ("a", "b", "c"), selected=selected).data) == 2


def test_confusion_figure_json_stays_small_for_ten_classes():
    matrix = np.random.default_rng(0).integers(0, 10_000, (10, 10))
    fig = confusion_figure(matrix, FASHION, selected=(3, 6))
    payload = fig.to_json()
    assert len(payload.encode()) < 20_000
    data = json.loads(payload)["data"]
    assert len(data) == 3 and len(data[1]["x"]) == 100


def test_confusion_figure_grows_with_the_number_of_classes():
    two = confusion_figure(np.eye(2, dtype=int), ("a", "b"))
    ten = confusion_figure(np.eye(10, dtype=int), FASHION)
    assert ten.layout.height > two.layout.height


# --- batch-level loss line ---------------------------------------------------------------------------


def with_batches(epochs: int = 3, per_epoch: int = 4) -> History:
    steps = [e + k / per_epoch for e in range(epochs) for k in range(1, per_epoch + 1)]
    return History(epochs=tuple(range(1, epochs + 1)), train_loss=tuple(1.0 / e for e in range(1, epochs + 1)),
                   batch_epochs=tuple(steps), batch_loss=tuple(2.0 / (1 + s) for s in steps))


def test_loss_figure_draws_a_thin_batch_line_under_the_epoch_curve():
    h = with_batches()
    fig = loss_figure(h, 3)
    assert [t.name for t in fig.data] == ["batches", "train"]
    batches, train = fig.data
    assert batches.mode == "lines" and batches.line.width == 1 and batches.opacity < 1
    assert batches.line.color == TRAIN_COLOUR
    np.testing.assert_allclose(batches.x, h.batch_epochs, rtol=1e-6)
    np.testing.assert_allclose(batches.y, h.batch_loss, rtol=1e-6)
    assert train.mode == "lines+markers" and train.line.width > batches.line.width


def test_loss_axis_covers_the_batch_losses():
    h = with_batches()
    low, high = loss_figure(h, 3).layout.yaxis.range
    assert low < np.log10(min(h.batch_loss)) and high > np.log10(max(h.batch_loss))


def test_loss_figure_without_batch_reports_has_no_batch_line():
    fig = loss_figure(history(10), 10)
    assert "batches" not in [t.name for t in fig.data]
    assert by_name(fig)["train"].mode == "lines"


def test_long_batch_lines_are_thinned():
    h = with_batches(epochs=50, per_epoch=100)
    batches = by_name(loss_figure(h, 50))["batches"]
    assert len(batches.x) <= MAX_CURVE_POINTS + 1 and batches.x[-1] == pytest.approx(50.0)


def test_overlay_figure_draws_one_coloured_line_per_run_and_skips_empty_ones():
    from playground.plots import PALETTE, overlay_figure

    series = [("SGD", (1, 2, 3), (1.0, 0.8, 0.7)), ("empty", (), ()), ("Adam", (1, 2, 3), (1.0, 0.1, 0.01))]
    fig = overlay_figure(series, "Train loss", 3, log=True, y_title="loss")
    assert [trace.name for trace in fig.data] == ["SGD", "Adam"]
    assert fig.data[0].line.color == PALETTE[0] and fig.data[1].line.color == PALETTE[2]
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis.range == (0, 3)
    low, high = fig.layout.yaxis.range
    assert low < -2 < 0 < high  # log10 of 0.01 .. 1.0 with a margin


def test_overlay_figure_thins_long_runs():
    from playground.plots import MAX_CURVE_POINTS, overlay_figure

    xs = tuple(range(1, 100_001))
    fig = overlay_figure([("long", xs, tuple(1.0 / x for x in xs))], "Loss", 100_000)
    assert len(fig.data[0].x) <= MAX_CURVE_POINTS + 1 and fig.data[0].x[-1] == 100_000


def test_log_axes_label_1_2_5_ticks_written_in_full_and_say_log_scale():
    from playground.plots import overlay_figure

    wide = overlay_figure([("a", (1, 2, 3), (1.0, 0.1, 0.001))], "Loss", 3, log=True, y_title="loss")
    narrow = loss_figure(History(epochs=(1, 2, 3), train_loss=(0.65, 0.62, 0.60)), 3)
    for fig in (wide, narrow):
        axis = fig.layout.yaxis
        assert axis.tickmode == "array" and len(axis.tickvals) == len(axis.ticktext) >= 3
        assert len(set(axis.ticktext)) == len(axis.ticktext) and not any("e" in text for text in axis.ticktext)
        assert all(10 ** axis.range[0] <= v <= 10 ** axis.range[1] for v in axis.tickvals)
        assert axis.title.text == "loss (log scale)"
    assert {"1", "0.1", "0.01", "0.001"} <= set(wide.layout.yaxis.ticktext)
    assert narrow.layout.yaxis.ticktext == ("0.55", "0.6", "0.65", "0.7")


def test_log_axes_without_positive_data_have_no_ticks_or_range():
    from playground.plots import overlay_figure

    for values in ((), (float("nan"), float("inf")), (0.0, -1.0)):
        axis = overlay_figure([("a", tuple(range(len(values))), values)], "Loss", 3, log=True).layout.yaxis
        assert axis.type == "log" and axis.range is None and axis.tickvals is None
        assert axis.title.text == "log scale"


@pytest.mark.parametrize("low, high, expected", [
    (0.03, 2.5, ["0.05", "0.1", "0.2", "0.5", "1", "2"]),
    (1e-4, 1, ["0.0001", "0.001", "0.01", "0.1", "1"]),  # 13 values of 1-2-5: only the decades
    (3, 4000, ["10", "100", "1000"]),
    (0.4, 1.2, ["0.4", "0.6", "0.8", "1", "1.2"]),  # two 1-2-5 values only: round numbers instead
    (0.5, 0.5, ["0.5"]),
])
def test_log_ticks_are_1_2_5_numbers_in_the_range_written_in_full(low, high, expected):
    from playground.plots import log_ticks, tick_label

    assert [tick_label(v) for v in log_ticks(low, high)] == expected


def test_log_ticks_stay_few_across_many_decades_and_are_empty_for_bad_ranges():
    from playground.plots import MAX_LOG_TICKS, log_ticks

    ticks = log_ticks(1e-12, 1e5)
    assert 3 <= len(ticks) <= MAX_LOG_TICKS and ticks == tuple(sorted(set(ticks)))
    for low, high in ((0.0, 1.0), (-1.0, 1.0), (float("nan"), 1.0), (1.0, float("inf")), (2.0, 1.0)):
        assert log_ticks(low, high) == ()


def test_the_legend_sits_under_the_title_with_room_for_two_rows():
    """Title at the top of the figure, legend rows on the plot area: in pixels, the bands cannot meet."""
    from playground.plots import LEGEND_ROW, overlay_figure

    fig = overlay_figure([("a", (1, 2), (1.0, 0.5))], "Train loss", 2, log=True)
    title, legend, top = fig.layout.title, fig.layout.legend, fig.layout.margin.t
    assert (title.yref, title.y, title.yanchor) == ("container", 1.0, "top")
    title_bottom = title.pad.t + 1.5 * title.font.size  # pixels from the figure's top edge
    assert (legend.yref, legend.y, legend.yanchor, legend.orientation) == ("paper", 1.0, "bottom", "h")
    assert title_bottom <= top - 2 * LEGEND_ROW  # the legend grows up from the plot area's top edge
    go_figure_validates(fig)


def test_the_live_curves_are_short_with_their_legend_inside_the_plot():
    """Two curves stack beside the boundary: the title alone above the plot, the legend in the corner the
    curve leaves empty (top right for a falling loss, bottom right for a rising score), never on the title."""
    from playground.plots import CURVE_HEIGHT

    loss, score = loss_figure(with_batches(epochs=3, per_epoch=4), 3), score_figure(history(3), 3, CLASSIFICATION)
    for fig, anchor in ((loss, "top"), (score, "bottom")):
        title, legend = fig.layout.title, fig.layout.legend
        assert fig.layout.height == CURVE_HEIGHT
        assert title.pad.t + 1.5 * title.font.size <= fig.layout.margin.t  # the title fits above the plot
        assert legend.yanchor == anchor and 0 <= legend.y <= 1 and legend.xanchor == "right"
        go_figure_validates(fig)


def test_every_figure_has_dark_ticks_of_at_least_14_px(spiral):
    from playground.plots import TEXT_COLOUR, TICK_SIZE, confusion_figure

    frame = boundary_frame(spiral, confident, epoch=1, size=10)
    for fig in (loss_figure(history(10), 10), score_figure(history(10), 10, CLASSIFICATION),
                boundary_figure(spiral, frame), confusion_figure(SMALL, ("a", "b", "c"))):
        for axis in (fig.layout.xaxis, fig.layout.yaxis):
            assert axis.tickfont.size >= 14 and axis.tickfont.color == TEXT_COLOUR
        assert fig.layout.xaxis.title.font.size == TICK_SIZE
        go_figure_validates(fig)


def go_figure_validates(fig) -> None:
    """The builders skip Plotly's validation; a misspelt layout key would otherwise pass silently."""
    import plotly.graph_objects as go

    go.Figure(fig.to_dict())


# --- user text is plain text in every figure ------------------------------------------------------

TAG, LINK = "<a href='http://evil/'>x</a>", "<b>bold</b> & <img src=x>"
SAFE_TAG, SAFE_LINK = "&lt;a href='http://evil/'&gt;x&lt;/a&gt;", "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x&gt;"


def hostile_dataset() -> Dataset:
    x = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], np.float32)
    y = np.array([0, 1, 0, 1], np.int64)
    return Dataset("csv", CLASSIFICATION, x, y, x, y, (LINK, TAG), (TAG, LINK), False)  # features, then classes


def test_class_and_column_names_are_escaped_in_the_boundary_figure():
    fig = boundary_figure(hostile_dataset())
    assert {trace.name for trace in fig.data} == {SAFE_TAG, SAFE_LINK, f"{SAFE_TAG} (test)", f"{SAFE_LINK} (test)"}
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == (SAFE_LINK, SAFE_TAG)


def test_the_column_name_is_escaped_in_the_curve_figure():
    x, y = np.zeros((3, 1), np.float32), np.arange(3, dtype=np.float32)[:, None]
    fig = curve_figure(Dataset("csv", REGRESSION, x, y, x[:0], y[:0], (TAG,), (), False))
    assert fig.layout.xaxis.title.text == SAFE_TAG


def test_class_names_are_escaped_in_the_confusion_and_probability_figures():
    from playground.plots import probability_figure

    confusion = confusion_figure(np.eye(2, dtype=np.int64), (TAG, LINK), selected=(0, 1))
    assert list(confusion.data[0].x) == [SAFE_TAG, SAFE_LINK] and set(confusion.data[1].y) == {SAFE_TAG, SAFE_LINK}
    assert (confusion.data[2].x, confusion.data[2].y) == ((SAFE_LINK,), (SAFE_TAG,))
    assert list(probability_figure(np.array([0.4, 0.6]), (TAG, LINK)).data[0].x) == [SAFE_TAG, SAFE_LINK]


def test_run_names_and_titles_are_escaped_in_the_overlay_figure():
    from playground.plots import overlay_figure

    fig = overlay_figure([(TAG, (1, 2), (0.5, 0.4)), (LINK, (1, 2), (0.6, 0.5))], "Loss", 2, y_title=LINK)
    assert [trace.name for trace in fig.data] == [SAFE_TAG, SAFE_LINK]
    assert fig.layout.yaxis.title.text == SAFE_LINK
