# expect: pass
# ruff: noqa (a student-like fixture: scipy's expit as the sigmoid)
"""A full-matrix network whose sigmoid is scipy.special.expit (and `import scipy` for scipy.special.erf in
a GELU option): scipy is not installed where bpcheck runs, so its stand-in is used and the note says so."""
import numpy as np
import scipy
from scipy.special import expit


def gelu(z):
    return 0.5 * z * (1.0 + scipy.special.erf(z / np.sqrt(2.0)))


class Network(object):
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n_out, n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]

    def backprop(self, x, y):
        zs, acts = [], [x]
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ acts[-1] + b)
            acts.append(expit(zs[-1]))
        slope = lambda z: expit(z) * (1.0 - expit(z))
        delta = (acts[-1] - y) * slope(zs[-1])
        nabla_b, nabla_w = [delta], [delta @ acts[-2].T]
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * slope(zs[-l])
            nabla_b.insert(0, delta)
            nabla_w.insert(0, delta @ acts[-l - 1].T)
        return nabla_b, nabla_w

    def update_mini_batch(self, mini_batch, eta):
        sb = [np.zeros(b.shape) for b in self.biases]
        sw = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            gb, gw = self.backprop(x, y)
            sb = [s + g for s, g in zip(sb, gb)]
            sw = [s + g for s, g in zip(sw, gw)]
        self.weights = [w - (eta / len(mini_batch)) * g for w, g in zip(self.weights, sw)]
        self.biases = [b - (eta / len(mini_batch)) * g for b, g in zip(self.biases, sb)]
