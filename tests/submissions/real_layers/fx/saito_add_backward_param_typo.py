# expect: fail (AddLayer.{0,80}NameError|NameError.{0,80}dout)
# ruff: noqa
"""Chapter 5's multiplication and addition nodes, written for bpcheck's tests.

Bug (seen in a real layer_naive.py): AddLayer.backward spells its parameter one way and reads it another,
so every call raises NameError; nothing at module level defines the other name.
"""


class MulLayer:
    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x = x
        self.y = y
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x


class AddLayer:
    def forward(self, x, y):
        return x + y

    def backward(self, grad_out):
        dx = dout * 1
        dy = dout * 1
        return dx, dy
