# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""backprop(x, y) returns (nabla_w, nabla_b), the reverse of the book's order, and the update uses
that order consistently. Correct. On a [1, 1, 1] network every weight and bias has shape (1, 1),
so the order cannot be told by shape there: it must be taken from the file's other cases."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class Network(object):
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def update_mini_batch(self, mini_batch, eta):
        gw_sum = [np.zeros(w.shape) for w in self.weights]
        gb_sum = [np.zeros(b.shape) for b in self.biases]
        for x, y in mini_batch:
            gw, gb = self.backprop(x, y)
            gw_sum = [s + g for s, g in zip(gw_sum, gw)]
            gb_sum = [s + g for s, g in zip(gb_sum, gb)]
        self.weights = [w - eta / len(mini_batch) * g for w, g in zip(self.weights, gw_sum)]
        self.biases = [b - eta / len(mini_batch) * g for b, g in zip(self.biases, gb_sum)]

    def backprop(self, x, y):
        acts, zs = [x], []
        for b, w in zip(self.biases, self.weights):
            zs.append(np.dot(w, acts[-1]) + b)
            acts.append(sigmoid(zs[-1]))
        gw = [None] * len(self.weights)
        gb = [None] * len(self.biases)
        delta = (acts[-1] - y) * acts[-1] * (1 - acts[-1])
        gw[-1], gb[-1] = np.dot(delta, acts[-2].T), delta
        for l in range(2, self.num_layers):
            delta = np.dot(self.weights[-l + 1].T, delta) * acts[-l] * (1 - acts[-l])
            gw[-l], gb[-l] = np.dot(delta, acts[-l - 1].T), delta
        return (gw, gb)
