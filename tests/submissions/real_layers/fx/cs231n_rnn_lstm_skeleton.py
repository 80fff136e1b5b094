# expect: fail (the LSTM functions are the handout's skeleton: they return None; the RNN functions are right)
# ruff: noqa
# Written for bpcheck's tests (from scratch): the pattern of a real CS231n 2018 rnn_layers.py handed in with
# the vanilla RNN done and the LSTM part left as given. It must not read PASS.
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    g = dnext_h * (1 - next_h ** 2)
    return g @ Wx.T, g @ Wh.T, x.T @ g, prev_h.T @ g, g.sum(0)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    next_h, next_c, cache = None, None, None
    pass
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    dx, dprev_h, dprev_c, dWx, dWh, db = None, None, None, None, None, None
    pass
    return dx, dprev_h, dprev_c, dWx, dWh, db
