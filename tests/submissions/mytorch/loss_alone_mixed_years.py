# expect: fail missing_mean
# ruff: noqa
# A loss.py on its own whose two losses follow different course years: MSELoss's backward carries the
# 1/(N C) of S24 on, CrossEntropyLoss's is S22's softmax - Y (no 1/N). Judged by the current term, the
# cross-entropy gradient is N times too large.
import numpy as np


class MSELoss:

    def forward(self, A, Y):
        self.A, self.Y = A, Y
        self.N, self.C = A.shape
        return np.sum((A - Y) ** 2) / (self.N * self.C)

    def backward(self):
        return 2 * (self.A - self.Y) / (self.N * self.C)


class CrossEntropyLoss:

    def forward(self, A, Y):
        self.A, self.Y = A, Y
        self.N = A.shape[0]
        e = np.exp(A - A.max(axis=1, keepdims=True))
        self.softmax = e / e.sum(axis=1, keepdims=True)
        return -np.sum(Y * np.log(self.softmax)) / self.N

    def backward(self):
        return self.softmax - self.Y
