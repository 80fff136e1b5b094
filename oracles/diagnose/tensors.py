"""One mismatching tensor at a time: a factor, a transpose, a shape, the L2 term scaled wrong or on a bias."""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import Diagnosis, _close, _fit, _key, _layer_of, _named_factors


def tensor_pattern(name: str, actual, expected, case: Case) -> Diagnosis | None:
    """What one mismatching tensor looks like relative to the oracle's, or None."""
    dtype, m = case.spec.dtype, case.m
    try:
        a = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return _shape_pattern(name, a, e, case)
    if not np.all(np.isfinite(a)):
        if np.all(np.isfinite(e)):
            n_bad = int((~np.isfinite(a)).sum())
            return Diagnosis("large_inputs", f"{n_bad}/{a.size} entries NaN/inf while the oracle's are finite "
                             f"(largest |x| {np.abs(case.x).max():.3g}): overflow or instability", (name,),
                             {"n_nonfinite": n_bad, "max_abs_x": float(np.abs(case.x).max())})
        return None
    if case.spec.reg and name[:1] == "W" and name in case.params:
        # the L2 term is right in both; judge the data part (a transposed dW plus reg W is still a transpose)
        r = case.spec.reg * case.typed(case.params[name]).astype(np.float64)
        if a.ndim == 2 and a.shape[0] == a.shape[1] > 1 and _close(a - r, (e - r).T, dtype):
            return Diagnosis("transpose", "its data part (without reg * W) is the transpose of the oracle's",
                             (name,))
    if not np.any(a) and np.any(e):
        return Diagnosis("zero_grad", "all zeros: this gradient is never computed or is overwritten", (name,),
                         {"norm_expected": float(np.linalg.norm(e))})
    if a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] > 1 and _close(a, e.T, dtype):
        return Diagnosis("transpose", "equals the transpose of the oracle's gradient (dW = A_prev^T delta "
                         "instead of delta A_prev^T, or a row/column layout mix-up)", (name,))
    for k, say, cls in _named_factors(m):
        if _close(a, k * e, dtype):
            return Diagnosis(cls, f"exactly {say} times the oracle's", (name,), {"factor": k})
    reg = _reg_pattern(name, a, e, case)
    if reg is not None:
        return reg
    scalar = _scalar_pattern(name, a, e, case)
    if scalar is not None:
        return scalar
    c = _fit(a, e)
    if c is not None and abs(c - 1) > 0 and _close(a, c * e, dtype):
        return Diagnosis("constant_factor", f"a constant {c:.6g} times the oracle's", (name,), {"factor": c})
    return None


def _shape_pattern(name: str, a: np.ndarray, e: np.ndarray, case: Case) -> Diagnosis:
    dtype, m = case.spec.dtype, case.m
    ev = {"shape": a.shape, "expected_shape": e.shape}
    if a.ndim == e.ndim == 2 and a.shape == e.shape[::-1] and _close(a.T, e, dtype):
        return Diagnosis("transpose", f"shape {a.shape} is the transpose of {e.shape} and a.T matches", (name,), ev)
    if a.size == e.size and _close(a.reshape(e.shape), e, dtype):
        return Diagnosis("shape", f"right values in shape {a.shape} instead of {e.shape}", (name,), ev)
    # an extra batch axis: per-sample gradients never summed (bias gradient of shape (n, m))
    for axis in range(a.ndim):
        if a.shape[axis] == m:
            s = a.sum(axis=axis)
            if s.size == e.size and _close(s.reshape(e.shape), e, dtype):
                return Diagnosis("extra_batch_axis", f"shape {a.shape}: the batch axis {axis} (size m = {m}) was "
                                 f"never summed; summing it gives the oracle's {e.shape}", (name,), ev)
            if s.size == e.size and m > 1 and _close(s.reshape(e.shape), m * e, dtype):
                return Diagnosis("extra_batch_axis", f"shape {a.shape}: batch axis {axis} not reduced "
                                 f"(its sum is m times the oracle's)", (name,), ev)
    if name.startswith("W") or name.startswith("grads['W"):
        l = _layer_of(name)
        if l and l >= 2 and a.ndim == 2 and a.shape[-1] == case.spec.sizes[0] != e.shape[-1]:
            return Diagnosis("a_prev_is_x", f"shape {a.shape}: its second axis is the input width n_0 = "
                             f"{case.spec.sizes[0]}, not n_{l - 1} = {e.shape[-1]}: X used in place of A_{l - 1}",
                             (name,), ev)
    if a.ndim == 2 and e.ndim == 1 and a.shape[0] == a.shape[1] == e.shape[0]:
        return Diagnosis("missing_keepdims", f"shape {a.shape} from {e.shape}: a (n,) array broadcast "
                         f"against (n, 1) (keepdims missing)", (name,), ev)
    return Diagnosis("shape", f"shape {a.shape} instead of {e.shape} (broadcasting or a wrong axis)", (name,), ev)


