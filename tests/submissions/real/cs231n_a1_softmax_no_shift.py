# expect: fail
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""CS231n assignment-1 (2020+) layers: affine, relu, svm and softmax losses. softmax_loss exponentiates the raw
scores (no max shift): inf loss and NaN dx once a score exceeds ~709, where the shift-invariant softmax is finite."""
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    return dout.dot(w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T.dot(dout), dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def svm_loss(x, y):
    n = x.shape[0]
    correct = x[np.arange(n), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(n), y] = 0
    loss = margins.sum() / n
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(n), y] -= dx.sum(axis=1)
    return loss, dx / n


def softmax_loss(x, y):
    n = x.shape[0]
    e = np.exp(x)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).sum() / n
    dx = p.copy()
    dx[np.arange(n), y] -= 1
    return loss, dx / n
