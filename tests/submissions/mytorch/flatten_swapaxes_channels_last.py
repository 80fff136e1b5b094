# expect: fail flatten_axis_order
# ruff: noqa
# hw2's Flatten written by someone used to channels-last images: swap C and W, then reshape. Every number of
# the output is there, in (W, C) order instead of the course's (C, W); backward undoes the same swap.
import numpy as np


class Flatten():

    def forward(self, A):
        self.N, self.C, self.W = A.shape
        A_t = np.swapaxes(A, 1, 2)  # (N, W, C)
        Z = A_t.reshape(self.N, self.W * self.C)
        return Z

    def backward(self, dLdZ):
        dLdA_t = dLdZ.reshape(self.N, self.W, self.C)
        dLdA = np.swapaxes(dLdA_t, 1, 2)
        return dLdA
