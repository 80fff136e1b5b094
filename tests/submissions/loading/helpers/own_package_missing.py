# expect: error missing_module
# ruff: noqa
"""Chapter 5 layers whose softmax lives in the learner's own helper package, not given with the file: bpcheck
stubs the module, and a check that reaches the stub cannot be judged (ERROR, with the fix), never FAIL."""
import numpy as np

from mynet.activations import softmax  # the learner's own package, not submitted


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.shape)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.y, self.t = softmax(x), t
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]
