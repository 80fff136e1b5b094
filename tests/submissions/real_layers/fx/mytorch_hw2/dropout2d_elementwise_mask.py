# expect: fail per channel
# ruff: noqa
# A learner's MyTorch hw2 bonus Dropout2d(p=0.5) that draws one mask value per element, as plain dropout does,
# where the handout asks for a per-channel mask (one draw per sample and channel). Written for bpcheck's tests.
import numpy as np


class Dropout2d(object):
    def __init__(self, p=0.5):
        self.p = p

    def forward(self, x, eval=False):
        if eval:
            return x
        self.mask = np.random.binomial(1, 1.0 - self.p, size=x.shape)
        return x * self.mask / (1.0 - self.p)

    def backward(self, delta):
        return delta * self.mask / (1.0 - self.p)
