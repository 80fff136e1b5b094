# expect: fail -- F22-F23 halved MSE whose backward divides by N and then MULTIPLIES by C (operator precedence:
# (A - Y) / n * c * 0.25): right only when C = 2. Written for bpcheck's tests.
import numpy as np


class MSELoss:

    def forward(self, A, Y):
        self.A, self.Y = A, Y
        self.N, self.C = A.shape
        se = (A - Y) * (A - Y)
        sse = np.ones((1, self.N)) @ se @ np.ones((self.C, 1))
        return sse[0, 0] / (2 * self.N * self.C)

    def backward(self):
        return (self.A - self.Y) / self.N * self.C * 0.25


class CrossEntropyLoss:

    def forward(self, A, Y):
        self.A, self.Y = A, Y
        N = A.shape[0]
        e = np.exp(A - A.max(axis=1, keepdims=True))
        self.softmax = e / e.sum(axis=1, keepdims=True)
        ce = -(Y * np.log(self.softmax)).sum(axis=1)
        return ce.sum() / N

    def backward(self):
        return self.softmax - self.Y
