"""deeplearning.ai's one-hidden-layer planar classifier ("Planar data classification").

X (n_x, m), Y (n_y, m); tanh hidden layer, sigmoid output, mean binary cross-entropy.

    Z1 = W1 X + b1,  A1 = tanh(Z1),  Z2 = W2 A1 + b2,  A2 = sigmoid(Z2)
    dZ2 = A2 - Y                          dW2 = dZ2 A1^T / m,  db2 = sum(dZ2, axis=1) / m
    dZ1 = W2^T dZ2 * (1 - A1^2)           dW1 = dZ1 X^T / m,   db1 = sum(dZ1, axis=1) / m

(1 - A1^2) is tanh'(Z1) written with A1 = tanh(Z1): right here, wrong for any other activation.
"""

from __future__ import annotations

import numpy as np

from reference import functions as F

__all__ = [
    "layer_sizes",
    "initialize_parameters",
    "forward_propagation",
    "compute_cost",
    "backward_propagation",
    "update_parameters",
    "predict",
    "nn_model",
]


def layer_sizes(X: np.ndarray, Y: np.ndarray, n_h: int = 4) -> tuple[int, int, int]:
    return X.shape[0], n_h, Y.reshape(-1, X.shape[1]).shape[0]


def initialize_parameters(n_x: int, n_h: int, n_y: int, seed: int | None = None) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    # small random weights break the symmetry between hidden units; zero biases are fine
    return {
        "W1": rng.standard_normal((n_h, n_x)) * 0.01,
        "b1": np.zeros((n_h, 1)),
        "W2": rng.standard_normal((n_y, n_h)) * 0.01,
        "b2": np.zeros((n_y, 1)),
    }


def forward_propagation(X: np.ndarray, parameters: dict):
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = F.sigmoid(Z2)  # stable for large |Z2|
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache


def compute_cost(A2: np.ndarray, Y: np.ndarray, parameters: dict | None = None, Z2: np.ndarray | None = None):
    """Mean binary cross-entropy. parameters is unused (the course passes it); with Z2
    (cache["Z2"]) the cost comes from the logits and is exact even where A2 is 0 or 1."""
    m = A2.shape[1]
    Y = Y.reshape(A2.shape)
    if Z2 is not None:
        cost = np.sum(F.binary_cross_entropy_from_logits(Z2, Y)) / m
    else:
        info = np.finfo(A2.dtype)
        A2 = np.clip(A2, info.tiny, 1 - info.epsneg)  # 0 * log(0) would be nan
        logprobs = Y * np.log(A2) + (1 - Y) * np.log1p(-A2)
        cost = -np.sum(logprobs) / m
    return np.squeeze(cost)


def backward_propagation(parameters: dict, cache: dict, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    m = X.shape[1]
    W2 = parameters["W2"]
    A1, A2 = cache["A1"], cache["A2"]
    Y = Y.reshape(A2.shape)
    # sigmoid + cross-entropy: dZ2 = A2 - Y, no division by A2; from Z2 it stays exact where A2 rounded to 1
    dZ2 = F.binary_cross_entropy_from_logits_delta(cache["Z2"], Y).astype(A2.dtype, copy=False)
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (1 - A1**2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters: dict, grads: dict, learning_rate: float = 1.2) -> dict[str, np.ndarray]:
    """One gradient-descent step; new arrays, the caller's parameters are left alone."""
    return {k: parameters[k] - learning_rate * grads["d" + k] for k in ("W1", "b1", "W2", "b2")}


def predict(parameters: dict, X: np.ndarray) -> np.ndarray:
    A2, _ = forward_propagation(X, parameters)
    return A2 > 0.5


def nn_model(
    X: np.ndarray, Y: np.ndarray, n_h: int, num_iterations: int = 10000, seed: int | None = None
) -> dict[str, np.ndarray]:
    n_x, _, n_y = layer_sizes(X, Y)
    parameters = initialize_parameters(n_x, n_h, n_y, seed)
    for _ in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
    return parameters
