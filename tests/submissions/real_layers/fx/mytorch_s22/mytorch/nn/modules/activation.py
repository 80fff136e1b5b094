# expect: pass
# ruff: noqa
# A learner's MyTorch hw1 activations (S22 handout: backward() takes nothing and returns dA/dZ; the
# model multiplies it into dLdA), written for bpcheck's tests. Correct: activation.py validated on its
# own must be recognised as MyTorch and each class checked alone, not "no style recognised".
import numpy as np


class Identity:

    def forward(self, Z):
        self.A = Z
        return self.A

    def backward(self):
        return np.ones(self.A.shape, dtype="f")


class Sigmoid:

    def forward(self, Z):
        self.A = 1.0 / (1.0 + np.exp(-Z))
        return self.A

    def backward(self):
        return self.A * (1.0 - self.A)


class Tanh:

    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self):
        return 1.0 - np.square(self.A)


class ReLU:

    def forward(self, Z):
        self.A = np.where(Z > 0, Z, 0.0)
        return self.A

    def backward(self):
        return np.where(self.A > 0, 1.0, 0.0)
