"""CS231n assignment 1's linear classifiers (classifiers/softmax.py, classifiers/linear_svm.py), in the
course's own shape: W (D, C), X (N, D) with one sample per row, integer labels y (N,), and no bias (the
"bias trick" makes it a row of W). Each function returns (loss, dW); losses are means over the N samples
plus L2 as the 2017+ handouts write it, reg * sum(W * W), whose gradient is 2 * reg * W.

The naive versions loop over samples and classes as the handout asks; the vectorized ones do the same
arithmetic in arrays. Nothing here writes into W, X or y.
"""

from __future__ import annotations

import numpy as np

__all__ = ["softmax_loss_naive", "softmax_loss_vectorized", "svm_loss_naive", "svm_loss_vectorized"]


def softmax_loss_naive(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float):
    dW = np.zeros_like(W)
    loss = 0.0
    N, C = X.shape[0], W.shape[1]
    for i in range(N):
        scores = X[i].dot(W)
        scores = scores - np.max(scores)  # exp of a shifted score never overflows
        log_norm = np.log(np.sum(np.exp(scores)))
        loss += log_norm - scores[y[i]]  # -log p_y computed from the scores: finite even if p_y is tiny
        for j in range(C):
            p = np.exp(scores[j] - log_norm)
            dW[:, j] += (p - (j == y[i])) * X[i]
    loss = loss / N + reg * np.sum(W * W)
    dW = dW / N + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float):
    N = X.shape[0]
    scores = X.dot(W)
    scores = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
    loss = -np.sum(log_probs[np.arange(N), y]) / N + reg * np.sum(W * W)
    dscores = np.exp(log_probs)
    dscores[np.arange(N), y] -= 1
    dW = X.T.dot(dscores) / N + 2 * reg * W
    return loss, dW


def svm_loss_naive(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float):
    dW = np.zeros(W.shape)
    loss = 0.0
    N, C = X.shape[0], W.shape[1]
    for i in range(N):
        scores = X[i].dot(W)
        correct = scores[y[i]]
        for j in range(C):
            if j == y[i]:
                continue
            margin = scores[j] - correct + 1  # delta = 1
            if margin > 0:  # a margin of exactly 0 is inactive (the course's subgradient)
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]  # the correct class moves down once per active margin
    loss = loss / N + reg * np.sum(W * W)
    dW = dW / N + 2 * reg * W
    return loss, dW


def svm_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float):
    N = X.shape[0]
    scores = X.dot(W)
    correct = scores[np.arange(N), y][:, None]
    margins = np.maximum(0, scores - correct + 1)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N + reg * np.sum(W * W)
    active = (margins > 0).astype(W.dtype)
    active[np.arange(N), y] = -np.sum(active, axis=1)
    dW = X.T.dot(active) / N + 2 * reg * W
    return loss, dW
