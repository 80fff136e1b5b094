# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""A learner's fc_net.py (CS231n assignment 2), written for bpcheck's tests.

Its own code is right; it imports its layers from cs231n.layers, whose test-mode batchnorm puts eps outside
the sqrt (a real learner's files showed it). The net's test-time scores follow that placement: bpcheck states it
as the convention it states for batchnorm_forward alone, and the net passes.
"""
import numpy as np

from cs231n.layers import *


class FullyConnectedNet(object):
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout_keep_ratio=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.normalization = normalization
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for i in range(self.num_layers):
            self.params["W%d" % (i + 1)] = weight_scale * np.random.randn(dims[i], dims[i + 1])
            self.params["b%d" % (i + 1)] = np.zeros(dims[i + 1])
            if normalization == "batchnorm" and i < self.num_layers - 1:
                self.params["gamma%d" % (i + 1)] = np.ones(dims[i + 1])
                self.params["beta%d" % (i + 1)] = np.zeros(dims[i + 1])
        self.bn_params = []
        if normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for i in range(self.num_layers - 1)]
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        for bn_param in self.bn_params:
            bn_param["mode"] = mode
        caches = []
        out = X
        for i in range(1, self.num_layers):
            out, fc_cache = affine_forward(out, self.params["W%d" % i], self.params["b%d" % i])
            bn_cache = None
            if self.normalization == "batchnorm":
                out, bn_cache = batchnorm_forward(out, self.params["gamma%d" % i], self.params["beta%d" % i],
                                                  self.bn_params[i - 1])
            out, relu_cache = relu_forward(out)
            caches.append((fc_cache, bn_cache, relu_cache))
        L = self.num_layers
        scores, last_cache = affine_forward(out, self.params["W%d" % L], self.params["b%d" % L])
        if mode == "test":
            return scores
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dout, grads["W%d" % L], grads["b%d" % L] = affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            fc_cache, bn_cache, relu_cache = caches[i - 1]
            dout = relu_backward(dout, relu_cache)
            if self.normalization == "batchnorm":
                dout, grads["gamma%d" % i], grads["beta%d" % i] = batchnorm_backward(dout, bn_cache)
            dout, grads["W%d" % i], grads["b%d" % i] = affine_backward(dout, fc_cache)
        for i in range(1, L + 1):
            W = self.params["W%d" % i]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads["W%d" % i] += self.reg * W
        return loss, grads
