# expect: pass
# ruff: noqa
# Written for bpcheck's tests: hw3p1's RNNCell as the real files write it (the handout's Tanh with a `state`
# argument, dW averaged over the batch and accumulated with +=, __call__ forwarding to forward).
import numpy as np


class Tanh:
    def __call__(self, Z):
        return self.forward(Z)

    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, state=None):
        a = self.A if state is None else state
        return 1 - a ** 2


class RNNCell(object):
    def __init__(self, input_size, hidden_size):
        self.input_size, self.hidden_size = input_size, hidden_size
        self.activation = Tanh()
        h, d = hidden_size, input_size
        self.W_ih, self.W_hh = np.random.randn(h, d), np.random.randn(h, h)
        self.b_ih, self.b_hh = np.random.randn(h), np.random.randn(h)
        self.dW_ih, self.dW_hh = np.zeros((h, d)), np.zeros((h, h))
        self.db_ih, self.db_hh = np.zeros(h), np.zeros(h)

    def init_weights(self, W_ih, W_hh, b_ih, b_hh):
        self.W_ih, self.W_hh, self.b_ih, self.b_hh = W_ih, W_hh, b_ih, b_hh

    def zero_grad(self):
        self.dW_ih, self.dW_hh = np.zeros_like(self.W_ih), np.zeros_like(self.W_hh)
        self.db_ih, self.db_hh = np.zeros_like(self.b_ih), np.zeros_like(self.b_hh)

    def __call__(self, x, h_prev_t):
        return self.forward(x, h_prev_t)

    def forward(self, x, h_prev_t):
        return self.activation(np.dot(x, self.W_ih.T) + self.b_ih + np.dot(h_prev_t, self.W_hh.T) + self.b_hh)

    def backward(self, delta, h_t, h_prev_l, h_prev_t):
        batch_size = delta.shape[0]
        dz = self.activation.backward(state=h_t) * delta
        self.dW_ih += np.dot(dz.T, h_prev_l) / batch_size
        self.dW_hh += np.dot(dz.T, h_prev_t) / batch_size
        self.db_ih += np.mean(dz, axis=0)
        self.db_hh += np.mean(dz, axis=0)
        return np.dot(dz, self.W_ih), np.dot(dz, self.W_hh)
