# expect: pass
# ruff: noqa
# The 2021 API: Linear(in_feature, out_feature, weight_init_fn, bias_init_fn) with W (in, out), dW averaged over
# the batch; activations keep `state` and give derivative(); SoftmaxCrossEntropy returns the per-sample losses.
import numpy as np


class Linear():
    def __init__(self, in_feature, out_feature, weight_init_fn, bias_init_fn):
        self.W = weight_init_fn(in_feature, out_feature)
        self.b = bias_init_fn(out_feature)
        self.dW = np.zeros(self.W.shape)
        self.db = np.zeros(self.b.shape)

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, delta):
        self.dW = self.x.T @ delta / delta.shape[0]
        self.db = np.mean(delta, axis=0, keepdims=True)
        return delta @ self.W.T


class Activation(object):
    def __init__(self):
        self.state = None

    def __call__(self, x):
        return self.forward(x)


class Sigmoid(Activation):
    def forward(self, x):
        self.state = 1 / (1 + np.exp(-x))
        return self.state

    def derivative(self):
        return self.state * (1 - self.state)


class ReLU(Activation):
    def forward(self, x):
        self.state = np.maximum(x, 0)
        return self.state

    def derivative(self):
        return (self.state > 0).astype(float)


class SoftmaxCrossEntropy:
    def forward(self, x, y):
        self.logits, self.labels = x, y
        m = np.max(x, axis=1, keepdims=True)
        self.sm = np.exp(x - m) / np.sum(np.exp(x - m), axis=1, keepdims=True)
        return -np.sum(y * (x - m - np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))), axis=1)

    def derivative(self):
        return self.sm - self.labels
