# expect: pass
# ruff: noqa (a student-like fixture: the learner's repository has its own micrograd/ folder)
"""A per-sample network whose activations live in the learner's own micrograd/ package. micrograd is on
the refused list (an autograd library), but this one is a folder next to the file: the learner's code."""
import numpy as np

from micrograd.activations import sigmoid, sigmoid_prime


class Network(object):
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n_out, n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]

    def update_mini_batch(self, mini_batch, eta):
        acc_b = [np.zeros(b.shape) for b in self.biases]
        acc_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            gb, gw = self.backprop(x, y)
            acc_b = [a + g for a, g in zip(acc_b, gb)]
            acc_w = [a + g for a, g in zip(acc_w, gw)]
        self.weights = [w - eta / len(mini_batch) * g for w, g in zip(self.weights, acc_w)]
        self.biases = [b - eta / len(mini_batch) * g for b, g in zip(self.biases, acc_b)]

    def backprop(self, x, y):
        zs, acts = [], [x]
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ acts[-1] + b)
            acts.append(sigmoid(zs[-1]))
        delta = (acts[-1] - y) * sigmoid_prime(zs[-1])
        gb, gw = [delta], [delta @ acts[-2].T]
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
            gb.insert(0, delta)
            gw.insert(0, delta @ acts[-l - 1].T)
        return gb, gw
