"""The one comparison behind every test, campaign and report.

A tensor passes when its norm-wise error is within what a correct implementation in its dtype
could produce on this Case:

    ||actual - expected||  <=  rtol * ||expected||  +  atol * scale * sqrt(n)  +  safety * est

* ``rtol``, ``atol``: small multiples of the dtype's epsilon (the rounding of the last few
  operations). ``scale`` is the magnitude of the whole family (the largest |gradient| of the
  Case), so a tensor whose exact value is ~0 is judged against the size of its siblings.
* ``est``: the oracle's own error estimate for this tensor. For the torch oracle it is the
  measured rounding error of the same computation done again in lower precision, scaled to the
  implementation's dtype (the condition of *this* computation, measured, not guessed); for
  finite differences it is the step error estimated from two step sizes.

Elementwise relative error is reported, never judged: near-zero entries make it meaningless
(CS231n's rel_error flags correct networks at 2e-4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from oracles.observation import CHECKS, Observation, check_of

__all__ = [
    "EPS",
    "Tolerance",
    "TOLERANCES",
    "tolerance",
    "TensorVerdict",
    "compare_tensor",
    "compare_observation",
    "assert_matches",
    "failures",
    "format_failures",
]

EPS = {"float64": float(np.finfo(np.float64).eps), "float32": float(np.finfo(np.float32).eps)}


@dataclass(frozen=True)
class Tolerance:
    """rtol and atol travel together; ``safety`` multiplies the oracle's error estimate."""

    rtol: float
    atol: float
    safety: float

    def describe(self) -> str:
        return f"rtol {self.rtol:.1e}, atol {self.atol:.1e} x scale, {self.safety:g} x oracle error estimate"


def _table() -> dict[tuple[str, str], Tolerance]:
    table = {}
    for dtype, eps in EPS.items():
        # torch: float64 autograd; a correct implementation differs by its own rounding, which the
        # estimate measures; 64 eps covers the last operations' rounding on well-conditioned cases.
        table[(dtype, "torch")] = Tolerance(rtol=64 * eps, atol=4 * eps, safety=16.0)
        # fd: central differences in float64 carry truncation and cancellation error ~ eps^(2/3);
        # the two-step estimate bounds it, with a floor for estimates that undershoot.
        table[(dtype, "fd")] = Tolerance(rtol=max(64 * eps, 1e-8), atol=max(4 * eps, 1e-9), safety=16.0)
        # another implementation (cross-checks between our references): both sides round.
        table[(dtype, "impl")] = Tolerance(rtol=128 * eps, atol=8 * eps, safety=32.0)
        # a course's own documented formula computed in float64 numpy (oracles.optim.formula), where
        # torch.optim has no twin: as exact as the torch oracle, with the same measured error estimate
        table[(dtype, "formula")] = table[(dtype, "torch")]
    return table


TOLERANCES: dict[tuple[str, str], Tolerance] = _table()


def tolerance(dtype: str, oracle: str) -> Tolerance:
    try:
        return TOLERANCES[(dtype, oracle)]
    except KeyError:
        known = sorted({k[1] for k in TOLERANCES})
        raise ValueError(f"no tolerance for dtype {dtype!r} and oracle {oracle!r}; oracles: {known}") from None


@dataclass
class TensorVerdict:
    """The comparison of one tensor (or one fault) for one Case."""

    name: str
    check: str
    status: str  # pass | fail | error | nondiff
    oracle: str = "torch"
    context: str = ""
    detail: str = ""  # for errors and structural failures (shape, NaN, mutation)
    n_mismatched: int = 0
    n_total: int = 0
    max_abs: float = 0.0
    max_abs_index: tuple[int, ...] = ()
    max_rel: float = 0.0
    max_rel_index: tuple[int, ...] = ()
    norm_err: float = 0.0
    norm_rel: float = 0.0
    norm_ratio: float = 1.0
    allowed: float = 0.0
    tol: Tolerance | None = None
    actual: np.ndarray | None = field(default=None, repr=False)
    expected: np.ndarray | None = field(default=None, repr=False)
    diagnosis: str = ""

    @property
    def passed(self) -> bool:
        return self.status in ("pass", "nondiff")

    @property
    def message(self) -> str:
        where = f"{self.context} > {self.name}" if self.context else self.name
        if self.status == "pass":
            text = f"{where}: ok (norm error {self.norm_err:.2e}, allowed {self.allowed:.2e})"
        elif self.status == "nondiff":
            text = f"{where}: not differentiable here ({self.detail or 'a kink lies within the step'})"
        elif self.status == "error" or self.detail:
            text = f"{where}: {self.detail}"
        else:
            text = (
                f"{where}: {self.n_mismatched}/{self.n_total} mismatched; greatest abs diff {self.max_abs:.3g} "
                f"at {self.max_abs_index}, greatest rel diff {self.max_rel:.3g} at {self.max_rel_index}; "
                f"norm error {self.norm_err:.3g} (rel {self.norm_rel:.3g}) vs allowed {self.allowed:.3g}; "
                f"norm ratio {self.norm_ratio:.4g} [oracle {self.oracle}]"
            )
        if self.diagnosis and self.status != "pass":
            text += f" -> {self.diagnosis}"
        return text

    def to_dict(self) -> dict:
        """JSON-ready summary (no arrays)."""
        return {
            "name": self.name,
            "check": self.check,
            "status": self.status,
            "oracle": self.oracle,
            "message": self.message,
            "n_mismatched": self.n_mismatched,
            "n_total": self.n_total,
            "max_abs": _finite_or_none(self.max_abs),
            "max_abs_index": list(self.max_abs_index),
            "max_rel": _finite_or_none(self.max_rel),
            "max_rel_index": list(self.max_rel_index),
            "norm_err": _finite_or_none(self.norm_err),
            "norm_rel": _finite_or_none(self.norm_rel),
            "norm_ratio": _finite_or_none(self.norm_ratio),
            "allowed": _finite_or_none(self.allowed),
            "diagnosis": self.diagnosis,
        }


