"""Table entries that CMU 11-785 MyTorch teaches beyond the other courses: gelu, softmax (hw1), conv1d,
downsample and upsample (hw2).

* ``gelu``: the exact GELU, z Phi(z) (Phi the standard normal CDF), as the handout and torch's default
  ``F.gelu`` (approximate='none'); elementwise, any shape.
* ``softmax``: row-wise over the features of a flat (m, C) input, as MyTorch's ``Softmax`` activation.
* ``conv1d``: 1-d cross-correlation, x (m, C, W), W (F, C, k), b (F,), stride and zero padding:
  ``1 + (W + 2 pad - k) // stride`` outputs (hw2's ``Conv1d_stride1`` / ``Conv1d``).
* ``downsample``: keep every ``factor``-th entry along every axis after the channel axis (hw2's
  ``Downsample1d`` on (m, C, W), ``Downsample2d`` on (m, C, H, W)): ``(n - 1) // factor + 1`` entries.
* ``upsample``: ``factor - 1`` zeros between neighbouring entries along those axes (``Upsample1d`` /
  ``Upsample2d``): ``factor (n - 1) + 1`` entries. Its gradient is the downsample of dLdZ.

None of them is an MLP activation (``activation=False``): they are checked as single layers only.
numpy only at import time (the sandbox child imports the table); torch inside the twins.
"""

from __future__ import annotations

import math

import numpy as np

from oracles.layers.table import Hyper, LayerKind, Param, register

__all__ = ["gelu_np", "softmax_np"]


def _torch():
    import torch  # only the autograd oracle calls the twins; the sandbox child never does

    return torch


# numpy has no erfc; FD calls this on small arrays only. erfc, not 1 + erf: in the left tail 1 + erf(z / sqrt 2)
# cancels to a few correct digits (z = -8: Phi ~ 6e-16), and FD on those digits cried wolf on a correct GELU
_erfc = np.vectorize(math.erfc, otypes=[float])


def gelu_np(z: np.ndarray) -> np.ndarray:
    """z Phi(z) in float64."""
    z = np.asarray(z, dtype=np.float64)
    return 0.5 * z * _erfc(-z / math.sqrt(2.0))


def softmax_np(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (m, C), shifted by the row maximum (no overflow)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


register(LayerKind(
    name="gelu",
    out_shape=lambda s, hp: tuple(s),
    numpy=lambda x, p, hp, ctx: gelu_np(x),
    torch=lambda x, p, hp, ctx: _torch().nn.functional.gelu(x),
    doc="elementwise exact GELU z Phi(z)",
))


def _flat_only(s, hp) -> tuple[int, ...]:
    if len(s) != 1:
        raise ValueError(f"softmax takes flat (C,) samples, got shape {tuple(s)}")
    return tuple(s)


register(LayerKind(
    name="softmax",
    out_shape=_flat_only,
    numpy=lambda x, p, hp, ctx: softmax_np(x),
    torch=lambda x, p, hp, ctx: _torch().softmax(x, dim=1),
    doc="row-wise softmax of (m, C)",
))


# ---- conv1d


def _signal(s) -> tuple[int, int]:
    if len(s) != 2:
        raise ValueError(f"takes signals (C, W) per sample, got shape {tuple(s)}")
    return int(s[0]), int(s[1])


def _conv1d_shape(s, hp) -> tuple[int, int]:
    C, W = _signal(s)
    k, stride, pad = int(hp["k"]), int(hp["stride"]), int(hp["pad"])
    if min(k, stride) < 1 or pad < 0:
        raise ValueError(f"kernel {k}, stride {stride}, pad {pad}: kernel and stride must be >= 1, pad >= 0")
    if k > W + 2 * pad:
        raise ValueError(f"a kernel of {k} does not fit a signal of {W} padded by {pad}")
    return int(hp["filters"]), (W + 2 * pad - k) // stride + 1


def _conv1d_np(x, p, hp, ctx):
    k, stride, pad = int(hp["k"]), int(hp["stride"]), int(hp["pad"])
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, k, axis=2)[:, :, ::stride, :]  # (m, C, Wout, k)
    return np.einsum("mcwk,fck->mfw", win, p["W"]) + p["b"].reshape(1, -1, 1)


