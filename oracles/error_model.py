"""A priori rounding-error bounds for a Case: the "condition of the computation" term of the tolerance.

A correct implementation in dtype ``d`` differs from the exact gradient by its rounding; so does the
float64 oracle. Measuring that by re-running in float32 (``torch_autograd``) fails exactly where it
matters most: where float32 saturates (sigmoid or tanh rounds to 1, so ``1 - a`` is 0 and the
float32 error is "100%", which says nothing about float64's). This module bounds the rounding
analytically instead, with a running-error analysis (Wilkinson) carried through the network:

* forward: the error of every pre-activation ``z`` from the accumulation of ``W @ a + b``
  (``sqrt(K) * u * (|W| |a| + |b|)``, the probabilistic form of gamma_K) plus what the previous
  layer's error contributes;
* backward: every factor's error, notably the cancellation in the course formulas
  ``sigmoid' = s (1 - s)`` and ``tanh' = 1 - a^2`` (absolute error ~u, however small the
  derivative), ``p - t`` for a confident softmax, and a ReLU whose pre-activation lies within its
  own rounding error of 0 (two correct implementations may take different sides of the kink);
* the parameter gradients, the input gradient, hidden-activation gradients and the loss.

The result is an elementwise bound, reduced to a norm per tensor (keys as ``Observation.err_est``).
It is first-order and deliberately not pessimistic beyond sqrt(K): compare.py multiplies it by the
table's safety factor.
"""

from __future__ import annotations

import math

import numpy as np

from oracles.case import Case
from reference import functions as fn

__all__ = ["rounding_bounds"]


def _derivative_error(name: str, z: np.ndarray, a: np.ndarray, dz: np.ndarray, u: float) -> np.ndarray:
    """Bound on |computed f'(z) - f'(z)| given the error dz in z and rounding u."""
    if name == "sigmoid":
        s = a
        # s (1 - s) from a rounded s: |1 - 2s| * u * s; plus f'' * dz with |f''| <= f'
        return np.abs(1 - 2 * s) * u * s + u * s * (1 - s) + s * (1 - s) * dz
    if name == "tanh":
        return 2 * np.abs(a) * u * np.abs(a) + u + 2 * np.abs(a) * (1 - a * a) * dz
    if name == "softplus":
        s = fn.sigmoid(z)
        return u * s + s * (1 - s) * dz
    if name in ("relu", "leaky_relu"):
        # a pre-activation within its own rounding of 0 may land on either side of the kink
        jump = 1.0 if name == "relu" else 1.0 - fn.LEAKY_SLOPE
        return np.where(np.abs(z) <= dz, jump, 0.0)
    return np.zeros_like(z)  # identity