def _finite_or_none(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def compare_tensor(
    name: str,
    actual,
    expected,
    *,
    dtype: str = "float64",
    oracle: str = "torch",
    scale: float | None = None,
    err_est: float | None = None,
    check: str | None = None,
    context: str = "",
) -> TensorVerdict:
    """Compare one tensor (or scalar) with the oracle's value; never raises for bad ``actual``."""
    tol = tolerance(dtype, oracle)
    check = check or _family(name)
    base = TensorVerdict(name=name, check=check, status="fail", oracle=oracle, context=context, tol=tol)
    e = np.asarray(expected, dtype=np.float64)
    try:
        a = np.asarray(actual)
        if a.dtype == object or not np.issubdtype(a.dtype, np.number):
            raise TypeError(a.dtype)
        a = a.astype(np.float64)
    except (TypeError, ValueError):
        base.detail = f"expected an array of numbers, got {type(actual).__name__}"
        return base
    base.actual, base.expected = a, e
    base.n_total = int(e.size)
    if a.shape != e.shape:
        base.detail = f"shape {a.shape} but expected {e.shape}"
        return base
    bad = ~np.isfinite(a)
    if bad.any():
        idx = _index(int(np.flatnonzero(bad)[0]), a.shape)
        base.n_mismatched = int(bad.sum())
        base.detail = f"{base.n_mismatched}/{a.size} entries are NaN or inf (first at {idx})"
        return base
    diff = np.abs(a - e)
    norm_e = float(np.linalg.norm(e))
    norm_err = float(np.linalg.norm(a - e))
    if scale is None:
        scale = float(np.abs(e).max()) if e.size else 0.0
    allowed = tol.rtol * norm_e + tol.atol * scale * math.sqrt(max(e.size, 1)) + tol.safety * (err_est or 0.0)
    # elementwise figures are reported, not judged
    floor = allowed / math.sqrt(max(e.size, 1))
    mismatched = diff > tol.rtol * np.abs(e) + floor
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        rel = diff / np.maximum(np.abs(e), np.finfo(np.float64).tiny)
    base.n_mismatched = int(mismatched.sum())
    if e.size:
        i_abs, i_rel = int(diff.argmax()), int(rel.argmax())
        base.max_abs, base.max_abs_index = float(diff.flat[i_abs]), _index(i_abs, e.shape)
        base.max_rel, base.max_rel_index = float(rel.flat[i_rel]), _index(i_rel, e.shape)
    base.norm_err = norm_err
    base.norm_rel = norm_err / norm_e if norm_e > 0 else (0.0 if norm_err == 0 else math.inf)
    norm_a = float(np.linalg.norm(a))
    base.norm_ratio = norm_a / norm_e if norm_e > 0 else (1.0 if norm_a == 0 else math.inf)
    base.allowed = allowed
    if not math.isfinite(allowed):
        # the oracle's error bound is unbounded (e.g. a cost computed from a probability that rounded
        # to 1): no implementation can be judged right or wrong here
        base.status = "nondiff"
        base.detail = "not judged: no finite error bound here (a saturated output makes this value indeterminate)"
        return base
    base.status = "pass" if norm_err <= allowed else "fail"
    return base


def _family(name: str) -> str:
    key = name.split("[")[-1].strip("]'\"") if "[" in name else name
    if name.startswith("updated"):
        return "update"
    if name.startswith("trajectory"):
        return "trajectory"
    if name.startswith("state"):
        return "state"
    if name == "loss":
        return "loss"
    if name == "out":
        return "output"
    try:
        return check_of(key)
    except KeyError:
        return name


def _scale(tensors: dict[str, np.ndarray]) -> float:
    sizes = (float(np.abs(np.asarray(v, dtype=np.float64)).max()) for v in tensors.values() if np.size(v))
    return max(sizes, default=0.0)


def compare_observation(
    case,
    observed: Observation,
    expected: Observation,
    *,
    oracle: str = "torch",
    checks: tuple[str, ...] | list[str] | None = None,
    context: str | None = None,
) -> list[TensorVerdict]:
    """Every tensor the implementation exposed, compared with the oracle; plus faults and side effects.

    ``expected.err_est`` (when the oracle provides it) maps keys like ``loss``, ``W1``,
    ``updated.W1`` and ``trajectory.2.W1`` to the oracle's error estimate for that tensor.
    """
    wanted = set(checks or CHECKS)
    dtype = case.spec.dtype
    ctx = f"case {case.case_id}" if context is None else context
    est = getattr(expected, "err_est", None)
    est = {} if est is None else est

    def judged(name, actual, exp, *, scale, key, check) -> TensorVerdict:
        # The bound only grows with the estimate: a tensor inside it at estimate 0 passes whatever the
        # estimate is, and only the others read it (a LazyEstimate is then computed, once per case).
        v = compare_tensor(name, actual, exp, dtype=dtype, oracle=oracle, scale=scale, check=check, context=ctx)
        if v.status != "fail" or not v.n_total or v.detail:
            return v
        e = est.get(key)
        if not e:
            return v
        return compare_tensor(name, actual, exp, dtype=dtype, oracle=oracle, scale=scale, err_est=e, check=check,
                              context=ctx)

    out: list[TensorVerdict] = []

    def add(name, actual, exp, *, scale, key, check):
        if check in wanted:
            out.append(judged(name, actual, exp, scale=scale, key=key, check=check))

    for family, cause in observed.errors.items():
        if family in wanted or family not in CHECKS:
            out.append(TensorVerdict(name=family, check=family if family in CHECKS else "loss", status="error",
                                     oracle=oracle, context=ctx, detail=cause))
    if observed.loss is not None and expected.loss is not None:
        add("loss", observed.loss, expected.loss, scale=abs(float(expected.loss)), key="loss", check="loss")
    if observed.out is not None and expected.out is not None:
        add("out", observed.out, expected.out, scale=_scale({"out": expected.out}), key="out", check="output")
    grad_scale = _scale(expected.grads)
    for key, exp in expected.grads.items():
        if key in observed.grads:
            add(f"grads['{key}']", observed.grads[key], exp, scale=grad_scale, key=key, check=check_of(key))
    if observed.state and expected.state:
        s = _scale(expected.state)
        for key, exp in expected.state.items():
            if key in observed.state:
                add(f"state['{key}']", observed.state[key], exp, scale=s, key=f"state.{key}", check="state")
    if observed.updated is not None and expected.updated is not None:
        s = _scale(expected.updated)
        for key, exp in expected.updated.items():
            if key in observed.updated:
                add(f"updated['{key}']", observed.updated[key], exp, scale=s, key=f"updated.{key}", check="update")
            elif "update" in wanted:
                out.append(TensorVerdict(name=f"updated['{key}']", check="update", status="fail", oracle=oracle,
                                         context=ctx, detail="parameter missing after the update"))
    if observed.trajectory is not None and expected.trajectory is not None and "trajectory" in wanted:
        for k, (obs_k, exp_k) in enumerate(zip(observed.trajectory, expected.trajectory)):
            s = _scale(exp_k)
            step = [judged(f"trajectory[{k + 1}]['{key}']", obs_k.get(key), exp, scale=s,
                           key=f"trajectory.{k + 1}.{key}", check="trajectory") for key, exp in exp_k.items()]
            out.extend(step)
            if any(not v.passed for v in step):
                break  # later steps only repeat the first divergence
    if "side_effects" in wanted:
        for what in observed.mutated:
            out.append(TensorVerdict(name=what, check="side_effects", status="fail", oracle=oracle, context=ctx,
                                     detail=f"{what} was modified in place (the caller's array changed)"))
        for what, how in observed.shape_changes.items():
            out.append(TensorVerdict(name=what, check="side_effects", status="fail", oracle=oracle, context=ctx,
                                     detail=f"stored parameter {what} changed shape: {how}"))
    return out


def failures(verdicts: list[TensorVerdict]) -> list[TensorVerdict]:
    return [v for v in verdicts if not v.passed]


def format_failures(verdicts: list[TensorVerdict], *, replay: str | None = None) -> str:
    bad = failures(verdicts)
    lines = [v.message for v in bad]
    if replay:
        lines.append(f"replay: {replay}")
    return "\n".join(lines)


def assert_matches(
    case,
    observed: Observation,
    expected: Observation,
    *,
    oracle: str = "torch",
    checks: tuple[str, ...] | list[str] | None = None,
    replay: str | None = None,
) -> list[TensorVerdict]:
    """Raise AssertionError naming every mismatching tensor; return the verdicts when all pass."""
    verdicts = compare_observation(case, observed, expected, oracle=oracle, checks=checks)
    if failures(verdicts):
        raise AssertionError(f"{case.describe()}\n" + format_failures(verdicts, replay=replay))
    return verdicts
