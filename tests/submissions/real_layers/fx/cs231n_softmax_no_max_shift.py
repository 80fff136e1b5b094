# expect: fail
# Softmax from the raw scores (no max subtracted): right for small scores, NaN once a score passes ~709.
import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    e = np.exp(X.dot(W))
    prob = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(prob[np.arange(N), y])) + reg * np.sum(W * W)
    prob[np.arange(N), y] -= 1
    return loss, X.T.dot(prob) / N + 2 * reg * W
