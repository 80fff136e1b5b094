"""Mutants of MyTorch hw3p1's cells (reference/mytorch/nn/rnn_cell.py, gru_cell.py): one realistic bug each,
named by oracles/diagnose/mytorch_cells.py (the bug line marked ``# BUG:``; reference.mutants' conventions).

The bugs of real rnn_cell.py / gru_cell.py files and of the handout's traps: gradients assigned where the
handout accumulates, tanh applied twice in tanh', dW_hh from h_t, the update gate's sign, dh_prev_t without its
direct path, the reset gate left out of the candidate's hidden side, hidden weights transposed in dh_prev_t.

This module imports numpy and reference only (the sandbox child may import it).
"""

from __future__ import annotations

import numpy as np

from reference.mutants import SOURCES, _add, clone_module
from reference.mytorch.nn import gru_cell as G
from reference.mytorch.nn import rnn_cell as R

__all__: list[str] = []

_R, _G = "reference/mytorch/nn/rnn_cell.py", "reference/mytorch/nn/gru_cell.py"
SOURCES.update({_R: R, _G: G})


class _RNNAssigned(R.RNNCell):
    def backward(self, delta, h_t, h_prev_l, h_prev_t):
        batch_size = delta.shape[0]
        dz = delta * (1 - h_t * h_t)
        self.dW_ih = dz.T @ h_prev_l / batch_size  # BUG: = where the handout accumulates (+=) over time steps
        self.dW_hh = dz.T @ h_prev_t / batch_size
        self.db_ih = dz.sum(axis=0) / batch_size
        self.db_hh = dz.sum(axis=0) / batch_size
        return dz @ self.W_ih, dz @ self.W_hh


class _RNNTanhTwice(R.RNNCell):
    def backward(self, delta, h_t, h_prev_l, h_prev_t):
        batch_size = delta.shape[0]
        dz = delta * (1 - np.tanh(h_t) ** 2)  # BUG: h_t is tanh(z) already: tanh' = 1 - h_t**2
        self.dW_ih += dz.T @ h_prev_l / batch_size
        self.dW_hh += dz.T @ h_prev_t / batch_size
        self.db_ih += dz.sum(axis=0) / batch_size
        self.db_hh += dz.sum(axis=0) / batch_size
        return dz @ self.W_ih, dz @ self.W_hh


class _RNNHiddenMixed(R.RNNCell):
    def backward(self, delta, h_t, h_prev_l, h_prev_t):
        batch_size = delta.shape[0]
        dz = delta * (1 - h_t * h_t)
        self.dW_ih += dz.T @ h_prev_l / batch_size
        self.dW_hh += dz.T @ h_t / batch_size  # BUG: the step's hidden input is h_prev_t, not h_t
        self.db_ih += dz.sum(axis=0) / batch_size
        self.db_hh += dz.sum(axis=0) / batch_size
        return dz @ self.W_ih, dz @ self.W_hh


def _gru_backward(bug: str):
    def backward(self, delta):
        x, h = self.x, self.hidden
        dn = delta * (1 - self.z) * (1 - self.n ** 2)
        dz = delta * ((self.n - h) if bug == "z_sign" else (h - self.n)) * self.z * (1 - self.z)  # BUG: z_sign
        dr = dn * self.nh * self.r * (1 - self.r)
        dnh = dn if bug == "r_path" else dn * self.r  # BUG: r_path (n = tanh(... + r * (Wnh h + bnh)))
        for name, g, v in (("nx", dn, x), ("nh", dnh, h), ("zx", dz, x), ("zh", dz, h), ("rx", dr, x), ("rh", dr, h)):
            setattr(self, "dW" + name, getattr(self, "dW" + name) + np.outer(g, v))
            setattr(self, "db" + name, getattr(self, "db" + name) + g)
        T = (lambda W: W.T) if bug == "transposed" else (lambda W: W)  # BUG: transposed hidden weights
        direct = 0 if bug == "dh_direct" else delta * self.z  # BUG: dh_direct (h_t = ... + z * h)
        dx = dn @ self.Wnx + dz @ self.Wzx + dr @ self.Wrx
        return dx, direct + dnh @ T(self.Wnh) + dz @ T(self.Wzh) + dr @ T(self.Wrh)

    return type(f"_GRU_{bug}", (G.GRUCell,), {"backward": backward})


for _name, _bug, _cls, _what in (
        ("mytorch_rnn_cell_grads_assigned", "cell_grads_assigned", _RNNAssigned,
         "RNNCell.backward assigns dW_ih, dW_hh, db_ih, db_hh (=) where the handout accumulates (+=)"),
        ("mytorch_rnn_cell_tanh_twice", "rnn_tanh_derivative", _RNNTanhTwice,
         "RNNCell.backward takes tanh' as 1 - tanh(h_t)**2 (tanh applied twice)"),
        ("mytorch_rnn_cell_dW_hh_from_h_t", "cell_hidden_mixed", _RNNHiddenMixed,
         "RNNCell.backward computes dW_hh from h_t instead of h_prev_t")):
    _add(_name, _bug, "mytorch", "cell:RNNCell", _what, clone_module(R, {"RNNCell": _cls}), _R)

for _name, _bug, _key, _what in (
        ("mytorch_gru_cell_z_sign", "gru_z_sign", "z_sign", "GRUCell.backward takes dL/dz = delta * (n - h)"),
        ("mytorch_gru_cell_dh_direct_missing", "gru_dh_path_missing", "dh_direct",
         "GRUCell.backward's dh_prev_t misses delta * z"),
        ("mytorch_gru_cell_r_path_missing", "gru_r_path", "r_path",
         "GRUCell.backward's dWnh, dbnh and dh_prev_t miss the reset gate r"),
        ("mytorch_gru_cell_hidden_weights_transposed", "cell_weight_transposed", "transposed",
         "GRUCell.backward's dh_prev_t goes through Wrh.T, Wzh.T, Wnh.T")):
    _add(_name, _bug, "mytorch", "cell:GRUCell", _what, clone_module(G, {"GRUCell": _gru_backward(_key)}), _G)
