"""Occlusion maps and first-layer activations for one image."""
import numpy as np
import pytest
import torch
from torch import nn

from playground.explain import (
    DRAWING_FLOPS,
    activation_pictures,
    conv_activations,
    drawing_work,
    occlusion_images,
    occlusion_map,
    overlay,
)


def left_half_detector(batch: np.ndarray) -> np.ndarray:
    """A fake classifier: class 1's probability is how much of the image's left half is inked."""
    x = batch[:, 0].astype(np.float32)
    left = x[:, :, :14].sum(axis=(1, 2)) / 255.0 / (28 * 14)
    return np.stack([1 - left, left], axis=1)


def test_occlusion_lights_up_only_what_the_model_uses():
    image = np.zeros((28, 28), np.uint8)
    image[6:22, 4:10] = 255  # ink the detector uses (left)
    image[6:22, 18:24] = 255  # ink it ignores (right)
    heat = occlusion_map(left_half_detector, image, target=1)
    assert heat.shape == (28, 28) and heat.dtype == np.float32
    assert heat.max() == pytest.approx(1.0)
    assert heat[6:22, 4:10].mean() > 0.3 and heat[6:22, 20:28].max() == 0.0


def test_occlusion_of_a_model_that_ignores_the_image_is_all_zero():
    constant = lambda batch: np.tile([[0.3, 0.7]], (len(batch), 1))  # noqa: E731
    heat = occlusion_map(constant, np.full((28, 28), 255, np.uint8), target=1)
    assert not heat.any()


def test_occlusion_costs_one_batched_call():
    calls = []

    def counting(batch):
        calls.append(len(batch))
        return left_half_detector(batch)
    occlusion_map(counting, np.full((28, 28), 255, np.uint8), target=1, patch=6, stride=2)
    assert calls == [1, 12 * 12]  # the original, then every patch position at once


def test_overlay_is_red_where_the_heat_is():
    image = np.full((4, 4), 255, np.uint8)
    heat = np.zeros((4, 4), np.float32)
    heat[0, 0] = 1.0
    picture = overlay(image, heat)
    assert picture.shape == (4, 4, 3) and picture.dtype == np.uint8
    assert picture[0, 0, 0] == 255 and picture[0, 0, 1] < 200
    assert picture[3, 3, 0] == picture[3, 3, 1]  # grey elsewhere


def test_conv_activations_are_the_first_conv_layers_output():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 3), nn.Flatten())
    image = np.random.default_rng(0).integers(0, 255, (28, 28)).astype(np.uint8)
    maps = conv_activations(model, image)
    expected = model[0](torch.tensor(image, dtype=torch.float32)[None, None])[0].detach().numpy()
    assert maps.shape == (4, 28, 28)
    np.testing.assert_allclose(maps, expected, rtol=1e-5)
    assert not model[0]._forward_hooks  # the hook is removed


def test_a_model_without_convolutions_has_no_activations():
    assert conv_activations(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), np.zeros((28, 28))) is None


def test_activation_pictures_share_one_scale():
    maps = np.stack([np.full((7, 7), 2.0), np.full((7, 7), 1.0), np.full((7, 7), -1.0)]).astype(np.float32)
    pictures = activation_pictures(maps, size=28)
    assert [p.shape for p in pictures] == [(28, 28)] * 3
    assert pictures[0].max() == 255 and pictures[1].max() in (127, 128) and pictures[2].max() == 0


# --- what one drawing costs -----------------------------------------------------------------------

def test_occlusion_images_counts_the_calls_occlusion_map_makes():
    calls = []

    def counting(batch):
        calls.append(len(batch))
        return left_half_detector(batch)
    occlusion_map(counting, np.full((28, 28), 255, np.uint8), target=1)
    assert sum(calls) == occlusion_images(28, 28) == 145


def test_a_small_model_gets_the_guess_and_the_occlusion_map():
    work = drawing_work(1_000_000, 28, 28)
    assert (work.guess, work.occlusion, work.cap) == (2_000_000, 145_000_000, DRAWING_FLOPS)
    assert work.fits and work.explains


def test_a_model_over_the_cap_with_the_occlusion_map_still_gets_its_guess():
    work = drawing_work(DRAWING_FLOPS // 100, 28, 28)
    assert work.fits and not work.explains


def test_a_model_whose_guess_alone_is_over_the_cap_does_not_fit():
    work = drawing_work(DRAWING_FLOPS // 2 + 1, 28, 28)
    assert not work.fits and not work.explains
