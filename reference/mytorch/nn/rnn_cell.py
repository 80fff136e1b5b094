"""hw3p1's RNNCell: one time step of a tanh RNN, batched; backward averages dW, db over the batch and
accumulates them (+=): the classifier calls one cell once per time step and layer, then steps once."""

import numpy as np


class RNNCell:
    def __init__(self, input_size, hidden_size):
        self.input_size, self.hidden_size = input_size, hidden_size
        h, d = hidden_size, input_size
        self.W_ih, self.W_hh = np.random.randn(h, d), np.random.randn(h, h)
        self.b_ih, self.b_hh = np.random.randn(h), np.random.randn(h)
        self.zero_grad()

    def init_weights(self, W_ih, W_hh, b_ih, b_hh):
        self.W_ih, self.W_hh, self.b_ih, self.b_hh = W_ih, W_hh, b_ih, b_hh

    def zero_grad(self):
        h, d = self.hidden_size, self.input_size
        self.dW_ih, self.dW_hh = np.zeros((h, d)), np.zeros((h, h))
        self.db_ih, self.db_hh = np.zeros(h), np.zeros(h)

    def __call__(self, x, h_prev_t):
        return self.forward(x, h_prev_t)

    def forward(self, x, h_prev_t):
        """x (N, D), h_prev_t (N, H) -> h_t (N, H) = tanh(W_ih x + b_ih + W_hh h + b_hh)."""
        return np.tanh(x @ self.W_ih.T + self.b_ih + h_prev_t @ self.W_hh.T + self.b_hh)

    def backward(self, delta, h_t, h_prev_l, h_prev_t):
        """delta = dL/dh_t (N, H); h_prev_l is this step's input x. Returns dx (N, D), dh_prev_t (N, H)."""
        batch_size = delta.shape[0]
        dz = delta * (1 - h_t * h_t)  # tanh' from the output, 1 - h_t^2
        self.dW_ih += dz.T @ h_prev_l / batch_size
        self.dW_hh += dz.T @ h_prev_t / batch_size
        self.db_ih += dz.sum(axis=0) / batch_size
        self.db_hh += dz.sum(axis=0) / batch_size
        return dz @ self.W_ih, dz @ self.W_hh
