# expect: fail (one.?hot|label)
# ruff: noqa
"""The book's chapter 5 layers under "...Layer" names (AffineLayer, ReluLayer, SoftmaxWithLossLayer, DropoutLayer),
as real files name them, written for bpcheck's tests. Bug (seen in a real core/layers.py): the loss layer's
backward is (y - t) / N, right for one-hot targets only; the book's accepts label targets too.
"""
import numpy as np


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class AffineLayer:
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


class ReluLayer:
    def forward(self, x):
        self.keep = x > 0
        return x * self.keep

    def backward(self, dout):
        return dout * self.keep


class DropoutLayer:
    def __init__(self, dropout_ratio=0.5):
        self.ratio = dropout_ratio

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.ratio
            return x * self.mask
        return x * (1.0 - self.ratio)

    def backward(self, dout):
        return dout * self.mask


class SoftmaxWithLossLayer:
    def forward(self, x, t):
        self.y, self.t = softmax(x), t
        n = x.shape[0]
        if t.ndim == 1:
            return -np.sum(np.log(self.y[np.arange(n), t] + 1e-7)) / n
        return -np.sum(t * np.log(self.y + 1e-7)) / n

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]
