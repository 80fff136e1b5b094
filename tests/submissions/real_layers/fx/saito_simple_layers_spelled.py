# expect: pass
# ruff: noqa
"""Chapter 5's multiplication and addition nodes, written for bpcheck's tests: the class names as some learners
spell them (a lower-case l: Mullayer, Addlayer) and the addition node's methods as staticmethods, as real
files do. Correct: bpcheck must find and check both classes, not call the file unrecognised.
"""


class Mullayer:
    def __init__(self):
        self.x, self.y = None, None

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        dx = dout * self.y  # each input gets the other one
        dy = dout * self.x
        return dx, dy


class Addlayer:
    @staticmethod
    def forward(x, y):
        return x + y

    @staticmethod
    def backward(dout):
        return dout * 1, dout * 1


if __name__ == "__main__":
    apple, count, tax = 100, 2, 1.1
    m1, m2 = Mullayer(), Mullayer()
    price = m2.forward(m1.forward(apple, count), tax)
    print(price, m1.backward(m2.backward(1)[0]))
