# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""Nielsen's per-sample Network with an activation selector; activation='relu' raises (np.max(0, z) for
np.maximum(0, z)). The sigmoid network is right; the relu option bpcheck could not run must be said."""
import random

import numpy as np


class Network(object):
    def __init__(self, sizes, activation="sigmoid"):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.activation = activation
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def _act(self, z):
        if self.activation == "relu":
            return np.max(0, z)  # the bug
        return 1.0 / (1.0 + np.exp(-z))

    def _act_prime(self, z):
        if self.activation == "relu":
            return (z > 0).astype(float)
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1 - s)

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = self._act(np.dot(w, a) + b)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta):
        n = len(training_data)
        for j in range(epochs):
            random.shuffle(training_data)
            for k in range(0, n, mini_batch_size):
                self.update_mini_batch(training_data[k:k + mini_batch_size], eta)

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = self._act(z)
            activations.append(activation)
        delta = (activations[-1] - y) * self._act_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * self._act_prime(zs[-l])
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return (nabla_b, nabla_w)
