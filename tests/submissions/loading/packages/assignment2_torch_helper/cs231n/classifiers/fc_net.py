# expect: pass (torch is imported by a helper, never called on the checked path)
# ruff: noqa (a student-like fixture: the 2023 CS231n layout, classifiers/ without __init__.py)
from builtins import range
from builtins import object
import numpy as np

from ..layers import *
from ..layer_utils import *


class TwoLayerNet(object):
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        self.params = {}
        self.reg = reg
        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)

    def loss(self, X, y=None):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        h, cache_h = affine_relu_forward(X, W1, b1)
        scores, cache_s = affine_forward(h, W2, b2)
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache_s)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache_h)
        grads["W2"] += self.reg * W2
        grads["W1"] += self.reg * W1
        return loss, grads
