"""Forward FLOPs counted on the meta device agree with the arithmetic of the layers."""
from playground.budget import forward_flops
from playground.config import TrainConfig
from playground.model import plan_for


def plan(dataset: dict, layers: list):
    return plan_for(TrainConfig.from_dict({"dataset": dataset, "layers": layers}))


def test_linear_layers_count_two_flops_per_weight():
    mlp = plan({"name": "spiral"}, [{"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear"}])
    assert forward_flops(mlp) == 2 * (2 * 100 + 100 * 3)


def test_convolution_counts_every_output_position():
    cnn = plan({"name": "digits"}, [{"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"},
                                    {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}])
    conv = 2 * 32 * 3 * 3 * 8 * 8  # out channels x kernel x positions, one input channel
    assert forward_flops(cnn) == conv + 2 * (32 * 4 * 4) * 10


def test_counting_allocates_nothing_for_a_large_model():
    wide = plan({"name": "digits"}, [{"type": "flatten"}, {"type": "linear", "out": 2000},
                                     {"type": "linear", "out": 2000}, {"type": "linear"}])
    assert forward_flops(wide) == 2 * (64 * 2000 + 2000 * 2000 + 2000 * 10)


# --- the run budget ---------------------------------------------------------------------------------

import pytest  # noqa: E402

from playground import budget, lessons, presets, settings  # noqa: E402

# The review's attack: a link that fits every cap and holds two workers for weeks.
ATTACK = TrainConfig.from_dict({"dataset": {"name": "spiral", "classes": 10, "n_per_class": 5000},
                                "layers": [{"type": "linear", "out": 2000}, {"type": "relu"},
                                           {"type": "linear", "out": 2000}, {"type": "relu"}, {"type": "linear"}],
                                "batch_size": 1024, "epochs": 100_000})


def test_the_weeks_long_attack_is_refused_with_its_estimate_and_what_to_shrink():
    assert budget.run_seconds(ATTACK) > 14 * 86400  # measured ~19 s an epoch: ~22 days
    problem = budget.run_problem(ATTACK, 30)
    assert problem.startswith("This run would take about ") and " days on this server (100,000 epochs)" in problem
    assert "at most 30 minutes here" in problem
    assert "fewer epochs, fewer or narrower layers, fewer data points" in problem
    fit = int(problem.split("at most ")[2].split(" epochs")[0].replace(",", ""))
    assert 10 <= fit <= 200  # a concrete number of epochs that would fit
    assert budget.run_problem(ATTACK.replace(epochs=fit), 30) is None


def test_no_budget_refuses_nothing():
    assert budget.run_problem(ATTACK, None) is None and budget.race_problem((("a", ATTACK),), None) is None


def test_the_default_spiral_and_every_lesson_fit_the_default_budget():
    minutes = settings.BUDGET_MINUTES
    assert budget.run_problem(TrainConfig.from_dict({}), minutes) is None  # 1,000 epochs of the default spiral
    for lesson in lessons.LESSONS.values():
        assert budget.run_problem(lesson.config, minutes) is None, lesson.slug
        assert budget.race_problem(lesson.race, minutes) is None, lesson.slug


@pytest.mark.parametrize("layers", [preset.stack() for preset in presets.IMAGE_PRESETS.values()])
def test_the_image_presets_fit_on_full_mnist(layers):
    """The Playground's image presets (3 epochs, batch 64) on all 60,000 + 10,000 downloaded digits."""
    mnist = plan({"name": "mnist"}, layers)
    assert 3 * budget.epoch_seconds(mnist, 64, 60_000, 10_000) < 60 * settings.BUDGET_MINUTES


def test_many_tiny_batches_count_and_suggest_a_larger_batch():
    tiny = TrainConfig.from_dict({"dataset": {"name": "xor", "n_samples": 20000}, "batch_size": 1, "epochs": 100_000,
                                  "layers": [{"type": "linear", "out": 4}, {"type": "relu"}, {"type": "linear"}]})
    problem = budget.run_problem(tiny, 30)
    assert problem is not None and problem.endswith("fewer data points, or a larger batch size.")
    assert "larger batch" not in budget.run_problem(ATTACK, 30)


def test_a_race_counts_every_entrant():
    small = ATTACK.replace(epochs=20)
    assert budget.race_problem((("a", small),), 30) is None
    problem = budget.race_problem(tuple((str(n), small) for n in range(4)), 30)
    assert problem.startswith("This race would take about ") and "at most 30 minutes" in problem


def test_sample_counts_follow_the_dataset_settings():
    spiral = TrainConfig.from_dict({"dataset": {"name": "spiral", "classes": 4, "n_per_class": 100}})
    assert budget.sample_counts(spiral) == (320, 80)
    digits = TrainConfig.from_dict({"dataset": {"name": "digits", "train_images": 500, "test_images": 100}})
    assert budget.sample_counts(digits) == (500, 100)


def test_durations_read_as_words():
    assert [budget.duration(s) for s in (0.2, 40, 600, 3 * 3600, 22 * 86400)] == [
        "about 1 second", "about 40 seconds", "about 10 minutes", "about 3 hours", "about 22 days"]


def test_a_table_is_counted_from_its_rows(tmp_path):
    from playground.datasets import TableChoice

    csv = tmp_path / "rows.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(250)))
    table = TableChoice(str(csv), "label", ("a", "b"), "classification")
    config = TrainConfig.from_dict({"dataset": {"name": "csv", **table.to_dict()}}, allow_paths=True)
    assert budget.sample_counts(config) == (200, 50)


# --- whether a setup can train here ------------------------------------------------------------------

def test_training_problem_is_none_for_a_setup_that_fits_and_gives_its_plan():
    plan, problem = budget.training_problem(TrainConfig.from_dict({}), 2400, settings.BUDGET_MINUTES)
    assert problem is None and plan.parameters == 2 * 100 + 100 + 100 * 3 + 3


def test_training_problem_names_layers_that_do_not_fit_the_data_and_gives_no_plan():
    config = TrainConfig.from_dict({"dataset": {"name": "spiral"}, "layers": [{"type": "conv2d"}, {"type": "linear"}]})
    plan, (kind, reason) = budget.training_problem(config, 2400, None)
    assert plan is None and kind == budget.LAYERS and "Conv2d" in reason


def test_training_problem_names_a_batch_too_large_for_memory_before_the_budget():
    cnn = [{"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"},
           {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}]
    config = TrainConfig.from_dict({"dataset": {"name": "mnist"}, "layers": cnn, "batch_size": 0})
    plan, (kind, reason) = budget.training_problem(config, 60000, None)
    assert plan is not None and kind == budget.BATCH
    assert reason.startswith("Batch size: a full batch of 60,000 samples") and reason.endswith(".")


def test_training_problem_names_a_run_over_the_budget():
    plan, (kind, reason) = budget.training_problem(ATTACK, 40000, 30)
    assert plan is not None and kind == budget.BUDGET and reason == budget.run_problem(ATTACK, 30)
    assert budget.training_problem(ATTACK, 40000, None)[1] is None
