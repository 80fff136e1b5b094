"""The conv localisation benchmark (issue 10's speed goal): one wrong element of a conv weight gradient.

    case, grads, where = one_wrong_conv_weight(seed)
    oracles.finite_diff.localise(case, grads, ["W1"])["W1"].index == where     # target: < 1 s

The net is conv(4 filters 3x3, pad 1) > relu > max_pool 2x2 > flatten > affine(5) with softmax
cross-entropy on a batch of 4 [3x8x8] images; the claimed gradients are the torch oracle's with one
element of W1 moved by 5% of the tensor's largest entry (well above every tolerance, well below a
gross error). Needs torch (the oracle); the timed call itself is numpy only.
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case, Spec
from oracles.layers import Layer

__all__ = ["SPEC", "one_wrong_conv_weight"]

SPEC = Spec(layers=(Layer.of("conv", filters=4, kh=3, stride=1, pad=1), Layer("relu"),
                    Layer.of("max_pool", kh=2, stride=2), Layer("flatten"), Layer.of("affine", out=5)),
            input_shape=(3, 8, 8), loss="softmax_cross_entropy", target="labels")


def one_wrong_conv_weight(seed: int = 0) -> tuple[Case, dict[str, np.ndarray], tuple[int, ...]]:
    """(case, claimed grads with one wrong W1 element, the index of that element)."""
    from oracles import torch_autograd

    rng = np.random.default_rng(seed)
    params = {k: rng.standard_normal(s) * 0.3 for k, s in SPEC.param_shapes().items()}
    case = Case(spec=SPEC, params=params, x=rng.standard_normal((4, 3, 8, 8)), y=rng.integers(0, 5, 4),
                lr=0.1, seed=seed)
    grads = {k: v.copy() for k, v in torch_autograd.expected(case).grads.items()}
    where = tuple(int(i) for i in rng.integers(0, SPEC.param_shapes()["W1"]))
    grads["W1"][where] += 0.05 * float(np.abs(grads["W1"]).max())
    return case, grads, where
