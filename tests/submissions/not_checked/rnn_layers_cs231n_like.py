# expect: pass (CS231n assignment 3's RNN layers, its word embedding and its temporal loss are all checked)
# ruff: noqa
# Written for bpcheck's tests: the layout of the public rnn_layers.py submissions we read (functions with
# caches, vanilla RNN and LSTM, embeddings, temporal affine and loss), nothing else of the course.
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da.dot(Wx.T), da.dot(Wh.T), x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h, caches, prev = np.zeros((N, T, h0.shape[1])), [], h0
    for t in range(T):
        prev, c = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
        caches.append(c)
    return h, caches


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0][0].shape[1]))
    dWx, dWh, db = 0, 0, 0
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dprev, a, b_, c = rnn_step_backward(dh[:, t] + dprev, cache[t])
        dWx, dWh, db = dWx + a, dWh + b_, db + c
    return dx, dprev, dWx, dWh, db


def word_embedding_forward(x, W):
    return W[x], (x, W.shape)


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, x, dout)
    return dW


def temporal_softmax_loss(x, y, mask):
    N, T, V = x.shape
    p = np.exp(x - x.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    loss = -np.sum(mask * np.log(p[np.arange(N)[:, None], np.arange(T), y])) / N
    dx = p.copy()
    dx[np.arange(N)[:, None], np.arange(T), y] -= 1
    return loss, dx * mask[:, :, None] / N
