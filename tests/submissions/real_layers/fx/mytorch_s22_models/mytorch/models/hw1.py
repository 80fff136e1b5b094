# expect: pass
# Pattern (real S22 hw1p1 models/hw1.py files): the Linears live in self.layers and their ReLUs in self.f;
# backward returns NotImplemented (the handout's line) and keeps dLdA0 only with debug=True; the package's
# __init__ imports this module, which itself imports the package: it must load as `import mytorch` does.
import numpy as np

from mytorch.nn.modules.activation import ReLU
from mytorch.nn.modules.linear import Linear


class _Chain:
    def __init__(self, sizes, debug=False):
        self.layers = [Linear(a, b) for a, b in zip(sizes, sizes[1:])]
        self.f = [ReLU() for _ in self.layers]
        self.debug = debug

    def forward(self, A0):
        A = A0
        for lin, act in zip(self.layers, self.f):
            A = act.forward(lin.forward(A))
        return A

    def backward(self, dLdA):
        for lin, act in zip(reversed(self.layers), reversed(self.f)):
            dLdA = lin.backward(dLdA * act.backward())
        if self.debug:
            self.dLdA0 = dLdA
        return NotImplemented


class MLP0(_Chain):
    def __init__(self, debug=False):
        super().__init__((2, 3), debug)


class MLP1(_Chain):
    def __init__(self, debug=False):
        super().__init__((2, 3, 2), debug)


class MLP4(_Chain):
    def __init__(self, debug=False):
        super().__init__((2, 4, 8, 8, 4, 2), debug)
