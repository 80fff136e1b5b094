# expect: pass
# ruff: noqa
# A learner's MyTorch hw1 BatchNorm (S20-F21 handout: BatchNorm(in_feature, alpha=0.9), gamma / beta /
# dgamma / dbeta, running_mean / running_var, forward(x, eval=False), backward(delta)), written for bpcheck's
# tests. Correct: eps 1e-8 inside the sqrt, biased batch variance, alpha on the running side.
import numpy as np


class BatchNorm(object):
    def __init__(self, in_feature, alpha=0.9):
        self.alpha = alpha
        self.eps = 1e-8
        self.gamma = np.ones((1, in_feature))
        self.beta = np.zeros((1, in_feature))
        self.dgamma = np.zeros((1, in_feature))
        self.dbeta = np.zeros((1, in_feature))
        self.running_mean = np.zeros((1, in_feature))
        self.running_var = np.ones((1, in_feature))

    def __call__(self, x, eval=False):
        return self.forward(x, eval)

    def forward(self, x, eval=False):
        if eval:
            return self.gamma * (x - self.running_mean) / np.sqrt(self.running_var + self.eps) + self.beta
        self.x = x
        self.mu = x.mean(axis=0, keepdims=True)
        self.var = ((x - self.mu) ** 2).mean(axis=0, keepdims=True)
        self.inv = 1.0 / np.sqrt(self.var + self.eps)
        self.norm = (x - self.mu) * self.inv
        self.running_mean = self.alpha * self.running_mean + (1 - self.alpha) * self.mu
        self.running_var = self.alpha * self.running_var + (1 - self.alpha) * self.var
        return self.gamma * self.norm + self.beta

    def backward(self, delta):
        m = delta.shape[0]
        self.dbeta = delta.sum(axis=0, keepdims=True)
        self.dgamma = (delta * self.norm).sum(axis=0, keepdims=True)
        g = delta * self.gamma
        # the compact form: (m g - sum g - norm sum(g norm)) / (m std)
        return self.inv / m * (m * g - g.sum(axis=0, keepdims=True)
                               - self.norm * (g * self.norm).sum(axis=0, keepdims=True))
