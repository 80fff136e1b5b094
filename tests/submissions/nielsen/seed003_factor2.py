# expect: convention factor_2_cost
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""A network parameterised by its functions; the cost is sum (a - y)^2 without the 1/2, so its
derivative is 2 (a - y): every gradient is twice Nielsen's."""
import numpy as np


class NeuralNetwork(object):
    def __init__(self, sizes, act, act_derivative, cost_derivative):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n, k) for k, n in zip(sizes[:-1], sizes[1:])]
        self.act = act
        self.act_derivative = act_derivative
        self.cost_derivative = cost_derivative

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = self.act(np.dot(w, a) + b)
        return a

    def update_batch(self, batch, learning_rate):
        gb = [np.zeros(b.shape) for b in self.biases]
        gw = [np.zeros(w.shape) for w in self.weights]
        for x, y in batch:
            db, dw = self.backprop(x, y)
            gb = [g + d for g, d in zip(gb, db)]
            gw = [g + d for g, d in zip(gw, dw)]
        self.weights = [w - (learning_rate / len(batch)) * g for w, g in zip(self.weights, gw)]
        self.biases = [b - (learning_rate / len(batch)) * g for b, g in zip(self.biases, gb)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = self.act(z)
            activations.append(activation)
        d = self.cost_derivative(activations[-1], y) * self.act_derivative(zs[-1])
        nabla_b[-1] = d
        nabla_w[-1] = np.dot(d, activations[-2].T)
        for l in range(2, self.num_layers):
            d = np.dot(self.weights[-l + 1].T, d) * self.act_derivative(zs[-l])
            nabla_b[-l] = d
            nabla_w[-l] = np.dot(d, activations[-l - 1].T)
        return (nabla_b, nabla_w)


def distance_derivative(output_activations, y):
    return 2 * (output_activations - y)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_derivative(z):
    return sigmoid(z) * (1 - sigmoid(z))
