# expect: fail
# Pattern (real S21 hw2 conv.py): Conv2D(in_channel, out_channel, kernel_size, stride) whose forward sums the
# window against W and never adds b; the backward (dx, dW, db) is right.
import numpy as np


class Conv2D:
    def __init__(self, in_channel, out_channel, kernel_size, stride, weight_init_fn=None, bias_init_fn=None):
        self.out_channel, self.kernel_size, self.stride = out_channel, kernel_size, stride
        shape = (out_channel, in_channel, kernel_size, kernel_size)
        self.W = np.random.normal(0, 1.0, shape) if weight_init_fn is None else weight_init_fn(*shape)
        self.b = np.zeros(out_channel) if bias_init_fn is None else bias_init_fn(out_channel)

    def forward(self, x):
        self.x = x
        k, s = self.kernel_size, self.stride
        ho, wo = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
        out = np.zeros((x.shape[0], self.out_channel, ho, wo))
        for i in range(ho):
            for j in range(wo):
                out[:, :, i, j] = np.tensordot(x[:, :, i * s:i * s + k, j * s:j * s + k], self.W,
                                               axes=([1, 2, 3], [1, 2, 3]))
        return out

    def backward(self, delta):
        k, s = self.kernel_size, self.stride
        self.db = delta.sum(axis=(0, 2, 3))
        self.dW = np.zeros_like(self.W)
        dx = np.zeros_like(self.x)
        for i in range(delta.shape[2]):
            for j in range(delta.shape[3]):
                win = self.x[:, :, i * s:i * s + k, j * s:j * s + k]
                self.dW += np.tensordot(delta[:, :, i, j], win, axes=([0], [0]))
                dx[:, :, i * s:i * s + k, j * s:j * s + k] += np.tensordot(delta[:, :, i, j], self.W, axes=([1], [0]))
        return dx
