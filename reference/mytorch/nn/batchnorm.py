"""BatchNorm1d: per-feature batch normalisation of Z (N, C), as hw1's writeup defines it.

Train mode normalises with the batch mean M and the biased variance V (np.var) and updates the
running statistics with alpha on the running side; eval mode reads the running statistics.
BW, Bb, running_M, running_V are (1, C); eps 1e-8 inside the sqrt. backward stores dLdBW and dLdBb
(summed over the batch: the exact chain rule of whatever dLdBZ carries) and returns dLdZ.
"""

import numpy as np

__all__ = ["BatchNorm1d"]


class BatchNorm1d:
    def __init__(self, num_features, alpha=0.9):
        self.alpha = alpha
        self.eps = 1e-8
        self.BW = np.ones((1, num_features))
        self.Bb = np.zeros((1, num_features))
        self.dLdBW = np.zeros((1, num_features))
        self.dLdBb = np.zeros((1, num_features))
        self.running_M = np.zeros((1, num_features))
        self.running_V = np.ones((1, num_features))

    def forward(self, Z, eval=False):
        if eval:
            NZ = (Z - self.running_M) / np.sqrt(self.running_V + self.eps)
            return self.BW * NZ + self.Bb
        self.Z = Z
        self.N = Z.shape[0]
        self.M = np.mean(Z, axis=0, keepdims=True)
        self.V = np.var(Z, axis=0, keepdims=True)  # biased, as the writeup's 1/N
        self.NZ = (Z - self.M) / np.sqrt(self.V + self.eps)
        self.BZ = self.BW * self.NZ + self.Bb
        self.running_M = self.alpha * self.running_M + (1 - self.alpha) * self.M
        self.running_V = self.alpha * self.running_V + (1 - self.alpha) * self.V
        return self.BZ

    def backward(self, dLdBZ):
        self.dLdBW = np.sum(dLdBZ * self.NZ, axis=0, keepdims=True)
        self.dLdBb = np.sum(dLdBZ, axis=0, keepdims=True)
        dLdNZ = dLdBZ * self.BW
        inv_std = 1 / np.sqrt(self.V + self.eps)
        dLdV = -0.5 * np.sum(dLdNZ * (self.Z - self.M) * inv_std**3, axis=0, keepdims=True)
        # the mean path: directly through NZ, and through V (whose derivative in M sums to 0 for the batch mean)
        dLdM = -np.sum(dLdNZ * inv_std, axis=0, keepdims=True) \
            - 2 / self.N * dLdV * np.sum(self.Z - self.M, axis=0, keepdims=True)
        dLdZ = dLdNZ * inv_std + dLdV * (2 / self.N) * (self.Z - self.M) + dLdM / self.N
        return dLdZ
