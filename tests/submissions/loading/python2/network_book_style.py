# expect: pass
# ruff: noqa (a student-like fixture: Python 2, as the book's code and its learners wrote it)
"""A per-sample network written in Python 2: print statements, xrange inside backprop, cPickle to keep
a snapshot of the weights before each step, a long literal, 'except E, e' and 'raise E, msg'. Correct;
after an automatic conversion it must run and pass (each trap sits on a path bpcheck calls)."""
import cPickle
import random

import numpy as np


def logistic(t):
    return 1.0 / (1.0 + np.exp(-t))


def logistic_slope(t):
    s = logistic(t)
    return s * (1.0 - s)


class Network(object):

    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n_out, n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        self.steps_taken = 0L
        self.snapshot = None

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = logistic(np.dot(w, a) + b)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta):
        for epoch in xrange(epochs):
            random.shuffle(training_data)
            for start in xrange(0, len(training_data), mini_batch_size):
                self.update_mini_batch(training_data[start:start + mini_batch_size], eta)
            print "epoch", epoch, "done after", self.steps_taken, "steps"

    def update_mini_batch(self, mini_batch, eta):
        # keep the previous weights (to roll back a diverging step), the Python 2 way
        self.snapshot = cPickle.loads(cPickle.dumps((self.weights, self.biases), 2))
        total_b = [np.zeros(b.shape) for b in self.biases]
        total_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            gb, gw = self.backprop(x, y)
            total_b = [t + g for t, g in zip(total_b, gb)]
            total_w = [t + g for t, g in zip(total_w, gw)]
        rate = eta / len(mini_batch)
        self.weights = [w - rate * g for w, g in zip(self.weights, total_w)]
        self.biases = [b - rate * g for b, g in zip(self.biases, total_b)]
        self.steps_taken += 1

    def backprop(self, x, y):
        grad_b = [None] * (self.num_layers - 1)
        grad_w = [None] * (self.num_layers - 1)
        outs = [x]
        pre = []
        for b, w in zip(self.biases, self.weights):
            pre.append(np.dot(w, outs[-1]) + b)
            outs.append(logistic(pre[-1]))
        err = (outs[-1] - y) * logistic_slope(pre[-1])
        grad_b[-1] = err
        grad_w[-1] = np.dot(err, outs[-2].T)
        for k in xrange(2, self.num_layers):
            err = np.dot(self.weights[-k + 1].T, err) * logistic_slope(pre[-k])
            grad_b[-k] = err
            grad_w[-k] = np.dot(err, outs[-k - 1].T)
        return (grad_b, grad_w)

    def save(self, filename):
        try:
            handle = open(filename, "wb")
        except IOError, e:
            raise ValueError, "cannot save to %s: %s" % (filename, e)
        cPickle.dump(self.snapshot, handle)
