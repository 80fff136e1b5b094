# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""network.py with the backward pass inlined in update_mini_batch (no backprop method): correct; only the
update can be checked, and it is."""
import random

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)


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

    def SGD(self, training_data, epochs, mini_batch_size, eta):
        n = len(training_data)
        for _ in range(epochs):
            random.shuffle(training_data)
            for k in range(0, n, mini_batch_size):
                self.update_mini_batch(training_data[k:k + mini_batch_size], eta)

    def update_mini_batch(self, mini_batch, eta):
        # the backward pass written out here, once per sample: no backprop method
        sum_b = [np.zeros(b.shape) for b in self.biases]
        sum_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            acts, zs = [x], []
            for b, w in zip(self.biases, self.weights):
                zs.append(np.dot(w, acts[-1]) + b)
                acts.append(sigmoid(zs[-1]))
            delta = self.cost_derivative(acts[-1], y) * sigmoid_prime(zs[-1])
            sum_b[-1] += delta
            sum_w[-1] += np.dot(delta, acts[-2].T)
            for l in range(2, self.num_layers):
                delta = np.dot(self.weights[-l + 1].T, delta) * sigmoid_prime(zs[-l])
                sum_b[-l] += delta
                sum_w[-l] += np.dot(delta, acts[-l - 1].T)
        step = eta / len(mini_batch)
        self.weights = [w - step * g for w, g in zip(self.weights, sum_w)]
        self.biases = [b - step * g for b, g in zip(self.biases, sum_b)]

    def cost_derivative(self, output_activations, y):
        return output_activations - y
