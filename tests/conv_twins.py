"""float64 torch twins of the convolution and pooling layers, for the reference tests.

Each twin takes numpy arrays in the canonical (N, C, H, W) layout, runs torch autograd in float64 on
them, and returns the forward output and the gradients of sum(out * dout). ``err_est`` runs the same
computation on the same inputs in float32 and reports, per tensor, the norm of the difference: the
measured rounding of this computation at float32 precision (the ``est`` term of oracles.compare).
Nothing here imports bpcheck's oracles: these tests check the references against torch itself.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "rounding_estimate", "geometry"]


def _run(fn, arrays: dict, dout: np.ndarray, dtype) -> dict:
    ts = {k: torch.tensor(np.asarray(v, dtype=np.float64), dtype=dtype, requires_grad=True) for k, v in arrays.items()}
    out = fn(**ts)
    out.backward(torch.tensor(np.asarray(dout, dtype=np.float64), dtype=dtype))
    res = {"out": out.detach().double().numpy()}
    res.update({f"d{k}": t.grad.double().numpy() for k, t in ts.items()})
    return res


def _twin(fn, arrays, dout, with_estimate):
    exact = _run(fn, arrays, dout, torch.float64)
    if with_estimate:
        low = _run(fn, arrays, dout, torch.float32)
        exact["est"] = {k: float(np.linalg.norm(low[k] - exact[k])) for k in exact}
    return exact


def conv2d(x, w, b, dout, stride: int, pad: int, *, with_estimate: bool = False) -> dict:
    """out, dx, dw, db of out = conv2d(x, w, b) (cross-correlation, zero padding)."""
    return _twin(lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=pad),
                 {"x": x, "w": w, "b": b}, dout, with_estimate)


def max_pool2d(x, dout, kernel: tuple[int, int], stride: int, *, with_estimate: bool = False) -> dict:
    """out, dx of max-pooling; torch routes a tied window's gradient to its first max (row-major)."""
    return _twin(lambda x: F.max_pool2d(x, kernel, stride), {"x": x}, dout, with_estimate)


def avg_pool2d(x, dout, kernel: tuple[int, int], stride: int, *, with_estimate: bool = False) -> dict:
    return _twin(lambda x: F.avg_pool2d(x, kernel, stride), {"x": x}, dout, with_estimate)


def rounding_estimate(res: dict, key: str) -> float | None:
    return res.get("est", {}).get(key)


def geometry(draw_int, *, square: bool = False, max_pad: int = 2, max_stride: int = 3, max_kernel: int = 4):
    """A valid (kh, kw, stride, pad, H, W) from integer draws ``draw_int(lo, hi)``.

    H and W are chosen from the output size the layer should produce, plus a remainder the last
    window cannot reach (rows torch and the courses both leave unused).
    """
    kh = draw_int(1, max_kernel)
    kw = kh if square else draw_int(1, max_kernel)
    stride = draw_int(1, max_stride)
    pad = draw_int(0, max_pad)
    sizes = []
    for k in (kh, kw):
        out = draw_int(1, 4)
        rem = draw_int(0, stride - 1)
        size = (out - 1) * stride + k - 2 * pad + rem
        sizes.append(max(size, 1))
    H, W = sizes
    if square:
        W = H
    return kh, kw, stride, pad, H, W
