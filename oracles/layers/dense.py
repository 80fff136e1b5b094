"""Table entries: affine, the elementwise activations, flatten. An MLP is [affine, act, affine, act, ...].

The torch twins reproduce the operations the MLP oracle always used (``addmm``; logaddexp for softplus,
without F.softplus's threshold) so the MLP's results are bit-identical after the layer table.
"""

from __future__ import annotations

import math

import numpy as np

from oracles.layers.table import Hyper, LayerKind, Param, register

__all__ = ["LEAKY_SLOPE", "ACTIVATION_KINDS"]

LEAKY_SLOPE = 0.01  # reference.functions.LEAKY_SLOPE; torch's F.leaky_relu default too


def _torch():
    import torch  # only the autograd oracle calls the twins; the sandbox child never does

    return torch


def _flat(shape) -> int:
    return int(math.prod(shape))


# ---- affine: z = x W^T + b, x flattened to (m, D) as CS231n's affine_forward and Saito's Affine do


def _affine_np(x, p, hp, ctx):
    return x.reshape(x.shape[0], -1) @ p["W"].T + p["b"]


def _affine_torch(x, p, hp, ctx):
    return _torch().addmm(p["b"], x.reshape(x.shape[0], -1), p["W"].t())


def _draw_width(rng, in_shape):
    return int(rng.integers(1, 9))


register(LayerKind(
    name="affine",
    out_shape=lambda s, hp: (int(hp["out"]),),
    numpy=_affine_np,
    torch=_affine_torch,
    params=(
        Param("W", lambda s, hp: (int(hp["out"]), _flat(s)), family="grad_W", regularised=True, init="fan_in"),
        Param("b", lambda s, hp: (int(hp["out"]),), family="grad_b", init="bias"),
    ),
    hyper=(Hyper("out", 1, _draw_width, "output units"),),
    numbered=True,
    doc="fully connected: x (m, d1..dk) flattened to (m, D); W (out, D), b (out,)",
))


# ---- elementwise activations


def _sigmoid_np(z):
    # exp(-|z|) never overflows; the two branches are the same function
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


_ACT_NP = {
    "identity": lambda z: z,
    "sigmoid": _sigmoid_np,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
    "softplus": lambda z: np.logaddexp(z, 0.0),
}


def _act_torch(name):
    def twin(x, p, hp, ctx):
        torch = _torch()
        if name == "identity":
            return x
        if name == "sigmoid":
            return torch.sigmoid(x)
        if name == "tanh":
            return torch.tanh(x)
        if name == "relu":
            return torch.relu(x)
        if name == "leaky_relu":
            return torch.nn.functional.leaky_relu(x, LEAKY_SLOPE)
        # logaddexp(z, 0): log(1 + e^z) without overflow and without F.softplus's threshold
        return torch.logaddexp(x, torch.zeros((), dtype=x.dtype))

    return twin


def _sign_pattern(x, p, hp, ctx):
    return np.asarray(x) > 0


ACTIVATION_KINDS = tuple(_ACT_NP)

for _name, _f in _ACT_NP.items():
    register(LayerKind(
        name=_name,
        out_shape=lambda s, hp: tuple(s),
        numpy=(lambda f: lambda x, p, hp, ctx: f(x))(_f),
        torch=_act_torch(_name),
        kink=_sign_pattern if _name in ("relu", "leaky_relu") else (lambda x, p, hp, ctx: None),
        activation=True,
        doc=f"elementwise {_name}",
    ))


# ---- flatten: (m, d1..dk) -> (m, D), C-order as numpy's reshape and torch's flatten


register(LayerKind(
    name="flatten",
    out_shape=lambda s, hp: (_flat(s),),
    numpy=lambda x, p, hp, ctx: x.reshape(x.shape[0], -1),
    torch=lambda x, p, hp, ctx: x.reshape(x.shape[0], -1),
    doc="reshape to (m, D) in C order",
))
