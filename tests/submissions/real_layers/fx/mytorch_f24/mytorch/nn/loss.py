# expect: pass
# ruff: noqa
# A learner's MyTorch hw1 losses (F24 handout: the backward carries the 1/N, MSE's 2 (A - Y) / (N C);
# Linear sums over the batch), written for bpcheck's tests. Correct: loss.py on its own.
import numpy as np


class MSELoss:

    def forward(self, A, Y):
        self.A = A
        self.Y = Y
        self.N, self.C = A.shape
        sse = np.ones((1, self.N)) @ ((A - Y) * (A - Y)) @ np.ones((self.C, 1))
        return sse[0, 0] / (self.N * self.C)

    def backward(self):
        return 2 * (self.A - self.Y) / (self.N * self.C)


class CrossEntropyLoss:

    def forward(self, A, Y):
        self.A = A
        self.Y = Y
        self.N, self.C = A.shape
        e = np.exp(A - A.max(axis=1, keepdims=True))
        self.softmax = e / e.sum(axis=1, keepdims=True)
        ce = -np.sum(Y * np.log(self.softmax), axis=1)
        return np.sum(ce) / self.N

    def backward(self):
        return (self.softmax - self.Y) / self.N
