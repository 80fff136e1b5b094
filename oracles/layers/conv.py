"""Table entries: conv (2-d cross-correlation, zero padding, stride), max_pool and avg_pool (no padding).

Inputs are (m, C, H, W) (CS231n's and Saito's layout, torch's too; deeplearning.ai's channels-last
arrays are transposed by its driver). Output size per axis: ``1 + (H + 2 pad - k) // stride`` (rows the
last window cannot reach are unused, as in every course and torch). ``kw=None`` means a square kernel
(``kw = kh``): deeplearning.ai's ``f`` is square, CS231n and Saito take both sizes.

The numpy forwards are oracles/conv_ops.py (vectorised: FD evaluates them hundreds of times per Case);
the torch twins are F.conv2d / F.max_pool2d / F.avg_pool2d. Max-pool's kink is its argmax pattern (the
winner of every window): where a finite difference moves a winner it is "not differentiable here", so FD
never judges across a tie. Ties themselves route to the FIRST maximum in row-major window order in both
twins (torch on the CPU; np.argmax); the course files' other routings are conventions their drivers
report, never bugs (see oracles/conv_bug_models.py: first / all / split).
"""

from __future__ import annotations

import numpy as np

from oracles import conv_ops
from oracles.layers.table import Hyper, LayerKind, Param, register

__all__ = ["kernel", "conv_out_shape", "pool_out_shape", "fit_window", "FITS"]


def _torch():
    import torch  # only the autograd oracle calls the twins; the sandbox child never does

    return torch


def kernel(hp) -> tuple[int, int]:
    """(kh, kw) of a conv or pool layer; kw None is a square kernel."""
    kh = int(hp["kh"])
    return kh, kh if hp.get("kw") is None else int(hp["kw"])


def _image(s) -> tuple[int, int, int]:
    if len(s) != 3:
        raise ValueError(f"takes images (C, H, W) per sample, got shape {tuple(s)}")
    return tuple(int(v) for v in s)


def _sizes(H: int, W: int, hp, pad: int) -> tuple[int, int]:
    kh, kw = kernel(hp)
    stride = int(hp["stride"])
    if min(kh, kw, stride) < 1 or pad < 0:
        raise ValueError(f"kernel {kh}x{kw}, stride {stride}, pad {pad}: kernel and stride must be >= 1, pad >= 0")
    if kh > H + 2 * pad or kw > W + 2 * pad:
        raise ValueError(f"a {kh}x{kw} kernel does not fit a {H}x{W} image padded by {pad}")
    if hp.get("fit") == "exact" and not _tiles(H, W, kh, kw, stride, pad):
        raise ValueError(f"a {kh}x{kw} window with stride {stride} and pad {pad} does not tile a {H}x{W} image "
                         f"exactly (fit='exact': (H + 2 pad - kh) % stride == 0 on both axes)")
    return conv_ops.out_size(H, kh, stride, pad), conv_ops.out_size(W, kw, stride, pad)


def _tiles(H: int, W: int, kh: int, kw: int, stride: int, pad: int) -> bool:
    return (H + 2 * pad - kh) % stride == 0 and (W + 2 * pad - kw) % stride == 0


# ---- fit: whether the windows must tile the (padded) input exactly
# CS231n assignment 2 states it: "assume (H - pool_height) % stride == 0" (max_pool_forward_naive), its
# conv_forward_naive formula 1 + (H + 2 * pad - HH) / stride assumes the same, and its fast layers assert
# it. Correct real files assert it too (a shape outside the contract is not a valid input for them).
# Convention 'any' (the default: torch, Saito's im2col, deeplearning.ai floor the output size) draws
# any stride; 'exact' redraws what the space does not pin until the windows tile, keeping the drawn
# rectangular windows and non-square images (they found real bugs: an output width from pool_height).
FITS = ("any", "exact")


def fit_window(kind_name: str, hp: dict, s, pinned=()) -> dict:
    """hp adjusted so that a conv/pool window tiles the input when hp['fit'] == 'exact' (else unchanged).

    Changes only hyper-parameters not in ``pinned``: first the pad (conv), then the kernel height/width,
    then the stride (stride 1 always tiles)."""
    if hp.get("fit") != "exact" or kind_name not in ("conv", "max_pool", "avg_pool") or len(s) != 3:
        return hp
    _, H, W = (int(v) for v in s)
    out = dict(hp)
    kh0, kw0 = kernel(out)
    square = out.get("kw") is None

    def tiles(o) -> bool:
        kh, kw = kernel(o)
        pad = int(o.get("pad", 0)) if kind_name == "conv" else 0
        return kh <= H + 2 * pad and kw <= W + 2 * pad and _tiles(H, W, kh, kw, int(o["stride"]), pad)

    if tiles(out):
        return out
    pads = [int(out["pad"])] + [p for p in (0, 1, 2) if p != int(out["pad"])] if kind_name == "conv" else [None]
    strides = [int(out["stride"])] + [v for v in range(int(out["stride"]) - 1, 0, -1)]
    for stride in strides if "stride" not in pinned else [int(out["stride"])]:
        for pad in pads if "pad" not in pinned else [pads[0]]:
            for kh in _near(kh0, "kh" in pinned):
                for kw in ([None] if square else _near(kw0, "kw" in pinned)):
                    o = dict(out, stride=stride, kh=kh, kw=kw)
                    if pad is not None:
                        o["pad"] = pad
                    if tiles(o):
                        return o
    return out  # nothing tiles within what is pinned: the Spec is then refused with the reason


def _near(k: int, pinned: bool) -> list[int]:
    return [k] if pinned else sorted(range(1, 5), key=lambda v: (abs(v - k), v))


