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


class BatchNorm(object):
    # S20-F21 hw1: gamma, beta, dgamma, dbeta, running_mean/var (1, in_feature); the gradients are sums
    def __init__(self, in_feature, alpha=0.9):
        self.alpha = alpha
        self.eps = 1e-8
        self.gamma = np.ones((1, in_feature))
        self.beta = np.zeros((1, in_feature))
        self.running_mean = np.zeros((1, in_feature))
        self.running_var = np.ones((1, in_feature))

    def __call__(self, x, eval=False):
        return self.forward(x, eval)

    def forward(self, x, eval=False):
        if eval:
            return self.gamma * (x - self.running_mean) / np.sqrt(self.running_var + self.eps) + self.beta
        self.x = x
        self.mean = np.mean(x, axis=0, keepdims=True)
        self.var = np.var(x, axis=0, keepdims=True)
        self.norm = (x - self.mean) / np.sqrt(self.var + self.eps)
        self.out = self.gamma * self.norm + self.beta
        self.running_mean = self.alpha * self.running_mean + (1 - self.alpha) * self.mean
        self.running_var = self.alpha * self.running_var + (1 - self.alpha) * self.var
        return self.out

    def backward(self, delta):
        m = delta.shape[0]
        self.dgamma = np.sum(delta * self.norm, axis=0, keepdims=True)
        self.dbeta = np.sum(delta, axis=0, keepdims=True)
        dnorm = delta * self.gamma
        std_inv = 1. / np.sqrt(self.var + self.eps)
        dvar = np.sum(dnorm * (self.x - self.mean), axis=0) * -0.5 * std_inv ** 3
        dmean = np.sum(-dnorm * std_inv, axis=0) + dvar * np.mean(-2. * (self.x - self.mean), axis=0)
        return dnorm * std_inv + dvar * 2 * (self.x - self.mean) / m + dmean / m
