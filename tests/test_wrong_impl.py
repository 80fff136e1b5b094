"""The checker catches bugs: each main property, run on a deliberately broken implementation, fails
with a message that names the tensor and the size of the error (the norm ratio).

The broken implementations are small local test doubles (a reference subclass with one method
broken), so this file does not depend on the mutation zoo. They run through the same drivers and
the same check functions as the property suite (tests/test_properties.py).
"""

from __future__ import annotations

import re
import types

import numpy as np
import pytest
from test_properties import (
    Subject,
    check_agree,
    check_batch_is_reduction_of_samples,
    check_grads_match_finite_differences,
    check_grads_match_torch,
    check_loss_matches_torch,
    check_no_side_effects,
    check_sgd_step_matches_torch,
    check_trajectory_matches_torch,
)

import reference.matrix
import reference.nielsen
from oracles.case import Spec
from oracles.strategies import build_case

M = 4  # batch size: a missing 1/m shows as a norm ratio of 4


def _module_with(base: types.ModuleType, **overrides) -> types.SimpleNamespace:
    """base's public names with some replaced: an impl object the drivers accept."""
    names = {n: getattr(base, n) for n in getattr(base, "__all__", dir(base)) if not n.startswith("_")}
    names.update(overrides)
    return types.SimpleNamespace(**names)


class SummedBatchGrads(reference.matrix.Network):
    """Full-matrix backprop that forgets the 1/m: returns the batch SUM as if it were the mean."""

    def backprop(self, X, Y):
        nabla_b, nabla_w = super().backprop(X, Y)
        m = X.shape[1]
        return [m * g for g in nabla_b], [m * g for g in nabla_w]


class TransposedWeightGrads(reference.matrix.Network):
    """dW^l = A^{l-1} delta^T / m instead of delta A^{l-1}^T / m (same shape on square layers)."""

    def backprop(self, X, Y):
        nabla_b, nabla_w = super().backprop(X, Y)
        return nabla_b, [g.T for g in nabla_w]


class SummedCost(reference.nielsen.Network):
    """total_cost without the 1/n: the summed cost reported as the mean."""

    def total_cost(self, data, lmbda=0.0):
        data = list(data)
        return len(data) * super().total_cost(data, lmbda)


class UnscaledUpdate(reference.nielsen.Network):
    """update_mini_batch stepping by eta times the SUM of per-sample gradients (no eta/m)."""

    def update_mini_batch(self, mini_batch, eta, lmbda=0.0, n=1):
        mini_batch = list(mini_batch)
        super().update_mini_batch(mini_batch, eta * len(mini_batch), lmbda, n)


class ClobbersInput(reference.nielsen.Network):
    """backprop applies relu to its input in place (seed 002's Relu bug, moved to the input)."""

    def backprop(self, x, y):
        np.maximum(x, 0, out=x)
        return super().backprop(x, y)


def _subject(cls, base, entry: str) -> Subject:
    impl = _module_with(base, Network=cls)
    return Subject(f"nielsen:test-double.{cls.__name__}[{entry}]", "nielsen", impl, entry)


BATCH_NO_MEAN = _subject(SummedBatchGrads, reference.matrix, "Network[batch]")
TRANSPOSED = _subject(TransposedWeightGrads, reference.matrix, "Network[batch]")
LOSS_NO_MEAN = _subject(SummedCost, reference.nielsen, "Network")
UPDATE_NO_MEAN = _subject(UnscaledUpdate, reference.nielsen, "Network")
MUTATES = _subject(ClobbersInput, reference.nielsen, "Network")
CORRECT = Subject("nielsen:reference.nielsen[Network]", "nielsen", reference.nielsen, "Network")


def _case(dtype: str = "float64", seed: int = 3):
    """Square layers (so a transposed gradient keeps its shape), smooth units, batch M."""
    spec = Spec(sizes=(3, 3, 3), activations=("tanh", "sigmoid"), loss="quadratic", dtype=dtype)
    return build_case(spec, M, seed, scale=1.0, lr=0.5, steps=3)


def _ratio(message: str, tensor: str) -> float:
    """The norm ratio the message gives for ``tensor`` (the first such line)."""
    for line in message.splitlines():
        if tensor in line and "norm ratio" in line:
            return float(re.search(r"norm ratio ([0-9.eE+-]+)", line).group(1))
    raise AssertionError(f"no line names {tensor} with a norm ratio in:\n{message}")


