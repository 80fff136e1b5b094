"""deeplearning.ai course 5, week 1: "Building your Recurrent Neural Network - Step by Step".

One example per COLUMN, time last: x (n_x, m, T_x), hidden states a (n_a, m, T_x), one step's xt (n_x, m) and
a_prev (n_a, m). Parameters in a dict:

* RNN:  Wax (n_a, n_x), Waa (n_a, n_a), Wya (n_y, n_a), ba (n_a, 1), by (n_y, 1);
        a_next = tanh(Wax xt + Waa a_prev + ba), yt_pred = softmax(Wya a_next + by).
* LSTM: Wf, Wi, Wc, Wo (n_a, n_a + n_x) acting on concat = [a_prev; xt] (a_prev on top), bf, bi, bc, bo (n_a, 1),
        Wy (n_y, n_a), by (n_y, 1); ft, it, ot sigmoid gates, cct = tanh(Wc concat + bc) the candidate,
        c_next = ft * c_prev + it * cct, a_next = ot * tanh(c_next).

Caches are the notebook's tuples: (a_next, a_prev, xt, parameters) for an RNN step, (a_next, c_next, a_prev,
c_prev, ft, it, cct, ot, xt, parameters) for an LSTM step, and (caches, x) for a sequence. The backwards (the
notebook's optional, ungraded part) return dicts: dxt, da_prev, dWax, dWaa, dba (RNN step); dx, da0, dWax, dWaa,
dba (RNN); dxt, da_prev, dc_prev, dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo (LSTM step); dx, da0 and the eight
weight and bias gradients (LSTM). da_next / da are gradients of the loss with respect to the hidden states; the
sequence backward adds each step's upstream da[:, :, t] to the gradient carried back from step t + 1.
"""

from __future__ import annotations

import numpy as np

__all__ = ["softmax", "sigmoid", "rnn_cell_forward", "rnn_forward", "rnn_cell_backward", "rnn_backward",
           "lstm_cell_forward", "lstm_forward", "lstm_cell_backward", "lstm_backward"]


def softmax(x):
    e_x = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e_x / e_x.sum(axis=0, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ---- the basic RNN


def rnn_cell_forward(xt, a_prev, parameters):
    Wax, Waa, Wya = parameters["Wax"], parameters["Waa"], parameters["Wya"]
    ba, by = parameters["ba"], parameters["by"]
    a_next = np.tanh(Wax @ xt + Waa @ a_prev + ba)
    yt_pred = softmax(Wya @ a_next + by)
    cache = (a_next, a_prev, xt, parameters)
    return a_next, yt_pred, cache


def rnn_forward(x, a0, parameters):
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wya"].shape
    a = np.zeros((n_a, m, T_x), dtype=x.dtype)
    y_pred = np.zeros((n_y, m, T_x), dtype=x.dtype)
    a_next = a0
    for t in range(T_x):
        a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters)
        a[:, :, t] = a_next
        y_pred[:, :, t] = yt_pred
        caches.append(cache)
    return a, y_pred, (caches, x)


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    dtanh = (1 - a_next ** 2) * da_next  # tanh'(z) = 1 - tanh(z)**2, and tanh(z) is a_next
    dxt = parameters["Wax"].T @ dtanh
    dWax = dtanh @ xt.T
    da_prev = parameters["Waa"].T @ dtanh
    dWaa = dtanh @ a_prev.T
    dba = np.sum(dtanh, axis=1, keepdims=True)  # summed over the m examples (columns)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def rnn_backward(da, caches):
    caches, x = caches
    a1, a0, x1, parameters = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x), dtype=da.dtype)
    dWax = np.zeros((n_a, n_x), dtype=da.dtype)
    dWaa = np.zeros((n_a, n_a), dtype=da.dtype)
    dba = np.zeros((n_a, 1), dtype=da.dtype)
    da_prevt = np.zeros((n_a, m), dtype=da.dtype)
    for t in reversed(range(T_x)):
        # a<t> feeds the loss directly (da[:, :, t]) and step t + 1 (da_prevt): both paths add up
        gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        dx[:, :, t] = gradients["dxt"]
        da_prevt = gradients["da_prev"]
        dWax += gradients["dWax"]
        dWaa += gradients["dWaa"]
        dba += gradients["dba"]
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}


# ---- the LSTM


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    p = parameters
    concat = np.concatenate([a_prev, xt], axis=0)  # (n_a + n_x, m), a_prev on top
    ft = sigmoid(p["Wf"] @ concat + p["bf"])
    it = sigmoid(p["Wi"] @ concat + p["bi"])
    cct = np.tanh(p["Wc"] @ concat + p["bc"])
    c_next = ft * c_prev + it * cct
    ot = sigmoid(p["Wo"] @ concat + p["bo"])
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(p["Wy"] @ a_next + p["by"])
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def lstm_forward(x, a0, parameters):
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    a = np.zeros((n_a, m, T_x), dtype=x.dtype)
    c = np.zeros((n_a, m, T_x), dtype=x.dtype)
    y = np.zeros((n_y, m, T_x), dtype=x.dtype)
    a_next, c_next = a0, np.zeros_like(a0)
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t], c[:, :, t], y[:, :, t] = a_next, c_next, yt
        caches.append(cache)
    return a, y, c, (caches, x)


def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a, m = a_next.shape
    tanh_c = np.tanh(c_next)
    # c_next reaches the loss directly (dc_next) and through a_next = ot * tanh(c_next)
    dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
    dot = da_next * tanh_c * ot * (1 - ot)
    dcct = dc * it * (1 - cct ** 2)
    dit = dc * cct * it * (1 - it)
    dft = dc * c_prev * ft * (1 - ft)
    concat = np.concatenate([a_prev, xt], axis=0)
    grads = {}
    for g, dz in (("f", dft), ("i", dit), ("c", dcct), ("o", dot)):
        grads["dW" + g] = dz @ concat.T
        grads["db" + g] = np.sum(dz, axis=1, keepdims=True)
    W = {g: parameters["W" + g] for g in "fico"}
    dz = {"f": dft, "i": dit, "c": dcct, "o": dot}
    # the first n_a columns of each W act on a_prev, the rest on xt
    da_prev = sum(W[g][:, :n_a].T @ dz[g] for g in "fico")
    dxt = sum(W[g][:, n_a:].T @ dz[g] for g in "fico")
    dc_prev = dc * ft
    return {"dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev, **grads}


def lstm_backward(da, caches):
    caches, x = caches
    a1, c1, a0, c0, f1, i1, cc1, o1, x1, parameters = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x), dtype=da.dtype)
    da_prevt = np.zeros((n_a, m), dtype=da.dtype)
    dc_prevt = np.zeros((n_a, m), dtype=da.dtype)
    sums = {k: np.zeros((n_a, n_a + n_x) if k.startswith("dW") else (n_a, 1), dtype=da.dtype)
            for k in ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")}
    for t in reversed(range(T_x)):
        gradients = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        dx[:, :, t] = gradients["dxt"]
        da_prevt, dc_prevt = gradients["da_prev"], gradients["dc_prev"]
        for k in sums:
            sums[k] += gradients[k]
    return {"dx": dx, "da0": da_prevt, **sums}
