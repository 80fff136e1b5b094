"""CS231n assignment 3's recurrent layers, as students write them in ``cs231n/rnn_layers.py``.

Shapes are the handout's: a minibatch of N sequences of T steps, inputs of size D, hidden size H.

    vanilla RNN:  next_h = tanh(x Wx + prev_h Wh + b)                Wx (D, H), Wh (H, H), b (H,)
    LSTM:         a = x Wx + prev_h Wh + b  (N, 4H), split in the handout's order i, f, o, g:
                  i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
                  next_c = f * prev_c + i * g;   next_h = o * tanh(next_c)     Wx (D, 4H), Wh (H, 4H)

The sequence versions loop over time with the step functions; their backward walks back in time adding
the upstream gradient of every step, dh[:, t], to the gradient flowing back from step t + 1. The LSTM's
c0 is zero. Word embedding and the temporal affine / softmax layers of the same file are here too.
Nothing here writes into its inputs, dout or a cache.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "word_embedding_forward", "word_embedding_backward", "sigmoid",
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss",
]


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """x (N, D), prev_h (N, H) -> next_h (N, H), cache."""
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    """-> dx, dprev_h, dWx, dWh, db. tanh'(z) = 1 - tanh(z)^2, and tanh(z) is next_h itself."""
    x, prev_h, Wx, Wh, next_h = cache
    dz = dnext_h * (1 - next_h ** 2)
    return dz @ Wx.T, dz @ Wh.T, x.T @ dz, prev_h.T @ dz, dz.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache (one step cache per t)."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    prev_h, caches = h0, []
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        caches.append(cache)
    return h, caches


def rnn_backward(dh, cache):
    """dh (N, T, H): the upstream gradient of every hidden state -> dx, dh0, dWx, dWh, db."""
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = 0.0, 0.0, 0.0
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        # h_t feeds the loss directly (dh[:, t]) and the next step (dprev_h): both paths add up
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


def word_embedding_forward(x, W):
    """x (N, T) integers in [0, V), W (V, D) -> out (N, T, D)."""
    return W[x], (x, W)


def word_embedding_backward(dout, cache):
    """-> dW (V, D): a word used twice gets both gradients (np.add.at, not fancy-index assignment)."""
    x, W = cache
    dW = np.zeros_like(W, dtype=dout.dtype)
    np.add.at(dW, x, dout)
    return dW


def sigmoid(x):
    """A numerically stable sigmoid (the handout's own helper)."""
    pos = x >= 0
    z = np.exp(np.where(pos, -x, x))
    return np.where(pos, 1 / (1 + z), z / (1 + z))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """x (N, D), prev_h, prev_c (N, H) -> next_h, next_c (N, H), cache."""
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    """-> dx, dprev_h, dprev_c, dWx, dWh, db."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    # next_c reaches the loss directly and through next_h = o * tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tanh_c, dc * i
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_forward(x, h0, Wx, Wh, b):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache; the cell state starts at zero."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    prev_h, prev_c, caches = h0, np.zeros_like(h0), []
    for t in range(T):
        prev_h, prev_c, cache = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        h[:, t, :] = prev_h
        caches.append(cache)
    return h, caches


def lstm_backward(dh, cache):
    """dh (N, T, H) -> dx, dh0, dWx, dWh, db."""
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = 0.0, 0.0, 0.0
    dprev_h, dprev_c = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t, :] + dprev_h, dprev_c,
                                                                               cache[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


def temporal_affine_forward(x, w, b):
    """x (N, T, D), w (D, M), b (M,) -> out (N, T, M): the same affine map at every step."""
    return x @ w + b, (x, w, b)


def temporal_affine_backward(dout, cache):
    """-> dx (N, T, D), dw (D, M), db (M,): summed over the batch and the time steps."""
    x, w, b = cache
    N, T, D = x.shape
    return dout @ w.T, x.reshape(N * T, D).T @ dout.reshape(N * T, -1), dout.sum(axis=(0, 1))


def temporal_softmax_loss(x, y, mask, verbose=False):
    """x (N, T, V) scores, y (N, T) labels, mask (N, T) booleans -> (loss, dx): cross-entropy summed over the
    masked-in steps and averaged over the N sequences (not over the steps)."""
    N, T, V = x.shape
    flat = x.reshape(N * T, V)
    shifted = flat - flat.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    m = mask.reshape(N * T)
    loss = -np.sum(m * log_p[np.arange(N * T), y.reshape(N * T)]) / N
    dx = np.exp(log_p)
    dx[np.arange(N * T), y.reshape(N * T)] -= 1
    dx *= m[:, None] / N
    return loss, dx.reshape(N, T, V)
