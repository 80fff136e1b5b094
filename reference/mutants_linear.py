"""Mutants of CS231n assignment 1's linear classifiers (reference/cs231n_linear.py): one realistic bug each,
the bugs real softmax.py / linear_svm.py files show (docs/real-world/layers.tsv; see reference.mutants for
the conventions: a module copy with one function replaced, the bug line marked ``# BUG:``).

This module imports numpy and reference only (the sandbox child may import it).
"""

from __future__ import annotations

import numpy as np

from reference import cs231n_linear as R
from reference.mutants import SOURCES, _add, clone_module

__all__: list[str] = []

_R = "reference/cs231n_linear.py"
SOURCES.update({_R: R})


def _softmax_naive_dw_not_averaged(W, X, y, reg):
    dW = np.zeros_like(W)
    loss = 0.0
    N, C = X.shape[0], W.shape[1]
    for i in range(N):
        scores = X[i].dot(W)
        scores = scores - np.max(scores)
        p = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(p[y[i]])
        for j in range(C):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
    loss = loss / N + reg * np.sum(W * W)
    dW += 2 * reg * W  # BUG: the loss is averaged over N, dW is not (dW /= N missing)
    return loss, dW


def _softmax_vectorized_reg_grad_half(W, X, y, reg):
    N = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    p = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(N), y])) / N + reg * np.sum(W * W)
    p[np.arange(N), y] -= 1
    dW = X.T.dot(p) / N + reg * W  # BUG: the loss adds reg * sum W^2, whose gradient is 2 * reg * W
    return loss, dW


def _softmax_vectorized_no_max_shift(W, X, y, reg):
    N = X.shape[0]
    e = np.exp(X.dot(W))  # BUG: scores not shifted by their row max: exp overflows for large scores
    p = e / np.sum(e, axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(N), y])) / N + reg * np.sum(W * W)
    p[np.arange(N), y] -= 1
    return loss, X.T.dot(p) / N + 2 * reg * W


def _svm_naive_correct_class_not_pushed(W, X, y, reg):
    dW = np.zeros(W.shape)
    loss = 0.0
    N, C = X.shape[0], W.shape[1]
    for i in range(N):
        scores = X[i].dot(W)
        for j in range(C):
            if j == y[i]:
                continue
            margin = scores[j] - scores[y[i]] + 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]  # BUG: dW[:, y[i]] -= X[i] missing: the correct class's column stays 0
    loss = loss / N + reg * np.sum(W * W)
    return loss, dW / N + 2 * reg * W


def _svm_vectorized_reg_missing_in_loss(W, X, y, reg):
    N = X.shape[0]
    scores = X.dot(W)
    margins = np.maximum(0, scores - scores[np.arange(N), y][:, None] + 1)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N  # BUG: + reg * np.sum(W * W) missing (dW below has its gradient)
    active = (margins > 0).astype(W.dtype)
    active[np.arange(N), y] = -np.sum(active, axis=1)
    return loss, X.T.dot(active) / N + 2 * reg * W


_add("cs231n_softmax_naive_dw_not_averaged", "missing_mean", "cs231n", "softmax_loss_naive",
     "softmax_loss_naive averages the loss over N but not dW",
     clone_module(R, {"softmax_loss_naive": _softmax_naive_dw_not_averaged}), _R)
_add("cs231n_softmax_vectorized_reg_grad_half", "reg_scale", "cs231n", "softmax_loss_vectorized",
     "softmax_loss_vectorized: loss adds reg * sum W^2, dW adds reg * W (not 2 * reg * W)",
     clone_module(R, {"softmax_loss_vectorized": _softmax_vectorized_reg_grad_half}), _R, ("reg",))
_add("cs231n_softmax_vectorized_no_max_shift", "large_inputs", "cs231n", "softmax_loss_vectorized",
     "softmax_loss_vectorized exponentiates the raw scores (no max subtraction): overflow for large scores",
     clone_module(R, {"softmax_loss_vectorized": _softmax_vectorized_no_max_shift}), _R, ("large",))
_add("cs231n_svm_naive_correct_class_not_pushed", "svm_correct_class", "cs231n", "svm_loss_naive",
     "svm_loss_naive adds X[i] to each violating class's column but never subtracts it from the correct class's",
     clone_module(R, {"svm_loss_naive": _svm_naive_correct_class_not_pushed}), _R)
_add("cs231n_svm_vectorized_reg_missing_in_loss", "reg_cost_scale", "cs231n", "svm_loss_vectorized",
     "svm_loss_vectorized: dW has the L2 gradient, the loss has no L2 term",
     clone_module(R, {"svm_loss_vectorized": _svm_vectorized_reg_missing_in_loss}), _R, ("reg",))