def rounding_bounds(case: Case, dtype: str | None = None) -> dict[str, float]:
    """Norm of the elementwise rounding-error bound for the loss and every gradient of ``case``,
    for an implementation computing in ``dtype`` (default: the spec's)."""
    spec = case.spec
    if not spec.is_mlp:
        return {}  # an MLP-only model; layer Specs rely on the measured (float32 re-run) estimate
    u = float(np.finfo(dtype or spec.dtype).eps) / 2
    L = spec.n_layers
    r = 1.0 / case.m if spec.reduction == "mean" else 1.0
    W = [case.typed(case.params[f"W{l}"]).astype(np.float64) for l in range(1, L + 1)]
    b = [case.typed(case.params[f"b{l}"]).astype(np.float64) for l in range(1, L + 1)]
    x = case.typed(case.x).astype(np.float64)

    # forward with error bounds: A[l] (m, n_l), dA[l] bound on its error
    A, dA, Z, dZ = [x], [np.zeros_like(x)], [], []
    for l in range(L):
        z = A[-1] @ W[l].T + b[l]
        k = W[l].shape[1] + 1
        err = math.sqrt(k) * u * (np.abs(A[-1]) @ np.abs(W[l]).T + np.abs(b[l])) + dA[-1] @ np.abs(W[l]).T
        name = spec.activations[l]
        a = fn.activation(name)(z)
        Z.append(z)
        dZ.append(err)
        A.append(a)
        dA.append(np.abs(fn.derivative(name)(z)) * err + u * np.abs(a))

    # output delta D = dLoss/dZ_L and its error
    zL, aL, dzL = Z[-1], A[-1], dZ[-1]
    onehot = case.onehot.astype(np.float64)
    prob_loss_err = 0.0
    if spec.loss == "quadratic":
        fp = fn.derivative(spec.activations[-1])(zL)
        delta = (aL - onehot) * fp
        dfp = _derivative_error(spec.activations[-1], zL, aL, dzL, u)
        d_delta = dA[-1] * np.abs(fp) + np.abs(aL - onehot) * dfp + u * np.abs(delta)
        per_sample = fn.quadratic_loss(aL, onehot)
    elif spec.loss == "binary_cross_entropy":
        delta = aL - onehot
        d_delta = aL * (1 - aL) * dzL + u * (np.abs(aL) + np.abs(delta))
        per_sample = fn.binary_cross_entropy_from_logits(zL, onehot)
        # course code computes the cost from a (it never sees z): log(1 - a) from a rounded a is off by
        # u * a / (1 - a) = u * e^z, unbounded once 1 - a rounds to 0 (then no implementation can be judged)
        # exp(min(z, 700)) stays finite; beyond that a has rounded to 1 anyway (marked below)
        from_probs = u * (onehot + (1 - onehot) * np.exp(np.minimum(zL, 700.0)))
        a_impl = fn.sigmoid(zL.astype(dtype or spec.dtype))
        from_probs[((onehot < 1) & (a_impl == 1)) | ((onehot > 0) & (a_impl == 0))] = np.inf  # a rounded to 1 or 0
        prob_loss_err = r * float(from_probs.sum())
    elif spec.loss == "softmax_cross_entropy":
        p = fn.softmax(zL)
        delta = p - onehot
        spread = dzL.max(axis=1, keepdims=True)
        d_delta = p * (2 * spread + 4 * u) + u * np.abs(delta)
        per_sample = fn.softmax_cross_entropy(zL, onehot)
    else:  # hinge
        labels = case.labels
        rows = np.arange(case.m)
        margin = zL - zL[rows, labels][:, None] + 1.0
        margin[rows, labels] = np.inf
        dmargin = dzL + dzL[rows, labels][:, None] + u * (np.abs(zL) + 1)
        ambiguous = (np.abs(margin) <= dmargin).astype(np.float64)
        d_delta = ambiguous.copy()
        d_delta[rows, labels] = ambiguous.sum(axis=1)
        delta = fn.hinge_delta(zL, labels)
        per_sample = fn.hinge_loss(zL, labels)
    D, dD = r * delta, r * d_delta

    bounds: dict[str, np.ndarray] = {}
    # the loss moves by |dLoss/dz| dz, and log-sum-exp / log1p round relative to |loss| and |z|
    terms = np.abs(per_sample).sum() + np.abs(zL).max(axis=1).sum()
    loss_err = float((np.abs(D) * dzL).sum() + 4 * u * r * terms) + prob_loss_err
    for l in range(L, 0, -1):
        Ap, dAp = A[l - 1], dA[l - 1]
        m = Ap.shape[0]
        gW = math.sqrt(m) * u * (np.abs(D).T @ np.abs(Ap))
        bounds[f"W{l}"] = dD.T @ np.abs(Ap) + np.abs(D).T @ dAp + gW + u * spec.reg * np.abs(W[l - 1])
        bounds[f"b{l}"] = dD.sum(axis=0) + math.sqrt(m) * u * np.abs(D).sum(axis=0)
        G = D @ W[l - 1]
        k = W[l - 1].shape[0]
        dG = dD @ np.abs(W[l - 1]) + math.sqrt(k) * u * (np.abs(D) @ np.abs(W[l - 1]))
        if l == 1:
            bounds["x"] = dG
            break
        bounds[f"A{l - 1}"] = dG
        name = spec.activations[l - 2]
        fp = fn.derivative(name)(Z[l - 2])
        dfp = _derivative_error(name, Z[l - 2], A[l - 1], dZ[l - 2], u)
        D, dD = G * fp, dG * np.abs(fp) + np.abs(G) * dfp + u * np.abs(G * fp)
    if spec.reg:
        loss_err += u * 0.5 * spec.reg * sum(float((w * w).sum()) for w in W) * 2
    out = {k: float(np.linalg.norm(v)) for k, v in bounds.items()}
    out["loss"] = loss_err
    # one SGD step p - lr g: the gradient's error times lr plus the subtraction's rounding; the k-th
    # step of a trajectory accumulates k of those (first order, curvature ignored)
    for l in range(1, L + 1):
        for key, p in ((f"W{l}", W[l - 1]), (f"b{l}", b[l - 1])):
            step = case.lr * out[key] + u * float(np.linalg.norm(p))
            out[f"updated.{key}"] = step
            for s in range(1, int(case.steps) + 1):
                out[f"trajectory.{s}.{key}"] = s * step
    return out
