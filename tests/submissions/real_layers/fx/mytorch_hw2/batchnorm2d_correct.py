# expect: pass
# ruff: noqa
# A learner's MyTorch hw2 bonus BatchNorm2d (num_features, alpha=0.9), (1, C, 1, 1) parameters and running
# statistics, written for bpcheck's tests. Correct: it reuses a (rows, C) batchnorm on the channels moved last.
import numpy as np


class BatchNorm2d:
    def __init__(self, num_features, alpha=0.9):
        self.alpha, self.eps = alpha, 1e-8
        shape = (1, num_features, 1, 1)
        self.BW, self.Bb = np.ones(shape), np.zeros(shape)
        self.dLdBW, self.dLdBb = np.zeros(shape), np.zeros(shape)
        self.running_M, self.running_V = np.zeros(shape), np.ones(shape)

    def forward(self, Z, eval=False):
        C = Z.shape[1]
        rows = Z.transpose(0, 2, 3, 1).reshape(-1, C)
        if eval:
            out = (rows - self.running_M.reshape(1, C)) / np.sqrt(self.running_V.reshape(1, C) + self.eps)
        else:
            mu, var = rows.mean(axis=0), rows.var(axis=0)
            self.std = np.sqrt(var + self.eps)
            out = self.NZ = (rows - mu) / self.std
            self.running_M = self.alpha * self.running_M + (1 - self.alpha) * mu.reshape(1, C, 1, 1)
            self.running_V = self.alpha * self.running_V + (1 - self.alpha) * var.reshape(1, C, 1, 1)
        out = out * self.BW.reshape(1, C) + self.Bb.reshape(1, C)
        return out.reshape(Z.shape[0], Z.shape[2], Z.shape[3], C).transpose(0, 3, 1, 2)

    def backward(self, dLdBZ):
        C = dLdBZ.shape[1]
        d = dLdBZ.transpose(0, 2, 3, 1).reshape(-1, C)
        self.dLdBb = d.sum(axis=0).reshape(1, C, 1, 1)
        self.dLdBW = (d * self.NZ).sum(axis=0).reshape(1, C, 1, 1)
        g = d * self.BW.reshape(1, C)
        m = g.shape[0]
        dx = (m * g - g.sum(axis=0) - self.NZ * (g * self.NZ).sum(axis=0)) / (m * self.std)
        N, _, H, W = dLdBZ.shape
        return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)
