# expect: pass
# ruff: noqa
# hw2's Conv1d.py as a student writes it (F23 handout: Conv1d_stride1, then Conv1d = pad, stride-1
# convolution, downsample), backward by the "convolve dLdZ with the flipped kernel" recipe the writeup teaches.
import numpy as np


class Downsample1d():

    def __init__(self, downsampling_factor):
        self.downsampling_factor = downsampling_factor

    def forward(self, A):
        self.input_width = A.shape[2]
        return A[:, :, ::self.downsampling_factor]

    def backward(self, dLdZ):
        dLdA = np.zeros((dLdZ.shape[0], dLdZ.shape[1], self.input_width))
        dLdA[:, :, ::self.downsampling_factor] = dLdZ
        return dLdA


class Conv1d_stride1():

    def __init__(self, in_channels, out_channels, kernel_size, weight_init_fn=None, bias_init_fn=None):
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        if weight_init_fn is None:
            self.W = np.random.normal(0, 1.0, (out_channels, in_channels, kernel_size))
        else:
            self.W = weight_init_fn(out_channels, in_channels, kernel_size)
        if bias_init_fn is None:
            self.b = np.zeros(out_channels)
        else:
            self.b = bias_init_fn(out_channels)
        self.dLdW = np.zeros(self.W.shape)
        self.dLdb = np.zeros(self.b.shape)

    def forward(self, A):
        self.A = A
        output_size = A.shape[2] - self.kernel_size + 1
        Z = np.zeros((A.shape[0], self.out_channels, output_size))
        for i in range(output_size):
            Z[:, :, i] = np.tensordot(A[:, :, i:i + self.kernel_size], self.W, axes=([1, 2], [1, 2])) + self.b
        return Z

    def backward(self, dLdZ):
        K = self.kernel_size
        for k in range(K):
            self.dLdW[:, :, k] = np.tensordot(dLdZ, self.A[:, :, k:k + dLdZ.shape[2]], axes=([0, 2], [0, 2]))
        self.dLdb = np.sum(dLdZ, axis=(0, 2))
        padded = np.pad(dLdZ, ((0, 0), (0, 0), (K - 1, K - 1)))
        flipped = self.W[:, :, ::-1]
        dLdA = np.zeros(self.A.shape)
        for i in range(self.A.shape[2]):
            dLdA[:, :, i] = np.tensordot(padded[:, :, i:i + K], flipped, axes=([1, 2], [0, 2]))
        return dLdA


class Conv1d():

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding=0, weight_init_fn=None,
                 bias_init_fn=None):
        self.stride = stride
        self.pad = padding
        self.conv1d_stride1 = Conv1d_stride1(in_channels, out_channels, kernel_size, weight_init_fn, bias_init_fn)
        self.downsample1d = Downsample1d(stride)

    def forward(self, A):
        A = np.pad(A, ((0, 0), (0, 0), (self.pad, self.pad)))
        Z = self.conv1d_stride1.forward(A)
        return self.downsample1d.forward(Z)

    def backward(self, dLdZ):
        dLdZ = self.downsample1d.backward(dLdZ)
        dLdA = self.conv1d_stride1.backward(dLdZ)
        if self.pad > 0:
            dLdA = dLdA[:, :, self.pad:-self.pad]
        return dLdA
