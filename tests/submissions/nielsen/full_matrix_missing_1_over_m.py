# expect: fail missing_1_over_m
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""Full-matrix backprop: the bias gradient is averaged but the weight gradient is the plain sum."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class Network:
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n, k) for k, n in zip(sizes[:-1], sizes[1:])]

    def backprop(self, X, Y):
        As = [X]
        for w, b in zip(self.weights, self.biases):
            As.append(sigmoid(w @ As[-1] + b))
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        delta = (As[-1] - Y) * As[-1] * (1 - As[-1])
        for l in range(1, self.num_layers):
            nabla_b[-l] = np.mean(delta, axis=1, keepdims=True)
            nabla_w[-l] = delta @ As[-l - 1].T  # bug: no / m
            if l < self.num_layers - 1:
                a = As[-l - 1]
                delta = (self.weights[-l].T @ delta) * a * (1 - a)
        return nabla_b, nabla_w
