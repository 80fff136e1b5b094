# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""The full-matrix method: the mini-batch as one matrix, one sample per column."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1.0 - sigmoid(z))


class Network:
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n, k) for k, n in zip(sizes[:-1], sizes[1:])]

    def update_mini_batch(self, mini_batch, eta):
        X = np.column_stack([x.ravel() for x, _ in mini_batch])
        Y = np.column_stack([y.ravel() for _, y in mini_batch])
        nabla_b, nabla_w = self.backprop(X, Y)
        self.weights = [w - eta * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - eta * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, X, Y):
        m = X.shape[1]
        A = X
        As = [X]
        Zs = []
        for w, b in zip(self.weights, self.biases):
            Z = w @ A + b
            Zs.append(Z)
            A = sigmoid(Z)
            As.append(A)
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = (As[-1] - Y) * sigmoid_prime(Zs[-1])
        nabla_b[-1] = delta.mean(axis=1, keepdims=True)
        nabla_w[-1] = delta @ As[-2].T / m
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * sigmoid_prime(Zs[-l])
            nabla_b[-l] = delta.mean(axis=1, keepdims=True)
            nabla_w[-l] = delta @ As[-l - 1].T / m
        return nabla_b, nabla_w
