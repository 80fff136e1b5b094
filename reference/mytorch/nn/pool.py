"""hw2's pooling: MaxPool2d_stride1 / MeanPool2d_stride1 (kernel), and MaxPool2d / MeanPool2d (kernel,
stride) = the stride-1 pool followed by Downsample2d. A (N, C, H, W)."""

import numpy as np

from reference.mytorch.nn.resampling import Downsample2d

__all__ = ["MaxPool2d_stride1", "MeanPool2d_stride1", "MaxPool2d", "MeanPool2d"]


class MaxPool2d_stride1:
    def __init__(self, kernel):
        self.kernel = kernel

    def forward(self, A):
        self.A = A
        K = self.kernel
        N, C, H, W = A.shape
        Z = np.zeros((N, C, H - K + 1, W - K + 1))
        for i in range(H - K + 1):
            for j in range(W - K + 1):
                Z[:, :, i, j] = A[:, :, i:i + K, j:j + K].max(axis=(2, 3))
        return Z

    def backward(self, dLdZ):
        K = self.kernel
        N, C, Ho, Wo = dLdZ.shape
        dLdA = np.zeros(self.A.shape)
        for i in range(Ho):
            for j in range(Wo):
                win = self.A[:, :, i:i + K, j:j + K].reshape(N, C, -1)
                first = win.argmax(axis=2)  # the gradient goes to the first maximum of the window
                r, c = np.divmod(first, K)
                n, ch = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
                np.add.at(dLdA, (n, ch, i + r, j + c), dLdZ[:, :, i, j])
        return dLdA


class MeanPool2d_stride1:
    def __init__(self, kernel):
        self.kernel = kernel

    def forward(self, A):
        self.shape = A.shape
        K = self.kernel
        N, C, H, W = A.shape
        Z = np.zeros((N, C, H - K + 1, W - K + 1))
        for i in range(H - K + 1):
            for j in range(W - K + 1):
                Z[:, :, i, j] = A[:, :, i:i + K, j:j + K].mean(axis=(2, 3))
        return Z

    def backward(self, dLdZ):
        K = self.kernel
        dLdA = np.zeros(self.shape)
        for i in range(dLdZ.shape[2]):
            for j in range(dLdZ.shape[3]):
                dLdA[:, :, i:i + K, j:j + K] += dLdZ[:, :, i:i + 1, j:j + 1] / (K * K)
        return dLdA


class MaxPool2d:
    def __init__(self, kernel, stride):
        self.maxpool2d_stride1 = MaxPool2d_stride1(kernel)
        self.downsample2d = Downsample2d(stride)

    def forward(self, A):
        return self.downsample2d.forward(self.maxpool2d_stride1.forward(A))

    def backward(self, dLdZ):
        return self.maxpool2d_stride1.backward(self.downsample2d.backward(dLdZ))


class MeanPool2d:
    def __init__(self, kernel, stride):
        self.meanpool2d_stride1 = MeanPool2d_stride1(kernel)
        self.downsample2d = Downsample2d(stride)

    def forward(self, A):
        return self.downsample2d.forward(self.meanpool2d_stride1.forward(A))

    def backward(self, dLdZ):
        return self.meanpool2d_stride1.backward(self.downsample2d.backward(dLdZ))