def _reg_pattern(name: str, a: np.ndarray, e: np.ndarray, case: Case) -> Diagnosis | None:
    """a - e = k * reg * p for the parameter p: the L2 term scaled by 1 + k, or put on a bias."""
    reg = case.spec.reg
    key = _key(name)
    if not reg or key is None or key[0] not in "Wb" or key not in case.params:
        return None
    p = case.typed(case.params[key]).astype(np.float64)
    d = a - e
    ks = (1.0, -1.0, -0.5, 0.5, 2.0 * case.m - 1, 1.0 / case.m - 1, case.m - 1.0)  # m: lambd W, not lambd/m W
    if key[0] == "b":
        ks += (2.0,)  # reg * sum(b^2), the 2017+ handout's reg * sum(W^2) extended to the biases
    for k in ks:
        if _close(d, k * reg * p, case.spec.dtype):
            if key[0] == "b":
                return Diagnosis("reg_on_bias", f"differs by {k:g} * reg * {key}: the L2 term was applied to the "
                                 f"bias (biases are not regularised)", (name,), {"k": k, "reg": reg})
            how = "missing" if k == -1 else f"{1 + k:g} times what it should be"
            return Diagnosis("reg_scale", f"differs by {k:g} * reg * {key}: the regularisation gradient is {how} "
                             f"(0.5 * reg * ||W||^2 has gradient reg * W)", (name,), {"k": k, "reg": reg})
    return None


def _scalar_pattern(name: str, a: np.ndarray, e: np.ndarray, case: Case) -> Diagnosis | None:
    """a - e is one number in every entry: a scalar added where an array was meant (reg * np.sum(W) for
    reg * W, a loss value added to a gradient)."""
    if a.size < 2:
        return None
    key = _key(name)
    reg = case.spec.reg
    p = case.typed(case.params[key]).astype(np.float64) if key is not None and key in case.params else None
    diffs = [("", a - e)]
    if reg and p is not None and p.shape == a.shape:
        diffs.append((" in place of reg * W", a - e + reg * p))  # the scalar replaced the L2 gradient
    for instead, d in diffs:  # noqa: B007 - the matching one is used after the loop
        c = float(d.reshape(-1)[0])
        if c != 0.0 and _close(d, np.full_like(d, c), case.spec.dtype) and not _close(d, 0 * d, case.spec.dtype):
            break
    else:
        return None
    ev: dict = {"scalar": c}
    why = ""
    if reg and p is not None:
        for k, say in ((1.0, "reg * np.sum"), (0.5, "0.5 * reg * np.sum"), (2.0, "2 * reg * np.sum")):
            for form, f in (("", p.sum()), (" of squares", (p ** 2).sum())):
                if np.isclose(c, k * reg * f, rtol=1e-9, atol=0.0):
                    why = f" ({say}({key}{' ** 2' if form else ''}) where reg * {key} belongs)"
                    ev["form"] = f"{k:g} * reg * sum{form}"
    return Diagnosis("scalar_added", f"differs by the same number {c:.6g} in every entry{instead}: a scalar was "
                     f"added where an array was meant{why}", (name,), ev)
