# expect: fail single_sample_only
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""TwoLayerNet with a np.squeeze added to "fix" a shape: harmless for batches, but the probabilities
of a batch of one sample lose their batch axis and the loss crashes. Right on every batch of two or more."""
import numpy as np


class TwoLayerNet(object):
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {}
        self.params['W1'] = std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        N = X.shape[0]
        a1 = np.maximum(0, X.dot(W1) + b1)
        scores = a1.dot(W2) + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        p = np.squeeze(np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -np.mean(np.log(p[np.arange(N), y])) + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = p.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {}
        grads['W2'] = a1.T.dot(dscores) + reg * W2
        grads['b2'] = dscores.sum(axis=0)
        da1 = dscores.dot(W2.T) * (a1 > 0)
        grads['W1'] = X.T.dot(da1) + reg * W1
        grads['b1'] = da1.sum(axis=0)
        return loss, grads
