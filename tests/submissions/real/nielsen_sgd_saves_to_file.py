# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""A network2-style file whose SGD writes its parameters to a file after training (self.save), as real
rewrites do (a JSON checkpoint). Correct: writing a file is the student's business, not a wrong gradient;
the sandbox keeps no file contents, so the write must not become the student's exception."""
import json

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class CrossEntropyCost:
    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        return a - y


class Network:
    def __init__(self, sizes, cost=CrossEntropyCost):
        self.sizes = sizes
        self.cost = cost
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n, m) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0):
        n = len(training_data)
        for _ in range(epochs):
            for k in range(0, n, mini_batch_size):
                self.update_mini_batch(training_data[k:k + mini_batch_size], eta, lmbda, n)
        self.save("weights.json")  # a checkpoint after training

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        sum_b = [np.zeros_like(b) for b in self.biases]
        sum_w = [np.zeros_like(w) for w in self.weights]
        for x, y in mini_batch:
            db, dw = self.backprop(x, y)
            sum_b = [s + d for s, d in zip(sum_b, db)]
            sum_w = [s + d for s, d in zip(sum_w, dw)]
        m = len(mini_batch)
        self.weights = [(1 - eta * lmbda / n) * w - eta / m * s for w, s in zip(self.weights, sum_w)]
        self.biases = [b - eta / m * s for b, s in zip(self.biases, sum_b)]

    def backprop(self, x, y):
        acts, zs = [x], []
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ acts[-1] + b)
            acts.append(sigmoid(zs[-1]))
        delta = self.cost.delta(zs[-1], acts[-1], y)
        db = [None] * len(self.biases)
        dw = [None] * len(self.weights)
        db[-1], dw[-1] = delta, delta @ acts[-2].T
        for l in range(2, len(self.sizes)):
            s = sigmoid(zs[-l])
            delta = (self.weights[-l + 1].T @ delta) * s * (1 - s)
            db[-l], dw[-l] = delta, delta @ acts[-l - 1].T
        return db, dw

    def total_cost(self, data, lmbda):
        cost = sum(self.cost.fn(self.feedforward(x), y) for x, y in data) / len(data)
        return cost + 0.5 * (lmbda / len(data)) * sum(np.linalg.norm(w) ** 2 for w in self.weights)

    def save(self, filename):
        with open(filename, "w") as f:
            json.dump({"sizes": self.sizes, "weights": [w.tolist() for w in self.weights],
                       "biases": [b.tolist() for b in self.biases]}, f)
