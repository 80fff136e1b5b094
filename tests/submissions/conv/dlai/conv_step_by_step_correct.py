# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""A student-like deeplearning.ai course 4 week 1 file (written for bpcheck's tests): "Convolution model - Step by Step".

Channels last: A_prev (m, n_H_prev, n_W_prev, n_C_prev), filters W (f, f, n_C_prev, n_C),
biases b (1, 1, 1, n_C). ``hparameters`` holds "stride" and "pad" for a convolution, "f" and
"stride" for a pooling layer (no padding there). Output sizes, as in the course:

    n_H = int((n_H_prev - f + 2 * pad) / stride) + 1

Caches are the course's: (A_prev, W, b, hparameters) and (A_prev, hparameters). dZ and dA are
whatever the next layer handed back: nothing here divides by m.

Max-pool ties: ``create_mask_from_window`` marks every entry equal to the window's max, as the
course writes it (x == np.max(x)), so a tied window passes its gradient to EACH tied entry
(torch gives all of it to one). With distinct values, which random inputs have, the two agree.
"""

import numpy as np

__all__ = [
    "zero_pad",
    "conv_single_step",
    "conv_forward",
    "conv_backward",
    "pool_forward",
    "create_mask_from_window",
    "distribute_value",
    "pool_backward",
]


def zero_pad(X: np.ndarray, pad: int) -> np.ndarray:
    """X (m, n_H, n_W, n_C) -> (m, n_H + 2 pad, n_W + 2 pad, n_C), zeros around each image."""
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=0)


def conv_single_step(a_slice_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> float:
    """One filter W (f, f, n_C_prev) on one slice of the same shape, plus the bias b (1, 1, 1)."""
    s = a_slice_prev * W
    Z = np.sum(s)
    return Z + b.item()  # b is a 1x1x1 array; .item() is float(b) without numpy's ndim>0 warning


def conv_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, hparameters: dict):
    """-> Z (m, n_H, n_W, n_C), cache (A_prev, W, b, hparameters)."""
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f, n_C_prev, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = int((n_H_prev - f + 2 * pad) / stride) + 1
    n_W = int((n_W_prev - f + 2 * pad) / stride) + 1

    Z = np.zeros((m, n_H, n_W, n_C), dtype=np.result_type(A_prev, W))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])
    cache = (A_prev, W, b, hparameters)
    return Z, cache


def conv_backward(dZ: np.ndarray, cache):
    """dZ (m, n_H, n_W, n_C) -> dA_prev (m, n_H_prev, n_W_prev, n_C_prev), dW (f, f, n_C_prev, n_C),
    db (1, 1, 1, n_C)."""
    A_prev, W, b, hparameters = cache
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f, n_C_prev, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H, n_W, n_C = dZ.shape

    dW = np.zeros(W.shape, dtype=np.result_type(dZ, A_prev))
    db = np.zeros(b.shape, dtype=dZ.dtype)
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = np.zeros(A_prev_pad.shape, dtype=np.result_type(dZ, W))
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]  # a view: writing into it fills dA_prev_pad
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):
                    # Z[i, h, w, c] = sum(a_slice * W[..., c]) + b[..., c]
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    # crop the padding; [pad:-pad] would be empty when pad = 0
    dA_prev = dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]
    return dA_prev, dW, db


def pool_forward(A_prev: np.ndarray, hparameters: dict, mode: str = "max"):
    """-> A (m, n_H, n_W, n_C), cache (A_prev, hparameters). mode is "max" or "average"."""
    if mode not in ("max", "average"):
        raise ValueError(f'mode={mode!r}; use "max" or "average"')
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H = int(1 + (n_H_prev - f) / stride)
    n_W = int(1 + (n_W_prev - f) / stride)
    n_C = n_C_prev

    A = np.zeros((m, n_H, n_W, n_C), dtype=A_prev.dtype)
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                    if mode == "max":
                        A[i, h, w, c] = np.max(a_prev_slice)
                    else:
                        A[i, h, w, c] = np.mean(a_prev_slice)
    cache = (A_prev, hparameters)
    return A, cache


def create_mask_from_window(x: np.ndarray) -> np.ndarray:
    """True where x holds its maximum (every tied maximum, as the course writes it)."""
    return x == np.max(x)


def distribute_value(dz: float, shape: tuple[int, int]) -> np.ndarray:
    """Spread dz evenly over an (n_H, n_W) window: each entry contributed 1/(n_H n_W) of the mean."""
    n_H, n_W = shape
    average = dz / (n_H * n_W)
    return np.ones(shape) * average


def pool_backward(dA: np.ndarray, cache, mode: str = "max") -> np.ndarray:
    """dA (m, n_H, n_W, n_C) -> dA_prev, shaped like A_prev."""
    if mode not in ("max", "average"):
        raise ValueError(f'mode={mode!r}; use "max" or "average"')
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape

    dA_prev = np.zeros(A_prev.shape, dtype=np.result_type(A_prev, dA))
    for i in range(m):
        a_prev = A_prev[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    # += : with stride < f, windows overlap
                    if mode == "max":
                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                        mask = create_mask_from_window(a_prev_slice)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += mask * dA[i, h, w, c]
                    else:
                        da = dA[i, h, w, c]
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += distribute_value(da, (f, f))
    return dA_prev
