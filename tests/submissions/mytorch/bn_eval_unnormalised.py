# expect: fail test_not_normalised
# ruff: noqa
# A pattern seen in a real S22 handout: eval mode scales and shifts Z without normalising it by the running
# statistics. Train mode (forward, backward, running statistics) is right; only the eval output is wrong.
import numpy as np


class BatchNorm1d:
    def __init__(self, num_features, alpha=0.9):
        self.alpha = alpha
        self.eps = 1e-8
        self.BW = np.ones((1, num_features))
        self.Bb = np.zeros((1, num_features))
        self.running_M = np.zeros((1, num_features))
        self.running_V = np.ones((1, num_features))

    def forward(self, Z, eval=False):
        if eval:
            self.BZ = self.BW * Z + self.Bb
            return self.BZ
        self.Z = Z
        self.N = Z.shape[0]
        self.M = np.expand_dims(np.mean(Z, 0), 0)
        self.V = np.expand_dims(np.var(Z, 0), 0)
        self.NZ = (Z - self.M) / np.sqrt(self.V + self.eps)
        self.BZ = self.BW * self.NZ + self.Bb
        self.running_M = self.alpha * self.running_M + (1 - self.alpha) * self.M
        self.running_V = self.alpha * self.running_V + (1 - self.alpha) * self.V
        return self.BZ

    def backward(self, dLdBZ):
        self.dLdBW = np.sum(dLdBZ * self.NZ, 0)
        self.dLdBb = np.sum(dLdBZ, 0)
        dLdNZ = dLdBZ * self.BW
        inv = (self.V + self.eps) ** -0.5
        dLdV = -0.5 * np.sum(dLdNZ * (self.Z - self.M) * inv ** 3, 0, keepdims=True)
        dLdM = -np.sum(dLdNZ * inv, 0, keepdims=True) + dLdV * np.mean(-2 * (self.Z - self.M), 0, keepdims=True)
        return dLdNZ * inv + dLdV * 2 * (self.Z - self.M) / self.N + dLdM / self.N
