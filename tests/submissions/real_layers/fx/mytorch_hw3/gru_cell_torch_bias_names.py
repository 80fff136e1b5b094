# expect: pass
# ruff: noqa
# Written for bpcheck's tests: a GRUCell of the handout year that named the biases as torch does
# (init_weights(Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, bir, biz, bin, bhr, bhz, bhn), gradients dbir ... dbhn), as a real
# gru_cell.py does; same order and meaning as brx ... bnh. Gradients accumulated (+=) into zeros.
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

        h, d = hidden_dim, in_dim
        for g in "rzn":
            setattr(self, f"dW{g}x", np.zeros((h, d)))
            setattr(self, f"dW{g}h", np.zeros((h, h)))
            setattr(self, f"dbi{g}", np.zeros(h))
            setattr(self, f"dbh{g}", np.zeros(h))

    def init_weights(self, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, bir, biz, bin, bhr, bhz, bhn):
        self.Wrx, self.Wzx, self.Wnx, self.Wrh, self.Wzh, self.Wnh = Wrx, Wzx, Wnx, Wrh, Wzh, Wnh
        self.bir, self.biz, self.bin, self.bhr, self.bhz, self.bhn = bir, biz, bin, bhr, bhz, bhn

    def forward(self, x, h_prev_t):
        self.x, self.hidden = x, h_prev_t
        self.r = self.r_act(self.Wrx @ x + self.bir + self.Wrh @ h_prev_t + self.bhr)
        self.z = self.z_act(self.Wzx @ x + self.biz + self.Wzh @ h_prev_t + self.bhz)
        self.n_state = self.Wnh @ h_prev_t + self.bhn
        self.n = self.h_act(self.Wnx @ x + self.bin + self.r * self.n_state)
        return (1 - self.z) * self.n + self.z * h_prev_t

    def backward(self, delta):
        x, h = self.x.reshape(-1, 1), self.hidden.reshape(-1, 1)
        delta = delta.reshape(-1, 1)
        r, z, n = self.r.reshape(-1, 1), self.z.reshape(-1, 1), self.n.reshape(-1, 1)
        dn = delta * (1 - z) * self.h_act.backward(state=n)
        dz = delta * (h - n) * self.z_act.backward(state=z)
        dr = dn * self.n_state.reshape(-1, 1) * self.r_act.backward(state=r)
        self.dWnx += dn @ x.T
        self.dbin += dn.reshape(-1)
        self.dWnh += (dn * r) @ h.T
        self.dbhn += (dn * r).reshape(-1)
        self.dWzx += dz @ x.T
        self.dbiz += dz.reshape(-1)
        self.dWzh += dz @ h.T
        self.dbhz += dz.reshape(-1)
        self.dWrx += dr @ x.T
        self.dbir += dr.reshape(-1)
        self.dWrh += dr @ h.T
        self.dbhr += dr.reshape(-1)
        dx = dn.T @ self.Wnx + dz.T @ self.Wzx + dr.T @ self.Wrx
        dh = (delta * z).T + (dn * r).T @ self.Wnh + dz.T @ self.Wzh + dr.T @ self.Wrh
        return dx, dh
