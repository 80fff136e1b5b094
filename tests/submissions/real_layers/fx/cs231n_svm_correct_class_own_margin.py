# expect: fail
# The vectorized SVM marks every positive margin with 1, the correct class's own margin of 1 included, and
# sets the correct column to minus the row sum: one X_i too many subtracted there. The loss subtracts the
# N own margins and is right.
import numpy as np


def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    S = X.dot(W)
    M = S - S[np.arange(N), y][:, None] + 1
    M[M < 0] = 0
    loss = (M.sum() - N) / N + reg * (W ** 2).sum()
    M[M > 0] = 1
    M[np.arange(N), y] = -M.sum(axis=1)
    return loss, X.T.dot(M) / N + 2 * reg * W
