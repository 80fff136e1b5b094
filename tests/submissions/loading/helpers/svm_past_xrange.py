# expect: pass
# ruff: noqa (a student-like fixture: CS231n 2017 style, xrange from the `future` package)
"""Layers whose softmax loss loops over the batch with xrange from past.builtins (CS231n's 2017 template
imports it for Python 2 compatibility). Correct."""
from builtins import range
from past.builtins import xrange
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_loss(x, y):
    N = x.shape[0]
    loss = 0.0
    dx = np.zeros_like(x)
    for i in xrange(N):
        scores = x[i] - np.max(x[i])
        p = np.exp(scores) / np.sum(np.exp(scores))
        loss -= np.log(p[y[i]])
        dx[i] = p
        dx[i, y[i]] -= 1
    return loss / N, dx / N
