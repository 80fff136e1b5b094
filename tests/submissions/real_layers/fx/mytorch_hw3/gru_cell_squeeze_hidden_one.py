# expect: fail forward_pass
# ruff: noqa
# Written for bpcheck's tests: a GRUCell that works on columns and np.squeeze()s r, z, n and h_t back; with
# hidden_dim = 1 the squeeze leaves 0-d arrays and the handout's own `assert self.r.shape == (self.h,)` fails
# (a real gru_cell.py does exactly this). Its backward is right: the forward is what breaks, and only at H = 1.
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
        xc, hc = x.reshape(-1, 1), h_prev_t.reshape(-1, 1)
        r = self.r_act(self.Wrx @ xc + self.brx.reshape(-1, 1) + self.Wrh @ hc + self.brh.reshape(-1, 1))
        z = self.z_act(self.Wzx @ xc + self.bzx.reshape(-1, 1) + self.Wzh @ hc + self.bzh.reshape(-1, 1))
        n_state = self.Wnh @ hc + self.bnh.reshape(-1, 1)
        n = self.h_act(self.Wnx @ xc + self.bnx.reshape(-1, 1) + r * n_state)
        h_t = (1 - z) * n + z * hc
        self.r, self.z, self.n, self.n_state = np.squeeze(r), np.squeeze(z), np.squeeze(n), np.squeeze(n_state)
        h_t = np.squeeze(h_t)
        assert self.r.shape == (self.h,)
        assert h_t.shape == (self.h,)
        return h_t

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
