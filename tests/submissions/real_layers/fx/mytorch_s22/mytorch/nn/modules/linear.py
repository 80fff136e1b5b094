# expect: pass
# ruff: noqa
# A learner's MyTorch hw1 Linear (S22-F23 handout: dLdW and dLdb divided by the batch size N; the losses'
# backward leaves the 1/N out), written for bpcheck's tests. Correct for its year: a linear.py on its own.
import numpy as np


class Linear:

    def __init__(self, in_features, out_features):
        self.W = np.zeros((out_features, in_features), dtype="f")
        self.b = np.zeros((out_features, 1), dtype="f")

    def forward(self, A):
        self.A = A
        self.N = A.shape[0]
        return A @ self.W.T + np.ones((self.N, 1)) @ self.b.T

    def backward(self, dLdZ):
        dZdA = self.W.T
        dLdA = dLdZ @ dZdA.T
        self.dLdW = (dLdZ.T @ self.A) / self.N
        self.dLdb = (dLdZ.T @ np.ones((self.N, 1))) / self.N
        return dLdA
