"""Table entry ``linear``: z = x W^T with no bias, CS231n assignment 1's linear classifiers.

The course's softmax and SVM classifiers score ``X.dot(W)`` with W (D, C) and no bias (the "bias trick"
puts a ones column in X, so the bias is a row of W and is regularised with it). In the canonical layout W
is (C, D); it is numbered, so a one-layer Spec names it W1, and L2 covers it.
"""

from __future__ import annotations

import math

from oracles.layers.table import Hyper, LayerKind, Param, register

__all__ = ["LINEAR_KINDS"]


def _torch():
    import torch  # only the autograd oracle calls the twin; the sandbox child never does

    return torch


register(LayerKind(
    name="linear",
    out_shape=lambda s, hp: (int(hp["out"]),),
    numpy=lambda x, p, hp, ctx: x.reshape(x.shape[0], -1) @ p["W"].T,
    torch=lambda x, p, hp, ctx: _torch().mm(x.reshape(x.shape[0], -1), p["W"].t()),
    params=(Param("W", lambda s, hp: (int(hp["out"]), int(math.prod(s))), family="grad_W", regularised=True,
                  init="fan_in"),),
    hyper=(Hyper("out", 2, lambda rng, s: int(rng.integers(2, 9)), "classes C"),),
    numbered=True,
    doc="no-bias linear scores x (m, D) -> x W^T (m, C); W (C, D) (CS231n assignment 1's W is its transpose)",
))

LINEAR_KINDS = ("linear",)
