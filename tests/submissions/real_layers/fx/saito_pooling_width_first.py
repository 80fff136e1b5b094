# expect: pass
# ruff: noqa
"""A max-pooling layer in the style of chapter 7, written for bpcheck's tests. Its constructor takes the
window WIDTH before its height (Pooling(pool_w, pool_h, stride)), the reverse of the book's order, and uses
them consistently, as a real common/layers.py does. Correct in its own order: bpcheck must call it that way
(a non-square window tells the two orders apart).
"""
import numpy as np


class Pooling:
    def __init__(self, pool_w, pool_h, stride=1, pad=0):
        self.pool_w, self.pool_h = pool_w, pool_h
        self.stride, self.pad = stride, pad

    def forward(self, x):
        N, C, H, W = x.shape
        ph, pw, s = self.pool_h, self.pool_w, self.stride
        oh, ow = (H - ph) // s + 1, (W - pw) // s + 1
        out = np.empty((N, C, oh, ow))
        self.where = np.zeros((N, C, oh, ow, 2), dtype=int)
        for i in range(oh):
            for j in range(ow):
                win = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(N, C, -1)
                k = win.argmax(axis=2)
                out[:, :, i, j] = win.max(axis=2)
                self.where[:, :, i, j, 0] = i * s + k // pw
                self.where[:, :, i, j, 1] = j * s + k % pw
        self.x_shape = x.shape
        return out

    def backward(self, dout):
        dx = np.zeros(self.x_shape)
        N, C, oh, ow = dout.shape
        n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
        for i in range(oh):
            for j in range(ow):
                np.add.at(dx, (n, c, self.where[:, :, i, j, 0], self.where[:, :, i, j, 1]), dout[:, :, i, j])
        return dx
