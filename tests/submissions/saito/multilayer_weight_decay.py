# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""A MultiLayerNet (relu or sigmoid hidden layers) with L2 weight decay: 0.5 * lambda * sum W^2."""
from collections import OrderedDict

import numpy as np


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class Sigmoid:
    def forward(self, x):
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


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
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        n = x.shape[0]
        if t.ndim == 1:
            self.t = np.zeros_like(self.y)
            self.t[np.arange(n), t] = 1
        else:
            self.t = t
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -np.sum(self.t * logp) / n

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.y.shape[0]


class MultiLayerNet:
    def __init__(self, input_size, hidden_size_list, output_size, activation="relu", weight_init_std=0.01,
                 weight_decay_lambda=0):
        sizes = [input_size] + list(hidden_size_list) + [output_size]
        self.weight_decay_lambda = weight_decay_lambda
        self.params = {}
        for i in range(1, len(sizes)):
            self.params["W%d" % i] = weight_init_std * np.random.randn(sizes[i - 1], sizes[i])
            self.params["b%d" % i] = np.zeros(sizes[i])
        act = {"relu": Relu, "sigmoid": Sigmoid}[activation]
        self.n = len(sizes) - 1
        self.layers = OrderedDict()
        for i in range(1, self.n):
            self.layers["Affine%d" % i] = Affine(self.params["W%d" % i], self.params["b%d" % i])
            self.layers["Activation_function%d" % i] = act()
        self.layers["Affine%d" % self.n] = Affine(self.params["W%d" % self.n], self.params["b%d" % self.n])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        decay = 0.0
        for i in range(1, self.n + 1):
            decay += 0.5 * self.weight_decay_lambda * np.sum(self.params["W%d" % i] ** 2)
        return self.last_layer.forward(self.predict(x), t) + decay

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.n + 1):
            grads["W%d" % i] = self.layers["Affine%d" % i].dW + self.weight_decay_lambda * self.params["W%d" % i]
            grads["b%d" % i] = self.layers["Affine%d" % i].db
        return grads


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]
