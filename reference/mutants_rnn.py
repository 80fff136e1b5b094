"""Mutants of CS231n assignment 3's recurrent layers (reference/cs231n_rnn.py): one realistic bug each
(see reference.mutants for the conventions: a module copy with one definition replaced, the bug line
marked ``# BUG:``, ``bug_class`` the key the diagnosis names; oracles/diagnose/recurrent.py).

The bugs the RNN/LSTM part of the assignment is known for: tanh' taken from the pre-activation, a backward
through time that forgets to add the gradient carried from step t + 1 or the upstream dh[:, t] of the
earlier steps, LSTM gates sliced in another order than i, f, o, g, and the cell gradient without the path
through next_h = o * tanh(next_c). The word embedding's: ``dW[x] += dout``, which keeps one gradient per
repeated word; the temporal softmax loss's: a mean over N * T steps or over mask.sum(), a dx without the mask.

This module imports numpy and reference only (the sandbox child may import it).
"""

from __future__ import annotations

import numpy as np

from reference import cs231n_rnn as R
from reference.mutants import SOURCES, _add, clone_module

__all__: list[str] = []

_R = "reference/cs231n_rnn.py"
SOURCES.update({_R: R})


def _rnn_step_forward_keeps_z(x, prev_h, Wx, Wh, b):
    z = x @ Wx + prev_h @ Wh + b
    return np.tanh(z), (x, prev_h, Wx, Wh, z)


def _rnn_step_backward_preactivation(dnext_h, cache):
    x, prev_h, Wx, Wh, z = cache
    dz = dnext_h * (1 - z ** 2)  # BUG: tanh'(z) is 1 - tanh(z)**2 = 1 - next_h**2, not 1 - z**2
    return dz @ Wx.T, dz @ Wh.T, x.T @ dz, prev_h.T @ dz, dz.sum(axis=0)


def _rnn_backward_no_carry(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = 0.0, 0.0, 0.0
    dh0 = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t, :], dh0, dWx_t, dWh_t, db_t = R.rnn_step_backward(dh[:, t, :], cache[t])  # BUG: + dprev_h missing
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dh0, dWx, dWh, db


