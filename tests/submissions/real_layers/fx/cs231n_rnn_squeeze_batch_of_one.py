# expect: fail (rnn_forward squeezes x[:, t, :]: a batch of one sequence, or D = 1, loses an axis and the step raises)
# ruff: noqa
# Written for bpcheck's tests (from scratch): the pattern of a real CS231n 2023 rnn_layers.py, where the
# sequence loop hands each step x[:, t, :].squeeze(); right for N > 1 and D > 1 only.
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(np.dot(x, Wx) + np.dot(prev_h, Wh) + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dz = (1.0 - next_h * next_h) * dnext_h
    return np.dot(dz, Wx.T), np.dot(dz, Wh.T), np.dot(x.T, dz), np.dot(prev_h.T, dz), np.sum(dz, axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    steps = []
    cur = h0
    for t in range(T):
        cur, c = rnn_step_forward(x[:, t, :].squeeze(), cur, Wx, Wh, b)
        h[:, t, :] = cur
        steps.append(c)
    return h, (D, steps)


def rnn_backward(dh, cache):
    D, steps = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, D))
    dWx, dWh, db = 0.0, 0.0, 0.0
    carry = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dxt, carry, a, w, c = rnn_step_backward(dh[:, t, :] + carry, steps[t])
        dx[:, t, :] = dxt.reshape(N, D)
        dWx, dWh, db = dWx + a, dWh + w, db + c
    return dx, carry, dWx, dWh, db
