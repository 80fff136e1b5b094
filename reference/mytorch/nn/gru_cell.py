"""hw3p1's GRUCell: one time step for ONE sample (x (D,), h (H,)), the handout's (and torch's) equations;
backward(delta) with delta = dL/dh_t (H,) fills the twelve dW*, db* and returns dx (D,), dh_prev_t (H,)."""

import numpy as np


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


class GRUCell:
    def __init__(self, input_size, hidden_size):
        self.d, self.h = input_size, hidden_size
        h, d = hidden_size, input_size
        for name in ("Wrx", "Wzx", "Wnx"):
            setattr(self, name, np.random.randn(h, d))
            setattr(self, "d" + name, np.zeros((h, d)))
        for name in ("Wrh", "Wzh", "Wnh"):
            setattr(self, name, np.random.randn(h, h))
            setattr(self, "d" + name, np.zeros((h, h)))
        for name in ("brx", "bzx", "bnx", "brh", "bzh", "bnh"):
            setattr(self, name, np.random.randn(h))
            setattr(self, "d" + name, np.zeros(h))

    def init_weights(self, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh):
        self.Wrx, self.Wzx, self.Wnx, self.Wrh, self.Wzh, self.Wnh = Wrx, Wzx, Wnx, Wrh, Wzh, Wnh
        self.brx, self.bzx, self.bnx, self.brh, self.bzh, self.bnh = brx, bzx, bnx, brh, bzh, bnh

    def __call__(self, x, h_prev_t):
        return self.forward(x, h_prev_t)

    def forward(self, x, h_prev_t):
        self.x, self.hidden = x, h_prev_t
        self.r = _sigmoid(self.Wrx @ x + self.brx + self.Wrh @ h_prev_t + self.brh)
        self.z = _sigmoid(self.Wzx @ x + self.bzx + self.Wzh @ h_prev_t + self.bzh)
        self.nh = self.Wnh @ h_prev_t + self.bnh  # kept: r's gradient needs it
        self.n = np.tanh(self.Wnx @ x + self.bnx + self.r * self.nh)
        return (1 - self.z) * self.n + self.z * h_prev_t

    def backward(self, delta):
        x, h = self.x, self.hidden
        dn = delta * (1 - self.z) * (1 - self.n ** 2)  # through tanh: the n pre-activation
        dz = delta * (h - self.n) * self.z * (1 - self.z)
        dr = dn * self.nh * self.r * (1 - self.r)
        dnh = dn * self.r  # the hidden side of n sits behind r
        self.dWnx += np.outer(dn, x)
        self.dbnx += dn
        self.dWnh += np.outer(dnh, h)
        self.dbnh += dnh
        self.dWzx += np.outer(dz, x)
        self.dbzx += dz
        self.dWzh += np.outer(dz, h)
        self.dbzh += dz
        self.dWrx += np.outer(dr, x)
        self.dbrx += dr
        self.dWrh += np.outer(dr, h)
        self.dbrh += dr
        dx = dn @ self.Wnx + dz @ self.Wzx + dr @ self.Wrx
        dh_prev_t = delta * self.z + dnh @ self.Wnh + dz @ self.Wzh + dr @ self.Wrh
        return dx, dh_prev_t
