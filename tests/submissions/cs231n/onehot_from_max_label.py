# expect: fail class_absent
# ruff: noqa (a student-like fixture: course style kept on purpose)
"""TwoLayerNet whose softmax builds its one-hot targets from the labels it sees: np.eye(y.max() + 1)[y]
has too few columns when the batch happens to miss the highest class (and the same for
np.bincount(y) without minlength). Right on every batch that holds every class."""
import numpy as np


class TwoLayerNet(object):
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {
            'W1': std * np.random.randn(input_size, hidden_size), 'b1': np.zeros(hidden_size),
            'W2': std * np.random.randn(hidden_size, output_size), 'b2': np.zeros(output_size),
        }

    def loss(self, X, y=None, reg=0.0):
        W1, b1, W2, b2 = self.params['W1'], self.params['b1'], self.params['W2'], self.params['b2']
        n = X.shape[0]
        hidden = np.maximum(0, X @ W1 + b1)
        scores = hidden @ W2 + b2
        if y is None:
            return scores
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
        Y = np.eye(np.max(y) + 1)[y]  # one-hot, as wide as the largest label in this batch
        loss = -np.sum(Y * np.log(probs)) / n + 0.5 * reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
        dscores = (probs - Y) / n
        grads = {'W2': hidden.T @ dscores + reg * W2, 'b2': np.sum(dscores, axis=0)}
        dhidden = dscores @ W2.T
        dhidden[hidden <= 0] = 0
        grads['W1'] = X.T @ dhidden + reg * W1
        grads['b1'] = np.sum(dhidden, axis=0)
        return loss, grads
