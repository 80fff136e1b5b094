# ruff: noqa
"""MyTorch hw2 resampling, written for bpcheck's tests. Bug (a real resampling.py): Downsample2d sizes its output
from the width alone, so a non-square input crashes or loses rows."""
import numpy as np


class Downsample2d:
    def __init__(self, downsampling_factor):
        self.k = downsampling_factor

    def forward(self, A):
        self.shape = A.shape
        side = (A.shape[3] + self.k - 1) // self.k
        Z = np.zeros((A.shape[0], A.shape[1], side, side))
        Z[:] = A[:, :, ::self.k, ::self.k][:, :, :side, :side]
        return Z

    def backward(self, dLdZ):
        dLdA = np.zeros(self.shape)
        dLdA[:, :, ::self.k, ::self.k] = dLdZ
        return dLdA
