# expect: fail
# The L2 gradient added inside the loop over samples: dW gets N * 2 * reg * W (the loss's L2 term is right).
import numpy as np


def svm_loss_naive(W, X, y, reg):
    dW = np.zeros(W.shape)
    loss = 0.0
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        for j in range(W.shape[1]):
            margin = scores[j] - scores[y[i]] + 1
            if j != y[i] and margin > 0:
                loss += margin
                dW[:, j] += X[i] / num_train
                dW[:, y[i]] -= X[i] / num_train
        dW += 2 * reg * W
    return loss / num_train + reg * np.sum(W * W), dW
