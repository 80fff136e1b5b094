# expect: fail
# svm_loss_naive pushes each violating class up but never pulls the correct class down
# (dW[:, y[i]] -= X[i] is missing).
import numpy as np


def svm_loss_naive(W, X, y, reg):
    grad = np.zeros_like(W)
    total = 0.0
    for n in range(len(y)):
        sc = W.T.dot(X[n])
        for k in range(len(sc)):
            if k == y[n]:
                continue
            marg = sc[k] - sc[y[n]] + 1
            if marg > 0:
                total += marg
                grad[:, k] += X[n]
    return total / len(y) + reg * np.sum(W * W), grad / len(y) + 2 * reg * W
