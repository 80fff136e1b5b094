"""Fault fixture: Python 2 (print statement, xrange) with a line no converter can read (unclosed paren)."""
import numpy as np


class Network(object):
    def __init__(self, sizes):
        self.sizes = sizes
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def SGD(self, epochs):
        for j in xrange(epochs):
            print "Epoch {0} complete".format(j)

    def evaluate(self, test_data):
        return sum(int(x == y) for (x, y) in test_data

    def cost_derivative(self, output_activations, y):
        return (output_activations-y)