def _fails(check, *args) -> str:
    with pytest.raises(AssertionError) as info:
        check(*args)
    message = str(info.value)
    assert "bpcheck replay " in message and "--subject" in message, message  # the one-line replay
    return message


# -- a missing 1/m ---------------------------------------------------------------------------------


def test_loss_property_catches_a_summed_cost():
    msg = _fails(check_loss_matches_torch, LOSS_NO_MEAN, _case())
    assert _ratio(msg, "loss") == pytest.approx(M)


@pytest.mark.parametrize("check", [check_grads_match_torch, check_grads_match_finite_differences],
                         ids=["torch", "finite_differences"])
def test_gradient_properties_catch_a_missing_mean(check):
    msg = _fails(check, BATCH_NO_MEAN, _case())
    for name in ("grads['W1']", "grads['b1']", "grads['W2']", "grads['b2']"):
        assert _ratio(msg, name) == pytest.approx(M), name


def test_batch_reduction_property_catches_a_missing_mean():
    # one sample alone is right (m = 1): only the batch is m times too large
    msg = _fails(check_batch_is_reduction_of_samples, BATCH_NO_MEAN, _case())
    assert _ratio(msg, "grads['W2']") == pytest.approx(M)


def test_agreement_property_catches_a_missing_mean():
    msg = _fails(check_agree, CORRECT, [BATCH_NO_MEAN], _case())
    assert "disagrees" in msg and BATCH_NO_MEAN.name in msg
    assert _ratio(msg, "grads['W1']") == pytest.approx(M)


def test_sgd_step_property_catches_an_unscaled_update():
    msg = _fails(check_sgd_step_matches_torch, UPDATE_NO_MEAN, _case())
    assert "updated['W2']" in msg and "norm ratio" in msg


def test_trajectory_property_catches_an_unscaled_update():
    msg = _fails(check_trajectory_matches_torch, UPDATE_NO_MEAN, _case())
    assert re.search(r"trajectory\[1\]\['W\d'\].*norm ratio", msg), msg


def test_float32_runs_still_catch_a_missing_mean():
    msg = _fails(check_grads_match_torch, BATCH_NO_MEAN, _case("float32"))
    assert _ratio(msg, "grads['W1']") == pytest.approx(M, rel=1e-4)


# -- a transposed weight gradient ---------------------------------------------------------------------


@pytest.mark.parametrize("check", [check_grads_match_torch, check_grads_match_finite_differences],
                         ids=["torch", "finite_differences"])
def test_gradient_properties_catch_a_transposed_weight_gradient(check):
    msg = _fails(check, TRANSPOSED, _case())
    assert "grads['W1']" in msg and "grads['W2']" in msg
    assert "grads['b1']" not in msg  # the biases are right, and the message does not blame them
    assert _ratio(msg, "grads['W2']") == pytest.approx(1.0)  # same norm, different places


def test_agreement_property_catches_a_transposed_weight_gradient():
    msg = _fails(check_agree, CORRECT, [TRANSPOSED], _case())
    assert "grads['W1']" in msg


def test_sgd_step_property_catches_a_transposed_weight_gradient():
    # the full-matrix update_mini_batch calls its own (broken) backprop
    msg = _fails(check_sgd_step_matches_torch, TRANSPOSED, _case())
    assert "updated['W1']" in msg and "norm ratio" in msg


# -- side effects -------------------------------------------------------------------------------------


def test_side_effect_property_catches_an_input_written_in_place():
    case = _case()
    assert (case.x < 0).any()  # otherwise relu-in-place would change nothing
    msg = _fails(check_no_side_effects, MUTATES, case)
    assert re.search(r"\bx\b.*modified in place", msg), msg


# -- and the same checks pass the correct reference on the same cases (the doubles are the only bug) ----


@pytest.mark.parametrize("check", [check_loss_matches_torch, check_grads_match_torch, check_sgd_step_matches_torch,
                                   check_trajectory_matches_torch, check_no_side_effects,
                                   check_grads_match_finite_differences, check_batch_is_reduction_of_samples])
def test_the_correct_reference_passes_the_same_checks(check):
    check(CORRECT, _case())
    check(Subject("nielsen:reference.matrix[Network[batch]]", "nielsen", reference.matrix, "Network[batch]"), _case())
