# expect: pass
# ruff: noqa
# hw2's Flatten as a student writes it: (N, C, W) -> (N, C * W), backward reshapes to A's shape.
import numpy as np


class Flatten():

    def forward(self, A):
        self.A = A
        Z = A.reshape(A.shape[0], A.shape[1] * A.shape[2])
        return Z

    def backward(self, dLdZ):
        dLdA = dLdZ.reshape(self.A.shape)
        return dLdA
