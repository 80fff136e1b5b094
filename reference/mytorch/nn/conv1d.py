"""hw2's Conv1d_stride1 and Conv1d (stride = stride-1 convolution, then Downsample1d), A (N, C, W).

W (out_channels, in_channels, K), b (out_channels,); backward stores dLdW and dLdb summed over the batch
and returns dLdA. Conv1d pads A with `padding` zeros on each side first (F23 on; 0 before).
"""

import numpy as np

from reference.mytorch.nn.resampling import Downsample1d

__all__ = ["Conv1d_stride1", "Conv1d"]


class Conv1d_stride1:
    def __init__(self, in_channels, out_channels, kernel_size, weight_init_fn=None, bias_init_fn=None):
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        if weight_init_fn is None:
            self.W = np.random.normal(0, 1.0, (out_channels, in_channels, kernel_size))
        else:
            self.W = weight_init_fn(out_channels, in_channels, kernel_size)
        self.b = np.zeros(out_channels) if bias_init_fn is None else bias_init_fn(out_channels)
        self.dLdW = np.zeros(self.W.shape)
        self.dLdb = np.zeros(self.b.shape)

    def forward(self, A):
        self.A = A
        K = self.kernel_size
        N, _, W_in = A.shape
        Z = np.zeros((N, self.out_channels, W_in - K + 1))
        for i in range(W_in - K + 1):
            # every filter against the (C, K) window at i, for the whole batch at once
            Z[:, :, i] = np.tensordot(A[:, :, i:i + K], self.W, axes=([1, 2], [1, 2]))
        return Z + self.b.reshape(1, -1, 1)

    def backward(self, dLdZ):
        K = self.kernel_size
        self.dLdb = dLdZ.sum(axis=(0, 2))
        self.dLdW = np.zeros(self.W.shape)
        dLdA = np.zeros(self.A.shape)
        for i in range(dLdZ.shape[2]):
            g = dLdZ[:, :, i]  # (N, out)
            self.dLdW += np.tensordot(g, self.A[:, :, i:i + K], axes=([0], [0]))
            dLdA[:, :, i:i + K] += np.tensordot(g, self.W, axes=([1], [0]))
        return dLdA


class Conv1d:
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding=0, weight_init_fn=None,
                 bias_init_fn=None):
        self.stride, self.pad = stride, padding
        self.conv1d_stride1 = Conv1d_stride1(in_channels, out_channels, kernel_size, weight_init_fn, bias_init_fn)
        self.downsample1d = Downsample1d(stride)

    def forward(self, A):
        p = self.pad
        A = np.pad(A, ((0, 0), (0, 0), (p, p)))
        return self.downsample1d.forward(self.conv1d_stride1.forward(A))

    def backward(self, dLdZ):
        dLdA = self.conv1d_stride1.backward(self.downsample1d.backward(dLdZ))
        p = self.pad
        return dLdA[:, :, p:dLdA.shape[2] - p]
