"""Convolution and pooling in plain numpy (N, C, H, W), vectorised, for the finite-difference oracle.

These are the forwards FD evaluates hundreds of times per Case, so they are written for speed
(strided window views, one tensordot), not for reading like a course: the course-style versions
are in reference/. Each pooling forward also returns its *kink state*: for max-pooling the index
of the winning element in every window, so that FD can see when a perturbation changed a winner
(a near-tie inside the step: "not differentiable here"), exactly as relu's sign pattern is watched.

Conventions (the torch twins' and the courses' common ground): cross-correlation (no kernel flip),
zero padding, output size 1 + (H + 2 pad - k) // stride (rows the last window cannot reach are
unused), max-pool ties to the first maximum in row-major window order (torch on the CPU).
Numpy only: the sandbox child imports this too.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["out_size", "windows", "conv2d", "max_pool2d", "avg_pool2d", "pad_hw"]


def out_size(size: int, k: int, stride: int, pad: int = 0) -> int:
    return (size + 2 * pad - k) // stride + 1


def pad_hw(x: np.ndarray, pad: int, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of x by pad on each side."""
    if pad == 0:
        return x
    out = np.full((*x.shape[:-2], x.shape[-2] + 2 * pad, x.shape[-1] + 2 * pad), value, dtype=x.dtype)
    out[..., pad:-pad, pad:-pad] = x  # (np.pad is ~10x slower on small arrays)
    return out


def windows(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """A read-only view (..., H_out, W_out, kh, kw) of the kh x kw windows of x's last two axes."""
    v = sliding_window_view(x, (kh, kw), axis=(-2, -1))
    return v[..., ::stride, ::stride, :, :]


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int, pad: int) -> np.ndarray:
    """x (N, C, H, W), w (F, C, kh, kw), b (F,) -> (N, F, H_out, W_out)."""
    F_, C, kh, kw = w.shape
    win = windows(pad_hw(x, pad), kh, kw, stride)  # (N, C, Ho, Wo, kh, kw)
    out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, Ho, Wo, F)
    if b is not None:
        out += b
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def max_pool2d(x: np.ndarray, kh: int, kw: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """x (N, C, H, W) -> (out (N, C, Ho, Wo), winner): winner is the flat index in each window of
    its first maximum (the element the gradient goes to; the kink state)."""
    win = windows(x, kh, kw, stride)
    flat = win.reshape(*win.shape[:-2], kh * kw)
    winner = flat.argmax(axis=-1)
    out = np.take_along_axis(flat, winner[..., None], axis=-1)[..., 0]
    return out, winner


def avg_pool2d(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    return windows(x, kh, kw, stride).mean(axis=(-2, -1))
