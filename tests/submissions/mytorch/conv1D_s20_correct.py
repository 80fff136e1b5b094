# expect: pass
# ruff: noqa
# hw2's Conv1D of the S20-F21 handout as a student writes it: Conv1D(in_channel, out_channel, kernel_size,
# stride, weight_init_fn, bias_init_fn), the stride inside the loop (no Downsample1d, no padding),
# forward(x) / backward(delta), gradients in dW and db summed over the batch.
import numpy as np


class Conv1D():
    def __init__(self, in_channel, out_channel, kernel_size, stride, weight_init_fn=None, bias_init_fn=None):
        self.in_channel = in_channel
        self.out_channel = out_channel
        self.kernel_size = kernel_size
        self.stride = stride
        if weight_init_fn is None:
            self.W = np.random.normal(0, 1.0, (out_channel, in_channel, kernel_size))
        else:
            self.W = weight_init_fn(out_channel, in_channel, kernel_size)
        if bias_init_fn is None:
            self.b = np.zeros(out_channel)
        else:
            self.b = bias_init_fn(out_channel)
        self.dW = np.zeros(self.W.shape)
        self.db = np.zeros(self.b.shape)

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        self.x = x
        batch_size, _, input_size = x.shape
        output_size = (input_size - self.kernel_size) // self.stride + 1
        out = np.zeros((batch_size, self.out_channel, output_size))
        for i in range(output_size):
            start = i * self.stride
            segment = x[:, :, start:start + self.kernel_size]
            out[:, :, i] = np.tensordot(segment, self.W, axes=([1, 2], [1, 2])) + self.b
        return out

    def backward(self, delta):
        dx = np.zeros(self.x.shape)
        self.dW = np.zeros(self.W.shape)
        for i in range(delta.shape[2]):
            start = i * self.stride
            segment = self.x[:, :, start:start + self.kernel_size]
            self.dW += np.tensordot(delta[:, :, i], segment, axes=([0], [0]))
            dx[:, :, start:start + self.kernel_size] += np.tensordot(delta[:, :, i], self.W, axes=([1], [0]))
        self.db = np.sum(delta, axis=(0, 2))
        return dx
