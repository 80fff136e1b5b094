"""Activations: forward(Z) -> A (kept for backward); backward(dLdA) -> dLdZ = dLdA * dA/dZ."""

import math

import numpy as np

__all__ = ["Identity", "Sigmoid", "Tanh", "ReLU", "GELU", "Softmax"]


class Identity:
    def forward(self, Z):
        self.A = Z
        return self.A

    def backward(self, dLdA):
        dAdZ = np.ones(self.A.shape)
        return dLdA * dAdZ


class Sigmoid:
    def forward(self, Z):
        self.A = 1 / (1 + np.exp(-Z))
        return self.A

    def backward(self, dLdA):
        dAdZ = self.A - self.A * self.A
        return dLdA * dAdZ


class Tanh:
    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dLdA):
        dAdZ = 1 - self.A * self.A
        return dLdA * dAdZ


class ReLU:
    def forward(self, Z):
        self.A = np.maximum(Z, 0)
        return self.A

    def backward(self, dLdA):
        dAdZ = np.where(self.A > 0, 1.0, 0.0)
        return dLdA * dAdZ


class GELU:
    """A = Z Phi(Z), Phi the standard normal CDF (the exact GELU, not the tanh approximation)."""

    def forward(self, Z):
        self.Z = Z
        self.A = 0.5 * Z * (1 + _erf(Z / math.sqrt(2)))
        return self.A

    def backward(self, dLdA):
        Z = self.Z
        dAdZ = 0.5 * (1 + _erf(Z / math.sqrt(2))) + Z * np.exp(-Z * Z / 2) / math.sqrt(2 * math.pi)
        return dLdA * dAdZ


class Softmax:
    """Row-wise softmax; backward multiplies each row by its Jacobian diag(a) - a a^T."""

    def forward(self, Z):
        e = np.exp(Z - Z.max(axis=1, keepdims=True))
        self.A = e / e.sum(axis=1, keepdims=True)
        return self.A

    def backward(self, dLdA):
        N, C = dLdA.shape
        dLdZ = np.zeros_like(dLdA)
        for i in range(N):
            a = self.A[i]
            J = np.diag(a) - np.outer(a, a)
            dLdZ[i] = dLdA[i] @ J
        return dLdZ


_erf = np.vectorize(math.erf, otypes=[float])  # numpy has no erf
