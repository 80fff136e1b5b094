"""Hypotheses for one activation layer checked on its own (loss 'dot': dx = dout * f'(z) for the elementwise
ones, the Jacobian-vector product for softmax): the wrong derivatives real files write, each recomputed in
numpy from the Case and compared with the dx the implementation gave.

* the derivative evaluated at the output a = f(z) instead of the input z (sigma'(a), tanh'(a));
* tanh's derivative without the square (1 - a);
* GELU's derivative without its z phi(z) term (Phi(z) alone);
* softmax's Jacobian reduced to its diagonal (a (1 - a)).

Hooked into oracles.diagnose.core.diagnose beside norm_patterns; never raises.
"""

from __future__ import annotations

import math

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import Diagnosis, _close
from oracles.observation import Observation

__all__ = ["activation_patterns"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _phi_cdf(z):
    erf = np.vectorize(math.erf)
    return 0.5 * (1.0 + erf(z / math.sqrt(2.0)))


def _candidates(kind: str, z: np.ndarray, dout: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """(bug class, what the file did, the dx it gives) for the activation ``kind`` at input z."""
    if kind == "sigmoid":
        a = _sigmoid(z)
        return [("derivative_at_activation", "sigma'(a) = sigma(a) (1 - sigma(a)) with a = sigma(z): the "
                 "derivative evaluated at the output, not the input", dout * _sigmoid(a) * (1 - _sigmoid(a)))]
    if kind == "tanh":
        a = np.tanh(z)
        return [("wrong_derivative", "1 - a where tanh' is 1 - a^2: the square is missing", dout * (1 - a)),
                ("derivative_at_activation", "tanh'(a) = 1 - tanh(a)^2 with a = tanh(z): the derivative evaluated "
                 "at the output, not the input", dout * (1 - np.tanh(a) ** 2))]
    if kind == "gelu":
        return [("wrong_derivative", "Phi(z) alone: GELU's derivative is Phi(z) + z phi(z), the z phi(z) term is "
                 "missing", dout * _phi_cdf(z))]
    if kind == "softmax" and z.ndim == 2:
        a = np.exp(z - z.max(axis=1, keepdims=True))
        a /= a.sum(axis=1, keepdims=True)
        return [("wrong_derivative", "dout * a (1 - a): only the diagonal of softmax's Jacobian (each output "
                 "depends on every input of its row: dx = a (dout - sum(dout a)))", dout * a * (1 - a))]
    return []


def activation_patterns(case: Case, bad, observed: Observation, expected: Observation) -> list[Diagnosis]:
    spec = case.spec
    try:
        if spec.is_mlp or len(spec.layers) != 1 or spec.loss != "dot" or "x" not in observed.grads:
            return []
        if not any(v.name == "grads['x']" for v in bad):
            return []
        z = np.asarray(case.x, dtype=np.float64)
        dout = np.asarray(case.y, dtype=np.float64)
        dx = np.asarray(observed.grads["x"], dtype=np.float64)
        for cls, what, want in _candidates(spec.layers[0].kind, z, dout):
            if dx.shape == want.shape and _close(dx, want, spec.dtype, expected.err_est.get("x")):
                return [Diagnosis(cls, f"dx matches dout times {what}", ("x",))]
    except Exception:  # noqa: BLE001 - a hypothesis that cannot be tested is skipped
        return []
    return []
