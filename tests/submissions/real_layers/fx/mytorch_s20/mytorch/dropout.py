# expect: fail dropout_backward_unscaled
# ruff: noqa
# A learner's MyTorch bonus Dropout (S20-F21 handout: Dropout(p=0.5), forward(x, train=True), backward(delta)),
# written for bpcheck's tests. The mask keeps a unit with probability p (np.random.binomial(1, p), as that
# term's files draw it) and the forward divides the kept units by p; the backward returns delta * mask and
# leaves that 1/p out: p times the derivative of its own forward.
import numpy as np


class Dropout(object):
    def __init__(self, p=0.5):
        self.p = p
        self.mask = None

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x, train=True):
        if not train:
            return x
        self.mask = np.random.binomial(1, self.p, size=x.shape)
        return x * self.mask / self.p

    def backward(self, delta):
        return delta * self.mask
