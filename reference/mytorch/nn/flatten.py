"""Flatten (hw2): A (N, C, W) -> Z (N, C * W); backward restores the input's shape."""

import numpy as np

__all__ = ["Flatten"]


class Flatten:
    def forward(self, A):
        self.shape = A.shape
        return A.reshape(A.shape[0], -1)

    def backward(self, dLdZ):
        return np.reshape(dLdZ, self.shape)
