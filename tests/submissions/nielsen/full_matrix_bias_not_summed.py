# expect: fail bias_not_summed
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""Full-matrix backprop whose bias gradient is delta itself (n, m): not averaged over the batch.
The update then broadcasts each (n, 1) bias into an (n, m) matrix."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1.0 - sigmoid(z))


class Network:
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n, k) for k, n in zip(sizes[:-1], sizes[1:])]

    def update_mini_batch(self, mini_batch, eta):
        X = np.hstack([x for x, _ in mini_batch])
        Y = np.hstack([y for _, y in mini_batch])
        nabla_b, nabla_w = self.backprop(X, Y)
        self.weights = [w - eta * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - eta * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, X, Y):
        m = X.shape[1]
        As, Zs = [X], []
        for w, b in zip(self.weights, self.biases):
            Zs.append(w @ As[-1] + b)
            As.append(sigmoid(Zs[-1]))
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        delta = (As[-1] - Y) * sigmoid_prime(Zs[-1])
        nabla_b[-1] = delta / m  # bug: should be summed (or averaged) over the columns
        nabla_w[-1] = delta @ As[-2].T / m
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * sigmoid_prime(Zs[-l])
            nabla_b[-l] = delta / m
            nabla_w[-l] = delta @ As[-l - 1].T / m
        return nabla_b, nabla_w
