# expect: fail activation_backward_skipped
# ruff: noqa
# hw1p1's Linear, ReLU and MLP4 (Spring 2024 layout) as a student writes them. Every layer is right; MLP4's
# backward loop starts at len(self.layers) - 2, one below the last ReLU, so that ReLU's backward never runs.
import numpy as np


class Linear:
    def __init__(self, in_features, out_features, debug=False):
        self.W = np.zeros((out_features, in_features))
        self.b = np.zeros((out_features, 1))
        self.debug = debug

    def forward(self, A):
        self.A = A
        self.N = A.shape[0]
        self.Ones = np.ones((self.N, 1))
        return self.A @ self.W.T + self.Ones @ self.b.T

    def backward(self, dLdZ):
        dLdA = dLdZ @ self.W
        self.dLdW = dLdZ.T @ self.A
        self.dLdb = dLdZ.T @ self.Ones
        return dLdA


class ReLU:
    def forward(self, Z):
        self.A = np.maximum(0, Z)
        return self.A

    def backward(self, dLdA):
        dAdZ = np.where(self.A > 0, 1, 0)
        return dLdA * dAdZ


class MLP4:
    def __init__(self, debug=False):
        sizes = [2, 4, 8, 8, 4, 2]
        self.layers = []
        for i in range(len(sizes) - 1):
            self.layers.append(Linear(sizes[i], sizes[i + 1]))
            self.layers.append(ReLU())
        self.debug = debug

    def forward(self, A):
        L = len(self.layers)
        for i in range(L):
            A = self.layers[i].forward(A)
        return A

    def backward(self, dLdA):
        L = len(self.layers)
        for i in range(L - 2, -1, -1):  # walk back from the output
            dLdA = self.layers[i].backward(dLdA)
        return dLdA
