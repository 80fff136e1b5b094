# expect: pass
# ruff: noqa
# A learner's copy of the Linear that MyTorch's S20-F21 hw3 hands out: Linear(in_feature, out_feature) with
# no init functions, W (out, in), b (out,), init_weights(W, b), dW and db averaged over the batch (the hw1
# convention of those terms). Written for bpcheck's tests. Correct.
import numpy as np


class Linear:
    def __init__(self, in_feature, out_feature):
        self.W = np.random.normal(0.0, 1.0, (out_feature, in_feature))
        self.b = np.zeros(out_feature)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def __call__(self, x):
        return self.forward(x)

    def init_weights(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W.T + self.b

    def backward(self, delta):
        n = delta.shape[0]
        self.dW = delta.T @ self.x / n
        self.db = delta.mean(axis=0)
        return delta @ self.W
