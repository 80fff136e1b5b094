"""deeplearning.ai course 2, week 1, "Regularization": a three-layer network with L2
regularisation or inverted dropout. One sample per column: X (n_x, m), Y (1, m); W{l}
(n_l, n_{l-1}), b{l} (n_l, 1).

    LINEAR -> RELU [-> DROPOUT] -> LINEAR -> RELU [-> DROPOUT] -> LINEAR -> SIGMOID
    cost = -1/m sum [Y log A3 + (1 - Y) log(1 - A3)]  (+ lambd / (2 m) sum_l ||W_l||^2)
    dropout: D = (rand < keep_prob), A = A * D / keep_prob; backward: dA = dA * D / keep_prob

As in the course, dW and db carry the 1/m (and + lambd / m W), the dA and dZ are gradients of
the SUMMED cost (dZ3 = A3 - Y), dropout reseeds numpy's global generator with 1 on every forward
pass, and the helpers relu and sigmoid return only the activation (reg_utils' versions).
Nothing here writes into an argument or a cache.
"""

from __future__ import annotations

import numpy as np

from reference import functions as F

__all__ = [
    "sigmoid",
    "relu",
    "forward_propagation",
    "compute_cost",
    "backward_propagation",
    "compute_cost_with_regularization",
    "backward_propagation_with_regularization",
    "forward_propagation_with_dropout",
    "backward_propagation_with_dropout",
    "update_parameters",
]


def sigmoid(x: np.ndarray) -> np.ndarray:
    return F.sigmoid(x)  # stable for large |x|


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(0, x)


# ---- the baseline model (the course's reg_utils) ---------------------------------------------


def forward_propagation(X: np.ndarray, parameters: dict):
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    Z1 = W1 @ X + b1
    A1 = relu(Z1)
    Z2 = W2 @ A1 + b2
    A2 = relu(Z2)
    Z3 = W3 @ A2 + b3
    A3 = sigmoid(Z3)
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return A3, cache


def compute_cost(a3: np.ndarray, Y: np.ndarray) -> float:
    m = Y.shape[1]
    info = np.finfo(a3.dtype)
    a3 = np.clip(a3, info.tiny, 1 - info.epsneg)  # the course's nansum, without the nan: 0 log 0 = 0
    logprobs = -(Y * np.log(a3) + (1 - Y) * np.log1p(-a3))
    return float(np.sum(logprobs) / m)


def _backward(X, Y, Z1, A1, W2, Z2, A2, W3, A3, D1=None, D2=None, keep_prob=1.0):
    """The backward pass shared by the three variants (dropout masks D1, D2 when given)."""
    m = X.shape[1]
    dZ3 = A3 - Y  # sigmoid + cross-entropy, of the summed cost
    dW3 = dZ3 @ A2.T / m
    db3 = np.sum(dZ3, axis=1, keepdims=True) / m
    dA2 = W3.T @ dZ3
    if D2 is not None:
        dA2 = dA2 * D2 / keep_prob  # the same units as the forward pass, the same scale
    dZ2 = dA2 * (Z2 > 0)
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dA1 = W2.T @ dZ2
    if D1 is not None:
        dA1 = dA1 * D1 / keep_prob
    dZ1 = dA1 * (Z1 > 0)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2,
            "dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1,
            "dZ1": dZ1, "dW1": dW1, "db1": db1}


def backward_propagation(X: np.ndarray, Y: np.ndarray, cache) -> dict:
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3 = cache
    return _backward(X, Y, Z1, A1, W2, Z2, A2, W3, A3)


# ---- L2 regularisation ----------------------------------------------------------------------


def compute_cost_with_regularization(A3: np.ndarray, Y: np.ndarray, parameters: dict, lambd: float) -> float:
    m = Y.shape[1]
    W1, W2, W3 = parameters["W1"], parameters["W2"], parameters["W3"]
    cross_entropy_cost = compute_cost(A3, Y)
    L2_regularization_cost = lambd / (2 * m) * (np.sum(W1**2) + np.sum(W2**2) + np.sum(W3**2))
    return cross_entropy_cost + float(L2_regularization_cost)


def backward_propagation_with_regularization(X: np.ndarray, Y: np.ndarray, cache, lambd: float) -> dict:
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3 = cache
    m = X.shape[1]
    gradients = _backward(X, Y, Z1, A1, W2, Z2, A2, W3, A3)
    # d/dW of lambd / (2 m) ||W||^2 is lambd / m W; the biases are not regularised
    gradients["dW3"] = gradients["dW3"] + lambd / m * W3
    gradients["dW2"] = gradients["dW2"] + lambd / m * W2
    gradients["dW1"] = gradients["dW1"] + lambd / m * W1
    return gradients


# ---- inverted dropout on the two hidden layers -----------------------------------------------


def forward_propagation_with_dropout(X: np.ndarray, parameters: dict, keep_prob: float = 0.5):
    np.random.seed(1)  # as the course: the same masks on every call
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    Z1 = W1 @ X + b1
    A1 = relu(Z1)
    D1 = (np.random.rand(A1.shape[0], A1.shape[1]) < keep_prob).astype(int)  # 1 keeps, 0 drops
    A1 = A1 * D1 / keep_prob  # scale up so the expected activation is unchanged
    Z2 = W2 @ A1 + b2
    A2 = relu(Z2)
    D2 = (np.random.rand(A2.shape[0], A2.shape[1]) < keep_prob).astype(int)
    A2 = A2 * D2 / keep_prob
    Z3 = W3 @ A2 + b3
    A3 = sigmoid(Z3)
    cache = (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)
    return A3, cache


def backward_propagation_with_dropout(X: np.ndarray, Y: np.ndarray, cache, keep_prob: float) -> dict:
    Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3 = cache
    return _backward(X, Y, Z1, A1, W2, Z2, A2, W3, A3, D1, D2, keep_prob)


def update_parameters(parameters: dict, grads: dict, learning_rate: float) -> dict:
    """One gradient-descent step on a copy: W{l} -= learning_rate dW{l}, b{l} likewise."""
    L = len(parameters) // 2
    updated = {}
    for l in range(1, L + 1):
        updated["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads["dW" + str(l)]
        updated["b" + str(l)] = parameters["b" + str(l)] - learning_rate * grads["db" + str(l)]
    return updated
