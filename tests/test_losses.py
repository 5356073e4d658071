"""Loss registry: which losses fit which task, and how model outputs become class probabilities."""
import pytest
import torch
from torch.nn import functional as F

from playground.losses import (
    DEFAULT_LOSS,
    LOG_PROBS,
    LOGIT,
    LOSSES,
    PROB,
    PROBS,
    SCORES,
    VALUE,
    class_probabilities,
    compatible_losses,
    predicted_classes,
    task_problem,
)
from playground.tasks import CLASSIFICATION, REGRESSION


def test_three_classes_get_only_the_multi_class_losses():
    assert compatible_losses(CLASSIFICATION, 3) == ["cross_entropy", "nll"]


def test_bce_losses_are_offered_only_for_two_classes():
    two = compatible_losses(CLASSIFICATION, 2)
    assert set(two) == {"cross_entropy", "nll", "bce", "bce_with_logits"}
    for n in (3, 4, 10):
        assert "bce" not in compatible_losses(CLASSIFICATION, n)
        assert "bce_with_logits" not in compatible_losses(CLASSIFICATION, n)


def test_value_losses_are_offered_only_for_regression():
    assert compatible_losses(REGRESSION, 0) == ["mse", "l1", "huber"]
    for n in (2, 3):
        assert not {"mse", "l1", "huber"} & set(compatible_losses(CLASSIFICATION, n))


def test_default_losses_are_compatible():
    assert DEFAULT_LOSS[CLASSIFICATION] in compatible_losses(CLASSIFICATION, 3)
    assert DEFAULT_LOSS[REGRESSION] in compatible_losses(REGRESSION, 0)


def test_task_problem_is_none_for_every_compatible_loss():
    for task, n in ((CLASSIFICATION, 2), (CLASSIFICATION, 5), (REGRESSION, 0)):
        for name in compatible_losses(task, n):
            assert task_problem(LOSSES[name], task, n) is None


def test_task_problem_for_a_regression_loss_on_classes_lists_the_choices():
    problem = task_problem(LOSSES["mse"], CLASSIFICATION, 3)
    assert "MSE is a regression loss but this dataset is classification" in problem
    assert "cross_entropy, nll" in problem


def test_task_problem_for_a_class_loss_on_regression_lists_the_choices():
    problem = task_problem(LOSSES["cross_entropy"], REGRESSION, 0)
    assert "classification loss but this dataset is regression" in problem
    assert "mse, l1, huber" in problem


def test_task_problem_for_bce_on_three_classes_suggests_cross_entropy():
    problem = task_problem(LOSSES["bce"], CLASSIFICATION, 3)
    assert "two classes" in problem and "has 3" in problem and "cross-entropy" in problem


@pytest.mark.parametrize("name, outputs", [("cross_entropy", 4), ("nll", 4), ("bce", 1),
                                           ("bce_with_logits", 1), ("mse", 1), ("l1", 1), ("huber", 1)])
def test_number_of_model_outputs_per_loss(name, outputs):
    assert LOSSES[name].n_outputs(4) == outputs


def test_binary_losses_take_float_column_targets():
    y = torch.tensor([0, 1, 1])
    for name in ("bce", "bce_with_logits"):
        t = LOSSES[name].targets(y)
        assert t.dtype == torch.float32 and t.shape == (3, 1)
        assert t[:, 0].tolist() == [0.0, 1.0, 1.0]
    assert LOSSES["cross_entropy"].targets(y) is y


def _outputs(kind: str, n: int = 16, classes: int = 3) -> torch.Tensor:
    gen = torch.Generator().manual_seed(n * 10 + classes)
    scores = torch.randn(n, classes, generator=gen) * 3
    return {SCORES: scores, LOG_PROBS: F.log_softmax(scores, dim=1), PROBS: F.softmax(scores, dim=1),
            LOGIT: torch.randn(n, 1, generator=gen) * 3, PROB: torch.rand(n, 1, generator=gen)}[kind]


@pytest.mark.parametrize("kind", [SCORES, LOG_PROBS, PROBS, LOGIT, PROB])
def test_class_probabilities_rows_sum_to_one(kind):
    p = class_probabilities(kind, _outputs(kind))
    assert p.shape == (16, 2 if kind in (LOGIT, PROB) else 3)
    assert torch.all(p >= 0) and torch.all(p <= 1)
    torch.testing.assert_close(p.sum(dim=1), torch.ones(16))


@pytest.mark.parametrize("kind", [SCORES, LOG_PROBS, PROBS, LOGIT, PROB])
def test_predicted_classes_match_argmax_of_class_probabilities(kind):
    out = _outputs(kind, n=64)
    predicted = predicted_classes(kind, out)
    assert predicted.dtype == torch.int64 and predicted.shape == (64,)
    assert torch.equal(predicted, class_probabilities(kind, out).argmax(dim=1))


def test_binary_probability_outputs_give_the_positive_class_second():
    p = class_probabilities(LOGIT, torch.tensor([[0.0], [100.0], [-100.0]]))
    torch.testing.assert_close(p, torch.tensor([[0.5, 0.5], [0.0, 1.0], [1.0, 0.0]]))
    q = class_probabilities(PROB, torch.tensor([[0.25], [1.5]]))
    torch.testing.assert_close(q, torch.tensor([[0.75, 0.25], [0.0, 1.0]]))


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_computes_a_finite_value_on_its_output_kind(name):
    spec = LOSSES[name]
    if spec.task == REGRESSION:
        out, y = torch.linspace(-1, 1, 8)[:, None], torch.linspace(0, 2, 8)[:, None]
    else:
        out, y = _outputs(spec.output, n=8, classes=2), torch.tensor([0, 1] * 4)
    loss = spec.make()(out, spec.targets(y))
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert spec.output in (SCORES, LOG_PROBS, PROBS, LOGIT, PROB, VALUE)
