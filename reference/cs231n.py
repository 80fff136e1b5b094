"""CS231n's modular layers (assignments 1 and 2): each layer is a forward function returning
(out, cache) and a backward function taking (dout, cache), one sample per row; x may be
(N, d_1, ..., d_k) and is flattened to (N, D) by the affine layer.

Losses are means over the N samples; the nets add 0.5 * reg * sum(W^2) per weight matrix,
whose gradient is reg * W. Nothing here writes into x, dout or a cache.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reference import functions as F

__all__ = [
    "affine_forward",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "identity_forward",
    "identity_backward",
    "affine_relu_forward",
    "affine_relu_backward",
    "softmax_loss",
    "svm_loss",
    "sgd",
    "TwoLayerNet",
    "FullyConnectedNet",
]


# ---- layers --------------------------------------------------------------------------------


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """x (N, d_1..d_k), w (D, M), b (M,) -> out (N, M)."""
    out = x.reshape(x.shape[0], -1) @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout: np.ndarray, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)  # back to the input's own shape
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = np.sum(dout, axis=0)  # b was broadcast over the N rows
    return dx, dw, db


def relu_forward(x: np.ndarray):
    return np.maximum(0, x), x


def relu_backward(dout: np.ndarray, cache):
    x = cache
    return dout * (x > 0)  # relu'(0) = 0; a new array, dout untouched


def leaky_relu_forward(x: np.ndarray):
    return F.leaky_relu(x), x


def leaky_relu_backward(dout: np.ndarray, cache):
    return dout * F.leaky_relu_prime(cache)


def sigmoid_forward(x: np.ndarray):
    out = F.sigmoid(x)  # stable for large |x|
    return out, out


def sigmoid_backward(dout: np.ndarray, cache):
    out = cache
    return dout * out * (1 - out)


def tanh_forward(x: np.ndarray):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache):
    out = cache
    return dout * (1 - out**2)


def identity_forward(x: np.ndarray):
    return x, None


def identity_backward(dout: np.ndarray, cache):
    return dout


_ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "identity": (identity_forward, identity_backward),
}


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: np.ndarray, cache):
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


# ---- losses (scores x (N, C), labels y (N,)) ------------------------------------------------


def softmax_loss(x: np.ndarray, y: np.ndarray):
    N = x.shape[0]
    y = y.astype(int)
    log_probs = F.log_softmax(x, axis=1)  # log-sum-exp: no overflow, no log(0)
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = np.exp(log_probs)  # softmax, a fresh array we may edit
    # p_y - 1 written as -(sum of the other probabilities): exact even when p_y has rounded to 1
    dx[np.arange(N), y] = 0
    dx[np.arange(N), y] = -np.sum(dx, axis=1)
    dx /= N
    return loss, dx


def svm_loss(x: np.ndarray, y: np.ndarray):
    """Multiclass hinge: sum_{j != y_i} max(0, x_j - x_{y_i} + 1), mean over rows."""
    N = x.shape[0]
    y = y.astype(int)
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0  # the correct class never competes with itself
    loss = np.sum(margins) / N
    # each active margin pushes its class up and the correct class down
    # (a margin of exactly 0 counts as inactive, as in reference.functions.hinge_delta)
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(N), y] = -np.sum(dx, axis=1)
    dx /= N
    return loss, dx


# ---- optimiser -----------------------------------------------------------------------------


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None):
    """Vanilla SGD: next_w = w - learning_rate * dw (a new array)."""
    config = {} if config is None else dict(config)
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config


# ---- networks ------------------------------------------------------------------------------


class TwoLayerNet:
    """affine - relu - affine - softmax, with L2 regularisation."""

    def __init__(
        self,
        input_dim: int = 3 * 32 * 32,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        seed: int | None = None,
    ) -> None:
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.dX = None  # dLoss/dX after loss(X, y), for checkers
        self.params = {
            "W1": weight_scale * rng.standard_normal((input_dim, hidden_dim)),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * rng.standard_normal((hidden_dim, num_classes)),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        """Scores (N, C) if y is None, else (loss, grads) with grads shaped like params."""
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        h, cache1 = affine_relu_forward(X, W1, b1)
        scores, cache2 = affine_forward(h, W2, b2)
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        self.dX, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)
        grads["W1"] = grads["W1"] + self.reg * W1
        grads["W2"] = grads["W2"] + self.reg * W2
        return loss, grads


class FullyConnectedNet:
    """{affine - activation} x (L - 1) - affine - softmax (or svm), with L2 regularisation."""

    def __init__(
        self,
        hidden_dims: Sequence[int],
        input_dim: int = 3 * 32 * 32,
        num_classes: int = 10,
        reg: float = 0.0,
        weight_scale: float = 1e-2,
        activation: str | Sequence[str] = "relu",
        loss: str = "softmax",
        seed: int | None = None,
        dtype=np.float64,
    ) -> None:
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.dX = None  # dLoss/dX after loss(X, y), for checkers
        if isinstance(activation, str):
            activation = [activation] * len(hidden_dims)
        self.activation = list(activation)
        if len(self.activation) != len(hidden_dims):
            raise ValueError(
                f"activation has {len(self.activation)} names for {len(hidden_dims)} hidden layers; "
                f"give one name, or one per hidden layer"
            )
        for name in self.activation:
            if name not in _ACTIVATIONS:
                raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(_ACTIVATIONS)}")
        losses = {"softmax": softmax_loss, "svm": svm_loss}
        if loss not in losses:
            raise ValueError(f"loss={loss!r}; choose one of {', '.join(losses)}")
        self.loss_name = loss
        self._loss = losses[loss]

        rng = np.random.default_rng(seed)
        dims = [input_dim, *hidden_dims, num_classes]
        self.params = {}
        for i in range(1, self.num_layers + 1):
            self.params[f"W{i}"] = (weight_scale * rng.standard_normal((dims[i - 1], dims[i]))).astype(dtype)
            self.params[f"b{i}"] = np.zeros(dims[i], dtype=dtype)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        """Scores (N, C) if y is None, else (loss, grads) with grads shaped like params."""
        L = self.num_layers
        caches = []
        out = X
        for i in range(1, L):
            a, fc_cache = affine_forward(out, self.params[f"W{i}"], self.params[f"b{i}"])
            out, act_cache = _ACTIVATIONS[self.activation[i - 1]][0](a)
            caches.append((fc_cache, act_cache))
        scores, last_cache = affine_forward(out, self.params[f"W{L}"], self.params[f"b{L}"])
        if y is None:
            return scores

        loss, dscores = self._loss(scores, y)
        grads = {}
        dout, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            fc_cache, act_cache = caches[i - 1]
            da = _ACTIVATIONS[self.activation[i - 1]][1](dout, act_cache)
            dout, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(da, fc_cache)
        self.dX = dout
        for i in range(1, L + 1):
            W = self.params[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] = grads[f"W{i}"] + self.reg * W
        return loss, grads
