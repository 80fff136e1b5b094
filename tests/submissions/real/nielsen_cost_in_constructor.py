# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""Cross-entropy chosen inside the constructor (self.cost = CrossEntropyCost), not a constructor
argument; backprop(x, y) returns (nabla_w, nabla_b). Correct: delta_L = a - y is right for this cost."""
import numpy as np


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


class CrossEntropyCost:
    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta_L(z, a, y):
        return a - y


class Network:
    def __init__(self, sizes):
        self.sizes = sizes
        self.L = len(sizes)
        self.cost = CrossEntropyCost
        self.weights = [np.random.randn(n, m) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]

    def feedforward(self, a):
        for w, b in zip(self.weights, self.biases):
            a = _sig(w @ a + b)
        return a

    def update_mini_batch(self, mini_batch, eta):
        sw = [np.zeros(w.shape) for w in self.weights]
        sb = [np.zeros(b.shape) for b in self.biases]
        for x, y in mini_batch:
            gw, gb = self.backprop(x, y)
            sw = [s + g for s, g in zip(sw, gw)]
            sb = [s + g for s, g in zip(sb, gb)]
        self.weights = [w - eta / len(mini_batch) * g for w, g in zip(self.weights, sw)]
        self.biases = [b - eta / len(mini_batch) * g for b, g in zip(self.biases, sb)]

    def backprop(self, x, y):
        a_list, z_list = [x], []
        for w, b in zip(self.weights, self.biases):
            z_list.append(w @ a_list[-1] + b)
            a_list.append(_sig(z_list[-1]))
        nabla_w = [None] * (self.L - 1)
        nabla_b = [None] * (self.L - 1)
        delta = self.cost.delta_L(z_list[-1], a_list[-1], y)
        for l in range(self.L - 2, -1, -1):
            nabla_w[l] = delta @ a_list[l].T
            nabla_b[l] = delta
            if l > 0:
                s = _sig(z_list[l - 1])
                delta = (self.weights[l].T @ delta) * s * (1 - s)
        return nabla_w, nabla_b

    def total_cost(self, data):
        return sum(self.cost.fn(self.feedforward(x), y) for x, y in data) / len(data)
