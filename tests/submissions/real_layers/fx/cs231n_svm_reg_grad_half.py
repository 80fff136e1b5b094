# expect: fail
# The 2017+ loss reg * sum(W * W) with the 2016 gradient reg * W: the file's own loss and dW disagree
# (several real linear_svm.py files, naive and vectorized).
import numpy as np


def svm_loss_naive(W, X, y, reg):
    dW = np.zeros(W.shape)
    loss = 0.0
    for i in range(X.shape[0]):
        s = X[i].dot(W)
        for j in range(W.shape[1]):
            if j != y[i] and s[j] - s[y[i]] + 1 > 0:
                loss += s[j] - s[y[i]] + 1
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss = loss / X.shape[0] + reg * np.sum(W * W)
    dW = dW / X.shape[0] + reg * W
    return loss, dW
