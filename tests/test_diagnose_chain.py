"""The plain-words line first (issue 9 section 4): which tensors are right, which are wrong, where the chain breaks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from oracles import torch_autograd
from oracles.case import Case, Spec
from oracles.compare import compare_observation
from oracles.diagnose.chain import chain_line


def _case() -> Case:
    rng = np.random.default_rng(5)
    spec = Spec(sizes=(3, 4, 4, 2), activations=("sigmoid", "sigmoid", "sigmoid"))
    params = {}
    for l, (a, b) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:]), 1):
        params[f"W{l}"], params[f"b{l}"] = rng.normal(0, 0.8, (b, a)), rng.normal(0, 0.5, b)
    return Case(spec, params, rng.normal(size=(4, 3)), rng.uniform(0.1, 0.9, (4, 2)))


def _line(wrong: dict[str, float], loss: float = 1.0) -> str | None:
    case = _case()
    exp = torch_autograd.expected(case)
    grads = {k: v * wrong.get(k, 1.0) for k, v in exp.grads.items()}
    obs = replace(exp, grads=grads, loss=exp.loss * loss, updated=None, trajectory=None)
    return chain_line(case, compare_observation(case, obs, exp), loss_wrong=loss != 1.0)


@pytest.mark.parametrize("wrong, words", [
    ({"W1": 1.3, "b1": 1.3}, ["dW3, db3, dW2, db2", "right; dW1, db1 wrong",
                              "breaks at the step from layer 2 back to layer 1"]),
    ({k: 1.3 for k in ("W1", "b1", "W2", "b2", "W3", "b3")}, ["wrong from the output layer (layer 3) on"]),
    ({"W2": 1.3}, ["dW2 wrong", "db2 is right, so delta2 is right: dW2's own formula"]),
    ({"b2": 1.3}, ["db2 wrong", "db2's own formula"]),
    ({"W2": 1.3, "b2": 1.3}, ["only layer 2 is wrong; the layers below are right"]),
])
def test_the_chain_line_names_right_and_wrong_tensors_and_the_break(wrong, words):
    line = _line(wrong)
    assert line is not None
    for w in words:
        assert w in line, line


def test_a_wrong_loss_blames_the_forward_pass_not_a_backward_step():
    line = _line({k: 1.3 for k in ("W1", "b1", "W2", "b2", "W3", "b3")}, loss=1.2)
    assert "forward pass" in line and "breaks" not in line


def test_every_gradient_right_gives_no_line():
    assert _line({}) is None
