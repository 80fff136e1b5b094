# expect: fail
# Pattern (real F22 hw2 resampling.py): Upsample2d / Downsample2d size the output from the width alone, so
# only square images work; the handout's A (N, C, H_in, W_in) lets H and W differ. Written for bpcheck.
import numpy as np


class Upsample2d:
    def __init__(self, upsampling_factor):
        self.k = upsampling_factor

    def forward(self, A):
        n, c, _, w = A.shape
        side = self.k * (w - 1) + 1
        Z = np.zeros((n, c, side, side))
        Z[:, :, ::self.k, ::self.k] = A
        return Z

    def backward(self, dLdZ):
        return dLdZ[:, :, ::self.k, ::self.k]


class Downsample2d:
    def __init__(self, downsampling_factor):
        self.k = downsampling_factor

    def forward(self, A):
        self.shape = A.shape
        n, c, _, w = A.shape
        side = (w - 1) // self.k + 1
        return A[:, :, ::self.k, ::self.k][:, :, :side, :side]

    def backward(self, dLdZ):
        dLdA = np.zeros(self.shape)
        dLdA[:, :, ::self.k, ::self.k][:, :, :dLdZ.shape[2], :dLdZ.shape[3]] = dLdZ
        return dLdA
