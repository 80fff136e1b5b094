# expect: pass
# ruff: noqa
# Written for bpcheck's tests: the word embedding and temporal softmax loss of an rnn_layers.py, in the loop
# style many students use (one step at a time), nothing else of the course.
import numpy as np


def word_embedding_forward(x, W):
    out = W[x, :]
    cache = (x, W.shape)
    return out, cache


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape, dtype=dout.dtype)
    N, T = x.shape
    for n in range(N):
        for t in range(T):
            dW[x[n, t]] += dout[n, t]  # one word at a time: a repeated word adds up
    return dW


def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for t in range(T):
        s = x[:, t, :] - np.max(x[:, t, :], axis=1, keepdims=True)
        p = np.exp(s) / np.sum(np.exp(s), axis=1, keepdims=True)
        rows = np.arange(N)
        loss -= np.sum(mask[:, t] * np.log(p[rows, y[:, t]]))
        p[rows, y[:, t]] -= 1
        dx[:, t, :] = p * mask[:, t][:, None]
    if verbose:
        print('dx shape', dx.shape)
    return loss / N, dx / N
