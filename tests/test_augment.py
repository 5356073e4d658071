"""Augmentation: each op against torchvision on known images, per-image draws from the run's seed,
only training batches changed, a fork and a snapshot go on exactly as the solo run, config checks."""
import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from playground import augment as aug
from playground import engine as engine_module
from playground.batched import Snapshot, why_not_batched
from playground.config import ConfigError, TrainConfig
from playground.engine import Engine
from playground.stacking import why_not_stacked

CNN = [{"type": "conv2d", "out": 4, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "flatten"},
       {"type": "linear"}]
AUGMENTED = {"dataset": {"name": "digits", "train_images": 300, "test_images": 100}, "layers": CNN,
             "batch_size": 64, "epochs": 6, "device": "cpu", "optimizer": {"name": "adam", "lr": 0.01},
             "augment": {"crop": 2, "flip": True, "rotate": 20}}


def images(n=5, c=1, h=28, w=28, seed=0) -> torch.Tensor:
    return torch.randint(0, 256, (n, c, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def generator(seed=7) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- each op against torchvision ------------------------------------------------------------------

def test_crop_at_equals_torchvision_pad_then_crop():
    x, top, left = images(3), torch.tensor([0, 3, 6]), torch.tensor([6, 2, 0])
    expected = torch.stack([TF.crop(TF.pad(x[i], [3]), int(top[i]), int(left[i]), 28, 28) for i in range(3)])
    assert torch.equal(aug.crop_at(x, top, left, 3), expected)


def test_random_crop_shifts_each_image_within_the_padding_with_zeros_coming_in():
    x = torch.full((64, 1, 8, 8), 200, dtype=torch.uint8)
    out = aug.random_crop(x, generator(), 2)
    zeros = (out == 0).flatten(1).sum(1)
    assert out.shape == x.shape and out.dtype == torch.uint8
    assert zeros.max() <= 64 - 6 * 6 and len(set(zeros.tolist())) > 3  # at most 2 rows and columns; draws differ


@pytest.mark.parametrize("shape", [(4, 1, 28, 28), (3, 3, 20, 32)])
def test_random_flip_mirrors_the_drawn_images_as_torchvision(shape):
    x = images(*shape)
    out = aug.random_flip(x, generator(1))
    flipped = torch.rand(len(x), generator=generator(1)) < 0.5
    for i in range(len(x)):
        assert torch.equal(out[i], TF.horizontal_flip(x[i]) if flipped[i] else x[i])


@pytest.mark.parametrize("angle", [15.0, -20.0, 30.0, 90.0])
@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 3, 20, 32)])
def test_rotate_by_equals_torchvision_rotate(angle, shape):
    x = images(*shape)
    assert torch.equal(aug.rotate_by(x, torch.full((len(x),), angle)), TF.rotate(x, angle))


def test_a_quarter_turn_is_torchs_rot90():
    x = images(2)
    assert torch.equal(aug.rotate_by(x, torch.tensor([90.0, 90.0])), torch.rot90(x, 1, (-2, -1)))


def test_each_image_gets_its_own_angle():
    x = images(6)
    out = aug.random_rotate(x, generator(3), 25)
    angles = (torch.rand(6, generator=generator(3)) * 2 - 1) * 25
    assert angles.abs().max() <= 25 and len(set(angles.tolist())) == 6
    for i in range(6):
        assert torch.equal(out[i], TF.rotate(x[i], float(angles[i])))


# --- the whole batch ----------------------------------------------------------------------------

def test_augment_keeps_shape_and_dtype_and_off_changes_nothing():
    x = images(8)
    assert aug.augment(x, generator()) is x
    for dtype in (torch.uint8, torch.float32):
        out = aug.augment(x.to(dtype), generator(), crop=4, flip=True, rotate=10)
        assert out.shape == x.shape and out.dtype == dtype


def test_the_same_generator_state_gives_the_same_batch_and_the_next_draw_differs():
    x, g = images(16), generator()
    first = aug.augment(x, g, 3, True, 15)
    assert torch.equal(first, aug.augment(x, generator(), 3, True, 15))
    assert not torch.equal(first, aug.augment(x, g, 3, True, 15))


# --- in the engine ------------------------------------------------------------------------------

def config(**changes) -> TrainConfig:
    return TrainConfig.from_dict({**AUGMENTED, **changes})


