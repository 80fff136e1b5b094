# expect: pass
# ruff: noqa
# hw1's GELU and Softmax (F23 on) beside the four classic activations, as a student writes them:
# GELU's derivative from scipy-free erf, Softmax's backward with a Jacobian per sample.
import math
import numpy as np


class Identity:

    def forward(self, Z):
        self.A = Z
        return self.A

    def backward(self, dLdA):
        return dLdA * np.ones(self.A.shape)


class ReLU:

    def forward(self, Z):
        self.A = np.maximum(0, Z)
        return self.A

    def backward(self, dLdA):
        return dLdA * np.where(self.A > 0, 1, 0)


class GELU:

    def forward(self, Z):
        self.Z = Z
        erf = np.vectorize(math.erf)
        self.A = 0.5 * Z * (1 + erf(Z / np.sqrt(2)))
        return self.A

    def backward(self, dLdA):
        erf = np.vectorize(math.erf)
        dAdZ = 0.5 * (1 + erf(self.Z / np.sqrt(2))) + self.Z / np.sqrt(2 * np.pi) * np.exp(-self.Z ** 2 / 2)
        return dLdA * dAdZ


class Softmax:

    def forward(self, Z):
        e = np.exp(Z - np.max(Z, axis=1, keepdims=True))
        self.A = e / np.sum(e, axis=1, keepdims=True)
        return self.A

    def backward(self, dLdA):
        N, C = dLdA.shape
        dLdZ = np.zeros((N, C))
        for i in range(N):
            J = np.zeros((C, C))
            for m in range(C):
                for n in range(C):
                    if m == n:
                        J[m, n] = self.A[i, m] * (1 - self.A[i, m])
                    else:
                        J[m, n] = -self.A[i, m] * self.A[i, n]
            dLdZ[i, :] = dLdA[i, :] @ J
        return dLdZ
