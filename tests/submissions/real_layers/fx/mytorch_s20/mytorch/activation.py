# expect: pass
# ruff: noqa
# A learner's MyTorch hw1 activations (S20-F21 handout: forward(x) keeps its result in self.state,
# derivative() returns dA/dZ from it), written for bpcheck's tests. Correct.
import numpy as np


class Activation(object):
    def __init__(self):
        self.state = None

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        raise NotImplementedError

    def derivative(self):
        raise NotImplementedError


class Identity(Activation):
    def forward(self, x):
        self.state = x
        return x

    def derivative(self):
        return 1.0


class Sigmoid(Activation):
    def forward(self, x):
        self.state = 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|
        return self.state

    def derivative(self):
        return self.state * (1.0 - self.state)


class Tanh(Activation):
    def forward(self, x):
        self.state = np.tanh(x)
        return self.state

    def derivative(self):
        return 1.0 - self.state ** 2


class ReLU(Activation):
    def forward(self, x):
        self.state = np.maximum(x, 0.0)
        return self.state

    def derivative(self):
        return (self.state > 0).astype(float)
