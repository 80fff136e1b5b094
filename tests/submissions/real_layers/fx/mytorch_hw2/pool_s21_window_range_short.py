# expect: fail
# Pattern (real S21 hw2 pool.py): MaxPoolLayer / MeanPoolLayer(kernel, stride) size the output right but
# loop over range(0, width - kernel, stride): the last row and column of windows are never computed.
import numpy as np


class MaxPoolLayer:
    def __init__(self, kernel, stride):
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        self.x = x
        k, s = self.kernel, self.stride
        n, c, h, w = x.shape
        out = np.zeros((n, c, (h - k) // s + 1, (w - k) // s + 1))
        for a, i in enumerate(range(0, h - k, s)):
            for b, j in enumerate(range(0, w - k, s)):
                out[:, :, a, b] = x[:, :, i:i + k, j:j + k].max(axis=(2, 3))
        return out

    def backward(self, delta):
        k, s = self.kernel, self.stride
        dx = np.zeros(self.x.shape)
        for a in range(delta.shape[2]):
            for b in range(delta.shape[3]):
                win = self.x[:, :, a * s:a * s + k, b * s:b * s + k]
                mask = win == win.max(axis=(2, 3), keepdims=True)
                dx[:, :, a * s:a * s + k, b * s:b * s + k] += mask * delta[:, :, a:a + 1, b:b + 1]
        return dx


class MeanPoolLayer:
    def __init__(self, kernel, stride):
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        self.shape = x.shape
        k, s = self.kernel, self.stride
        n, c, h, w = x.shape
        out = np.zeros((n, c, (h - k) // s + 1, (w - k) // s + 1))
        for a, i in enumerate(range(0, h - k, s)):
            for b, j in enumerate(range(0, w - k, s)):
                out[:, :, a, b] = x[:, :, i:i + k, j:j + k].mean(axis=(2, 3))
        return out

    def backward(self, delta):
        k, s = self.kernel, self.stride
        dx = np.zeros(self.shape)
        for a in range(delta.shape[2]):
            for b in range(delta.shape[3]):
                dx[:, :, a * s:a * s + k, b * s:b * s + k] += delta[:, :, a:a + 1, b:b + 1] / (k * k)
        return dx
