# expect: pass
# ruff: noqa
# A learner's MyTorch hw1 Linear (S20-F21 handout: Linear(in_feature, out_feature, weight_init_fn,
# bias_init_fn), W (in, out), dW averaged over the batch), written for bpcheck's tests. Correct on the
# course's numpy 1.x: the np.zeros(None) placeholders are a TypeError on numpy 2 (a WARN, not a FAIL), and
# the batch size is kept in an attribute named like a feature count (`self.in_feature = x.shape[0]`):
# dividing by it IS dividing by the batch.
import numpy as np


class Linear():
    def __init__(self, in_feature, out_feature, weight_init_fn, bias_init_fn):
        self.W = weight_init_fn(in_feature, out_feature)
        self.b = bias_init_fn(out_feature)
        self.dW = np.zeros(None)
        self.db = np.zeros(None)
        self.in_feature = 0
        self.x = np.zeros(None)

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        self.in_feature = x.shape[0]
        self.x = x
        return np.matmul(x, self.W) + self.b

    def backward(self, delta):
        self.dW = np.matmul(self.x.T, delta) / self.in_feature
        self.db = np.sum(delta, axis=0, keepdims=True) / self.in_feature
        return np.matmul(delta, self.W.T)
