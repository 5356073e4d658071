"""Inspection of a classifier: confusion counts, per-class scores (against a hand computation and
scikit-learn), the most confused pairs, which test images a cell shows, and filters as pictures."""
import warnings

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from playground import inspection
from playground.inspection import (
    ClassScores,
    cell_examples,
    class_scores,
    confusion_matrix,
    filter_images,
    macro_average,
    most_confused,
    sample_per_class,
    upscale,
)

# Four 0s, two 1s, three 2s. Matrix rows = true, columns = predicted:
#   [[3, 1, 0],
#    [0, 2, 0],
#    [2, 0, 1]]
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 0, 0, 1, 1, 1, 2, 0, 0])
NAMES = ("zero", "one", "two")


def sklearn_scores(y_true, y_pred, n_classes):
    """Per-class precision, recall, F1 and support with undefined ratios as NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return precision_recall_fscore_support(y_true, y_pred, labels=list(range(n_classes)), zero_division=np.nan)


def as_float(value):
    return np.nan if value is None else value


# --- confusion_matrix ---------------------------------------------------------------------------


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = confusion_matrix(Y_TRUE, Y_PRED, 3)
    assert matrix.tolist() == [[3, 1, 0], [0, 2, 0], [2, 0, 1]]
    assert matrix.sum() == len(Y_TRUE)
    assert matrix.sum(axis=1).tolist() == [4, 2, 3]  # images of each true class
    assert matrix.sum(axis=0).tolist() == [5, 3, 1]  # images predicted as each class


def test_confusion_matrix_is_not_symmetric_in_its_arguments():
    assert confusion_matrix([0], [1], 2).tolist() == [[0, 1], [0, 0]]
    assert confusion_matrix([1], [0], 2).tolist() == [[0, 0], [1, 0]]


def test_confusion_matrix_has_rows_for_absent_classes_and_accepts_lists():
    matrix = confusion_matrix([0, 1, 1], [0, 1, 0], 4)
    assert matrix.shape == (4, 4) and np.issubdtype(matrix.dtype, np.integer)
    assert matrix.tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]


def test_confusion_matrix_of_no_images_is_all_zeros():
    assert confusion_matrix(np.zeros(0, np.int64), np.zeros(0, np.int64), 3).tolist() == [[0] * 3] * 3


def test_confusion_matrix_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="3 true labels but 2 predictions"):
        confusion_matrix([0, 1, 2], [0, 1], 3)


def test_confusion_matrix_matches_sklearn_on_random_labels():
    from sklearn.metrics import confusion_matrix as sk_confusion

    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 10),
                                  sk_confusion(y_true, y_pred, labels=list(range(10))))


# --- class_scores, macro_average ----------------------------------------------------------------


def test_class_scores_by_hand():
    rows = class_scores(confusion_matrix(Y_TRUE, Y_PRED, 3), NAMES)
    assert [r.name for r in rows] == list(NAMES)
    assert [r.support for r in rows] == [4, 2, 3]
    assert [r.precision for r in rows] == pytest.approx([3 / 5, 2 / 3, 1 / 1])
    assert [r.recall for r in rows] == pytest.approx([3 / 4, 2 / 2, 1 / 3])
    assert [r.f1 for r in rows] == pytest.approx([2 / 3, 4 / 5, 1 / 2])  # 2PR / (P + R)


def test_class_scores_match_sklearn():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 6, 400)
    y_pred = np.where(rng.random(400) < 0.6, y_true, rng.integers(0, 6, 400))
    rows = class_scores(confusion_matrix(y_true, y_pred, 6), tuple("abcdef"))
    precision, recall, f1, support = sklearn_scores(y_true, y_pred, 6)
    np.testing.assert_allclose([r.precision for r in rows], precision)
    np.testing.assert_allclose([r.recall for r in rows], recall)
    np.testing.assert_allclose([r.f1 for r in rows], f1)
    assert [r.support for r in rows] == support.tolist()


def test_precision_and_recall_are_none_where_sklearn_finds_them_undefined():
    # class 2 is present but never predicted; class 3 is predicted but never present; class 4 is neither
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 3, 0, 1])
    rows = class_scores(confusion_matrix(y_true, y_pred, 5), tuple("abcde"))
    precision, recall, _, _ = sklearn_scores(y_true, y_pred, 5)
    np.testing.assert_allclose([as_float(r.precision) for r in rows], precision)
    np.testing.assert_allclose([as_float(r.recall) for r in rows], recall)
    assert rows[2].precision is None and rows[2].recall == 0.0
    assert rows[3].precision == 0.0 and rows[3].recall is None
    assert rows[4].precision is None and rows[4].recall is None and rows[4].f1 is None
    assert [r.support for r in rows] == [2, 2, 2, 0, 0]


def test_f1_is_zero_when_a_class_is_predicted_but_never_right():
    rows = class_scores(confusion_matrix([0, 1], [1, 0], 2), ("a", "b"))
    assert all(r.precision == 0.0 and r.recall == 0.0 and r.f1 == 0.0 for r in rows)


def test_f1_is_zero_when_a_class_is_never_predicted_or_never_present():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 3, 0, 1])
    rows = class_scores(confusion_matrix(y_true, y_pred, 5), tuple("abcde"))
    _, _, f1, _ = sklearn_scores(y_true, y_pred, 5)
    assert f1[2] == 0.0 and f1[3] == 0.0
    assert rows[2].f1 == 0.0  # present, never predicted: recall 0
    assert rows[3].f1 == 0.0  # predicted, never present: precision 0


def test_macro_average_is_the_unweighted_mean_of_each_score():
    rows = class_scores(confusion_matrix(Y_TRUE, Y_PRED, 3), NAMES)
    macro = macro_average(rows)
    assert isinstance(macro, ClassScores) and macro.name == "macro average"
    assert macro.precision == pytest.approx((3 / 5 + 2 / 3 + 1) / 3)
    assert macro.recall == pytest.approx((3 / 4 + 1 + 1 / 3) / 3)
    assert macro.f1 == pytest.approx((2 / 3 + 4 / 5 + 1 / 2) / 3)
    assert macro.support == 9
    precision, recall, f1, _ = precision_recall_fscore_support(Y_TRUE, Y_PRED, average="macro")
    assert (macro.precision, macro.recall, macro.f1) == pytest.approx((precision, recall, f1))


def test_macro_average_skips_undefined_scores():
    rows = [ClassScores("a", 0.5, None, None, 0), ClassScores("b", None, 1.0, None, 3),
            ClassScores("c", 1.0, 0.0, 0.0, 2)]
    macro = macro_average(rows)
    assert macro.precision == pytest.approx(0.75) and macro.recall == pytest.approx(0.5)
    assert macro.f1 == 0.0 and macro.support == 5


def test_macro_average_of_nothing_defined_is_none():
    macro = macro_average([ClassScores("a", None, None, None, 0)])
    assert macro.precision is None and macro.recall is None and macro.f1 is None


def test_macro_f1_of_a_collapsed_model_matches_sklearn():
    y_true = np.repeat(np.arange(10), 5)
    y_pred = np.zeros(50, np.int64)  # everything predicted as class 0
    macro = macro_average(class_scores(confusion_matrix(y_true, y_pred, 10), tuple("0123456789")))
    _, _, f1, _ = sklearn_scores(y_true, y_pred, 10)
    assert macro.f1 == pytest.approx(np.nanmean(f1))  # 0.018, not 0.18


# --- most_confused ------------------------------------------------------------------------------


def test_most_confused_gives_the_largest_off_diagonal_cells_first():
    matrix = np.array([[50, 3, 0], [1, 40, 7], [2, 0, 90]])
    assert most_confused(matrix) == [(1, 2, 7), (0, 1, 3), (2, 0, 2)]
    assert most_confused(matrix, top=1) == [(1, 2, 7)]


def test_most_confused_skips_the_diagonal_and_empty_cells():
    matrix = np.array([[99, 0, 1], [0, 98, 0], [0, 0, 97]])
    assert most_confused(matrix, top=5) == [(0, 2, 1)]
    assert most_confused(np.diag([5, 6, 7])) == []
    assert matrix[0, 0] == 99  # the caller's matrix is untouched


# --- cell_examples ------------------------------------------------------------------------------

# index:              0     1     2     3     4     5
CELL_TRUE = np.array([0, 0, 0, 1, 1, 2])
CELL_PRED = np.array([0, 1, 1, 1, 0, 0])
CELL_CONFIDENCE = np.array([0.9, 0.8, 0.6, 0.55, 0.95, 0.7])


@pytest.mark.parametrize("true, predicted, expected", [
    (None, None, [4, 1, 5, 2, 3, 0]),  # mistakes by falling confidence, then right answers by rising confidence
    (0, 1, [1, 2]),
    (0, None, [1, 2, 0]),
    (None, 0, [4, 5, 0]),
    (1, 1, [3]),
    (2, 2, []),
])
def test_cell_examples_filters_by_cell_and_puts_confident_mistakes_first(true, predicted, expected):
    picked = cell_examples(CELL_TRUE, CELL_PRED, true, predicted, CELL_CONFIDENCE)
    assert picked.tolist() == expected


def test_cell_examples_show_the_least_confident_right_answers_first():
    confidence = np.array([0.99, 0.51, 0.75, 0.6])
    assert cell_examples(np.zeros(4), np.zeros(4), 0, 0, confidence).tolist() == [1, 3, 2, 0]


def test_cell_examples_without_confidence_keep_mistakes_first_in_their_order():
    assert cell_examples(CELL_TRUE, CELL_PRED, None, None).tolist() == [1, 2, 4, 5, 0, 3]


@pytest.mark.parametrize("limit", [0, 1, 2, 6, 100])
def test_cell_examples_honour_the_limit(limit):
    picked = cell_examples(CELL_TRUE, CELL_PRED, None, None, CELL_CONFIDENCE, limit=limit)
    assert picked.tolist() == [4, 1, 5, 2, 3, 0][:limit]


def test_cell_examples_default_to_forty():
    y = np.zeros(100, np.int64)
    assert len(cell_examples(y, y, 0, 0)) == 40


# --- filter_images, upscale ---------------------------------------------------------------------


@pytest.mark.parametrize("kernel, size, side", [(3, 48, 48), (5, 48, 45), (7, 32, 28), (5, 4, 5)])
def test_filter_images_are_one_grey_uint8_square_per_output_channel(kernel, size, side):
    filters = np.random.default_rng(0).standard_normal((6, 2, kernel, kernel)).astype(np.float32)
    pictures = filter_images(filters, size=size)
    assert len(pictures) == 6
    for picture in pictures:
        assert picture.shape == (side, side) and picture.dtype == np.uint8
        assert picture.min() == 0 and picture.max() == 255  # each stretched to its own range


def test_filter_images_show_the_pattern_whatever_its_scale():
    kernel = np.array([[0.0, 1.0], [2.0, 4.0]], np.float32)
    small, large = filter_images(kernel[None, None] * 1e-3, size=2), filter_images(kernel[None, None] * 1e3, size=2)
    assert small[0].tolist() == large[0].tolist() == [[0, 64], [128, 255]]
    assert filter_images(-kernel[None, None], size=2)[0].tolist() == [[255, 191], [128, 0]]


def test_filter_images_average_the_input_channels():
    pattern = np.array([[1.0, 0.0], [0.0, 0.0]], np.float32)
    filters = np.stack([pattern, 3 * pattern, -pattern, pattern])[None]  # (1 out, 4 in, 2, 2): mean = pattern
    assert filter_images(filters, size=2)[0].tolist() == [[255, 0], [0, 0]]


def test_filters_of_three_input_channels_are_shown_in_colour():
    red_here = np.zeros((1, 3, 2, 2), np.float32)
    red_here[0, 0, 0, 0] = 2.0  # looks for red in the top-left corner, nothing else
    red_here[0, 2, 1, 1] = -2.0  # and against blue in the bottom-right one
    (picture,) = filter_images(red_here, size=4)
    assert picture.shape == (4, 4, 3) and picture.dtype == np.uint8
    assert picture[0, 0].tolist() == [255, 128, 128]  # stretched over all three channels together
    assert picture[3, 3].tolist() == [128, 128, 0] and picture[0, 3].tolist() == [128, 128, 128]


def test_a_colour_image_becomes_a_height_width_rgb_picture_and_upscales_in_blocks():
    image = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)  # (C, H, W)
    rgb = inspection.picture(image)
    assert rgb.shape == (2, 2, 3) and rgb[0, 1].tolist() == [1, 5, 9]
    assert inspection.picture(image[:1]).tolist() == [[0, 1], [2, 3]]  # grey: (H, W)
    big = inspection.upscale(rgb, 4)
    assert big.shape == (4, 4, 3) and big[1, 3].tolist() == [1, 5, 9]


@pytest.mark.parametrize("filters", [np.full((1, 1, 3, 3), 0.7), np.zeros((1, 1, 3, 3)),
                                     np.stack([np.ones((3, 3)), -np.ones((3, 3))])[None]],
                         ids=["constant", "zero", "channels-cancel"])
def test_a_constant_filter_becomes_mid_grey(filters):
    (picture,) = filter_images(filters, size=9)
    assert picture.shape == (9, 9)
    assert np.unique(picture).tolist() == [128]


@pytest.mark.parametrize("shape", [(3, 3), (4, 1, 3), (2, 1, 1, 3, 3)])
def test_filter_images_refuse_weights_that_are_not_conv_kernels(shape):
    with pytest.raises(ValueError, match="expected conv weights"):
        filter_images(np.zeros(shape))


def test_sample_per_class_takes_the_first_of_each_class_a_round_at_a_time():
    labels = np.array([2, 0, 2, 1, 0, 0, 1, 2])
    assert sample_per_class(labels, 1).tolist() == [1, 3, 0]  # the first 0, the first 1, the first 2
    assert sample_per_class(labels, 2).tolist() == [1, 3, 0, 4, 6, 2]  # then the second of each


def test_sample_per_class_skips_a_class_that_has_run_out_and_stops_at_the_limit():
    labels = np.array([0, 1, 0, 0])
    assert sample_per_class(labels, 3).tolist() == [0, 1, 2, 3]  # class 1 has one example only
    assert sample_per_class(labels, 3, limit=2).tolist() == [0, 1]
    assert sample_per_class(np.array([], dtype=np.int64), 2).tolist() == []


def test_sample_per_class_shows_every_class_of_ten_in_each_row():
    labels = np.random.default_rng(0).integers(0, 10, 500)
    chosen = sample_per_class(labels, 2, limit=20)
    assert len(chosen) == 20 and len(set(chosen.tolist())) == 20
    assert labels[chosen[:10]].tolist() == list(range(10)) and labels[chosen[10:]].tolist() == list(range(10))
    assert chosen[:10].tolist() == [int(np.flatnonzero(labels == c)[0]) for c in range(10)]
    assert np.array_equal(chosen, sample_per_class(labels.copy(), 2, limit=20))  # deterministic


def test_upscale_repeats_each_pixel_in_a_block():
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    big = upscale(image, 12)
    assert big.shape == (8, 12) and big.dtype == np.uint8
    np.testing.assert_array_equal(big, np.repeat(np.repeat(image, 4, axis=0), 4, axis=1))


@pytest.mark.parametrize("shape, size, expected", [((8, 8), 48, (48, 48)), ((28, 28), 100, (84, 84)),
                                                   ((28, 28), 20, (28, 28)), ((4, 8), 32, (16, 32))])
def test_upscale_fits_the_longer_side_to_about_size(shape, size, expected):
    image = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    big = upscale(image, size)
    assert big.shape == expected
    factor = expected[0] // shape[0]
    np.testing.assert_array_equal(big[::factor, ::factor], image)


@pytest.mark.parametrize("y_true, y_pred", [([0], [3]), ([2], [3]), ([-1], [0]), ([5], [0])])
def test_labels_outside_the_classes_are_refused_not_miscounted(y_true, y_pred):
    with pytest.raises(ValueError, match="outside the 3 classes"):
        confusion_matrix(np.array(y_true), np.array(y_pred), 3)