def _rnn_backward_upstream_once(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = 0.0, 0.0, 0.0
    dprev_h = dh[:, T - 1, :]  # BUG: the upstream gradient enters once, at the last step; dh[:, t] never added
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = R.rnn_step_backward(dprev_h, cache[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


def _lstm_step_forward_ifgo(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    # BUG: gates sliced i, f, g, o; the handout's order is i, f, o, g
    i, f, g, o = R.sigmoid(a[:, :H]), R.sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), R.sigmoid(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    return o * tanh_c, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)


def _lstm_step_backward_ifgo(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tanh_c, dc * i
    # consistent with the forward's (wrong) order i, f, g, o
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def _lstm_step_backward_no_h_path(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    dc = dnext_c  # BUG: next_h = o * tanh(next_c) depends on next_c too: + dnext_h * o * (1 - tanh_c**2) missing
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tanh_c, dc * i
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def _lstm_backward_cell_reset(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = 0.0, 0.0, 0.0
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dnext_c = np.zeros((N, H), dtype=dh.dtype)  # BUG: the dprev_c of step t + 1 is never passed on
        dx[:, t, :], dprev_h, _, dWx_t, dWh_t, db_t = R.lstm_step_backward(dh[:, t, :] + dprev_h, dnext_c, cache[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


def _word_embedding_backward_repeats_lost(dout, cache):
    x, W = cache
    dW = np.zeros_like(W, dtype=dout.dtype)
    dW[x] += dout  # BUG: fancy-index += keeps one write per index: a repeated word needs np.add.at(dW, x, dout)
    return dW


def _temporal_softmax_loss_scaled(over: str):
    def temporal_softmax_loss(x, y, mask, verbose=False):
        N, T, V = x.shape
        # BUG (one of): divided by N * T (a mean over every step), or by mask.sum(), not by N
        div = N * T if over == "steps" else mask.sum()
        loss, dx = R.temporal_softmax_loss(x, y, mask)
        return loss * N / div, dx * N / div

    return temporal_softmax_loss


def _temporal_softmax_loss_dx_unmasked(x, y, mask, verbose=False):
    N, T, V = x.shape
    loss, _ = R.temporal_softmax_loss(x, y, mask)
    flat = x.reshape(N * T, V)
    p = np.exp(flat - flat.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(N * T), y.reshape(N * T)] -= 1
    return loss, (p / N).reshape(N, T, V)  # BUG: the mask is not applied to dx: padded steps get gradient


_add("cs231n_rnn_step_tanh_of_preactivation", "rnn_tanh_derivative", "cs231n", "fn:rnn_step",
     "rnn_step_backward takes tanh' as 1 - z**2 of the pre-activation instead of 1 - next_h**2",
     clone_module(R, {"rnn_step_forward": _rnn_step_forward_keeps_z,
                     "rnn_step_backward": _rnn_step_backward_preactivation}), _R)
_add("cs231n_rnn_backward_no_carry", "rnn_carry_dropped", "cs231n", "fn:rnn",
     "rnn_backward hands each step only dh[:, t]: the dprev_h carried from step t + 1 is dropped",
     clone_module(R, {"rnn_backward": _rnn_backward_no_carry}), _R)
_add("cs231n_rnn_backward_upstream_once", "rnn_upstream_dropped", "cs231n", "fn:rnn",
     "rnn_backward starts from dh[:, T-1] and never adds the upstream dh[:, t] of the earlier steps",
     clone_module(R, {"rnn_backward": _rnn_backward_upstream_once}), _R)
_add("cs231n_lstm_gates_ifgo", "lstm_gate_order", "cs231n", "fn:lstm_step",
     "lstm_step_forward/backward slice the gates as i, f, g, o (the handout's order is i, f, o, g)",
     clone_module(R, {"lstm_step_forward": _lstm_step_forward_ifgo, "lstm_step_backward": _lstm_step_backward_ifgo}),
     _R)
_add("cs231n_lstm_step_cell_grad_without_h_path", "lstm_cell_path", "cs231n", "fn:lstm_step",
     "lstm_step_backward takes dc = dnext_c, missing the path through next_h = o * tanh(next_c)",
     clone_module(R, {"lstm_step_backward": _lstm_step_backward_no_h_path}), _R)
_add("cs231n_lstm_backward_cell_grad_reset", "rnn_carry_dropped", "cs231n", "fn:lstm",
     "lstm_backward starts every step from dnext_c = 0: the dprev_c of step t + 1 is dropped",
     clone_module(R, {"lstm_backward": _lstm_backward_cell_reset}), _R)
_add("cs231n_word_embedding_repeats_lost", "embedding_repeats_lost", "cs231n", "fn:word_embedding",
     "word_embedding_backward writes dW[x] += dout: a word used several times keeps one of its gradients",
     clone_module(R, {"word_embedding_backward": _word_embedding_backward_repeats_lost}), _R)
_add("cs231n_temporal_loss_mean_over_steps", "temporal_loss_mean_over_steps", "cs231n", "fn:temporal_softmax_loss",
     "temporal_softmax_loss divides the loss and dx by N * T instead of N",
     clone_module(R, {"temporal_softmax_loss": _temporal_softmax_loss_scaled("steps")}), _R)
_add("cs231n_temporal_loss_mean_over_mask", "temporal_loss_mean_over_mask", "cs231n", "fn:temporal_softmax_loss",
     "temporal_softmax_loss divides the loss and dx by mask.sum() instead of N",
     clone_module(R, {"temporal_softmax_loss": _temporal_softmax_loss_scaled("mask")}), _R)
_add("cs231n_temporal_loss_dx_unmasked", "temporal_loss_mask_dropped", "cs231n", "fn:temporal_softmax_loss",
     "temporal_softmax_loss leaves the mask out of dx: padded steps get a gradient",
     clone_module(R, {"temporal_softmax_loss": _temporal_softmax_loss_dx_unmasked}), _R)
