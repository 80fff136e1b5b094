"""hw2's Downsample2d (keep every k-th row and column) and Upsample2d (k - 1 zeros between entries)."""

import numpy as np

__all__ = ["Downsample2d", "Upsample2d"]


class Downsample2d:
    def __init__(self, downsampling_factor):
        self.k = downsampling_factor

    def forward(self, A):
        self.shape = A.shape  # backward must restore the width the stride dropped
        return A[:, :, ::self.k, ::self.k]

    def backward(self, dLdZ):
        dLdA = np.zeros(self.shape)
        dLdA[:, :, ::self.k, ::self.k] = dLdZ
        return dLdA


class Upsample2d:
    def __init__(self, upsampling_factor):
        self.k = upsampling_factor

    def forward(self, A):
        N, C, H, W = A.shape
        Z = np.zeros((N, C, self.k * (H - 1) + 1, self.k * (W - 1) + 1))
        Z[:, :, ::self.k, ::self.k] = A
        return Z

    def backward(self, dLdZ):
        return dLdZ[:, :, ::self.k, ::self.k]
