# expect: fail sigma_prime_of_a
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""sigma'(z) is computed from the activation a instead of z: sigmoid_prime(a)."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network(object):
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def update_mini_batch(self, mini_batch, eta):
        nb = [np.zeros(b.shape) for b in self.biases]
        nw = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            db, dw = self.backprop(x, y)
            nb = [a + b for a, b in zip(nb, db)]
            nw = [a + b for a, b in zip(nw, dw)]
        self.weights = [w - (eta / len(mini_batch)) * g for w, g in zip(self.weights, nw)]
        self.biases = [b - (eta / len(mini_batch)) * g for b, g in zip(self.biases, nb)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activations = [x]
        for b, w in zip(self.biases, self.weights):
            activations.append(sigmoid(np.dot(w, activations[-1]) + b))
        # bug: the derivative is evaluated at the activation, not at z
        delta = (activations[-1] - y) * sigmoid_prime(activations[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].T)
        for l in range(2, self.num_layers):
            delta = np.dot(self.weights[-l + 1].T, delta) * sigmoid_prime(activations[-l])
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].T)
        return (nabla_b, nabla_w)
