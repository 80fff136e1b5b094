# expect: fail reg_on_bias_loss_only
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""Assignment-1 TwoLayerNet whose loss regularises the biases too, reg * (|W1|^2 + |b1|^2 + |W2|^2 + |b2|^2),
while its gradients regularise W only: the loss is not the function the gradients differentiate."""
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
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        sq = lambda a: np.sum(a * a)
        loss = -np.log(probs[np.arange(N), y]).mean() + reg * (sq(W1) + sq(b1) + sq(W2) + sq(b2))
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {}
        grads['W2'] = hidden.T.dot(dscores) + 2 * reg * W2
        grads['b2'] = dscores.sum(axis=0)
        dhidden = dscores.dot(W2.T) * (hidden > 0)
        grads['W1'] = X.T.dot(dhidden) + 2 * reg * W1
        grads['b1'] = dhidden.sum(axis=0)
        return loss, grads

    def predict(self, X):
        return np.argmax(self.loss(X), axis=1)
