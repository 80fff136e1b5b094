"""deeplearning.ai's L-layer network ("Building your Deep Neural Network: Step by Step").

One sample per column: X (n_x, m), Y (n_y, m) (usually (1, m)); W{l} (n_l, n_{l-1}), b{l} (n_l, 1).

    Z[l] = W[l] A[l-1] + b[l],   A[l] = g[l](Z[l])        (relu hidden, sigmoid output)
    cost = -1/m sum [Y log AL + (1 - Y) log(1 - AL)]
    dW[l] = dZ[l] A[l-1]^T / m,   db[l] = sum(dZ[l], axis=1) / m,   dA[l-1] = W[l]^T dZ[l]

As in the course, dW and db carry the 1/m while the dA are gradients of the SUMMED cost
(m times the mean's). Nothing here writes into an argument or a cache.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reference import functions as F

__all__ = [
    "initialize_parameters_deep",
    "linear_forward",
    "sigmoid",
    "relu",
    "tanh",
    "leaky_relu",
    "softplus",
    "identity",
    "linear_activation_forward",
    "L_model_forward",
    "compute_cost",
    "linear_backward",
    "relu_backward",
    "sigmoid_backward",
    "tanh_backward",
    "linear_activation_backward",
    "L_model_backward",
    "update_parameters",
    "L_layer_model",
]


def initialize_parameters_deep(layer_dims: Sequence[int], seed: int | None = None) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        # scaled by 1/sqrt(n_{l-1}) so deep stacks neither explode nor vanish at the start
        parameters["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) / np.sqrt(
            layer_dims[l - 1]
        )
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


# ---- forward -------------------------------------------------------------------------------


def linear_forward(A: np.ndarray, W: np.ndarray, b: np.ndarray):
    Z = W @ A + b  # b (n_l, 1) broadcasts over the m columns
    cache = (A, W, b)
    return Z, cache


# Each activation returns (A, activation_cache) with activation_cache = Z.
def sigmoid(Z: np.ndarray):
    return F.sigmoid(Z), Z  # stable for large |Z|


def relu(Z: np.ndarray):
    return np.maximum(0, Z), Z


def tanh(Z: np.ndarray):
    return np.tanh(Z), Z


def leaky_relu(Z: np.ndarray):
    return F.leaky_relu(Z), Z


def softplus(Z: np.ndarray):
    return F.softplus(Z), Z


def identity(Z: np.ndarray):
    return Z, Z


_FORWARD = {
    "sigmoid": sigmoid,
    "relu": relu,
    "tanh": tanh,
    "leaky_relu": leaky_relu,
    "softplus": softplus,
    "identity": identity,
}


def linear_activation_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, activation: str):
    if activation not in _FORWARD:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(_FORWARD)}")
    Z, linear_cache = linear_forward(A_prev, W, b)
    A, activation_cache = _FORWARD[activation](Z)
    return A, (linear_cache, activation_cache)


def _layer_activations(L: int, activations: Sequence[str] | None) -> list[str]:
    if activations is None:
        return ["relu"] * (L - 1) + ["sigmoid"]
    activations = list(activations)
    if len(activations) != L:
        raise ValueError(f"activations has {len(activations)} names for {L} layers; give one per layer")
    if activations[-1] != "sigmoid":
        raise ValueError(
            f"activations[-1]={activations[-1]!r}: the cross-entropy cost here needs a sigmoid output layer"
        )
    return activations


def L_model_forward(X: np.ndarray, parameters: dict, activations: Sequence[str] | None = None):
    """[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID, or the given activation per layer."""
    caches = []
    A = X
    L = len(parameters) // 2
    activations = _layer_activations(L, activations)
    for l in range(1, L + 1):
        A, cache = linear_activation_forward(
            A, parameters["W" + str(l)], parameters["b" + str(l)], activations[l - 1]
        )
        caches.append(cache)
    return A, caches


# ---- cost ----------------------------------------------------------------------------------


def compute_cost(AL: np.ndarray, Y: np.ndarray, ZL: np.ndarray | None = None):
    """Mean binary cross-entropy (summed over output units, averaged over the m columns).

    Given ZL (the last pre-activation, caches[-1][1]) the cost is computed from the logits
    and stays exact where AL has rounded to 0 or 1; from AL alone it clips AL just inside
    (0, 1) so that 0 * log(0) never turns into nan.
    """
    m = AL.shape[1]
    Y = Y.reshape(AL.shape)
    if ZL is not None:
        cost = np.sum(F.binary_cross_entropy_from_logits(ZL, Y)) / m
    else:
        info = np.finfo(AL.dtype)
        AL = np.clip(AL, info.tiny, 1 - info.epsneg)
        cost = -np.sum(Y * np.log(AL) + (1 - Y) * np.log1p(-AL)) / m
    return np.squeeze(cost)


# ---- backward ------------------------------------------------------------------------------


def linear_backward(dZ: np.ndarray, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ  # no 1/m: gradient of the summed cost, as the course has it
    return dA_prev, dW, db


def relu_backward(dA: np.ndarray, cache):
    Z = cache
    dZ = np.array(dA, copy=True)  # a copy: dA belongs to the caller
    dZ[Z <= 0] = 0  # relu'(0) = 0
    return dZ


def sigmoid_backward(dA: np.ndarray, cache):
    s = F.sigmoid(cache)
    return dA * s * (1 - s)


def tanh_backward(dA: np.ndarray, cache):
    return dA * (1 - np.tanh(cache) ** 2)


def _backward_from(name: str):
    prime = F.derivative(name)
    return lambda dA, cache: dA * prime(cache)


_BACKWARD = {
    "sigmoid": sigmoid_backward,
    "relu": relu_backward,
    "tanh": tanh_backward,
    "leaky_relu": _backward_from("leaky_relu"),
    "softplus": _backward_from("softplus"),
    "identity": lambda dA, cache: dA,
}


def linear_activation_backward(dA: np.ndarray, cache, activation: str):
    if activation not in _BACKWARD:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(_BACKWARD)}")
    linear_cache, activation_cache = cache
    dZ = _BACKWARD[activation](dA, activation_cache)
    return linear_backward(dZ, linear_cache)


def L_model_backward(AL: np.ndarray, Y: np.ndarray, caches, activations: Sequence[str] | None = None):
    """grads["dA" + str(l-1)], grads["dW" + str(l)], grads["db" + str(l)] for l = L..1."""
    grads = {}
    L = len(caches)
    activations = _layer_activations(L, activations)
    Y = Y.reshape(AL.shape)
    # The course's dAL = -(Y/AL - (1-Y)/(1-AL)) times sigma'(ZL) = AL (1 - AL) is AL - Y:
    # written directly it never divides by an AL that has saturated to 0 or 1. We take it from
    # ZL (in the cache) rather than AL, exact even where AL has rounded to 1.
    linear_cache, ZL = caches[L - 1]
    dZL = F.binary_cross_entropy_from_logits_delta(ZL, Y).astype(AL.dtype, copy=False)
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = linear_backward(dZL, linear_cache)
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = linear_activation_backward(grads["dA" + str(l + 1)], caches[l], activations[l])
        grads["dA" + str(l)] = dA_prev
        grads["dW" + str(l + 1)] = dW
        grads["db" + str(l + 1)] = db
    return grads


def update_parameters(parameters: dict, grads: dict, learning_rate: float) -> dict[str, np.ndarray]:
    """One gradient-descent step. Returns a NEW dict of new arrays; the caller's stay as they were."""
    return {k: p - learning_rate * grads["d" + k] for k, p in parameters.items()}


def L_layer_model(
    X: np.ndarray,
    Y: np.ndarray,
    layers_dims: Sequence[int],
    learning_rate: float = 0.0075,
    num_iterations: int = 3000,
    seed: int | None = None,
):
    """Batch gradient descent; returns (parameters, costs) with the cost of every iteration."""
    parameters = initialize_parameters_deep(layers_dims, seed)
    costs = []
    for _ in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        costs.append(float(compute_cost(AL, Y, caches[-1][1])))
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, learning_rate)
    return parameters, costs
