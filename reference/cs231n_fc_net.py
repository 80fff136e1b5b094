"""CS231n assignment 2's FullyConnectedNet with batch/layer normalisation and dropout:

    {affine - [batchnorm | layernorm] - relu - [dropout]} x (L - 1) - affine - softmax

The course's API since 2021 (``dropout_keep_ratio``; 2018-2020 called it ``dropout``, with the
same meaning, the probability of keeping a unit). params: W1 (D, H1), b1 (H1,), gamma1, beta1
(H1,), ...; the last affine layer has no normalisation. loss(X) returns the scores (test mode:
running statistics, no dropout); loss(X, y) returns (loss, grads) in train mode and updates the
running statistics in self.bn_params. Only the weights are regularised: 0.5 * reg * sum W^2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reference.cs231n import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss
from reference.cs231n_norm import (
    batchnorm_backward_alt,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
)

__all__ = ["FullyConnectedNet", "affine_norm_relu_forward", "affine_norm_relu_backward"]

_NORMS = {
    "batchnorm": (batchnorm_forward, batchnorm_backward_alt),
    "layernorm": (layernorm_forward, layernorm_backward),
}


def affine_norm_relu_forward(x, w, b, gamma, beta, norm_param, normalization):
    a, fc_cache = affine_forward(x, w, b)
    an, norm_cache = _NORMS[normalization][0](a, gamma, beta, norm_param)
    out, relu_cache = relu_forward(an)
    return out, (fc_cache, norm_cache, relu_cache)


def affine_norm_relu_backward(dout, cache, normalization):
    fc_cache, norm_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = _NORMS[normalization][1](dan, norm_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


class FullyConnectedNet:
    def __init__(
        self,
        hidden_dims: Sequence[int],
        input_dim: int = 3 * 32 * 32,
        num_classes: int = 10,
        dropout_keep_ratio: float = 1,
        normalization: str | None = None,
        reg: float = 0.0,
        weight_scale: float = 1e-2,
        dtype=np.float32,
        seed: int | None = None,
    ) -> None:
        if normalization not in (None, *_NORMS):
            raise ValueError(f"normalization={normalization!r}; use 'batchnorm', 'layernorm' or None")
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.dX = None  # dLoss/dX after loss(X, y), for checkers

        rng = np.random.default_rng(seed)
        dims = [input_dim, *hidden_dims, num_classes]
        self.params = {}
        for i in range(1, self.num_layers + 1):
            self.params[f"W{i}"] = weight_scale * rng.standard_normal((dims[i - 1], dims[i]))
            self.params[f"b{i}"] = np.zeros(dims[i])
            if normalization is not None and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(dims[i])  # start as the identity transform
                self.params[f"beta{i}"] = np.zeros(dims[i])
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

        # one dict shared by every dropout layer; one bn_param per normalisation layer (running stats)
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed
        self.bn_params = []
        if normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
        elif normalization == "layernorm":
            self.bn_params = [{} for _ in range(self.num_layers - 1)]

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode

        L = self.num_layers
        caches = []
        out = X
        for i in range(1, L):
            W, b = self.params[f"W{i}"], self.params[f"b{i}"]
            if self.normalization is None:
                a, fc_cache = affine_forward(out, W, b)
                out, relu_cache = relu_forward(a)
                cache = (fc_cache, relu_cache)
            else:
                gamma, beta = self.params[f"gamma{i}"], self.params[f"beta{i}"]
                out, cache = affine_norm_relu_forward(
                    out, W, b, gamma, beta, self.bn_params[i - 1], self.normalization
                )
            drop_cache = None
            if self.use_dropout:
                out, drop_cache = dropout_forward(out, self.dropout_param)
            caches.append((cache, drop_cache))
        scores, last_cache = affine_forward(out, self.params[f"W{L}"], self.params[f"b{L}"])
        if mode == "test":
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dout, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            cache, drop_cache = caches[i - 1]
            if self.use_dropout:
                dout = dropout_backward(dout, drop_cache)
            if self.normalization is None:
                fc_cache, relu_cache = cache
                dout, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(relu_backward(dout, relu_cache), fc_cache)
            else:
                dout, grads[f"W{i}"], grads[f"b{i}"], grads[f"gamma{i}"], grads[f"beta{i}"] = (
                    affine_norm_relu_backward(dout, cache, self.normalization)
                )
        self.dX = dout
        for i in range(1, L + 1):  # gamma and beta are not regularised
            W = self.params[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] = grads[f"W{i}"] + self.reg * W
        return loss, grads
