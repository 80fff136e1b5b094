# expect: pass
# ruff: noqa
# A learner's MyTorch hw1 losses (S22 handout: forward the mean, backward WITHOUT the 1/N: MSE's A - Y,
# cross-entropy's softmax - Y; the S22 Linear divides dLdW by N instead), written for bpcheck's tests.
# Correct for its year: loss.py on its own must be judged by the scale its own backward follows.
import numpy as np


class MSELoss:

    def forward(self, A, Y):
        self.A = A
        self.Y = Y
        N, C = A.shape
        se = (A - Y) ** 2
        return np.sum(se) / (N * C)

    def backward(self):
        return self.A - self.Y


class CrossEntropyLoss:

    def forward(self, A, Y):
        self.A = A
        self.Y = Y
        N = A.shape[0]
        expA = np.exp(A - np.max(A, axis=1, keepdims=True))
        self.softmax = expA / np.sum(expA, axis=1, keepdims=True)
        return np.sum(-Y * np.log(self.softmax)) / N

    def backward(self):
        return self.softmax - self.Y
