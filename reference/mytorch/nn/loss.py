"""Losses: forward(A, Y) -> scalar L; backward() -> dLdA (carrying the 1/N, and MSE's 1/C)."""

import numpy as np

from reference.mytorch.nn.activation import Softmax

__all__ = ["MSELoss", "CrossEntropyLoss"]


class MSELoss:
    def forward(self, A, Y):
        self.A, self.Y = A, Y
        self.N, self.C = A.shape
        se = (A - Y) * (A - Y)
        sse = np.ones((1, self.N)) @ se @ np.ones((self.C, 1))
        return float(sse[0, 0]) / (self.N * self.C)

    def backward(self):
        return 2 * (self.A - self.Y) / (self.N * self.C)


class CrossEntropyLoss:
    def forward(self, A, Y):
        self.A, self.Y = A, Y
        self.N, self.C = A.shape
        self.softmax = Softmax().forward(A)
        # log(softmax) as Z - logsumexp(Z): log(self.softmax) would be -inf where a probability underflows
        Zs = A - A.max(axis=1, keepdims=True)
        log_softmax = Zs - np.log(np.exp(Zs).sum(axis=1, keepdims=True))
        crossentropy = (-Y * log_softmax) @ np.ones((self.C, 1))
        return float((np.ones((1, self.N)) @ crossentropy)[0, 0]) / self.N

    def backward(self):
        return (self.softmax - self.Y) / self.N
