# expect: convention reg_without_half
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""Assignment 1 neural_net.py shape: TwoLayerNet(input_size, hidden_size, output_size, std) and loss(X, y, reg),
with reg * sum(W^2) (no 1/2) and 2 * reg * W in the gradients."""
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
        N, D = X.shape
        h = np.maximum(0, X.dot(W1) + b1)
        scores = h.dot(W2) + b2
        if y is None:
            return scores
        s = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(N), y]).mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        d = p.copy(); d[np.arange(N), y] -= 1; d /= N
        grads = {'W2': h.T.dot(d) + 2 * reg * W2, 'b2': d.sum(0)}
        dh = d.dot(W2.T) * (h > 0)
        grads['W1'] = X.T.dot(dh) + 2 * reg * W1
        grads['b1'] = dh.sum(0)
        return loss, grads
