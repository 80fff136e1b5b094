"""hw2's Conv2d_stride1 and Conv2d (stride = stride-1 convolution, then Downsample2d), A (N, C, H, W).

W (out_channels, in_channels, K, K), b (out_channels,); backward stores dLdW and dLdb summed over the
batch (every course term) and returns dLdA. Conv2d pads A with `padding` zeros on each side first.
"""

import numpy as np

from reference.mytorch.nn.resampling import Downsample2d

__all__ = ["Conv2d_stride1", "Conv2d"]


class Conv2d_stride1:
    def __init__(self, in_channels, out_channels, kernel_size, weight_init_fn=None, bias_init_fn=None):
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        if weight_init_fn is None:
            self.W = np.random.normal(0, 1.0, (out_channels, in_channels, kernel_size, kernel_size))
        else:
            self.W = weight_init_fn(out_channels, in_channels, kernel_size, kernel_size)
        self.b = np.zeros(out_channels) if bias_init_fn is None else bias_init_fn(out_channels)
        self.dLdW = np.zeros(self.W.shape)
        self.dLdb = np.zeros(self.b.shape)

    def forward(self, A):
        self.A = A
        K = self.kernel_size
        N, _, H, W = A.shape
        Z = np.zeros((N, self.out_channels, H - K + 1, W - K + 1))
        for i in range(H - K + 1):
            for j in range(W - K + 1):
                # every filter against the (C, K, K) window at (i, j), for the whole batch at once
                Z[:, :, i, j] = np.tensordot(A[:, :, i:i + K, j:j + K], self.W, axes=([1, 2, 3], [1, 2, 3]))
        return Z + self.b.reshape(1, -1, 1, 1)

    def backward(self, dLdZ):
        K = self.kernel_size
        _, _, Ho, Wo = dLdZ.shape
        self.dLdb = dLdZ.sum(axis=(0, 2, 3))
        self.dLdW = np.zeros(self.W.shape)
        dLdA = np.zeros(self.A.shape)
        for i in range(Ho):
            for j in range(Wo):
                g = dLdZ[:, :, i, j]  # (N, out)
                self.dLdW += np.tensordot(g, self.A[:, :, i:i + K, j:j + K], axes=([0], [0]))
                dLdA[:, :, i:i + K, j:j + K] += np.tensordot(g, self.W, axes=([1], [0]))
        return dLdA


class Conv2d:
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding=0, weight_init_fn=None,
                 bias_init_fn=None):
        self.stride, self.pad = stride, padding
        self.conv2d_stride1 = Conv2d_stride1(in_channels, out_channels, kernel_size, weight_init_fn, bias_init_fn)
        self.downsample2d = Downsample2d(stride)

    def forward(self, A):
        p = self.pad
        A = np.pad(A, ((0, 0), (0, 0), (p, p), (p, p)))
        return self.downsample2d.forward(self.conv2d_stride1.forward(A))

    def backward(self, dLdZ):
        dLdA = self.conv2d_stride1.backward(self.downsample2d.backward(dLdZ))
        p = self.pad
        return dLdA[:, :, p:dLdA.shape[2] - p, p:dLdA.shape[3] - p]
