"""Why an observed loss may differ from the oracle's without a bug (a convention, rounding, saturation)."""

from __future__ import annotations

import numpy as np

from oracles.case import Case

__all__ = ["loss_convention", "fd_value"]

_LOG_EPS = 1e-7  # Saito's cross_entropy_error: log(y + 1e-7)
_SATURATED = 1e-8  # a probability this close to 0 or 1 loses most digits in log(p) / log(1 - p)


def _forward_logits(case: Case, given: dict | None = None) -> np.ndarray:
    from reference.functions import activation

    if not case.spec.is_mlp:  # a layer sequence (conv net): the layer table's float64 forward
        from oracles.fd_layers import _Seq

        seq = _Seq(case, given)  # given: the dropout masks the implementation drew (Observation.aux)
        return seq.run(0, seq.x)[3]
    a = case.x.astype(np.float64)
    z = a
    for l, name in enumerate(case.spec.activations, start=1):
        z = a @ case.params[f"W{l}"].T + case.params[f"b{l}"]
        a = activation(name)(z)
    return z


def loss_convention(case: Case, observed: float, expected_loss: float,
                    given: dict | None = None) -> tuple[str, str] | None:
    """Why an observed loss may differ without a bug: ('convention', name) when it is the cost
    with 1e-7 inside the log; ('saturated', text) when an output probability rounds to 0 or 1."""
    from oracles.compare import compare_tensor
    from reference.functions import sigmoid, softmax

    spec = case.spec
    if spec.loss not in ("softmax_cross_entropy", "binary_cross_entropy"):
        return None
    z = _forward_logits(case, given)
    t = case.onehot
    if spec.loss == "softmax_cross_entropy":
        p = softmax(z, axis=1)
        per = -np.sum(t * np.log(p + _LOG_EPS), axis=1)
        q = p
    else:
        p = sigmoid(z)
        per = -np.sum(t * np.log(p + _LOG_EPS) + (1 - t) * np.log(1 - p + _LOG_EPS), axis=1)
        q = np.minimum(p, 1 - p)
    loss = float(per.mean() if spec.reduction == "mean" else per.sum())
    loss += 0.5 * spec.reg * sum(float(np.sum(case.params[f"W{l}"] ** 2)) for l in range(1, spec.n_layers + 1))
    if compare_tensor("loss", observed, loss, dtype=spec.dtype, oracle="impl", scale=abs(loss)).passed:
        return "convention", "1e-7 inside the log (Saito's cross_entropy_error)"
    # A cost from probabilities: a = sigmoid(z) near 1 is stored to an absolute eps, so log(1 - a)
    # carries an error ~ eps / (1 - a). Within that, the course formula is as exact as it can be.
    eps = float(np.finfo(spec.dtype).eps)
    per_err = np.sum(eps / np.maximum(q, np.finfo(np.float64).tiny), axis=1)
    est = float(per_err.mean() if spec.reduction == "mean" else per_err.sum())
    if compare_tensor("loss", observed, expected_loss, dtype=spec.dtype, oracle="torch", scale=abs(expected_loss),
                      err_est=est).passed:
        return "precision", "within the precision of a cost computed from probabilities"
    if float(q.min()) < _SATURATED:
        return "saturated", (f"only where an output probability rounds to 0 or 1 (smallest {float(q.min()):.1e}): "
                             f"a cost computed from probabilities cannot be exact there; compute it from the "
                             f"logits to fix it")
    return None


def fd_value(fd) -> tuple[float | None, float | None]:
    """(derivative, error estimate) from whatever finite_diff.directional returns."""
    if isinstance(fd, tuple):
        vals = [float(v) for v in fd[:2]]
        return vals[0], (vals[1] if len(vals) > 1 else None)
    for a, b in (("value", "err_est"), ("derivative", "err_est"), ("value", "error"), ("d", "err")):
        if hasattr(fd, a):
            return float(getattr(fd, a)), (float(getattr(fd, b)) if getattr(fd, b, None) is not None else None)
    try:
        return float(fd), None
    except (TypeError, ValueError):
        return None, None
