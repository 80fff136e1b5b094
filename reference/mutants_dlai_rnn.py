"""Mutants of deeplearning.ai course 5's "Building your Recurrent Neural Network - Step by Step"
(reference/dlai_rnn.py): one bug each (conventions of reference.mutants: a module copy with one definition
replaced, the bug line marked ``# BUG:``, ``bug_class`` the key oracles/diagnose/recurrent.py names).

From real public files of the notebook (docs/real-world/layers.md, "deeplearning.ai course 5"): an rnn_cell_backward
with dtanh = da_next (tanh' missing) and an lstm_cell_backward without any gate activation derivative (one file),
an lstm_backward that hands each step only da[:, :, t] and never updates dc_prevt (several files), one that never
updates dc_prevt alone, an lstm_forward that allocates ``c = a`` (one array: the hidden states returned are the
cell states), and an lstm_cell_backward whose dxt uses the a_prev columns W[:, :n_a] (the da_prev formula). And
the classic pitfall the notebook's hint warns about: an rnn_backward that forgets to add da_prevt to da[:, :, t].

This module imports numpy and reference only (the sandbox child may import it).
"""

from __future__ import annotations

import numpy as np

from reference import dlai_rnn as R
from reference.mutants import SOURCES, _add, clone_module

__all__: list[str] = []

_R = "reference/dlai_rnn.py"
SOURCES.update({_R: R})
_KEYS = ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")


def _rnn_cell_backward_no_tanh_derivative(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    dtanh = da_next  # BUG: tanh' missing: dtanh = (1 - a_next ** 2) * da_next
    return {"dxt": parameters["Wax"].T @ dtanh, "da_prev": parameters["Waa"].T @ dtanh, "dWax": dtanh @ xt.T,
            "dWaa": dtanh @ a_prev.T, "dba": np.sum(dtanh, axis=1, keepdims=True)}


def _rnn_backward_no_carry(da, caches):
    caches, x = caches
    n_a, m, T_x = da.shape
    n_x = caches[0][2].shape[0]
    dx = np.zeros((n_x, m, T_x), dtype=da.dtype)
    sums = {"dWax": 0.0, "dWaa": 0.0, "dba": 0.0}
    for t in reversed(range(T_x)):
        gradients = R.rnn_cell_backward(da[:, :, t], caches[t])  # BUG: + da_prevt missing
        dx[:, :, t] = gradients["dxt"]
        for k in sums:
            sums[k] = sums[k] + gradients[k]
    return {"dx": dx, "da0": gradients["da_prev"], **sums}


def _lstm_backward_carries(h: bool, c: bool):
    def lstm_backward(da, caches):
        caches_, x = caches
        n_a, m, T_x = da.shape
        n_x = caches_[0][8].shape[0]
        dx = np.zeros((n_x, m, T_x), dtype=da.dtype)
        da_prevt = np.zeros((n_a, m), dtype=da.dtype)
        dc_prevt = np.zeros((n_a, m), dtype=da.dtype)
        sums = {k: 0.0 for k in _KEYS}
        for t in reversed(range(T_x)):
            # BUG (one of): da_prevt not added to da[:, :, t] and dc_prevt never updated (both real), or dc_prevt alone
            gradients = R.lstm_cell_backward(da[:, :, t] + (da_prevt if h else 0), dc_prevt, caches_[t])
            dx[:, :, t] = gradients["dxt"]
            da_prevt = gradients["da_prev"]
            if c:
                dc_prevt = gradients["dc_prev"]
            for k in sums:
                sums[k] = sums[k] + gradients[k]
        return {"dx": dx, "da0": da_prevt, **sums}

    return lstm_backward


def _lstm_forward_states_aliased(x, a0, parameters):
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    a = np.zeros((n_a, m, T_x), dtype=x.dtype)
    c = a  # BUG: one array under two names: c[:, :, t] = c_next overwrites a[:, :, t]
    y = np.zeros((n_y, m, T_x), dtype=x.dtype)
    a_next, c_next = a0, np.zeros_like(a0)
    for t in range(T_x):
        a_next, c_next, yt, cache = R.lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t] = a_next
        y[:, :, t] = yt
        c[:, :, t] = c_next
        caches.append(cache)
    return a, y, c, (caches, x)


