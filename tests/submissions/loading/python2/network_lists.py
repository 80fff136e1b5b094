# expect: pass
# ruff: noqa (a student-like fixture: Python 2)
"""A Python 2 network that uses zip, map and range results as lists: `self.layers = zip(...)` is
iterated in every call (a Python 3 zip is empty after the first), `map(int, sizes)` is sliced, and
`range(...)` is reversed in place. Correct once 2to3 wraps them in list()."""
import numpy as np


class Network(object):

    def __init__(self, sizes):
        sizes = map(int, sizes)
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def SGD(self, training_data, epochs, mini_batch_size, eta):
        for j in range(epochs):
            batches = [training_data[k:k + mini_batch_size] for k in range(0, len(training_data), mini_batch_size)]
            for mini_batch in batches:
                self.update_mini_batch(mini_batch, eta)
            print "Epoch %d complete" % j

    def layers(self):
        return zip(self.biases, self.weights)

    def feedforward(self, a):
        for b, w in self.layers():
            a = sigmoid(np.dot(w, a) + b)
        return a

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = map(np.zeros_like, self.biases)
        nabla_w = map(np.zeros_like, self.weights)
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = map(lambda p: p[0] + p[1], zip(nabla_b, delta_nabla_b))
            nabla_w = map(lambda p: p[0] + p[1], zip(nabla_w, delta_nabla_w))
        steps = zip(self.weights, nabla_w, self.biases, nabla_b)
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw, _, _ in steps]
        self.biases = [b - (eta / len(mini_batch)) * nb for _, _, b, nb in steps]

    def backprop(self, x, y):
        layers = self.layers()
        activations, zs = [x], []
        for b, w in layers:
            zs.append(np.dot(w, activations[-1]) + b)
            activations.append(sigmoid(zs[-1]))
        nabla_b = [None] * len(layers)
        nabla_w = [None] * len(layers)
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
        order = range(len(layers))
        order.reverse()
        for i in order:
            if i != order[0]:
                delta = np.dot(layers[i + 1][1].T, delta) * sigmoid_prime(zs[i])
            nabla_b[i] = delta
            nabla_w[i] = np.dot(delta, activations[i].T)
        return (nabla_b, nabla_w)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))
