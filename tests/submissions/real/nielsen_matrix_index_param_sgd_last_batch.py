# expect: fail sgd_last_batch
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""Full-matrix exercise: update_mini_batch(x, y, eta, mini_batch_size, i) and backprop(x, y, i) take a batch
counter i they never use (exact otherwise), and SGD stacks each batch with range(mini_batch_size): IndexError on
the last, shorter batch whenever len(training_data) is not a multiple of mini_batch_size."""
import random
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


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
        training_data = list(training_data)
        n = len(training_data)
        for _ in range(epochs):
            random.shuffle(training_data)
            batches = [training_data[k:k + mini_batch_size] for k in range(0, n, mini_batch_size)]
            for i, batch in enumerate(batches):
                x = np.column_stack([batch[k][0] for k in range(mini_batch_size)])
                y = np.column_stack([batch[k][1] for k in range(mini_batch_size)])
                self.update_mini_batch(x, y, eta, mini_batch_size, i)

    def update_mini_batch(self, x, y, eta, mini_batch_size, i):
        nabla_b, nabla_w = self.backprop(x, y, i)
        self.weights = [w - (eta / mini_batch_size) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / mini_batch_size) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y, i):
        acts, zs = [x], []
        for b, w in zip(self.biases, self.weights):
            zs.append(np.dot(w, acts[-1]) + b)
            acts.append(sigmoid(zs[-1]))
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = (acts[-1] - y) * acts[-1] * (1 - acts[-1])
        nabla_b[-1], nabla_w[-1] = delta.sum(axis=1, keepdims=True), np.dot(delta, acts[-2].T)
        for l in range(2, self.num_layers):
            delta = np.dot(self.weights[-l + 1].T, delta) * acts[-l] * (1 - acts[-l])
            nabla_b[-l], nabla_w[-l] = delta.sum(axis=1, keepdims=True), np.dot(delta, acts[-l - 1].T)
        return nabla_b, nabla_w
