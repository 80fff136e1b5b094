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
    if not keys or not spec.is_mlp:  # the recomputation below walks an MLP (a conv net: issue 10)
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
    l2 = 0.5 * spec.reg * sum(float(np.sum(case.typed(case.params[f"W{l}"]).astype(np.float64) ** 2))
                              for l in range(1, spec.n_layers + 1))
    for c in candidates:
        if spec.reg and not c.spec_changes:
            continue  # with L2 a factor on the cost scales the data term only: handled by the spec change
        if spec.reg:
            want = recompute_grads(case.with_spec(**dict(c.spec_changes)))
            grads_follow = all(k in want and _close(_as64(observed.grads[k]), want[k], dtype) for k in keys)
            loss_want = None if expected.loss is None else c.loss_factor * (float(expected.loss) - l2) + l2
        else:
            grads_follow = all(_close(_as64(observed.grads[k]), c.grad_factor * expected.grads[k], dtype)
                               for k in keys)
            loss_want = None if expected.loss is None else c.loss_factor * float(expected.loss)
        if not grads_follow:
            continue
        if observed.loss is None or loss_want is None or _close(observed.loss, loss_want, dtype):
            return c
        if c.name == "sum instead of mean" and _update_right(case, observed, expected):
            # backprop returns the batch's summed gradients and the update divides by m (the book's
            # per-sample sum, batched): training is right, the cost function is a separate mean
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


def _update_right(case: Case, observed: Observation, expected: Observation) -> bool:
    """The observed SGD step equals the oracle's (so a gradient factor is compensated in the update)."""
    if observed.updated is None or expected.updated is None:
        return False
    eps = float(np.finfo(case.spec.dtype).eps)
    for k, e in expected.updated.items():
        got = observed.updated.get(k)
        if got is None:
            return False
        p = case.typed(case.params[k]).astype(np.float64)
        est = eps * float(np.linalg.norm(p) + np.linalg.norm(e))  # p - p_new cancels: rounding eps * |p|
        if not _close(p - _as64(got), p - e, case.spec.dtype, est):
            return False
    return True
