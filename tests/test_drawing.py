"""Drawing preprocessing: crop to the ink, longer side to 20 px, centre of mass in the middle of 28x28."""
import numpy as np
import pytest

from playground.drawing import BOX, SIZE, ink, mnist_digit
from playground.images import load_images


def canvas(height=280, width=280) -> np.ndarray:
    """A blank RGBA canvas like the component returns: transparent black."""
    return np.zeros((height, width, 4), dtype=np.uint8)


def paint(image: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    image[rows, cols] = (255, 255, 255, 255)
    return image


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(digit.shape)
    total = digit.astype(float).sum()
    return (ys * digit).sum() / total, (xs * digit).sum() / total


def ink_extent(digit: np.ndarray, level: int = 30) -> tuple[int, int]:
    rows = np.flatnonzero((digit > level).any(axis=1))
    cols = np.flatnonzero((digit > level).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_blank_canvas_gives_none():
    assert mnist_digit(canvas()) is None
    assert mnist_digit(np.zeros((28, 28), np.uint8)) is None


def test_transparent_white_is_not_ink():
    image = canvas()
    image[..., :3] = 255  # white colour but alpha 0 everywhere
    assert mnist_digit(image) is None


def test_output_is_28x28_uint8_white_on_black():
    digit = mnist_digit(paint(canvas(), slice(50, 230), slice(120, 150)))
    assert digit.shape == (SIZE, SIZE) and digit.dtype == np.uint8
    assert digit.max() == 255 and digit[0].max() == 0 and digit[:, 0].max() == 0


def test_longer_side_becomes_20_pixels_keeping_the_aspect():
    tall = mnist_digit(paint(canvas(), slice(40, 240), slice(100, 150)))  # 200 x 50
    assert ink_extent(tall)[0] in (BOX, BOX + 1) and ink_extent(tall)[1] in (5, 6)
    wide = mnist_digit(paint(canvas(), slice(100, 140), slice(20, 260)))  # 40 x 240
    assert ink_extent(wide)[1] in (BOX, BOX + 1) and ink_extent(wide)[0] in (3, 4, 5)


@pytest.mark.parametrize("rows, cols", [(slice(0, 60), slice(0, 40)), (slice(200, 280), slice(210, 280)),
                                        (slice(10, 100), slice(180, 270))])
def test_off_centre_digits_land_centred(rows, cols):
    digit = mnist_digit(paint(canvas(), rows, cols))
    y, x = centre_of_mass(digit)
    assert abs(y - 13.5) <= 0.5 and abs(x - 13.5) <= 0.5


def test_the_same_shape_anywhere_gives_the_same_digit():
    a = mnist_digit(paint(canvas(), slice(10, 110), slice(10, 40)))
    b = mnist_digit(paint(canvas(), slice(170, 270), slice(230, 260)))
    np.testing.assert_array_equal(a, b)


def test_lopsided_digit_is_centred_by_mass_not_by_box():
    image = paint(canvas(), slice(40, 240), slice(100, 110))  # a thin stem on the left...
    paint(image, slice(40, 100), slice(110, 200))  # ...and a heavy bar at the top right
    digit = mnist_digit(image)
    y, x = centre_of_mass(digit)
    assert abs(x - 13.5) <= 0.5
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    assert cols[0] + cols[-1] != 27  # centred by mass, so its box is not centred
    # Top-heavy: moved down as far as the field allows, never off its edge.
    assert rows[-1] == SIZE - 1 and y > 12


def test_a_tiny_dot_is_scaled_up_and_centred():
    digit = mnist_digit(paint(canvas(), slice(5, 7), slice(270, 272)))
    assert digit is not None and digit.max() > 200
    y, x = centre_of_mass(digit)
    assert abs(y - 13.5) <= 0.5 and abs(x - 13.5) <= 0.5


def test_an_all_white_canvas_becomes_a_centred_20_pixel_square():
    image = canvas()
    image[:] = 255
    digit = mnist_digit(image)
    assert ink_extent(digit, 200) == (BOX, BOX)
    assert digit[:4].max() == 0 and digit[-4:].max() == 0


def test_ink_reads_grey_rgb_and_rgba_alike():
    grey = np.zeros((10, 10), np.uint8)
    grey[2:5, 3:6] = 200
    rgb = np.repeat(grey[..., None], 3, axis=2)
    rgba = np.concatenate([rgb, np.full((10, 10, 1), 255, np.uint8)], axis=2)
    for image in (grey, rgb, rgba):
        np.testing.assert_allclose(ink(image), grey / 255.0, atol=1e-6)
    half = rgba.copy()
    half[..., 3] = 128
    np.testing.assert_allclose(ink(half), grey / 255.0 * 128 / 255, atol=1e-6)


@pytest.mark.parametrize("shape", [(5,), (4, 4, 2), (2, 2, 2, 2)])
def test_other_shapes_are_refused(shape):
    with pytest.raises(ValueError, match="grey, RGB or RGBA"):
        ink(np.zeros(shape))


def test_real_mnist_digits_come_through_nearly_unchanged():
    """MNIST digits were made this way, so preprocessing them again changes little (a pixel's shift)."""
    images = load_images("mnist").x_train[:200, 0]
    similarity = []
    for image in images:
        again = mnist_digit(image).astype(float)
        similarity.append(np.corrcoef(again.ravel(), image.astype(float).ravel())[0, 1])
    assert np.median(similarity) > 0.75 and np.percentile(similarity, 90) > 0.95
