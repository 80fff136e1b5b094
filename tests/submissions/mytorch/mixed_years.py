# expect: fail double_mean
# ruff: noqa
# Linear divides by N (Fall 2022) but the loss's backward already carries the 1/N (Spring 2023 on): averaged twice.
import numpy as np


class Linear:
    def __init__(self, in_features, out_features, debug=False):
        self.W = np.zeros((out_features, in_features))
        self.b = np.zeros((out_features, 1))

    def forward(self, A):
        self.A = A
        self.N = A.shape[0]
        return A @ self.W.T + self.b.T

    def backward(self, dLdZ):
        self.dLdW = dLdZ.T @ self.A / self.N
        self.dLdb = np.sum(dLdZ, axis=0, keepdims=True).T / self.N
        return dLdZ @ self.W


class Tanh:
    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dLdA):
        return dLdA * (1 - self.A ** 2)


class CrossEntropyLoss:
    def forward(self, A, Y):
        self.A, self.Y = A, Y
        self.N = A.shape[0]
        e = np.exp(A - A.max(axis=1, keepdims=True))
        self.softmax = e / e.sum(axis=1, keepdims=True)
        return -np.sum(Y * np.log(self.softmax)) / self.N

    def backward(self):
        return (self.softmax - self.Y) / self.N
