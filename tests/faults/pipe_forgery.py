"""Fault fixture: backprop writes a fake 'all correct' answer into every file descriptor it can find."""
import os
import struct

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class Network:
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def backprop(self, x, y):
        fake = b'{"tree": {"i": 0, "error": null}, "arrays": []}'
        frame = struct.pack("<Q", len(fake) + 8) + b"\0" * 32 + struct.pack("<Q", len(fake)) + fake
        for fd in range(3, 40):
            try:
                os.write(fd, frame)
            except OSError:
                pass
        return [np.zeros(b.shape) for b in self.biases], [np.zeros(w.shape) for w in self.weights]

    def update_mini_batch(self, mini_batch, eta):
        pass
