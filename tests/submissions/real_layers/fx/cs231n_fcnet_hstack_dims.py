# expect: pass
# ruff: noqa
"""A learner's FullyConnectedNet (CS231n assignment 2), written for bpcheck's tests.

Correct for every net the course builds (at least one hidden layer). Its layer sizes come from
np.hstack((input_dim, hidden_dims, num_classes)): with hidden_dims=[] the empty list makes the array
float and np.random.randn rejects the sizes (TypeError), as a real 2018 file does; another real file
indexes hidden_dims[0]. A net with no hidden layer is outside the assignment, so it is not a valid input.
"""
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


def softmax_loss(x, y):
    z = x - np.max(x, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    N = x.shape[0]
    loss = -np.sum(log_p[np.arange(N), y]) / N
    dx = np.exp(log_p)
    dx[np.arange(N), y] -= 1
    return loss, dx / N


class FullyConnectedNet(object):
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, reg=0.0, weight_scale=1e-2,
                 dtype=np.float32):
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}
        dims = np.hstack((input_dim, hidden_dims, num_classes))
        for i in range(self.num_layers):
            self.params['W' + str(i + 1)] = weight_scale * np.random.randn(dims[i], dims[i + 1])
            self.params['b' + str(i + 1)] = np.zeros(dims[i + 1])
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        caches = {}
        out = X
        for i in range(1, self.num_layers):
            out, caches['a' + str(i)] = affine_forward(out, self.params['W' + str(i)], self.params['b' + str(i)])
            out, caches['r' + str(i)] = relu_forward(out)
        L = self.num_layers
        scores, caches['a' + str(L)] = affine_forward(out, self.params['W' + str(L)], self.params['b' + str(L)])
        if y is None:
            return scores
        loss, dout = softmax_loss(scores, y)
        grads = {}
        for i in range(L, 0, -1):
            if i < L:
                dout = relu_backward(dout, caches['r' + str(i)])
            dout, dw, db = affine_backward(dout, caches['a' + str(i)])
            W = self.params['W' + str(i)]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads['W' + str(i)] = dw + self.reg * W
            grads['b' + str(i)] = db
        return loss, grads
