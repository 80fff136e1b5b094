# expect: fail
# The vectorized SVM's loss forgets the L2 term (or writes it as a statement whose value is dropped) while
# dW has 2 * reg * W: the notebook's reg = 5e-6 hides it.
import numpy as np


def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X @ W
    margin = np.maximum(scores - scores[range(N), y][:, None] + 1, 0)
    margin[range(N), y] = 0
    loss = margin.sum() / N
    loss + reg * np.sum(W ** 2)
    g = (margin > 0).astype(float)
    g[range(N), y] = -g.sum(1)
    return loss, X.T @ g / N + 2 * reg * W
