"""Saito's computational-graph layers ("Deep Learning from Scratch", ch. 5), one sample per row.

Every layer has forward(...) and backward(dout). forward remembers what backward needs;
backward returns the gradient with respect to each input. No layer writes into x, dout or
anything it was handed (the book's Relu.backward does `dout[mask] = 0`: ours copies first).
"""

from __future__ import annotations

import numpy as np

from reference.functions import LEAKY_SLOPE, log_softmax, sigmoid, softplus

__all__ = [
    "MulLayer",
    "AddLayer",
    "Affine",
    "Relu",
    "LeakyRelu",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "Identity",
    "SoftmaxWithLoss",
    "SquaredLoss",
    "ACTIVATION_LAYERS",
]


class MulLayer:
    def __init__(self) -> None:
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x = x
        self.y = y
        return x * y

    def backward(self, dout):
        # d(xy)/dx = y, d(xy)/dy = x: each input gets the other one.
        dx = dout * self.y
        dy = dout * self.x
        return dx, dy


class AddLayer:
    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        # Addition passes the gradient through unchanged to both inputs.
        return dout * 1, dout * 1


class Affine:
    """out = x W + b with W (in, out), b (out,). Keeps references to W and b, so setting
    them in place (W[...] = new) is seen by the next forward."""

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        # An image batch (N, C, H, W) is N rows of C*H*W features.
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = dout @ self.W.T
        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)  # b was broadcast over the N rows: sum them back
        return dx.reshape(self.original_x_shape)


class Relu:
    def __init__(self) -> None:
        self.mask = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # Copy: the caller may still use dout (the book zeroes it in place).
        dx = dout.copy()
        dx[self.mask] = 0  # relu'(0) = 0
        return dx


class LeakyRelu:
    def __init__(self, slope: float = LEAKY_SLOPE) -> None:
        self.slope = slope
        self.mask = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        return np.where(self.mask, self.slope * x, x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.where(self.mask, self.slope * dout, dout)


class Sigmoid:
    def __init__(self) -> None:
        self.out = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = sigmoid(x)  # stable for large |x|
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # sigma' = sigma (1 - sigma): reuse the forward output.
        return dout * (1.0 - self.out) * self.out


class Tanh:
    def __init__(self) -> None:
        self.out = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1.0 - self.out**2)


class Softplus:
    def __init__(self) -> None:
        self.x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return softplus(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * sigmoid(self.x)  # softplus' = sigmoid


class Identity:
    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout


ACTIVATION_LAYERS = {
    "relu": Relu,
    "leaky_relu": LeakyRelu,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softplus": Softplus,
    "identity": Identity,
}


def _as_rows(x: np.ndarray) -> np.ndarray:
    # A single sample (C,) is a batch of one.
    return x.reshape(1, -1) if x.ndim == 1 else x


def _softmax_minus(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """y - t for softmax rows y and target rows t that sum to 1, written as y (1 - t) - t (1 - y)
    with 1 - y_k for the largest y_k taken as the sum of the other entries: exact even when
    that y_k has rounded towards 1 (only the largest entry of a row can be near 1)."""
    rows, k = np.arange(y.shape[0]), np.argmax(y, axis=1)
    rest = y.copy()
    rest[rows, k] = 0
    one_minus_y = 1 - y
    one_minus_y[rows, k] = rest.sum(axis=1)
    return y * (1 - t) - t * one_minus_y


class SoftmaxWithLoss:
    """Softmax followed by mean cross-entropy; t one-hot (N, C) or labels (N,)."""

    def __init__(self) -> None:
        self.loss = None
        self.y = None  # softmax output
        self.t = None
        self.one_hot = None
        self.x_shape = None

    def forward(self, x: np.ndarray, t: np.ndarray):
        self.x_shape = x.shape
        x = _as_rows(x)
        N = x.shape[0]
        # One-hot has one entry per logit; labels one per row ((N,) against (N, 1) logits too).
        self.one_hot = t.size == x.size and not (t.ndim == 1 and len(self.x_shape) == 2)
        self.t = t
        log_y = log_softmax(x)  # log-sum-exp: exact where y underflows, so no 1e-7 in the log
        self.y = np.exp(log_y)
        if self.one_hot:
            self.loss = -np.sum(t.reshape(x.shape) * log_y) / N
        else:
            self.loss = -np.sum(log_y[np.arange(N), t.reshape(-1).astype(int)]) / N
        return self.loss

    def backward(self, dout=1):
        N = self.y.shape[0]
        if self.one_hot:
            dx = _softmax_minus(self.y, self.t.reshape(self.y.shape))
        else:
            # y - t with t one-hot. At the target, y_t - 1 = -(sum of the other classes): summing
            # them keeps the digits that 1 - y_t loses when y_t has rounded towards 1.
            rows, t = np.arange(N), self.t.reshape(-1).astype(int)
            dx = self.y.copy()  # a copy: self.y must survive a second backward
            dx[rows, t] = 0
            dx[rows, t] = -dx.sum(axis=1)
        dx = dx * (dout / N)  # mean over the batch
        # The gradient has the logits' dtype, whatever dtype t and dout came in.
        return dx.astype(self.y.dtype, copy=False).reshape(self.x_shape)


class SquaredLoss:
    """Mean over samples of 1/2 ||y - t||^2, for regression."""

    def __init__(self) -> None:
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, y: np.ndarray, t: np.ndarray):
        if t.shape != y.shape:
            if t.size != y.size:
                raise ValueError(
                    f"SquaredLoss: target shape {t.shape} does not match output shape {y.shape}; "
                    f"pass t with one row per sample and one column per output"
                )
            t = t.reshape(y.shape)  # (N,) vs (N, 1) would otherwise broadcast to (N, N)
        self.y = y
        self.t = t
        N = _as_rows(y).shape[0]
        self.loss = 0.5 * np.sum((y - t) ** 2) / N
        return self.loss

    def backward(self, dout=1):
        N = _as_rows(self.y).shape[0]
        dx = (self.y - self.t) * (dout / N)
        return dx.astype(self.y.dtype, copy=False)
