# expect: fail raised
# ruff: noqa
"""Chapter 5's multiplication node, written for bpcheck's tests. It keeps copies of its inputs with
ndarray.copy(), so it works on arrays but raises on the Python floats the book multiplies (an apple's price
times a count): wrong on a valid input."""


class MulLayer:
    def forward(self, x, y):
        self.x, self.y = x.copy(), y.copy()
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x
