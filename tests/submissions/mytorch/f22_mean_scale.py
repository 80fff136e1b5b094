# expect: pass
# ruff: noqa
# Fall 2022 conventions: activations' backward() returns dA/dZ, the losses' backward has no 1/N, and
# Linear.backward divides dLdW and dLdb by the batch size.
import numpy as np


class Linear:
    def __init__(self, in_features, out_features, debug=False):
        self.W = np.zeros((out_features, in_features), dtype="f")
        self.b = np.zeros((out_features, 1), dtype="f")

    def forward(self, A):
        self.A = A
        self.N = A.shape[0]
        self.Ones = np.ones((self.N, 1), dtype="f")
        return self.A @ self.W.T + self.Ones @ self.b.T

    def backward(self, dLdZ):
        dLdA = dLdZ @ self.W
        self.dLdW = dLdZ.T @ self.A / self.N
        self.dLdb = dLdZ.T @ self.Ones / self.N
        return dLdA


class Sigmoid:
    def forward(self, Z):
        self.A = 1 / (1 + np.exp(-Z))
        return self.A

    def backward(self):
        return self.A - self.A ** 2


class ReLU:
    def forward(self, Z):
        self.A = np.maximum(Z, 0)
        return self.A

    def backward(self):
        return np.where(self.A > 0, 1.0, 0.0)


class MSELoss:
    def forward(self, A, Y):
        self.A, self.Y = A, Y
        N, C = A.shape
        return np.sum((A - Y) * (A - Y)) / (N * C)

    def backward(self):
        return self.A - self.Y
