"""Nielsen's network.py / network2.py, one sample at a time (one sample = one column).

    z^l = W^l a^{l-1} + b^l,   a^l = sigma_l(z^l)
    delta^L = dC/da^L * sigma_L'(z^L)              (the cost class knows the short cuts)
    delta^l = (W^{l+1}^T delta^{l+1}) * sigma_l'(z^l)
    dC/db^l = delta^l,   dC/dW^l = delta^l a^{l-1}^T

Generalised from the book in two ways only: an activation per layer (names from
reference.functions.ACTIVATIONS) and a chosen cost. Nothing here writes into an argument:
updates build new arrays, SGD shuffles a copy of the index list.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reference.functions import (
    ACTIVATIONS,
    binary_cross_entropy_from_logits,
    binary_cross_entropy_from_logits_delta,
)

__all__ = ["QuadraticCost", "CrossEntropyCost", "Network"]


class QuadraticCost:
    """C = 1/2 ||a - y||^2 per sample."""

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> float:
        return 0.5 * float(np.sum((a - y) ** 2))

    @staticmethod
    def delta(z: np.ndarray, a: np.ndarray, y: np.ndarray, act_prime) -> np.ndarray:
        return (a - y) * act_prime(z)


class CrossEntropyCost:
    """C = -sum [y ln a + (1 - y) ln(1 - a)] per sample, for a sigmoid output layer."""

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> float:
        if z is not None:
            # From the logits: exact even where a has rounded to 0 or 1.
            return float(np.sum(binary_cross_entropy_from_logits(z, y)))
        # Only a: keep a strictly inside (0, 1) so a saturated output costs a large finite
        # number instead of 0 * log(0) = nan (the book uses np.nan_to_num for the same reason).
        info = np.finfo(a.dtype) if np.issubdtype(a.dtype, np.floating) else np.finfo(float)
        a = np.clip(a, info.tiny, 1 - info.epsneg)
        return float(-np.sum(y * np.log(a) + (1 - y) * np.log1p(-a)))

    @staticmethod
    def delta(z: np.ndarray, a: np.ndarray, y: np.ndarray, act_prime) -> np.ndarray:
        # sigma'(z) cancels against the cost's 1 / (a (1 - a)): a - y, no division, no learning
        # slowdown. From z rather than a it stays exact where a has rounded to 1.
        return binary_cross_entropy_from_logits_delta(z, y).astype(a.dtype, copy=False)


class Network:
    def __init__(
        self,
        sizes: Sequence[int],
        activations: Sequence[str] | None = None,
        cost=QuadraticCost,
        seed: int | None = None,
    ) -> None:
        self.num_layers = len(sizes)
        self.sizes = list(sizes)
        if activations is None:
            activations = ["sigmoid"] * (self.num_layers - 1)
        activations = list(activations)
        if len(activations) != self.num_layers - 1:
            raise ValueError(
                f"activations has {len(activations)} names but sizes={self.sizes} has "
                f"{self.num_layers - 1} layers; give one activation per layer"
            )
        for name in activations:
            if name not in ACTIVATIONS:
                raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
        if cost is CrossEntropyCost and activations[-1] != "sigmoid":
            raise ValueError(
                f"CrossEntropyCost.delta = a - y assumes a sigmoid output layer, got {activations[-1]!r}; "
                f"use a sigmoid output or QuadraticCost"
            )
        self.activations = activations
        self.cost = cost
        # network2's default: weights scaled by 1/sqrt(fan-in) so sigmoids do not start saturated.
        rng = np.random.default_rng(seed)
        self.biases = [rng.standard_normal((n, 1)) for n in self.sizes[1:]]
        self.weights = [
            rng.standard_normal((n, k)) / np.sqrt(k) for k, n in zip(self.sizes[:-1], self.sizes[1:])
        ]

    def _act(self, l: int):
        return ACTIVATIONS[self.activations[l]][0]

    def _act_prime(self, l: int):
        return ACTIVATIONS[self.activations[l]][1]

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            a = self._act(l)(w @ a + b)
        return a

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gradient of the cost of ONE sample x (n_in, 1) with target y (n_out, 1). b first."""
        nabla_b = [np.zeros_like(b) for b in self.biases]
        nabla_w = [np.zeros_like(w) for w in self.weights]
        # forward, remembering every z and a
        activation = x
        activations = [x]
        zs = []
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            z = w @ activation + b
            zs.append(z)
            activation = self._act(l)(z)
            activations.append(activation)
        # backward: output error, then push it back one layer at a time
        delta = self.cost.delta(zs[-1], activations[-1], y, self._act_prime(-1))
        nabla_b[-1] = delta
        nabla_w[-1] = delta @ activations[-2].T
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * self._act_prime(-l)(zs[-l])
            nabla_b[-l] = delta
            nabla_w[-l] = delta @ activations[-l - 1].T
        return nabla_b, nabla_w

    def update_mini_batch(self, mini_batch, eta: float, lmbda: float = 0.0, n: int = 1) -> None:
        """One step on the summed per-sample gradients, divided by the batch size.

        lmbda is network2's L2 strength over a training set of size n (weight decay
        1 - eta*lmbda/n); lmbda = 0 is network.py's update.
        """
        nabla_b = [np.zeros_like(b) for b in self.biases]
        nabla_w = [np.zeros_like(w) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        # New arrays, never in place: the caller may still hold the old ones.
        m = len(mini_batch)
        self.weights = [
            (1 - eta * lmbda / n) * w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w)
        ]
        self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b)]

    def SGD(
        self,
        training_data,
        epochs: int,
        mini_batch_size: int,
        eta: float,
        lmbda: float = 0.0,
        seed: int | None = None,
    ) -> list[float]:
        """Mini-batch SGD; returns the training cost after each epoch."""
        training_data = list(training_data)
        n = len(training_data)
        rng = np.random.default_rng(seed)
        costs = []
        for _ in range(epochs):
            order = rng.permutation(n)  # shuffle indices, not the caller's list
            for k in range(0, n, mini_batch_size):
                mini_batch = [training_data[i] for i in order[k : k + mini_batch_size]]
                self.update_mini_batch(mini_batch, eta, lmbda, n)
            costs.append(self.total_cost(training_data, lmbda))
        return costs

    def evaluate(self, test_data) -> int:
        """Number of samples whose largest output is the target (a label, or a one-hot column)."""
        correct = 0
        for x, y in test_data:
            label = int(np.argmax(y)) if np.size(y) > 1 else int(np.squeeze(y))
            correct += int(np.argmax(self.feedforward(x)) == label)
        return correct

    def total_cost(self, data, lmbda: float = 0.0) -> float:
        """Mean per-sample cost over data plus network2's 0.5 * (lmbda / n) * sum ||W||^2."""
        data = list(data)
        cost = 0.0
        for x, y in data:
            a = x
            z = None
            for l, (b, w) in enumerate(zip(self.biases, self.weights)):
                z = w @ a + b
                a = self._act(l)(z)
            cost += self.cost.fn(a, y, z) / len(data)
        cost += 0.5 * (lmbda / len(data)) * sum(float(np.sum(w**2)) for w in self.weights)
        return cost
