# expect: pass (a warning: lstm_step_backward adds into its dnext_c argument; the gradients are right)
# ruff: noqa
# Written for bpcheck's tests (from scratch): the pattern of a real CS231n 2022 rnn_layers.py whose
# lstm_step_backward does `dnext_c += ...` on the caller's array. Harmless inside lstm_backward, a
# hygiene finding (WARN), never a FAIL.
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dnext_c += dnext_h * o * (1 - tc ** 2)
    da = np.hstack([dnext_c * g * i * (1 - i), dnext_c * prev_c * f * (1 - f), dnext_h * tc * o * (1 - o),
                    dnext_c * i * (1 - g ** 2)])
    return da.dot(Wx.T), da.dot(Wh.T), dnext_c * f, x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)
