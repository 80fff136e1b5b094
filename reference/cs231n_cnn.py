"""CS231n assignment 2's ThreeLayerConvNet (``cs231n/classifiers/cnn.py``):

    conv - relu - 2x2 max pool - affine - relu - affine - softmax

on (N, C, H, W) minibatches. The convolution keeps H and W ("same" padding: stride 1,
pad (filter_size - 1) // 2, so filter_size is odd) and the pool halves them, so the hidden
affine layer takes num_filters * (H // 2) * (W // 2) inputs. Loss: mean softmax cross-entropy
+ 0.5 * reg * sum of the squared weights (biases not regularised).
"""

from __future__ import annotations

import numpy as np

from reference.cs231n import affine_backward, affine_forward, affine_relu_backward, affine_relu_forward, softmax_loss
from reference.cs231n_conv import conv_relu_pool_backward, conv_relu_pool_forward

__all__ = ["ThreeLayerConvNet"]


class ThreeLayerConvNet:
    def __init__(
        self,
        input_dim: tuple[int, int, int] = (3, 32, 32),
        num_filters: int = 32,
        filter_size: int = 7,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float = 1e-3,
        reg: float = 0.0,
        dtype=np.float32,
        seed: int | None = None,
    ) -> None:
        self.params = {}
        self.reg = reg
        self.dtype = dtype
        self.dX = None  # dLoss/dX after loss(X, y), for checkers
        C, H, W = input_dim
        rng = np.random.default_rng(seed)
        self.params["W1"] = weight_scale * rng.standard_normal((num_filters, C, filter_size, filter_size))
        self.params["b1"] = np.zeros(num_filters)
        # the "same" convolution keeps H x W; the 2x2 stride-2 pool halves both
        self.params["W2"] = weight_scale * rng.standard_normal((num_filters * (H // 2) * (W // 2), hidden_dim))
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = weight_scale * rng.standard_normal((hidden_dim, num_classes))
        self.params["b3"] = np.zeros(num_classes)
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        """Scores (N, num_classes) if y is None, else (loss, grads) with grads shaped like params."""
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]

        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        h1, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)  # (N, F, H/2, W/2)
        h2, cache2 = affine_relu_forward(h1, W2, b2)  # affine_forward flattens each image
        scores, cache3 = affine_forward(h2, W3, b3)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))

        grads = {}
        dh2, grads["W3"], grads["b3"] = affine_backward(dscores, cache3)
        dh1, grads["W2"], grads["b2"] = affine_relu_backward(dh2, cache2)
        self.dX, grads["W1"], grads["b1"] = conv_relu_pool_backward(dh1, cache1)
        for k in ("W1", "W2", "W3"):
            grads[k] = grads[k] + self.reg * self.params[k]
        return loss, grads
