"""Fault fixture: Python 2 syntax (print statement, xrange)."""
import numpy as np


class Network(object):
    def __init__(self, sizes):
        self.sizes = sizes
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def SGD(self, epochs):
        for j in xrange(epochs):
            print "Epoch {0} complete".format(j)
