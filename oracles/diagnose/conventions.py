"""Consistent conventions that are not bugs (cost without the 1/2, sum instead of mean, reg instead of 0.5 reg)."""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import Convention, _as64, _close
from oracles.diagnose.recompute import recompute_grads
from oracles.observation import Observation

# ---- conventions ---------------------------------------------------------------------------


def detect_convention(case: Case, observed: Observation, expected: Observation) -> Convention | None:
    """A consistent convention the observation follows instead of the Spec's, or None.

    Consistent means: every exposed W and b gradient is the same exact factor of the oracle's
    and the loss (when exposed) follows the same factor. A factor on the gradients alone, with a
    loss that does not follow, is a bug (the cost and its gradient disagree), not a convention.
    """
    dtype, m, spec = case.spec.dtype, case.m, case.spec
    keys = [k for k in observed.grads if k in expected.grads and k[0] in "Wb"]
    if not keys:
        return None
    candidates = []
    if spec.loss == "quadratic":
        candidates.append(Convention("cost without the 1/2", "per-sample cost ||a - y||^2, gradient 2 (a - y)",
                                     grad_factor=2.0, loss_factor=2.0))
    if m > 1:
        if spec.reduction == "mean":
            candidates.append(Convention("sum instead of mean", "the batch cost is summed over the samples, not "
                                         "averaged", grad_factor=float(m), loss_factor=float(m),
                                         spec_changes=(("reduction", "sum"),)))
        else:
            candidates.append(Convention("mean instead of sum", "the batch cost is averaged over the samples",
                                         grad_factor=1.0 / m, loss_factor=1.0 / m,
                                         spec_changes=(("reduction", "mean"),)))
        if spec.loss == "quadratic" and spec.reduction == "mean":
            candidates.append(Convention("sum without the 1/2", "summed ||a - y||^2", grad_factor=2.0 * m,
                                         loss_factor=2.0 * m))
    for c in candidates:
        if spec.reg:
            continue  # with L2 the factor applies to the data term only; handled below
        if all(_close(_as64(observed.grads[k]), c.grad_factor * expected.grads[k], dtype) for k in keys):
            if observed.loss is None or _close(observed.loss, c.loss_factor * expected.loss, dtype):
                return c
    if spec.reg:
        # reg * ||W||^2 instead of 0.5 * reg * ||W||^2: W gradients carry reg * W once more
        base = recompute_grads(case.with_spec(reg=0.0))
        ok = True
        for k in keys:
            extra = 2.0 * spec.reg * case.typed(case.params[k]).astype(np.float64) if k[0] == "W" else 0.0
            if not _close(_as64(observed.grads[k]), base[k] + extra, dtype):
                ok = False
                break
        if ok:
            data_loss = None
            if observed.loss is not None:
                wsum = sum(float(np.sum(case.typed(case.params[f"W{l}"]).astype(np.float64) ** 2))
                           for l in range(1, spec.n_layers + 1))
                data_loss = float(expected.loss) + 0.5 * spec.reg * wsum
            if observed.loss is None or _close(observed.loss, data_loss, dtype):
                return Convention("reg instead of 0.5 reg", "L2 term reg * sum ||W||^2 (gradient 2 reg W)",
                                  reg_factor=2.0)
    return None
