# expect: error not_supported (MyTorch hw3's GRU cell: recognised, not checked yet)
# ruff: noqa
# Written for bpcheck's tests: a cell class with forward(x, h_prev_t) and backward(delta), as the real
# gru_cell.py submissions we read lay it out.
import numpy as np


class GRUCell(object):
    def __init__(self, in_dim, hidden_dim):
        rng = np.random.default_rng(0)
        self.Wrx, self.Wzx, self.Wnx = (rng.standard_normal((hidden_dim, in_dim)) for _ in range(3))
        self.Wrh, self.Wzh, self.Wnh = (rng.standard_normal((hidden_dim, hidden_dim)) for _ in range(3))

    def forward(self, x, h_prev_t):
        self.x, self.hidden = x, h_prev_t
        self.r = 1 / (1 + np.exp(-(self.Wrx @ x + self.Wrh @ h_prev_t)))
        self.z = 1 / (1 + np.exp(-(self.Wzx @ x + self.Wzh @ h_prev_t)))
        self.n = np.tanh(self.Wnx @ x + self.r * (self.Wnh @ h_prev_t))
        return (1 - self.z) * self.n + self.z * h_prev_t

    def backward(self, delta):
        dn = delta * (1 - self.z)
        dz = delta * (self.hidden - self.n)
        dx = (dn * (1 - self.n ** 2)) @ self.Wnx + (dz * self.z * (1 - self.z)) @ self.Wzx
        dh = delta * self.z
        return dx, dh
