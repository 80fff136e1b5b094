# expect: pass
# ruff: noqa
# Written for bpcheck's tests: hw3p1's GRUCell as several real files write it: the gradients ASSIGNED (=, right:
# the autograder calls a fresh cell's backward once), x and h reshaped to columns, dx and dh_prev_t returned as
# (1, D) and (1, H) (the older docstring's shapes), the handout's Sigmoid/Tanh objects with a `state` argument.
import numpy as np


class Sigmoid:
    def __call__(self, Z):
        self.A = 1 / (1 + np.exp(-Z))
        return self.A

    def backward(self, state=None):
        a = self.A if state is None else state
        return a * (1 - a)


class Tanh:
    def __call__(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, state=None):
        a = self.A if state is None else state
        return 1 - a ** 2


class GRUCell(object):
    def __init__(self, in_dim, hidden_dim):
        self.d, self.h = in_dim, hidden_dim
        self.r_act, self.z_act, self.h_act = Sigmoid(), Sigmoid(), Tanh()

    def init_weights(self, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh):
        self.Wrx, self.Wzx, self.Wnx, self.Wrh, self.Wzh, self.Wnh = Wrx, Wzx, Wnx, Wrh, Wzh, Wnh
        self.brx, self.bzx, self.bnx, self.brh, self.bzh, self.bnh = brx, bzx, bnx, brh, bzh, bnh

    def forward(self, x, h_prev_t):
        self.x, self.hidden = x, h_prev_t
        self.r = self.r_act(self.Wrx @ x + self.brx + self.Wrh @ h_prev_t + self.brh)
        self.z = self.z_act(self.Wzx @ x + self.bzx + self.Wzh @ h_prev_t + self.bzh)
        self.n_state = self.Wnh @ h_prev_t + self.bnh
        self.n = self.h_act(self.Wnx @ x + self.bnx + self.r * self.n_state)
        return (1 - self.z) * self.n + self.z * h_prev_t

    def backward(self, delta):
        x, h = self.x.reshape(-1, 1), self.hidden.reshape(-1, 1)
        delta = delta.reshape(-1, 1)
        r, z, n = self.r.reshape(-1, 1), self.z.reshape(-1, 1), self.n.reshape(-1, 1)
        dn = delta * (1 - z) * self.h_act.backward(state=n)
        dz = delta * (h - n) * self.z_act.backward(state=z)
        dr = dn * self.n_state.reshape(-1, 1) * self.r_act.backward(state=r)
        self.dWnx, self.dbnx = dn @ x.T, dn.reshape(-1)
        self.dWnh, self.dbnh = (dn * r) @ h.T, (dn * r).reshape(-1)
        self.dWzx, self.dbzx = dz @ x.T, dz.reshape(-1)
        self.dWzh, self.dbzh = dz @ h.T, dz.reshape(-1)
        self.dWrx, self.dbrx = dr @ x.T, dr.reshape(-1)
        self.dWrh, self.dbrh = dr @ h.T, dr.reshape(-1)
        dx = dn.T @ self.Wnx + dz.T @ self.Wzx + dr.T @ self.Wrx
        dh = (delta * z).T + (dn * r).T @ self.Wnh + dz.T @ self.Wzh + dr.T @ self.Wrh
        return dx, dh
