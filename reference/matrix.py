"""The "full-matrix" Nielsen network (seed 004): the whole mini-batch as one matrix.

X is (n_in, m), one sample per column. The same equations as reference.nielsen, with the
m columns carried side by side; the gradients come out already averaged over the batch:

    dC/db^l = mean(delta^l, axis=1),   dC/dW^l = delta^l A^{l-1}^T / m

so the update steps by plain eta, which is exactly nielsen.py's eta/m times the sum.
Constructor, attributes, feedforward, SGD and total_cost are nielsen's.
"""

from __future__ import annotations

import numpy as np

from reference.nielsen import CrossEntropyCost, QuadraticCost
from reference.nielsen import Network as _PerSampleNetwork

__all__ = ["QuadraticCost", "CrossEntropyCost", "Network"]


class Network(_PerSampleNetwork):
    def backprop(self, X: np.ndarray, Y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Batch-MEAN gradients for X (n_in, m), Y (n_out, m). b first."""
        m = X.shape[1]
        nabla_b = [np.zeros_like(b) for b in self.biases]
        nabla_w = [np.zeros_like(w) for w in self.weights]
        # forward: b (n, 1) broadcasts across the m columns
        A = X
        As = [X]
        Zs = []
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            Z = w @ A + b
            Zs.append(Z)
            A = self._act(l)(Z)
            As.append(A)
        # backward: delta is (n_l, m), one error column per sample
        delta = self.cost.delta(Zs[-1], As[-1], Y, self._act_prime(-1))
        nabla_b[-1] = np.mean(delta, axis=1, keepdims=True)
        nabla_w[-1] = delta @ As[-2].T / m  # the matrix product already sums over samples
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * self._act_prime(-l)(Zs[-l])
            nabla_b[-l] = np.mean(delta, axis=1, keepdims=True)
            nabla_w[-l] = delta @ As[-l - 1].T / m
        return nabla_b, nabla_w

    def update_mini_batch(self, mini_batch, eta: float, lmbda: float = 0.0, n: int = 1) -> None:
        """Stack the (x, y) columns, one backprop, step by eta (gradients are already means)."""
        X = np.hstack([x for x, _ in mini_batch])
        Y = np.hstack([y for _, y in mini_batch])
        nabla_b, nabla_w = self.backprop(X, Y)
        self.weights = [(1 - eta * lmbda / n) * w - eta * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - eta * nb for b, nb in zip(self.biases, nabla_b)]
