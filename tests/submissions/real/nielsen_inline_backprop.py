# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""No backprop method: the whole backward pass lives inside update_mini_batch(mini_batch, eta),
the book's signature. Correct (quadratic cost, the book's network.py maths)."""
import numpy as np


def act(z):
    return 1.0 / (1.0 + np.exp(-z))


def act_deriv(z):
    return act(z) * (1.0 - act(z))


class Network(object):
    def __init__(self, sizes):
        self.sizes = sizes
        self.layers_num = len(sizes)
        self.weights = [np.random.randn(n, m) for m, n in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]

    def feedforward(self, a):
        for w, b in zip(self.weights, self.biases):
            a = act(np.dot(w, a) + b)
        return a

    def update_mini_batch(self, mini_batch, eta):
        total_b = [np.zeros(b.shape) for b in self.biases]
        total_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            acts, zs = [x], []
            for w, b in zip(self.weights, self.biases):
                zs.append(np.dot(w, acts[-1]) + b)
                acts.append(act(zs[-1]))
            delta = (acts[-1] - y) * act_deriv(zs[-1])
            dw = [None] * len(self.weights)
            db = [None] * len(self.biases)
            dw[-1] = np.dot(delta, acts[-2].T)
            db[-1] = delta
            for l in range(2, self.layers_num):
                delta = np.dot(self.weights[-l + 1].T, delta) * act_deriv(zs[-l])
                dw[-l] = np.dot(delta, acts[-l - 1].T)
                db[-l] = delta
            total_b = [t + d for t, d in zip(total_b, db)]
            total_w = [t + d for t, d in zip(total_w, dw)]
        self.weights = [w - (eta / len(mini_batch)) * t for w, t in zip(self.weights, total_w)]
        self.biases = [b - (eta / len(mini_batch)) * t for b, t in zip(self.biases, total_b)]
