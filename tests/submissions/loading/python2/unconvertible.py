# expect: error load (bpcheck cannot judge a file it could not convert; the line is named)
# ruff: noqa (a student-like fixture: Python 2 with a line no converter can read)
"""Python 2 with a genuine syntax error on line 15 (an unclosed bracket in backprop): the converter
cannot parse it, and the report must name that line."""
import numpy as np


class Network(object):
    def __init__(self, sizes):
        self.sizes = sizes
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def backprop(self, x, y):
        print "backprop on", x.shape
        delta = (np.dot(self.weights[-1], x) - y
        return delta

    def update_mini_batch(self, mini_batch, eta):
        pass
