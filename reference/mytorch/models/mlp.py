"""MLP0, MLP1, MLP4: lists of layers; forward runs them in order, backward in reverse."""

from reference.mytorch.nn.activation import ReLU
from reference.mytorch.nn.linear import Linear

__all__ = ["MLP0", "MLP1", "MLP4"]


class _MLP:
    def forward(self, A):
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def backward(self, dLdA):
        for layer in reversed(self.layers):
            dLdA = layer.backward(dLdA)
        return dLdA


class MLP0(_MLP):
    def __init__(self, debug=False):
        self.layers = [Linear(2, 3), ReLU()]
        self.debug = debug


class MLP1(_MLP):
    def __init__(self, debug=False):
        self.layers = [Linear(2, 3), ReLU(), Linear(3, 2), ReLU()]
        self.debug = debug


class MLP4(_MLP):
    def __init__(self, debug=False):
        self.layers = [Linear(2, 4), ReLU(), Linear(4, 8), ReLU(), Linear(8, 8), ReLU(), Linear(8, 4), ReLU(),
                       Linear(4, 2), ReLU()]
        self.debug = debug
