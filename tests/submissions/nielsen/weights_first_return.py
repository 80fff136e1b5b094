# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""Returns (nabla_w, nabla_b): the opposite order of the book, consistently used in the update."""
import numpy as np


def sig(z):
    return 1 / (1 + np.exp(-z))


def dsig(z):
    return sig(z) * (1 - sig(z))


class Network:
    def __init__(self, sizes):
        self.sizes = list(sizes)
        self.num_layers = len(sizes)
        self.weights = [np.random.randn(j, i) for i, j in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.random.randn(j, 1) for j in sizes[1:]]

    def backprop(self, x, y):
        a, acts, zs = x, [x], []
        for w, b in zip(self.weights, self.biases):
            zs.append(w @ a + b)
            a = sig(zs[-1])
            acts.append(a)
        gw, gb = [], []
        delta = (a - y) * dsig(zs[-1])
        for l in range(self.num_layers - 1, 0, -1):
            gw.insert(0, delta @ acts[l - 1].T)
            gb.insert(0, delta)
            if l > 1:
                delta = (self.weights[l - 1].T @ delta) * dsig(zs[l - 2])
        return gw, gb

    def update_mini_batch(self, mini_batch, eta):
        tw = [np.zeros_like(w) for w in self.weights]
        tb = [np.zeros_like(b) for b in self.biases]
        for x, y in mini_batch:
            gw, gb = self.backprop(x, y)
            tw = [t + g for t, g in zip(tw, gw)]
            tb = [t + g for t, g in zip(tb, gb)]
        k = eta / len(mini_batch)
        self.weights = [w - k * g for w, g in zip(self.weights, tw)]
        self.biases = [b - k * g for b, g in zip(self.biases, tb)]
