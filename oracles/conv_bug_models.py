"""What a conv or pooling backward returns when it carries one classic bug: numpy models, for diagnosis.

Every model takes the canonical layer inputs (x (N, C, H, W), w (F, C, kh, kw), dout (N, F|C, Ho, Wo),
stride, pad) and returns the gradients the buggy backward would hand back, in canonical layout. The
diagnosis compares a failing observation with each model (oracles.compare, tolerance of another
implementation): a match names the bug with the evidence that the numbers are exactly that bug's.

The same routing models give the tie conventions, which are not bugs: ``pool_ties_all`` (every tied
maximum gets the whole gradient: deeplearning.ai's ``x == np.max(x)`` mask, most CS231n files) and
``pool_ties_split`` (the gradient shared equally among the tied maxima: CS231n's fast reshape pool
with its optional line), next to torch's first maximum (``pool_ties_first``).
Numpy only.
"""

from __future__ import annotations

import numpy as np

from oracles.conv_ops import pad_hw

__all__ = [
    "CONV_MODELS",
    "POOL_MODELS",
    "TIE_CONVENTIONS",
    "conv_backward_model",
    "max_pool_backward_model",
    "avg_pool_backward_model",
]


def _positions(Ho: int, Wo: int):
    return ((i, j) for i in range(Ho) for j in range(Wo))  # row-major: the order loops write in


def conv_backward_model(x, w, dout, stride: int, pad: int, bug: str | None = None) -> dict[str, np.ndarray]:
    """dx, dw, db of a cross-correlation, correct (bug=None) or with one of CONV_MODELS."""
    N, C, H, W = x.shape
    F_, _, kh, kw = w.shape
    _, _, Ho, Wo = dout.shape
    xp = pad_hw(np.asarray(x, dtype=np.float64), pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    # the stride forgotten in both axes, or only in the rows / columns (vert_start = h: a real file)
    step_r = 1 if bug in ("stride_backward", "stride_backward_rows") else stride
    step_c = 1 if bug in ("stride_backward", "stride_backward_cols") else stride
    kernel = w[:, :, ::-1, ::-1] if bug == "conv_flipped_kernel" else w
    for i, j in _positions(Ho, Wo):
        rows, cols = slice(i * step_r, i * step_r + kh), slice(j * step_c, j * step_c + kw)
        g = dout[:, :, i, j]
        dw += np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))
        contribution = np.tensordot(g, kernel, axes=([1], [0]))
        if bug == "overlap_overwrite":
            dxp[:, :, rows, cols] = contribution
        else:
            dxp[:, :, rows, cols] += contribution
    dx = dxp if bug == "pad_not_cropped" else dxp[:, :, pad:pad + H, pad:pad + W]
    return {"dx": dx, "dw": dw, "db": np.sum(dout, axis=(0, 2, 3))}


CONV_MODELS = {
    "conv_flipped_kernel": "dout scattered through the 180-degree-rotated kernel (the flip belongs to the "
                           "full-convolution form of dx, not to the window-scatter form)",
    "stride_backward": "the backward pass places window (i, j) at (i, j), not (i * stride, j * stride)",
    "stride_backward_rows": "the backward pass ignores the stride in the rows (vert_start = h, not h * stride)",
    "stride_backward_cols": "the backward pass ignores the stride in the columns (horiz_start = w, not w * stride)",
    "overlap_overwrite": "dx assigned (=) per window instead of accumulated (+=): where windows overlap "
                         "only the last one counts",
    "pad_not_cropped": "dx returned with the zero padding still on (not cropped back to H x W)",
}


def max_pool_backward_model(x, dout, kh: int, kw: int, stride: int, rule: str = "pool_ties_first") -> np.ndarray:
    """dx of max-pooling under a routing rule: a tie convention (TIE_CONVENTIONS) or a bug (POOL_MODELS)."""
    N, C, _, _ = x.shape
    _, _, Ho, Wo = dout.shape
    dx = np.zeros(x.shape)
    for i, j in _positions(Ho, Wo):
        r0, c0 = i * stride, j * stride
        win = np.asarray(x[:, :, r0:r0 + kh, c0:c0 + kw], dtype=np.float64)
        flat = win.reshape(N, C, -1)
        g = dout[:, :, i, j][:, :, None]
        top = flat.max(axis=2, keepdims=True)
        if rule == "pool_route_all":
            share = np.ones_like(flat)
        elif rule == "pool_ties_all":
            share = (flat == top).astype(float)
        elif rule == "pool_ties_split":
            share = (flat == top) / np.sum(flat == top, axis=2, keepdims=True)
        else:  # first maximum: torch, np.argmax; the no-offset and overwrite bugs route the same way
            share = np.zeros_like(flat)
            np.put_along_axis(share, flat.argmax(axis=2)[:, :, None], 1.0, axis=2)
        part = (share * g).reshape(win.shape)
        if rule == "pool_route_wrong":
            dx[:, :, :kh, :kw] += part  # the window's offset forgotten
        elif rule == "overlap_overwrite":
            target = dx[:, :, r0:r0 + kh, c0:c0 + kw]
            target[part != 0] = part[part != 0]
        else:
            dx[:, :, r0:r0 + kh, c0:c0 + kw] += part
    return dx


POOL_MODELS = {
    "pool_route_all": "every element of the window gets the gradient, not only the maximum",
    "pool_route_wrong": "the gradient goes to the maximum's position inside the window, not in the image "
                        "(the window offset i * stride, j * stride is missing)",
    "overlap_overwrite": "the gradient assigned (=) instead of accumulated (+=): a maximum shared by "
                         "overlapping windows keeps only one window's gradient",
}

TIE_CONVENTIONS = {
    "pool_ties_first": "a tied window's gradient goes to its first maximum in row-major order (torch, np.argmax)",
    "pool_ties_all": "a tied window's gradient goes, whole, to every tied maximum (x == max(x) masks)",
    "pool_ties_split": "a tied window's gradient is shared equally among its tied maxima",
}


def avg_pool_backward_model(x_shape, dout, kh: int, kw: int, stride: int, scale: float = 1.0) -> np.ndarray:
    """dx of average pooling; scale = kh * kw models a backward that forgot to divide by the window size."""
    dx = np.zeros(x_shape)
    _, _, Ho, Wo = dout.shape
    for i, j in _positions(Ho, Wo):
        dx[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += \
            scale * dout[:, :, i, j][:, :, None, None] / (kh * kw)
    return dx
