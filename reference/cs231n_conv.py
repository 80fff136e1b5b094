"""CS231n assignment 2's convolution and max-pooling layers, the naive versions students write
(``cs231n/layers.py``), plus the conv sandwiches of ``cs231n/layer_utils.py``.

Images are (N, C, H, W); filters w (F, C, HH, WW); biases b (F,).
``conv_param = {'stride': s, 'pad': p}``: x is zero-padded by p on each side of H and W, and

    H' = 1 + (H + 2 p - HH) // s,     W' = 1 + (W + 2 p - WW) // s

(rows or columns the last window cannot reach are simply not used, as in torch).
``pool_param = {'pool_height': ph, 'pool_width': pw, 'stride': s}``, no padding.

Caches are the course's: (x, w, b, conv_param) for conv (x unpadded), (x, pool_param) for
max-pool. Ties in a pooling window: the whole upstream gradient goes to the FIRST maximum in
row-major order of the window (what np.argmax picks, and what torch's max_pool2d does on the
CPU). Nothing here writes into x, w, dout or a cache.
"""

from __future__ import annotations

import numpy as np

from reference.cs231n import relu_backward, relu_forward

__all__ = [
    "conv_forward_naive",
    "conv_backward_naive",
    "max_pool_forward_naive",
    "max_pool_backward_naive",
    "conv_relu_forward",
    "conv_relu_backward",
    "conv_relu_pool_forward",
    "conv_relu_pool_backward",
]


def conv_forward_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict):
    """x (N, C, H, W), w (F, C, HH, WW), b (F,) -> out (N, F, H', W'), cache (x, w, b, conv_param)."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]  # (N, C, HH, WW)
            # every filter against every image's window: sum over C, HH, WW
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout: np.ndarray, cache):
    """dout (N, F, H', W') -> dx (N, C, H, W), dw (F, C, HH, WW), db (F,)."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(dout, w))
    dw = np.zeros_like(w, dtype=np.result_type(dout, x))
    db = np.sum(dout, axis=(0, 2, 3))  # b was added at every position of every image
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            g = dout[:, :, i, j]  # (N, F)
            # out[n, f, i, j] = sum w[f] * window[n]: each side's gradient is the other times g
            dw += np.tensordot(g, x_pad[:, :, rows, cols], axes=([0], [0]))
            dx_pad[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]  # crop the padding (pad:-pad is empty when pad = 0)
    return dx, dw, db


def max_pool_forward_naive(x: np.ndarray, pool_param: dict):
    """x (N, C, H, W) -> out (N, C, H', W'), cache (x, pool_param)."""
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            out[:, :, i, j] = window.max(axis=(2, 3))
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout: np.ndarray, cache):
    """dout (N, C, H', W') -> dx (N, C, H, W): each window's gradient goes to its (first) max."""
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            k = window.reshape(N, C, ph * pw).argmax(axis=2)  # first max in row-major order
            r, s = np.unravel_index(k, (ph, pw))
            # += : when stride < pool size windows overlap, and one x can win several of them
            dx[n, c, i * stride + r, j * stride + s] += dout[:, :, i, j]
    return dx


# ---- sandwich layers (cs231n/layer_utils.py) -------------------------------------------------


def conv_relu_forward(x, w, b, conv_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return conv_backward_naive(da, conv_cache)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_naive(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_naive(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_naive(da, conv_cache)