def _conv1d_torch(x, p, hp, ctx):
    F = _torch().nn.functional
    return F.conv1d(x, p["W"], p["b"], stride=int(hp["stride"]), padding=int(hp["pad"]))


register(LayerKind(
    name="conv1d",
    out_shape=_conv1d_shape,
    numpy=_conv1d_np,
    torch=_conv1d_torch,
    params=(
        Param("W", lambda s, hp: (int(hp["filters"]), _signal(s)[0], int(hp["k"])), family="grad_W",
              regularised=True, init="fan_in"),
        Param("b", lambda s, hp: (int(hp["filters"]),), family="grad_b", init="bias"),
    ),
    hyper=(
        Hyper("filters", 2, lambda rng, s: int(rng.integers(1, 5)), "number of filters F"),
        Hyper("k", 3, lambda rng, s: int(rng.integers(1, min(4, s[-1]) + 1)), "kernel width (fits unpadded)"),
        Hyper("stride", 1, lambda rng, s: int(rng.choice([1, 1, 2, 3])), "stride"),
        Hyper("pad", 0, lambda rng, s: int(rng.choice([0, 0, 1, 2])), "zeros on each side of W"),
    ),
    numbered=True,
    doc="1-d cross-correlation: x (m, C, W), W (F, C, k), b (F,) -> (m, F, W')",
))


# ---- downsample / upsample along every axis after the channel axis


def _spatial_axes(s) -> tuple[int, ...]:
    if len(s) not in (2, 3):
        raise ValueError(f"takes (C, W) or (C, H, W) per sample, got shape {tuple(s)}")
    return tuple(int(v) for v in s[1:])


def _factor(hp) -> int:
    k = int(hp["factor"])
    if k < 1:
        raise ValueError(f"factor {k} must be >= 1")
    return k


def _every(x, k: int):
    """x[:, :, ::k] or x[:, :, ::k, ::k]: every k-th entry of every axis after the channel axis."""
    return x[(slice(None), slice(None)) + (slice(None, None, k),) * (x.ndim - 2)]


def _up_np(x, p, hp, ctx):
    k = _factor(hp)
    out = np.zeros(x.shape[:2] + tuple(k * (n - 1) + 1 for n in x.shape[2:]), dtype=x.dtype)
    out[(slice(None), slice(None)) + (slice(None, None, k),) * (x.ndim - 2)] = x
    return out


def _up_torch(x, p, hp, ctx):
    k = _factor(hp)
    out = x.new_zeros(tuple(x.shape[:2]) + tuple(k * (n - 1) + 1 for n in x.shape[2:]))
    out[(slice(None), slice(None)) + (slice(None, None, k),) * (x.dim() - 2)] = x  # autograd: dx = dout[..., ::k]
    return out


_FACTOR = Hyper("factor", 2, lambda rng, s: int(rng.choice([1, 2, 2, 3, 4])), "the resampling factor")

register(LayerKind(
    name="downsample",
    out_shape=lambda s, hp: (int(s[0]), *((n - 1) // _factor(hp) + 1 for n in _spatial_axes(s))),
    numpy=lambda x, p, hp, ctx: _every(x, _factor(hp)),
    torch=lambda x, p, hp, ctx: _every(x, _factor(hp)),
    hyper=(_FACTOR,),
    doc="every factor-th entry along W (and H): (m, C, W) -> (m, C, (W - 1) // k + 1)",
))

register(LayerKind(
    name="upsample",
    out_shape=lambda s, hp: (int(s[0]), *(_factor(hp) * (n - 1) + 1 for n in _spatial_axes(s))),
    numpy=_up_np,
    torch=_up_torch,
    hyper=(_FACTOR,),
    doc="factor - 1 zeros between entries along W (and H): (m, C, W) -> (m, C, k (W - 1) + 1)",
))
