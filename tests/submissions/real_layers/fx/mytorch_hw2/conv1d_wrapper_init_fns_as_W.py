# expect: pass
# Pattern (real hw2p1 Conv1d.py): the Conv1d wrapper keeps weight_init_fn under self.W and builds its
# Conv1d_stride1 without the init functions. The course's own code sets conv1d_stride1.W, so the layer is
# right; the checker must put the weights where an array W lives, not on the wrapper's function.
import numpy as np


class Downsample1d:
    def __init__(self, downsampling_factor):
        self.factor = downsampling_factor

    def forward(self, A):
        self.width = A.shape[2]
        return A[:, :, ::self.factor]

    def backward(self, dLdZ):
        out = np.zeros((dLdZ.shape[0], dLdZ.shape[1], self.width))
        out[:, :, ::self.factor] = dLdZ
        return out


class Conv1d_stride1:
    def __init__(self, in_channels, out_channels, kernel_size, weight_init_fn=None, bias_init_fn=None):
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        if weight_init_fn is None:
            self.W = np.random.normal(0, 1.0, (out_channels, in_channels, kernel_size))
        else:
            self.W = weight_init_fn(out_channels, in_channels, kernel_size)
        self.b = np.zeros(out_channels) if bias_init_fn is None else bias_init_fn(out_channels)

    def forward(self, A):
        self.A = A
        n_out = A.shape[2] - self.kernel_size + 1
        Z = np.empty((A.shape[0], self.out_channels, n_out))
        for t in range(n_out):
            Z[:, :, t] = np.einsum("nck,ock->no", A[:, :, t:t + self.kernel_size], self.W) + self.b
        return Z

    def backward(self, dLdZ):
        K = self.kernel_size
        self.dLdb = dLdZ.sum(axis=(0, 2))
        self.dLdW = np.zeros_like(self.W)
        dLdA = np.zeros_like(self.A)
        for t in range(dLdZ.shape[2]):
            self.dLdW += np.einsum("no,nck->ock", dLdZ[:, :, t], self.A[:, :, t:t + K])
            dLdA[:, :, t:t + K] += np.einsum("no,ock->nck", dLdZ[:, :, t], self.W)
        return dLdA


class Conv1d:
    def __init__(self, in_channels, out_channels, kernel_size, stride, weight_init_fn=None, bias_init_fn=None):
        self.stride = stride
        self.W = weight_init_fn  # the init functions kept, then never passed on
        self.b = bias_init_fn
        self.conv1d_stride1 = Conv1d_stride1(in_channels, out_channels, kernel_size)
        self.downsample1d = Downsample1d(stride)

    def forward(self, A):
        return self.downsample1d.forward(self.conv1d_stride1.forward(A))

    def backward(self, dLdZ):
        return self.conv1d_stride1.backward(self.downsample1d.backward(dLdZ))