def losses(engine: Engine, epochs: int) -> list[float]:
    return [engine.train_epoch().train.loss for _ in range(epochs)]


def test_an_augmented_run_is_reproducible_and_differs_from_the_plain_run():
    augmented = losses(Engine(config()), 3)
    assert augmented == losses(Engine(config()), 3)
    assert augmented != losses(Engine(config(augment=None)), 3)


def test_only_training_batches_are_augmented(monkeypatch):
    seen = []
    monkeypatch.setattr(engine_module, "augment", lambda x, *args: seen.append(x.shape) or x)
    run = Engine(config(epochs=1))
    run.train_epoch()
    assert [shape[0] for shape in seen] == [64, 64, 64, 64, 44]  # the 300 training images, batch by batch
    seen.clear()
    run.evaluate("test"), run.evaluate("train"), run.predict(run.dataset.x_test)
    assert seen == []


def test_a_fork_continues_exactly_as_the_solo_run():
    solo = losses(Engine(config()), 6)
    original = Engine(config())
    before = losses(original, 2)
    twin = original.fork()
    assert before + losses(twin, 4) == solo == before + losses(original, 4)


def test_a_snapshot_of_the_training_state_continues_exactly_as_the_solo_run():
    solo = losses(Engine(config()), 5)
    original = Engine(config())
    before = losses(original, 2)
    state = original.training_state()
    assert "augment_order" in state and "augment_order" not in Engine(config(augment=None)).training_state()
    resumed = Snapshot.of(original).engine(original.dataset)
    assert before + losses(resumed, 3) == solo


def test_augmented_runs_never_stack():
    assert "augmented" in why_not_batched(config())
    assert "augmented" in why_not_stacked(config())


# --- the config ---------------------------------------------------------------------------------

def test_augment_is_left_out_of_the_config_when_off_and_round_trips_when_on():
    assert "augment" not in TrainConfig().to_dict()
    assert config(augment={"crop": 0, "flip": False, "rotate": 0}).augment is None
    on = config()
    assert on.to_dict()["augment"] == {"crop": 2, "flip": True, "rotate": 20.0}
    assert TrainConfig.from_json(on.to_json()) == on


@pytest.mark.parametrize("augment, key", [
    ({"crop": 9}, "augment.crop"), ({"crop": -1}, "augment.crop"), ({"crop": 1.5}, "augment.crop"),
    ({"crop": "4"}, "augment.crop"), ({"flip": 1}, "augment.flip"), ({"rotate": 31}, "augment.rotate"),
    ({"rotate": float("nan")}, "augment.rotate"), ({"shear": 3}, "augment.shear"), ([4], "augment")])
def test_bad_augment_settings_name_their_key(augment, key):
    with pytest.raises(ConfigError) as error:
        config(augment=augment)
    assert error.value.key == key


def test_augmenting_a_dataset_that_is_not_images_is_refused_with_a_reason():
    with pytest.raises(ConfigError, match="not an image dataset") as error:
        TrainConfig.from_dict({"dataset": {"name": "spiral"}, "augment": {"flip": True}})
    assert error.value.key == "augment"


# --- the page's preview -------------------------------------------------------------------------

def test_variants_are_drawn_from_the_seed_and_the_grid_shows_each_image_then_its_variants():
    from playground.plots import augmented_figure

    originals = images(4, seed=2).numpy()
    drawn = aug.variants(originals, crop=2, flip=True, rotate=10, count=3, seed=5)
    assert drawn.shape == (4, 3, 1, 28, 28) and drawn.dtype == originals.dtype
    assert (drawn == aug.variants(originals, 2, True, 10, 3, seed=5)).all()
    mosaic = augmented_figure(originals, drawn).data[0].z
    assert mosaic.shape == (4 * 29 - 1, 4 * 29 - 1, 3)
    assert (mosaic[:28, :28, 0] == originals[0, 0]).all() and (mosaic[29:57, 29:57, 1] == drawn[1, 0, 0]).all()
    colour = augmented_figure(images(2, 3, 8, 8).numpy(), aug.variants(images(2, 3, 8, 8).numpy(), flip=True)).data[0].z
    assert colour.shape == (2 * 9 - 1, 4 * 9 - 1, 3)
