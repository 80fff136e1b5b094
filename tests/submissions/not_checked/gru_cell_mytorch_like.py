# expect: fail gru_dh_path_missing
# ruff: noqa
# Written for bpcheck's tests: MyTorch hw3p1's GRU cell (checked since session 8; it was "not checked" before),
# laid out as the real gru_cell.py submissions we read: init_weights with the twelve weights and biases,
# forward(x, h_prev_t) on one sample, backward(delta) -> (dx, dh_prev_t). Its dh_prev_t forgets the direct
# path delta * z of h_t = (1 - z) * n + z * h_prev_t.
import numpy as np


class GRUCell(object):
    def __init__(self, in_dim, hidden_dim):
        self.d, self.h = in_dim, hidden_dim

    def init_weights(self, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh):
        self.Wrx, self.Wzx, self.Wnx, self.Wrh, self.Wzh, self.Wnh = Wrx, Wzx, Wnx, Wrh, Wzh, Wnh
        self.brx, self.bzx, self.bnx, self.brh, self.bzh, self.bnh = brx, bzx, bnx, brh, bzh, bnh

    def forward(self, x, h_prev_t):
        self.x, self.hidden = x, h_prev_t
        self.r = 1 / (1 + np.exp(-(self.Wrx @ x + self.brx + self.Wrh @ h_prev_t + self.brh)))
        self.z = 1 / (1 + np.exp(-(self.Wzx @ x + self.bzx + self.Wzh @ h_prev_t + self.bzh)))
        self.hn = self.Wnh @ h_prev_t + self.bnh
        self.n = np.tanh(self.Wnx @ x + self.bnx + self.r * self.hn)
        return (1 - self.z) * self.n + self.z * h_prev_t

    def backward(self, delta):
        dn = delta * (1 - self.z) * (1 - self.n ** 2)
        dz = delta * (self.hidden - self.n) * self.z * (1 - self.z)
        dr = dn * self.hn * self.r * (1 - self.r)
        self.dWnx, self.dbnx = np.outer(dn, self.x), dn
        self.dWnh, self.dbnh = np.outer(dn * self.r, self.hidden), dn * self.r
        self.dWzx, self.dbzx = np.outer(dz, self.x), dz
        self.dWzh, self.dbzh = np.outer(dz, self.hidden), dz
        self.dWrx, self.dbrx = np.outer(dr, self.x), dr
        self.dWrh, self.dbrh = np.outer(dr, self.hidden), dr
        dx = dn @ self.Wnx + dz @ self.Wzx + dr @ self.Wrx
        dh = (dn * self.r) @ self.Wnh + dz @ self.Wzh + dr @ self.Wrh  # delta * z missing
        return dx, dh
