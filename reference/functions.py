"""Activations and losses with their derivatives, numerically stable, pure numpy.

Every activation takes the pre-activation z and returns a; every derivative takes z
(not a: sigma'(a) instead of sigma'(z) is the classic bug this file must not have).
"""

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "LEAKY_SLOPE",
    "activation",
    "derivative",
    "identity",
    "identity_prime",
    "sigmoid",
    "sigmoid_prime",
    "tanh",
    "tanh_prime",
    "relu",
    "relu_prime",
    "leaky_relu",
    "leaky_relu_prime",
    "softplus",
    "softplus_prime",
    "softmax",
    "log_softmax",
    "quadratic_loss",
    "quadratic_delta",
    "binary_cross_entropy",
    "binary_cross_entropy_from_logits",
    "binary_cross_entropy_from_logits_delta",
    "softmax_cross_entropy",
    "softmax_cross_entropy_delta",
    "hinge_loss",
    "hinge_delta",
]

LEAKY_SLOPE = 0.01


def identity(z):
    return z


def identity_prime(z):
    return np.ones_like(z)


def sigmoid(z):
    # exp of a non-positive number never overflows: split by sign.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    return np.tanh(z)


def tanh_prime(z):
    return 1.0 - np.tanh(z) ** 2


def relu(z):
    return np.maximum(z, 0)


def relu_prime(z):
    # relu'(0) = 0, the convention torch uses.
    return (z > 0).astype(z.dtype)


def leaky_relu(z):
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_prime(z):
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)


def softplus(z):
    # log(1 + e^z) = max(z, 0) + log1p(e^-|z|)
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def softplus_prime(z):
    return sigmoid(z)


ACTIVATIONS = {
    "identity": (identity, identity_prime),
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
    "softplus": (softplus, softplus_prime),
}


def activation(name):
    return ACTIVATIONS[name][0]


def derivative(name):
    return ACTIVATIONS[name][1]


def softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# Losses are per sample; the batch reduction (mean or sum) is the caller's.
# Arrays are one sample per row: a, y of shape (m, n).


def quadratic_loss(a, y):
    """1/2 ||a - y||^2 for each sample."""
    return 0.5 * ((a - y) ** 2).sum(axis=-1)


def quadratic_delta(a, y):
    """d(quadratic_loss)/da."""
    return a - y


def binary_cross_entropy(a, y):
    """-[y log a + (1 - y) log(1 - a)] summed over outputs, for each sample."""
    return -(y * np.log(a) + (1 - y) * np.log1p(-a)).sum(axis=-1)


def binary_cross_entropy_from_logits(z, y):
    """The same loss with a = sigmoid(z), without forming a (stable for large |z|)."""
    return (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).sum(axis=-1)


def binary_cross_entropy_from_logits_delta(z, y):
    """d(binary_cross_entropy_from_logits)/dz = sigmoid(z) - y, written as
    (1 - y) sigmoid(z) - y sigmoid(-z) so that it stays exact where sigmoid(z) has rounded to 1
    (sigmoid(30) - 1 computed as a difference keeps only about 3 significant digits)."""
    return (1 - y) * sigmoid(z) - y * sigmoid(-z)


def _one_hot(t, n, dtype=np.float64):
    if t.ndim == 1:
        out = np.zeros((t.shape[0], n), dtype=dtype)
        out[np.arange(t.shape[0]), t.astype(int)] = 1.0
        return out
    return t


def softmax_cross_entropy(z, t):
    """-sum t log softmax(z) for each sample; t one-hot (m, n) or labels (m,)."""
    return -(_one_hot(t, z.shape[-1], z.dtype) * log_softmax(z)).sum(axis=-1)


def softmax_cross_entropy_delta(z, t):
    """d(softmax_cross_entropy)/dz = softmax(z) - t."""
    return softmax(z) - _one_hot(t, z.shape[-1], z.dtype)


def hinge_loss(z, t):
    """Multiclass SVM loss sum_{j != t} max(0, z_j - z_t + 1); t labels (m,)."""
    m = z.shape[0]
    correct = z[np.arange(m), t.astype(int)][:, None]
    margins = np.maximum(0, z - correct + 1.0)
    margins[np.arange(m), t.astype(int)] = 0
    return margins.sum(axis=-1)


def hinge_delta(z, t):
    """A subgradient of hinge_loss with respect to z (margin exactly 0 counts as inactive)."""
    m = z.shape[0]
    idx = t.astype(int)
    correct = z[np.arange(m), idx][:, None]
    active = (z - correct + 1.0 > 0).astype(z.dtype)
    active[np.arange(m), idx] = 0
    active[np.arange(m), idx] = -active.sum(axis=-1)
    return active


LOSSES = {
    "quadratic": quadratic_loss,
    "binary_cross_entropy": binary_cross_entropy,
    "softmax_cross_entropy": softmax_cross_entropy,
    "hinge": hinge_loss,
}
