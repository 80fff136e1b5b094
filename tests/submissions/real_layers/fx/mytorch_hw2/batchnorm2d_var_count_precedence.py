# expect: fail bn_var_count
# ruff: noqa
# A learner's MyTorch hw2 bonus BatchNorm2d (num_features, alpha=0.9): BW, Bb, running_M, running_V of shape
# (1, C, 1, 1), statistics over N, H and W. Written for bpcheck's tests. Forward, dLdBW, dLdBb and the running
# statistics are right; the variance term of dLdZ writes its 2 / (N H W) as 2 / N * H * W, which Python reads
# as (2 / N) * H * W: dx is wrong whenever H W > 1.
import numpy as np


class BatchNorm2d:
    def __init__(self, num_features, alpha=0.9):
        self.alpha, self.eps = alpha, 1e-8
        shape = (1, num_features, 1, 1)
        self.BW, self.Bb = np.ones(shape), np.zeros(shape)
        self.dLdBW, self.dLdBb = np.zeros(shape), np.zeros(shape)
        self.running_M, self.running_V = np.zeros(shape), np.ones(shape)

    def __call__(self, Z, eval=False):
        return self.forward(Z, eval)

    def forward(self, Z, eval=False):
        if eval:
            return self.BW * (Z - self.running_M) / np.sqrt(self.running_V + self.eps) + self.Bb
        self.Z = Z
        self.N, _, self.H, self.W = Z.shape
        self.M = Z.mean(axis=(0, 2, 3), keepdims=True)
        self.V = Z.var(axis=(0, 2, 3), keepdims=True)
        self.NZ = (Z - self.M) / np.sqrt(self.V + self.eps)
        self.running_M = self.alpha * self.running_M + (1 - self.alpha) * self.M
        self.running_V = self.alpha * self.running_V + (1 - self.alpha) * self.V
        return self.BW * self.NZ + self.Bb

    def backward(self, dLdBZ):
        axes = (0, 2, 3)
        self.dLdBb = dLdBZ.sum(axis=axes, keepdims=True)
        self.dLdBW = (dLdBZ * self.NZ).sum(axis=axes, keepdims=True)
        dNZ = dLdBZ * self.BW
        centred = self.Z - self.M
        s = self.V + self.eps
        dV = -0.5 * (dNZ * centred * s ** -1.5).sum(axis=axes, keepdims=True)
        dM = -(dNZ * s ** -0.5).sum(axis=axes, keepdims=True)
        count = self.N * self.H * self.W
        return dNZ * s ** -0.5 + dV * centred * (2 / self.N * self.H * self.W) + dM / count
