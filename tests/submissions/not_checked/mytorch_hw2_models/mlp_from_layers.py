# expect: error (not checked: the layers it chains come from a module that is not here)
# A reference MLP in the shape MyTorch's hw2 handout ships as models/mlp.py, written for bpcheck's tests:
# it chains Linear and ReLU taken from `layers`, a module no handout ships, so what it is built from (and
# which year's Linear API) cannot be told.
import numpy as np
from layers import *


class MLP:
    def __init__(self, sizes):
        self.layers = []
        for n_in, n_out in zip(sizes, sizes[1:]):
            self.layers += [Linear(n_in, n_out), ReLU()]
        self.layers.pop()

    def init_weights(self, weights):
        for k, w in enumerate(weights):
            self.layers[2 * k].W = w.T

    def forward(self, A):
        for layer in self.layers:
            A = layer(A)
        return A

    def backward(self, dLdZ):
        for layer in reversed(self.layers):
            dLdZ = layer.backward(dLdZ)
        return dLdZ
