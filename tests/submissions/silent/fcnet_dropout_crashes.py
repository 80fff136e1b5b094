# expect: fail raised
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""Assignment 2's FullyConnectedNet (2020 API) whose dropout path crashes inside loss(): the backward pass looks the
dropout cache up under a key the forward never wrote. Without dropout the net is right."""
import numpy as np


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1).dot(w) + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    return dx, x.reshape(x.shape[0], -1).T.dot(dout), np.sum(dout, axis=0)


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx / N


class FullyConnectedNet(object):
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout_keep_ratio=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for i in range(self.num_layers):
            self.params["W" + str(i + 1)] = (weight_scale * np.random.randn(dims[i], dims[i + 1])).astype(dtype)
            self.params["b" + str(i + 1)] = np.zeros(dims[i + 1], dtype=dtype)
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        caches = []
        h = X
        for i in range(1, self.num_layers):
            h, fc = affine_forward(h, self.params["W" + str(i)], self.params["b" + str(i)])
            h, rc = relu_forward(h)
            cache = {"fc": fc, "relu": rc}
            if self.use_dropout:
                h, cache["dropout"] = dropout_forward(h, self.dropout_param)
            caches.append(cache)
        L = self.num_layers
        scores, last = affine_forward(h, self.params["W" + str(L)], self.params["b" + str(L)])
        if mode == "test":
            return scores
        loss, dout = softmax_loss(scores, y)
        grads = {}
        dout, grads["W" + str(L)], grads["b" + str(L)] = affine_backward(dout, last)
        for i in range(L - 1, 0, -1):
            cache = caches[i - 1]
            if self.use_dropout:
                dout = dropout_backward(dout, cache["drop"])  # the bug: the forward stored it as "dropout"
            dout = relu_backward(dout, cache["relu"])
            dout, grads["W" + str(i)], grads["b" + str(i)] = affine_backward(dout, cache["fc"])
        for i in range(1, L + 1):
            W = self.params["W" + str(i)]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads["W" + str(i)] += self.reg * W
        return loss, grads
