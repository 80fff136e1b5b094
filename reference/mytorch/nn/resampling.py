"""hw2's resampling: Downsample1d/2d keep every k-th entry (of W, or of H and W); Upsample1d/2d put k - 1
zeros between entries. Each one's backward is the other's forward on dLdZ (the downsample's restores
the input width the stride dropped)."""

import numpy as np

__all__ = ["Downsample1d", "Upsample1d", "Downsample2d", "Upsample2d"]


class Downsample1d:
    def __init__(self, downsampling_factor):
        self.k = downsampling_factor

    def forward(self, A):
        self.W_in = A.shape[2]  # (W_in - 1) // k + 1 outputs: W_in itself cannot be recovered from them
        return A[:, :, ::self.k]

    def backward(self, dLdZ):
        N, C, _ = dLdZ.shape
        dLdA = np.zeros((N, C, self.W_in))
        dLdA[:, :, ::self.k] = dLdZ
        return dLdA


class Upsample1d:
    def __init__(self, upsampling_factor):
        self.k = upsampling_factor

    def forward(self, A):
        N, C, W = A.shape
        Z = np.zeros((N, C, self.k * (W - 1) + 1))
        Z[:, :, ::self.k] = A
        return Z

    def backward(self, dLdZ):
        return dLdZ[:, :, ::self.k]


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