def _lstm_cell_backward_no_gate_derivatives(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a, m = a_next.shape
    dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)
    # BUG: the gate gradients stop at the gate values: * ot * (1 - ot), * (1 - cct**2), * it * (1 - it),
    # * ft * (1 - ft) are missing
    dz = {"o": da_next * np.tanh(c_next), "c": dc * it, "i": dc * cct, "f": dc * c_prev}
    concat = np.concatenate([a_prev, xt], axis=0)
    grads = {}
    for g in "fico":
        grads["dW" + g] = dz[g] @ concat.T
        grads["db" + g] = np.sum(dz[g], axis=1, keepdims=True)
    da_prev = sum(parameters["W" + g][:, :n_a].T @ dz[g] for g in "fico")
    dxt = sum(parameters["W" + g][:, n_a:].T @ dz[g] for g in "fico")
    return {"dxt": dxt, "da_prev": da_prev, "dc_prev": dc * ft, **grads}


def _lstm_cell_backward_dxt_hidden_columns(da_next, dc_next, cache):
    gradients = R.lstm_cell_backward(da_next, dc_next, cache)
    # BUG: dxt uses the a_prev columns W[:, :n_a] (the da_prev formula); xt's columns are W[:, n_a:]
    gradients["dxt"] = gradients["da_prev"].copy()
    return gradients


_add("dlai_rnn_cell_backward_no_tanh_derivative", "rnn_tanh_derivative", "dlai", "fn:rnn_cell",
     "rnn_cell_backward takes dtanh = da_next: the tanh' factor (1 - a_next**2) is missing",
     clone_module(R, {"rnn_cell_backward": _rnn_cell_backward_no_tanh_derivative}), _R)
_add("dlai_rnn_backward_no_carry", "rnn_carry_dropped", "dlai", "fn:rnn",
     "rnn_backward hands each step only da[:, :, t]: the da_prevt of step t + 1 is not added",
     clone_module(R, {"rnn_backward": _rnn_backward_no_carry}), _R)
_add("dlai_lstm_backward_no_carry", "rnn_carry_dropped", "dlai", "fn:lstm",
     "lstm_backward hands each step da[:, :, t] and a dc_prevt left at 0: neither carry is passed on",
     clone_module(R, {"lstm_backward": _lstm_backward_carries(False, False)}), _R)
_add("dlai_lstm_backward_cell_carry_dropped", "rnn_carry_dropped", "dlai", "fn:lstm",
     "lstm_backward never updates dc_prevt: the dc_prev of step t + 1 is dropped",
     clone_module(R, {"lstm_backward": _lstm_backward_carries(True, False)}), _R)
_add("dlai_lstm_cell_dxt_hidden_columns", "lstm_dx_wrong_columns", "dlai", "fn:lstm_cell",
     "lstm_cell_backward computes dxt with the a_prev columns W[:, :n_a] (shape (n_a, m), or da_prev's numbers)",
     clone_module(R, {"lstm_cell_backward": _lstm_cell_backward_dxt_hidden_columns}), _R, ("square",))
_add("dlai_lstm_forward_states_aliased", "lstm_states_aliased", "dlai", "fn:lstm",
     "lstm_forward allocates c = a: the hidden states it returns are the cell states",
     clone_module(R, {"lstm_forward": _lstm_forward_states_aliased}), _R)
_add("dlai_lstm_cell_backward_no_gate_derivatives", "lstm_gate_derivative", "dlai", "fn:lstm_cell",
     "lstm_cell_backward leaves out the gates' activation derivatives (sigmoid' of f, i, o; tanh' of the candidate)",
     clone_module(R, {"lstm_cell_backward": _lstm_cell_backward_no_gate_derivatives}), _R)
