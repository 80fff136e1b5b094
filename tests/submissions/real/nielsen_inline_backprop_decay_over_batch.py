# expect: fail reg_over_batch
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""network2-style cost classes with their own method names (value/output_error), no backprop method,
and an L2 weight decay scaled by the mini-batch size instead of the training-set size n:
w -> (1 - eta * lmbda / len(mini_batch)) w, while total_cost charges 0.5 * lmbda / n * sum w^2 (the book's).
With lmbda = 0 every step is right."""
import numpy as np


def act(z):
    return 1.0 / (1.0 + np.exp(-z))


class CrossEntropyCost(object):
    @staticmethod
    def value(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def output_error(z, a, y):
        return a - y


class QuadraticCost(object):
    @staticmethod
    def value(a, y):
        return 0.5 * np.linalg.norm(a - y) ** 2

    @staticmethod
    def output_error(z, a, y):
        return (a - y) * act(z) * (1 - act(z))


class Network(object):
    def __init__(self, sizes, cost=CrossEntropyCost):
        self.sizes = sizes
        self.cost = cost
        self.weights = [np.random.randn(n, m) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]

    def feedforward(self, a):
        for w, b in zip(self.weights, self.biases):
            a = act(np.dot(w, a) + b)
        return a

    def update_mini_batch(self, mini_batch, eta, lmbda):
        total_b = [np.zeros(b.shape) for b in self.biases]
        total_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            acts, zs = [x], []
            for w, b in zip(self.weights, self.biases):
                zs.append(np.dot(w, acts[-1]) + b)
                acts.append(act(zs[-1]))
            delta = self.cost.output_error(zs[-1], acts[-1], y)
            for l in range(1, len(self.sizes)):
                total_w[-l] += np.dot(delta, acts[-l - 1].T)
                total_b[-l] += delta
                if l < len(self.sizes) - 1:
                    s = act(zs[-l - 1])
                    delta = np.dot(self.weights[-l].T, delta) * s * (1 - s)
        m = len(mini_batch)
        self.weights = [(1 - eta * lmbda / m) * w - (eta / m) * t for w, t in zip(self.weights, total_w)]
        self.biases = [b - (eta / m) * t for b, t in zip(self.biases, total_b)]

    def total_cost(self, data, lmbda):
        cost = sum(self.cost.value(self.feedforward(x), y) for x, y in data) / len(data)
        return cost + 0.5 * (lmbda / len(data)) * sum(np.linalg.norm(w) ** 2 for w in self.weights)
