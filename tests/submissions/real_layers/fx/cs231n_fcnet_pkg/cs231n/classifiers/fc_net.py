# expect: pass
# ruff: noqa
"""A learner's fc_net.py (CS231n assignment 2, 2020+ handout), written for bpcheck's tests.

Correct. It imports everything from cs231n.layers and cs231n.layer_utils (as the handout does), so its
namespace holds layers.py's buggy conv_backward_naive and the course's fast layers (whose compiled
extension is not built here). The file is judged on what it defines: FullyConnectedNet.
"""
import numpy as np

from cs231n.layers import *
from cs231n.layer_utils import *


class FullyConnectedNet(object):
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout_keep_ratio=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for i in range(self.num_layers):
            self.params["W%d" % (i + 1)] = weight_scale * np.random.randn(dims[i], dims[i + 1])
            self.params["b%d" % (i + 1)] = np.zeros(dims[i + 1])
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        caches = []
        h = X
        for i in range(1, self.num_layers):
            h, c = affine_relu_forward(h, self.params["W%d" % i], self.params["b%d" % i])
            d = None
            if self.use_dropout:
                h, d = dropout_forward(h, self.dropout_param)
            caches.append((c, d))
        L = self.num_layers
        scores, last = affine_forward(h, self.params["W%d" % L], self.params["b%d" % L])
        if mode == "test":
            return scores
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, dw, db = affine_backward(dscores, last)
        grads["W%d" % L] = dw + self.reg * self.params["W%d" % L]
        grads["b%d" % L] = db
        for i in range(L - 1, 0, -1):
            c, d = caches[i - 1]
            if self.use_dropout:
                dh = dropout_backward(dh, d)
            dh, dw, db = affine_relu_backward(dh, c)
            grads["W%d" % i] = dw + self.reg * self.params["W%d" % i]
            grads["b%d" % i] = db
        for i in range(1, L + 1):
            loss += 0.5 * self.reg * np.sum(self.params["W%d" % i] ** 2)
        return loss, grads
