# expect: pass
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""Full-matrix exercise with a 3-D batch: SGD stacks the (n, 1) samples into inp (m, n, 1) and
classification (m, k, 1); update_mini_batch(inp, classification, eta, nbatch) and
backprop(inp, classification) use np.matmul over the leading batch axis and sum it. Correct."""
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

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta):
        n = len(training_data)
        for _ in range(epochs):
            batches = [training_data[k:k + mini_batch_size] for k in range(0, n, mini_batch_size)]
            for mb in batches:
                inp = np.array([s[0] for s in mb])
                classification = np.array([s[1] for s in mb])
                self.update_mini_batch(inp, classification, eta, len(mb))

    def update_mini_batch(self, inp, classification, eta, nbatch):
        nb, nw = self.backprop(inp, classification)
        self.weights = [w - (eta / nbatch) * g for w, g in zip(self.weights, nw)]
        self.biases = [b - (eta / nbatch) * g for b, g in zip(self.biases, nb)]

    def backprop(self, inp, classification):
        activation = inp
        activations = [inp]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.matmul(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = (activations[-1] - classification) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.matmul(delta, np.swapaxes(activations[-2], -2, -1))
        for l in range(2, self.num_layers):
            delta = np.matmul(self.weights[-l + 1].T, delta) * sigmoid_prime(zs[-l])
            nabla_b[-l] = delta
            nabla_w[-l] = np.matmul(delta, np.swapaxes(activations[-l - 1], -2, -1))
        return [g.sum(axis=0) for g in nabla_b], [g.sum(axis=0) for g in nabla_w]
