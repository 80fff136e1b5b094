"""CS231n assignment 2's normalisation and dropout layers: forward returns (out, cache), backward
takes (dout, cache), one sample per row; the spatial layers take images x (N, C, H, W).

    batchnorm (train):  mu = mean_N x,  var = mean_N (x - mu)^2,  xhat = (x - mu) / sqrt(var + eps)
                        out = gamma xhat + beta
                        running_mean = momentum running_mean + (1 - momentum) mu      (likewise var)
    batchnorm (test):   xhat = (x - running_mean) / sqrt(running_var + eps)
    layernorm:          the same statistics over the D features of each sample, no running stats
    groupnorm:          the same over each of the G groups of C/G channels (and all H, W) of a sample
    dropout (train):    out = x * mask / p,  mask ~ Bernoulli(p)   (p keeps: the course since 2018)
    dropout (test):     out = x

The course's conventions, which differ from torch's: momentum weighs the OLD running value
(torch's momentum weighs the new one: torch_momentum = 1 - momentum) and running_var is updated
with the biased batch variance (torch uses the unbiased one). eps sits inside the square root.
bn_param / ln_param / gn_param / dropout_param are dicts as the course passes them; batchnorm
writes the updated running statistics back into bn_param. Nothing else writes into an argument.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "layernorm_forward",
    "layernorm_backward",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "spatial_groupnorm_forward",
    "spatial_groupnorm_backward",
    "dropout_forward",
    "dropout_backward",
]


# ---- batch normalisation -------------------------------------------------------------------


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict):
    """x (N, D), gamma and beta (D,); bn_param: mode ('train' | 'test'), eps, momentum,
    running_mean, running_var (both (D,), zeros when absent)."""
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    if mode == "train":
        mu = x.mean(axis=0)
        xmu = x - mu
        var = np.mean(xmu**2, axis=0)  # biased (divides by N), as the course's running_var too
        std = np.sqrt(var + eps)
        xhat = xmu / std
        out = gamma * xhat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xhat, xmu, std, gamma)
    elif mode == "test":
        xhat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * xhat + beta
        cache = None  # the course never backpropagates in test mode
    else:
        raise ValueError(f'Invalid forward batchnorm mode "{mode}"; use "train" or "test"')

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout: np.ndarray, cache):
    """The computational graph of the forward pass, one node at a time, in reverse."""
    xhat, xmu, std, gamma = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)  # beta was broadcast over the N rows
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    # xhat = xmu * (1 / std)
    dxmu = dxhat / std
    distd = np.sum(dxhat * xmu, axis=0)
    dstd = -distd / std**2
    # std = sqrt(var + eps)
    dvar = 0.5 * dstd / std
    # var = mean(xmu^2): every row's xmu feeds the variance
    dxmu += 2.0 * xmu * dvar / N
    # xmu = x - mu, mu = mean(x): the mean path takes its share back from every row
    dmu = -np.sum(dxmu, axis=0)
    dx = dxmu + dmu / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout: np.ndarray, cache):
    """The same gradient simplified on paper:
    dx = (N dxhat - sum dxhat - xhat sum(dxhat xhat)) / (N std)."""
    xhat, xmu, std, gamma = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dx = (N * dxhat - np.sum(dxhat, axis=0) - xhat * np.sum(dxhat * xhat, axis=0)) / (N * std)
    return dx, dgamma, dbeta


# ---- layer normalisation: batchnorm's train-mode statistics over the other axis -------------


def layernorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ln_param: dict):
    """x (N, D), gamma and beta (D,); ln_param: eps. Each sample is normalised over its D features."""
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    xmu = x - mu
    var = np.mean(xmu**2, axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    xhat = xmu / std
    out = gamma * xhat + beta
    cache = (xhat, std, gamma)
    return out, cache


def _normalised_backward(dxhat: np.ndarray, xhat: np.ndarray, std: np.ndarray, axis):
    """dx from dxhat when xhat = (x - mean x) / std over `axis` (batchnorm_backward_alt's formula)."""
    n = np.prod([xhat.shape[a] for a in np.atleast_1d(axis)])
    s1 = np.sum(dxhat, axis=axis, keepdims=True)
    s2 = np.sum(dxhat * xhat, axis=axis, keepdims=True)
    return (n * dxhat - s1 - xhat * s2) / (n * std)


def layernorm_backward(dout: np.ndarray, cache):
    xhat, std, gamma = cache
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dx = _normalised_backward(dout * gamma, xhat, std, axis=1)
    return dx, dgamma, dbeta


# ---- spatial batch normalisation: one mean and variance per channel, over N, H and W ---------


def spatial_batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict):
    """x (N, C, H, W), gamma and beta (C,): batchnorm_forward on the N*H*W rows of C channels."""
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)  # channels last, then one row per pixel
    out, cache = batchnorm_forward(rows, gamma, beta, bn_param)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward(dout: np.ndarray, cache):
    N, C, H, W = dout.shape
    drows = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx, dgamma, dbeta = batchnorm_backward_alt(drows, cache)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta


# ---- spatial group normalisation: layernorm over each group of C/G channels ------------------


def spatial_groupnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, G: int, gn_param: dict):
    """x (N, C, H, W); gamma and beta (1, C, 1, 1) (or (C,), as before 2021); G divides C."""
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    mu = xg.mean(axis=(2, 3, 4), keepdims=True)
    xmu = xg - mu
    var = np.mean(xmu**2, axis=(2, 3, 4), keepdims=True)
    std = np.sqrt(var + eps)
    xhat = (xmu / std).reshape(N, C, H, W)
    out = gamma.reshape(1, C, 1, 1) * xhat + beta.reshape(1, C, 1, 1)
    cache = (xhat, std, gamma, G)
    return out, cache


def spatial_groupnorm_backward(dout: np.ndarray, cache):
    xhat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dbeta = np.sum(dout, axis=(0, 2, 3)).reshape(gamma.shape)  # shaped like the parameter
    dgamma = np.sum(dout * xhat, axis=(0, 2, 3)).reshape(gamma.shape)
    dxhat = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, G, C // G, H, W)
    dx = _normalised_backward(dxhat, xhat.reshape(N, G, C // G, H, W), std, axis=(2, 3, 4))
    return dx.reshape(N, C, H, W), dgamma, dbeta


# ---- inverted dropout ----------------------------------------------------------------------


def dropout_forward(x: np.ndarray, dropout_param: dict):
    """dropout_param: p (the probability of KEEPING a unit), mode ('train' | 'test'), seed.
    Inverted: the kept units are scaled by 1/p at train time, so test time is the identity."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    if mode == "train":
        mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype)  # the 1/p travels with the mask
        out = x * mask
    elif mode == "test":
        out = x
    else:
        raise ValueError(f'Invalid forward dropout mode "{mode}"; use "train" or "test"')
    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout: np.ndarray, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask  # the same units, the same 1/p
    return dout
