# expect: fail bn_no_mean_path
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""A batchnorm_backward without the path through the batch mean; otherwise layers_norm_correct.py.
Assignment-2-style layers with batchnorm (staged graph and the simplified _alt), layernorm through
transposes, spatial batchnorm through batchnorm, groupnorm, and inverted dropout (p keeps)."""
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    N, D = x.shape
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == 'train':
        sample_mean = np.mean(x, axis=0)
        sample_var = np.var(x, axis=0)
        x_centered = x - sample_mean
        inv_std = 1.0 / np.sqrt(sample_var + eps)
        x_norm = x_centered * inv_std
        out = gamma * x_norm + beta
        cache = (x_norm, x_centered, inv_std, gamma)
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == 'test':
        x_norm = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_norm + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    x_norm, x_centered, inv_std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_norm).sum(axis=0)
    dx_norm = dout * gamma
    dinv_std = (dx_norm * x_centered).sum(axis=0)
    dvar = dinv_std * -0.5 * inv_std ** 3
    dx_centered = dx_norm * inv_std + dvar * 2.0 * x_centered / N
    dx = dx_centered  # forgot the gradient through the mean
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    x_norm, x_centered, inv_std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_norm).sum(axis=0)
    dx_norm = dout * gamma
    dx = inv_std / N * (N * dx_norm - dx_norm.sum(axis=0) - x_norm * (dx_norm * x_norm).sum(axis=0))
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get('eps', 1e-5)
    xt = x.T  # features along axis 0: the batchnorm algebra per sample
    mean = xt.mean(axis=0)
    xc = xt - mean
    inv_std = 1.0 / np.sqrt((xc ** 2).mean(axis=0) + eps)
    x_norm = (xc * inv_std).T
    out = gamma * x_norm + beta
    return out, (x_norm, inv_std, gamma)


def layernorm_backward(dout, cache):
    x_norm, inv_std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_norm).sum(axis=0)
    dxn = (dout * gamma).T
    xn = x_norm.T
    D = dxn.shape[0]
    dx = inv_std / D * (D * dxn - dxn.sum(axis=0) - xn * (dxn * xn).sum(axis=0))
    return dx.T, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """We keep each neuron output with probability p."""
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])
    mask = None
    if mode == 'train':
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    elif mode == 'test':
        out = x
    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param['mode'] == 'train':
        return dout * mask
    return dout


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    flat = np.moveaxis(x, 1, -1).reshape(-1, C)
    out, cache = batchnorm_forward(flat, gamma, beta, bn_param)
    return np.moveaxis(out.reshape(N, H, W, C), -1, 1), cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dx, dgamma, dbeta = batchnorm_backward_alt(np.moveaxis(dout, 1, -1).reshape(-1, C), cache)
    return np.moveaxis(dx.reshape(N, H, W, C), -1, 1), dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get('eps', 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N * G, -1)
    mean = xg.mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(xg.var(axis=1, keepdims=True) + eps)
    x_norm = ((xg - mean) * inv_std).reshape(N, C, H, W)
    out = gamma * x_norm + beta
    return out, (x_norm, inv_std, gamma, G)


def spatial_groupnorm_backward(dout, cache):
    x_norm, inv_std, gamma, G = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_norm).sum(axis=(0, 2, 3), keepdims=True)
    dxn = (dout * gamma).reshape(N * G, -1)
    xn = x_norm.reshape(N * G, -1)
    M = dxn.shape[1]
    dx = inv_std / M * (M * dxn - dxn.sum(axis=1, keepdims=True) - xn * (dxn * xn).sum(axis=1, keepdims=True))
    return dx.reshape(N, C, H, W), dgamma, dbeta
