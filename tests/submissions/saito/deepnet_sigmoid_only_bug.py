# expect: fail derivative_at_activation
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""A MultiLayerNet-style DeepNet: right with its default relu, wrong only with activation='sigmoid'
(the sigmoid's derivative is taken at its output a instead of at z). A real-file pattern: the default
configuration is all a plain check ever runs."""
from collections import OrderedDict

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class Relu:
    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class Sigmoid:
    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        s = sigmoid(self.out)  # bug: sigma'(a), not sigma'(z)
        return dout * s * (1 - s)


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        self.original_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T).reshape(*self.original_shape)


class SoftmaxWithLoss:
    def forward(self, x, t):
        x = x - np.max(x, axis=1, keepdims=True)
        self.y = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
        self.t = t
        n = x.shape[0]
        if t.ndim == 1:
            return -np.sum(np.log(self.y[np.arange(n), t] + 1e-7)) / n
        return -np.sum(t * np.log(self.y + 1e-7)) / n

    def backward(self, dout=1):
        n = self.t.shape[0]
        if self.t.ndim == 1:
            dx = self.y.copy()
            dx[np.arange(n), self.t] -= 1
            return dx / n
        return (self.y - self.t) / n


class MultiLayerNet:
    def __init__(self, input_size, hidden_size_list, output_size, activation='relu', weight_init_std=0.1):
        sizes = [input_size] + list(hidden_size_list) + [output_size]
        self.params = {}
        for i in range(1, len(sizes)):
            self.params['W' + str(i)] = weight_init_std * np.random.randn(sizes[i - 1], sizes[i])
            self.params['b' + str(i)] = np.zeros(sizes[i])
        act_class = {'relu': Relu, 'sigmoid': Sigmoid}[activation]
        self.n = len(sizes) - 1
        self.layers = OrderedDict()
        for i in range(1, self.n + 1):
            self.layers['Affine' + str(i)] = Affine(self.params['W' + str(i)], self.params['b' + str(i)])
            if i < self.n:
                self.layers['Act' + str(i)] = act_class()
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.n + 1):
            grads['W' + str(i)] = self.layers['Affine' + str(i)].dW
            grads['b' + str(i)] = self.layers['Affine' + str(i)].db
        return grads
