# expect: fail mul_backward_swapped
# ruff: noqa
"""Chapter 5's nodes for a shop bill, written for bpcheck's tests. Bug: MulLayer.backward gives each input
dout times ITSELF; d(ab)/da is b (the book's own comment warns of the swap; find_string on public code shows
real files with it)."""


class MulLayer:
    def __init__(self):
        self.a = None
        self.b = None

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, dout):
        da = dout * self.a
        db = dout * self.b
        return da, db


class AddLayer:
    def forward(self, a, b):
        return a + b

    def backward(self, dout):
        return dout, dout
