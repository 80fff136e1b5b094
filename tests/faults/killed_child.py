"""Fault fixture: backprop kills its own interpreter with SIGKILL (as the kernel's OOM killer would)."""
import signal

import numpy as np


class Network:
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def backprop(self, x, y):
        signal.raise_signal(signal.SIGKILL)

    def update_mini_batch(self, mini_batch, eta):
        pass
