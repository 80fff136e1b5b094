# expect: pass
# ruff: noqa
# A learner's MyTorch hw1 Linear (F24-S25 handout: dLdW = dLdZ.T @ A, no 1/N; the loss divides), written for bpcheck's tests.
# Correct: a file with only this layer must be checked on its own, not reported as "no entry point".
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
        Z = self.A @ self.W.T + self.Ones @ self.b.T
        return Z

    def backward(self, dLdZ):
        dLdA = dLdZ @ self.W
        self.dLdW = dLdZ.T @ self.A
        self.dLdb = dLdZ.T @ self.Ones
        if self.debug:
            self.dLdA = dLdA
        return dLdA