def conv_out_shape(s, hp) -> tuple[int, int, int]:
    C, H, W = _image(s)
    return (int(hp["filters"]), *_sizes(H, W, hp, int(hp["pad"])))


def pool_out_shape(s, hp) -> tuple[int, int, int]:
    C, H, W = _image(s)
    return (C, *_sizes(H, W, hp, 0))


# ---- draws: every one valid for the input it sees (the kernel fits unpadded, so any pad works)


def _draw_kh(rng, s) -> int:
    return int(rng.integers(1, min(4, s[1], s[2]) + 1)) if len(s) == 3 else 1  # kw None: kh must fit W too


def _draw_kw(rng, s):
    return None if rng.random() < 0.5 or len(s) != 3 else int(rng.integers(1, min(4, s[2]) + 1))


def _draw_pool_k(rng, s) -> int:
    return int(rng.integers(1, min(3, s[1], s[2]) + 1)) if len(s) == 3 else 1


def _draw_stride(rng, s) -> int:
    return int(rng.choice([1, 1, 2, 3]))


def _draw_pool_stride(rng, s) -> int:
    return int(rng.choice([1, 2, 2]))


def _draw_pad(rng, s) -> int:
    return int(rng.choice([0, 0, 1, 2]))


def _draw_filters(rng, s) -> int:
    return int(rng.integers(1, 5))


def _pool_kw(rng, s):
    # square pools are what the courses use; a non-square one now and then (CS231n takes both)
    return None if rng.random() < 0.75 or len(s) != 3 else int(rng.integers(1, min(3, s[1], s[2]) + 1))


# ---- conv


def _conv_np(x, p, hp, ctx):
    return conv_ops.conv2d(x, p["W"], p["b"], int(hp["stride"]), int(hp["pad"]))


def _conv_torch(x, p, hp, ctx):
    F = _torch().nn.functional
    return F.conv2d(x, p["W"], p["b"], stride=int(hp["stride"]), padding=int(hp["pad"]))


def _conv_w(s, hp):
    C, _, _ = _image(s)
    return (int(hp["filters"]), C, *kernel(hp))


register(LayerKind(
    name="conv",
    out_shape=conv_out_shape,
    numpy=_conv_np,
    torch=_conv_torch,
    params=(
        Param("W", _conv_w, family="grad_W", regularised=True, init="fan_in"),
        Param("b", lambda s, hp: (int(hp["filters"]),), family="grad_b", init="bias"),
    ),
    hyper=(
        Hyper("filters", 2, _draw_filters, "number of filters F"),
        Hyper("kh", 3, _draw_kh, "kernel height HH"),
        Hyper("kw", None, _draw_kw, "kernel width WW (None: square)"),
        Hyper("stride", 1, _draw_stride, "stride (both axes)"),
        Hyper("pad", 0, _draw_pad, "zero padding on each side of H and W"),
    ),
    conventions={"fit": FITS},
    numbered=True,
    doc="2-d cross-correlation: x (m, C, H, W), W (F, C, HH, WW), b (F,) -> (m, F, H', W')",
))


# ---- pooling


def _max_np(x, p, hp, ctx):
    kh, kw = kernel(hp)
    return conv_ops.max_pool2d(x, kh, kw, int(hp["stride"]))[0]


def _max_kink(x, p, hp, ctx):
    kh, kw = kernel(hp)
    return conv_ops.max_pool2d(np.asarray(x), kh, kw, int(hp["stride"]))[1]


def _max_torch(x, p, hp, ctx):
    F = _torch().nn.functional
    return F.max_pool2d(x, kernel(hp), stride=int(hp["stride"]))


def _avg_np(x, p, hp, ctx):
    kh, kw = kernel(hp)
    return conv_ops.avg_pool2d(x, kh, kw, int(hp["stride"]))


def _avg_torch(x, p, hp, ctx):
    F = _torch().nn.functional
    return F.avg_pool2d(x, kernel(hp), stride=int(hp["stride"]))


_POOL_HYPER = (
    Hyper("kh", 2, _draw_pool_k, "pool height"),
    Hyper("kw", None, _pool_kw, "pool width (None: square)"),
    Hyper("stride", 2, _draw_pool_stride, "stride (both axes)"),
)

register(LayerKind(
    name="max_pool",
    out_shape=pool_out_shape,
    conventions={"fit": FITS},
    numpy=_max_np,
    torch=_max_torch,
    hyper=_POOL_HYPER,
    kink=_max_kink,
    doc="max over each window, per channel; the gradient goes to the (first) maximum",
))

register(LayerKind(
    name="avg_pool",
    out_shape=pool_out_shape,
    conventions={"fit": FITS},
    numpy=_avg_np,
    torch=_avg_torch,
    hyper=_POOL_HYPER,
    doc="mean over each window, per channel",
))


# ---- zero_pad: deeplearning.ai's zero_pad on its own (its gradient is the crop)


def _zero_pad_shape(s, hp) -> tuple[int, int, int]:
    C, H, W = _image(s)
    p = int(hp["pad"])
    if p < 0:
        raise ValueError(f"pad {p} must be >= 0")
    return (C, H + 2 * p, W + 2 * p)


register(LayerKind(
    name="zero_pad",
    out_shape=_zero_pad_shape,
    numpy=lambda x, p, hp, ctx: conv_ops.pad_hw(x, int(hp["pad"])),
    torch=lambda x, p, hp, ctx: _torch().nn.functional.pad(x, (int(hp["pad"]),) * 4),
    hyper=(Hyper("pad", 1, lambda rng, s: int(rng.integers(0, 4)), "zeros on each side of H and W"),),
    doc="zeros around each image: (m, C, H, W) -> (m, C, H + 2 pad, W + 2 pad)",
))
