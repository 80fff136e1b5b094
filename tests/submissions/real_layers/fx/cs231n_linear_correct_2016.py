# expect: pass
# A 2016-style classifiers file (softmax.py and linear_svm.py in one): L2 as 0.5 * reg * sum(W * W), so
# dW gets reg * W. Right under that handout's convention: bpcheck must read it, never blame it.
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    num_train, num_classes = X.shape[0], W.shape[1]
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(num_train):
        f = X[i].dot(W)
        f -= np.max(f)
        p = np.exp(f) / np.sum(np.exp(f))
        loss -= np.log(p[y[i]])
        for c in range(num_classes):
            dW[:, c] += (p[c] - (c == y[i])) * X[i]
    return loss / num_train + 0.5 * reg * np.sum(W * W), dW / num_train + reg * W


def svm_loss_vectorized(W, X, y, reg):
    n = X.shape[0]
    s = X.dot(W)
    m = np.maximum(0, s - s[np.arange(n), y].reshape(-1, 1) + 1.0)
    m[np.arange(n), y] = 0
    b = (m > 0) * 1.0
    b[np.arange(n), y] = -b.sum(axis=1)
    return m.sum() / n + 0.5 * reg * np.sum(W * W), X.T.dot(b) / n + reg * W
