# expect: fail (dropout)
# ruff: noqa
"""A learner's assignment-2 layers (CS231n 2019 handout conventions: p is the keep probability), written for
bpcheck's tests.

Bug (seen in a held-out real 2019 file, holdout.tsv): the mask is written np.random.rand(...) < p / p, so the
comparison is with p / p = 1 and every unit is kept, unscaled: train-mode dropout does nothing at all.
"""
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0.0)


def dropout_forward(x, dropout_param):
    """
    Performs the forward pass for (inverted) dropout.

    - p: Dropout parameter. We keep each neuron output with probability p.
    - mode: 'test' or 'train'.
    """
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])
    mask = None
    if mode == 'train':
        mask = np.random.rand(*x.shape) < p / p
        out = mask * x
    else:
        out = x
    return out.astype(x.dtype, copy=False), (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param['mode'] == 'train':
        return dout * mask
    return dout
