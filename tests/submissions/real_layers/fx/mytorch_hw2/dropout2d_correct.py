# expect: pass
# ruff: noqa
# A learner's MyTorch hw2 bonus Dropout2d(p=0.5): p drops a whole channel, one draw per (sample, channel)
# shared by its H x W values, inverted (kept channels divided by 1 - p), forward(x, eval=False). Written for
# bpcheck's tests. Correct.
import numpy as np


class Dropout2d(object):
    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, x, eval=False):
        if eval:
            return x
        keep = 1.0 - self.p
        self.mask = np.random.binomial(1, keep, size=x.shape[:2])[:, :, None, None]
        return x * self.mask / keep

    def backward(self, delta):
        return delta * self.mask / (1.0 - self.p)
