"""Name the pattern of a mismatch: which realistic bug explains the numbers, with the evidence.

For one Case, ``diagnose(case, verdicts, observed, expected)`` tests hypotheses against the
observed and expected tensors and returns the ones that fit, most specific first:

* faults: the implementation raised; stored parameters changed shape (a ``(n,)`` gradient
  broadcast against a ``(n, 1)`` bias: missing ``keepdims``); arguments mutated in place;
  NaN/inf where the oracle is finite (overflow: e.g. softmax without max-subtraction).
* one tensor: a constant factor (m, 1/m, 2, 1/2, -1, or another number), a transpose, an extra
  batch axis (summing it gives the oracle), all zeros, the regularisation term scaled wrong
  or applied to a bias.
* recomputation: the gradient a plausible wrong backprop would give, computed here in numpy
  from the Case and compared: sigma'(a) instead of sigma'(z), an output delta without the
  activation's derivative, another activation's derivative in the hidden layers, a ReLU mask
  on the upstream gradient or on ``z >= 0``, the input X in place of A_{l-1}.
* structure: only the loss is off (cost and gradient averaged differently), only the update is
  off, only biases, only layers below some layer (the backward recursion broke there).
* otherwise "unclassified", with the numbers.

``diagnose_campaign`` looks across Cases for bugs that only show on some inputs (label
targets, batch > 1, large inputs). ``detect_convention`` recognises a consistent convention
(cost without the 1/2, sum instead of mean, reg instead of 0.5 reg) that is not a bug.

Every "does this match" goes through oracles.compare (tolerance of an independent
implementation): no private tolerances here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from oracles.case import Case
from oracles.compare import TensorVerdict, compare_tensor
from oracles.observation import Observation
from reference import functions as F

__all__ = [
    "BUG_CLASSES",
    "Diagnosis",
    "Convention",
    "diagnose",
    "diagnose_campaign",
    "detect_convention",
    "primary",
    "recompute_grads",
    "tensor_pattern",
]

# bug class -> what it means; the mutation zoo labels its mutants with these keys.
BUG_CLASSES: dict[str, str] = {
    "raised": "the implementation raised an exception",
    "forward_pass": "the forward pass is wrong (the loss differs and everything downstream)",
    "mutation": "an input, upstream gradient or parameter was modified in place",
    "missing_keepdims": "a (n,) gradient broadcast against a (n, 1) parameter: keepdims missing",
    "shape": "a gradient has the wrong shape",
    "extra_batch_axis": "a gradient keeps the batch axis: not summed over the samples",
    "large_inputs": "overflow / instability: NaN or inf where the oracle is finite",
    "missing_mean": "gradient m times too large: the 1/m of the mean is missing",
    "double_mean": "gradient 1/m of the oracle's: averaged twice",
    "factor_2": "gradient twice the oracle's: the cost has no 1/2 ((a - y)^2 gives 2 (a - y))",
    "factor_half": "gradient half the oracle's",
    "sign_flip": "gradient has the wrong sign",
    "constant_factor": "gradient off by a constant factor",
    "transpose": "weight gradient transposed",
    "zero_grad": "gradient is all zeros",
    "reg_scale": "the regularisation gradient is scaled wrong (or missing)",
    "reg_on_bias": "regularisation applied to the biases",
    "derivative_at_activation": "activation derivative evaluated at a = sigma(z) instead of z",
    "output_missing_derivative": "output delta without the output activation's derivative",
    "wrong_derivative": "the wrong activation derivative in the hidden layers",
    "a_prev_is_x": "the input X used in place of the previous layer's activation A_{l-1}",
    "kink_convention": "a different subgradient at exact kinks (ReLU mask z >= 0)",
    "loss_grad_mismatch": "the cost and its gradient are averaged differently",
    "update_only": "gradients right, the parameter update wrong",
    "bias_only": "only the bias gradients are wrong",
    "layer_break": "the backward recursion breaks at one layer: the layers above are right",
    "one_hot_only": "right with one-hot targets, wrong with label targets",
    "batch_only": "right for one sample, wrong for batches",
    "unclassified": "a mismatch no hypothesis explains",
}

# Ordering of one Case's diagnoses: faults, specific patterns (1), structure, generic, unexplained.
_RANK = {"mutation": 0, "raised": 3,
         "layer_break": 2, "bias_only": 2, "update_only": 2, "forward_pass": 2, "loss_grad_mismatch": 2,
         "constant_factor": 3, "shape": 3, "unclassified": 4}

# Campaign-level classes, and per-case classes too generic to beat them.
_CONDITIONAL = ("one_hot_only", "batch_only", "large_inputs")
_GENERIC = {"unclassified", "raised", "shape", "forward_pass", "layer_break", "bias_only", "constant_factor",
            "zero_grad"}


@dataclass
class Diagnosis:
    """One hypothesis that fits: a bug class, a sentence for a person, and the numbers behind it."""

    bug_class: str
    message: str
    tensors: tuple[str, ...] = ()
    evidence: dict = field(default_factory=dict)

    def __str__(self) -> str:
        where = f" [{', '.join(self.tensors)}]" if self.tensors else ""
        return f"{self.bug_class}{where}: {self.message}"

    def to_dict(self) -> dict:
        return {"bug_class": self.bug_class, "message": self.message, "tensors": list(self.tensors),
                "evidence": {k: _plain(v) for k, v in self.evidence.items()}}


@dataclass(frozen=True)
class Convention:
    """A consistent convention that differs from the Spec's but is not a bug.

    ``grad_factor`` / ``loss_factor``: observed = factor * oracle on every gradient / the loss
    (reg_factor: on the regularisation term only). ``spec_changes``: the Spec fields that express
    the convention when the Spec can (e.g. ``{"reduction": "sum"}``), so a judge can re-run the
    oracle under it; empty when it cannot and the factors must be applied instead.
    """

    name: str
    description: str
    grad_factor: float = 1.0
    loss_factor: float = 1.0
    reg_factor: float = 1.0
    spec_changes: tuple[tuple[str, object], ...] = ()


def _plain(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, tuple):
        return list(v)
    return v


# ---- matching: every "equal?" goes through compare_tensor ----------------------------------


def _close(actual, expected, dtype: str, err_est: float | None = None) -> bool:
    """Does actual equal expected up to what an independent implementation in dtype may differ by?

    err_est: the rounding already in the operands (e.g. a step recovered as p - p_new)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape or not np.all(np.isfinite(a)):
        return False
    return compare_tensor("hypothesis", a, e, dtype=dtype, oracle="impl", err_est=err_est).passed


def _fit(a: np.ndarray, e: np.ndarray) -> float | None:
    """Least-squares c in a ~ c e (None when e is zero)."""
    ee = float(np.vdot(e, e))
    return float(np.vdot(a, e)) / ee if ee > 0 else None


def _named_factors(m: int) -> list[tuple[float, str, str]]:
    """(factor, how to say it, bug class), most telling first; m-factors only when m > 1."""
    out = [(-1.0, "-1 (sign flipped)", "sign_flip")]
    if m > 1:
        out += [(float(m), f"m = {m} (the 1/m of the mean is missing)", "missing_mean"),
                (1.0 / m, f"1/m = 1/{m} (averaged twice)", "double_mean")]
    out += [(2.0, "2 (cost without the 1/2)", "factor_2"), (0.5, "1/2", "factor_half")]
    if m > 1:
        out += [(-float(m), f"-m = -{m}", "sign_flip"), (2.0 * m, f"2m = {2 * m}", "constant_factor"),
                (2.0 / m, f"2/m = 2/{m}", "constant_factor")]
    return out


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
    for k in (1.0, -1.0, -0.5, 0.5, 2.0 * case.m - 1, 1.0 / case.m - 1):
        if _close(d, k * reg * p, case.spec.dtype):
            if key[0] == "b":
                return Diagnosis("reg_on_bias", f"differs by {k:g} * reg * {key}: the L2 term was applied to the "
                                 f"bias (biases are not regularised)", (name,), {"k": k, "reg": reg})
            how = "missing" if k == -1 else f"{1 + k:g} times what it should be"
            return Diagnosis("reg_scale", f"differs by {k:g} * reg * {key}: the regularisation gradient is {how} "
                             f"(0.5 * reg * ||W||^2 has gradient reg * W)", (name,), {"k": k, "reg": reg})
    return None


def _key(name: str) -> str | None:
    """grads['W2'] -> 'W2', updated['b1'] -> 'b1', W2 -> W2."""
    if "[" in name:
        return name.rsplit("[", 1)[-1].strip("]'\"")
    return name


def _layer_of(name: str) -> int | None:
    k = _key(name) or ""
    return int(k[1:]) if len(k) > 1 and k[0] in "WbA" and k[1:].isdigit() else None


# ---- recomputation: what a plausible wrong backprop would give ------------------------------


def recompute_grads(
    case: Case,
    *,
    hidden_dz: Callable[[int, np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    output_delta: str = "right",
    weight_input: Sequence[int] = (),
) -> dict[str, np.ndarray]:
    """Canonical float64 gradients of the Case, optionally with one planted deviation.

    hidden_dz(l, z, a, dA) -> dZ replaces dA * sigma_l'(z) in hidden layer l. output_delta:
    "right", "no_derivative" (quadratic delta a - y without sigma_L'(z)), "at_activation"
    (sigma_L'(a)). weight_input: layers whose dW uses X in place of A_{l-1}.
    """
    spec = case.spec
    L = spec.n_layers
    P = {k: case.typed(v).astype(np.float64) for k, v in case.params.items()}
    x = case.typed(case.x).astype(np.float64)
    y = case.y if spec.target == "labels" else case.typed(case.y).astype(np.float64)
    A, Z = [x], [None]
    for l in range(1, L + 1):
        z = A[-1] @ P[f"W{l}"].T + P[f"b{l}"]
        Z.append(z)
        A.append(F.activation(spec.activations[l - 1])(z))
    zL, aL = Z[L], A[L]
    prime_L = F.derivative(spec.activations[-1])
    if spec.loss == "quadratic":
        yd = case.onehot if spec.target == "labels" else y
        if output_delta == "no_derivative":
            delta = aL - yd
        elif output_delta == "at_activation":
            delta = (aL - yd) * prime_L(aL)
        else:
            delta = (aL - yd) * prime_L(zL)
    elif spec.loss == "binary_cross_entropy":
        delta = aL - (case.onehot if spec.target == "labels" else y)
    elif spec.loss == "softmax_cross_entropy":
        delta = F.softmax_cross_entropy_delta(zL, y)
    else:
        delta = F.hinge_delta(zL, y)
    if spec.reduction == "mean":
        delta = delta / case.m
    grads: dict[str, np.ndarray] = {}
    for l in range(L, 0, -1):
        inp = x if l in weight_input else A[l - 1]
        grads[f"W{l}"] = delta.T @ inp + spec.reg * P[f"W{l}"]
        grads[f"b{l}"] = delta.sum(axis=0)
        dA = delta @ P[f"W{l}"]
        if l == 1:
            grads["x"] = dA
        else:
            grads[f"A{l - 1}"] = dA
            if hidden_dz is None:
                delta = dA * F.derivative(spec.activations[l - 2])(Z[l - 1])
            else:
                delta = hidden_dz(l - 1, Z[l - 1], A[l - 1], dA)
    return grads


def _variants(case: Case):
    """(bug class, description, kwargs for recompute_grads) for every recomputation hypothesis."""
    spec = case.spec
    acts = spec.activations
    hidden = acts[:-1]
    prime = F.derivative

    def at_a(l, z, a, dA):
        return dA * prime(acts[l - 1])(a)

    out = []
    smooth = {"sigmoid", "tanh", "softplus"}
    if set(hidden) & smooth:
        out.append(("derivative_at_activation", "hidden layers use sigma'(a) instead of sigma'(z)",
                    {"hidden_dz": at_a}))
    smooth_hidden = [l for l in range(1, len(hidden) + 1) if hidden[l - 1] in smooth]
    if len(smooth_hidden) > 1:
        for k in smooth_hidden:
            out.append(("derivative_at_activation", f"hidden layer {k} uses sigma'(a) instead of sigma'(z)",
                        {"hidden_dz": lambda l, z, a, dA, k=k: dA * prime(acts[l - 1])(a if l == k else z)}))
    if spec.loss == "quadratic" and acts[-1] in smooth:
        out.append(("derivative_at_activation", "the output delta uses sigma'(a) instead of sigma'(z)",
                    {"output_delta": "at_activation"}))
        if set(hidden) & smooth:
            out.append(("derivative_at_activation", "every layer uses sigma'(a) instead of sigma'(z)",
                        {"hidden_dz": at_a, "output_delta": "at_activation"}))
    if spec.loss == "quadratic" and acts[-1] != "identity":
        out.append(("output_missing_derivative", f"output delta = a - y without {acts[-1]}'(z_L)",
                    {"output_delta": "no_derivative"}))
    if hidden:
        for alt in F.ACTIVATIONS:
            if alt in hidden:
                continue
            out.append(("wrong_derivative", f"hidden layers use {alt}' instead of their own derivative",
                        {"hidden_dz": lambda l, z, a, dA, alt=alt: dA * prime(alt)(z)}))
        if "relu" in hidden or "leaky_relu" in hidden:
            out.append(("wrong_derivative", "the ReLU mask is taken from the upstream gradient (dout > 0), not z",
                        {"hidden_dz": lambda l, z, a, dA: dA * (dA > 0) if acts[l - 1] in ("relu", "leaky_relu")
                         else dA * prime(acts[l - 1])(z)}))
            out.append(("kink_convention", "the ReLU mask is z >= 0 (relu'(0) = 1; torch uses 0)",
                        {"hidden_dz": lambda l, z, a, dA: dA * np.where(z >= 0, 1.0, 0.0 if acts[l - 1] == "relu"
                                                                        else F.LEAKY_SLOPE)
                         if acts[l - 1] in ("relu", "leaky_relu") else dA * prime(acts[l - 1])(z)}))
    L = spec.n_layers
    for l in range(2, L + 1):
        if spec.sizes[l - 1] == spec.sizes[0]:
            out.append(("a_prev_is_x", f"dW{l} uses X in place of A_{l - 1}", {"weight_input": (l,)}))
    same = tuple(l for l in range(2, L + 1) if spec.sizes[l - 1] == spec.sizes[0])
    if len(same) > 1:
        out.append(("a_prev_is_x", "every dW uses X in place of A_{l-1}", {"weight_input": same}))
    return out


def _recompute_match(case: Case, observed: Observation, expected: Observation, failing: list[str]):
    """The first recomputation hypothesis that reproduces every observed gradient, failing ones included."""
    keys = [k for k in observed.grads if k in expected.grads]
    if not failing:
        return None
    for cls, what, kwargs in _variants(case):
        try:
            alt = recompute_grads(case, **kwargs)
        except (ValueError, FloatingPointError):
            continue
        # the variant must differ from the oracle where the observation does, and agree everywhere
        if not all(k in alt for k in keys):
            continue
        if all(_close(_as64(observed.grads[k]), alt[k], case.spec.dtype) for k in keys):
            if any(not _close(alt[k], expected.grads[k], case.spec.dtype) for k in failing):
                return Diagnosis(cls, f"recomputed with this bug, every gradient matches: {what}", tuple(failing),
                                 {"hypothesis": what})
    return None


def _as64(a):
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        return np.full(1, np.nan)


# ---- the per-Case diagnosis ----------------------------------------------------------------


def diagnose(
    case: Case,
    verdicts: Iterable[TensorVerdict],
    observed: Observation,
    expected: Observation,
) -> list[Diagnosis]:
    """The hypotheses that explain this Case's failing verdicts, most specific first.

    Empty when every verdict passed. Sets ``verdict.diagnosis`` on each failing verdict it
    explains. Never raises for odd observations: a hypothesis that cannot be tested is skipped.
    """
    verdicts = list(verdicts)
    bad = [v for v in verdicts if not v.passed]
    if not bad:
        return []
    out: list[Diagnosis] = []

    # faults first: they say the most in the fewest words
    for v in bad:
        if v.status == "error" and v.name in observed.errors:
            out.append(_error_pattern(v.name, observed.errors[v.name], case))
    if observed.mutated:
        out.append(Diagnosis("mutation", f"modified in place: {', '.join(observed.mutated)} (the caller's arrays "
                             f"changed; copy before writing)", tuple(observed.mutated)))
    for what, how in observed.shape_changes.items():
        out.append(_shape_change_pattern(what, how, case))

    grad_bad = {_key(v.name): v for v in bad if v.check.startswith("grad_") and v.status != "error"}
    grad_ok = [k for k in observed.grads if k in expected.grads and k not in grad_bad]
    if grad_bad and all(k.startswith("A") for k in grad_bad) and any(k[0] in "Wb" for k in grad_ok):
        # dA wrong while every dW, db computed from it is right: it was overwritten after its use
        out.append(Diagnosis("mutation", f"{', '.join(sorted(grad_bad))} wrong while every parameter gradient "
                             f"computed from them is right: the upstream gradient was modified in place after "
                             f"use (e.g. relu_backward zeroing dA without a copy)", tuple(sorted(grad_bad))))

    # one tensor at a time
    patterns: dict[str, Diagnosis] = {}
    for k in grad_bad:
        if k in observed.grads and k in expected.grads:
            d = tensor_pattern(k, observed.grads[k], expected.grads[k], case)
            if d is not None:
                patterns[k] = d
    if patterns:
        out.extend(_merge_patterns(patterns, grad_bad))

    # recomputed hypotheses, when the per-tensor view left something unexplained
    if grad_bad and (len(patterns) < len(grad_bad) or all(d.bug_class == "constant_factor"
                                                           for d in patterns.values())):
        d = _recompute_match(case, observed, expected, sorted(grad_bad))
        if d is not None:
            out.insert(_first_nonfault(out), d)

    loss_v = next((v for v in bad if v.check == "loss" and v.status != "error"), None)
    if loss_v is not None and observed.loss is not None and expected.loss is not None:
        out.extend(_loss_pattern(case, observed, expected, bool(grad_bad)))

    upd_bad = [v for v in bad if v.check in ("update", "trajectory")]
    grad_err = any(v.check.startswith("grad_") or v.check == "loss" for v in bad if v.status == "error")
    if upd_bad and not grad_bad and not grad_err:
        d = _update_pattern(case, observed, expected, upd_bad)
        if d is not None:
            out.append(d)

    if grad_bad:
        ws = [k for k in grad_bad if k.startswith("W")]
        bs = [k for k in grad_bad if k.startswith("b")]
        if bs and not ws and any(k.startswith("W") for k in grad_ok):
            out.append(Diagnosis("bias_only", f"only the bias gradients are wrong ({', '.join(sorted(bs))}); every "
                                 f"weight gradient matches", tuple(sorted(bs))))
        brk = _layer_break(case, grad_bad, grad_ok)
        if brk is not None:
            out.append(brk)

    if not out:
        worst = max(bad, key=lambda v: v.norm_rel if np.isfinite(v.norm_rel) else 0.0)
        out.append(Diagnosis("unclassified", f"no hypothesis fits; worst tensor {worst.name}: norm rel error "
                             f"{worst.norm_rel:.3g}, norm ratio {worst.norm_ratio:.4g}, greatest abs diff "
                             f"{worst.max_abs:.3g} at {worst.max_abs_index}",
                             tuple(_key(v.name) or v.name for v in bad),
                             {"norm_rel": worst.norm_rel, "norm_ratio": worst.norm_ratio}))
    out.sort(key=lambda d: _RANK.get(d.bug_class, 1))  # stable: within a rank, the order found
    conv = detect_convention(case, observed, expected)
    if conv is not None:
        for d in out:
            if d.bug_class in ("factor_2", "missing_mean", "double_mean", "reg_scale", "constant_factor"):
                d.message += f"; consistent with the convention '{conv.name}' ({conv.description})"
                d.evidence["convention"] = conv.name
    _annotate(bad, out)
    return out


_SHAPE_RE = re.compile(r"has shape \(([\d, ]*)\); expected \(([\d, ]*)\)")


def _shape_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in text.replace(" ", "").split(",") if t)


def _error_pattern(family: str, text: str, case: Case) -> Diagnosis:
    """Classify a driver's error text (wrong shape, NaN, exception) for one check family."""
    m = case.m
    found = _SHAPE_RE.search(text)
    if found:
        a, e = _shape_tuple(found.group(1)), _shape_tuple(found.group(2))
        ev = {"shape": a, "expected_shape": e}
        if "transposed?" in text or (len(a) == 2 and a == e[::-1]):
            return Diagnosis("transpose", text, (family,), ev)
        n = e[0] if e else 0
        bias = family in ("grad_b", "update", "trajectory") and ("b" in text or "bias" in text)
        if bias and len(a) == 2 and a == (n, n) and (len(e) == 1 or e[1:] == (1,)) and n > 1 and (
                n != m or family != "grad_b"):
            return Diagnosis("missing_keepdims", f"{text}: a (n,) gradient broadcast against a (n, 1) parameter "
                             f"(keepdims missing)", (family,), ev)
        if m > 1 and m in a and (m not in e or np.prod(a) == np.prod(e) * m):
            return Diagnosis("extra_batch_axis", f"{text}: an axis of size m = {m}: not summed over the batch",
                             (family,), ev)
        if family == "grad_W" and len(a) == 2 and len(e) == 2 and a[1] == case.spec.sizes[0] != e[1]:
            return Diagnosis("a_prev_is_x", f"{text}: its second axis is the input width n_0 = {a[1]}: X used in "
                             f"place of A_(l-1)", (family,), ev)
        return Diagnosis("shape", text, (family,), ev)
    if "NaN" in text or "inf" in text.split():
        return Diagnosis("large_inputs", f"{text} (largest |x| {np.abs(case.x).max():.3g}): overflow or instability",
                         (family,))
    pair = re.search(r"shapes \((\d+), ?(\d+)\),? \((\d+), ?(\d+)\)", text)
    if pair and pair.group(1, 2) == pair.group(4, 3) and pair.group(1) != pair.group(2):
        return Diagnosis("transpose", f"{text}: the two shapes are transposes of each other (a transposed "
                         f"array met its untransposed partner)", (family,))
    if "raised" in text and "forward" in text.lower():
        return Diagnosis("forward_pass", f"the forward pass raised: {text}", (family,))
    return Diagnosis("raised", text, (family,))


def _shape_change_pattern(what: str, how: str, case: Case) -> Diagnosis:
    """A stored parameter that changed shape in the update: broadcasting, and which kind."""
    shapes = [_shape_tuple(t) for t in re.findall(r"\(([\d, ]*)\)", how)]
    ev = {"how": how}
    if len(shapes) >= 2:
        old, new = shapes[0], shapes[-1]
        n = old[0] if old else 0
        if what.startswith("b") and len(new) == 2 and new == (n, n) and n > 1 and (n != case.m or case.m == 1):
            return Diagnosis("missing_keepdims", f"stored {what} changed shape ({how}): a (n,) gradient without "
                             f"keepdims broadcast against the (n, 1) parameter in the update", (what,), ev)
        if case.m > 1 and case.m in new and case.m not in old:
            return Diagnosis("extra_batch_axis", f"stored {what} changed shape ({how}): its gradient kept the batch "
                             f"axis (m = {case.m}) and broadcast in the update", (what,), ev)
    return Diagnosis("shape", f"stored {what} changed shape ({how}): a gradient of the wrong shape broadcast in "
                     f"the update", (what,), ev)


def _first_nonfault(out: list[Diagnosis]) -> int:
    for i, d in enumerate(out):
        if d.bug_class not in ("raised", "mutation", "missing_keepdims"):
            return i
    return len(out)


def _merge_patterns(patterns: dict[str, Diagnosis], grad_bad: dict) -> list[Diagnosis]:
    """One diagnosis per bug class, naming every tensor it covers (the class covering most first)."""
    by: dict[str, list[Diagnosis]] = {}
    for d in patterns.values():
        key = d.bug_class + repr(d.evidence.get("factor", ""))
        by.setdefault(key, []).append(d)
    merged = []
    for ds in sorted(by.values(), key=len, reverse=True):
        d0 = ds[0]
        names = tuple(n for d in ds for n in d.tensors)
        msg = d0.message if len(ds) == 1 else f"{', '.join(names)}: {d0.message}"
        if len(ds) == len(grad_bad) and len(ds) > 1:
            msg += " (every failing gradient)"
        merged.append(Diagnosis(d0.bug_class, msg, names, dict(d0.evidence)))
    return merged


def _loss_pattern(case: Case, observed: Observation, expected: Observation, grads_bad: bool) -> list[Diagnosis]:
    a, e = float(observed.loss), float(expected.loss)
    dtype = case.spec.dtype
    if not np.isfinite(a) and np.isfinite(e):
        return [Diagnosis("large_inputs", f"loss is {a} while the oracle's is {e:.6g}: overflow or log(0) "
                          f"(largest |x| {np.abs(case.x).max():.3g})", ("loss",))]
    for k, say, _cls in _named_factors(case.m):
        if _close(a, k * e, dtype):
            if not grads_bad:
                return [Diagnosis("loss_grad_mismatch", f"the loss is {say} times the oracle's while every gradient "
                                  f"matches: the cost and its gradient are averaged differently", ("loss",),
                                  {"factor": k})]
            return []
    if grads_bad:
        return [Diagnosis("forward_pass", f"the loss itself differs ({a:.6g} vs {e:.6g}) and so do the gradients: "
                          f"the forward pass is wrong", ("loss",), {"loss": a, "expected": e})]
    return [Diagnosis("loss_grad_mismatch", f"the loss differs ({a:.6g} vs {e:.6g}) while every gradient matches: "
                      f"the cost does not compute what its gradient differentiates", ("loss",),
                      {"loss": a, "expected": e})]


def _update_pattern(case: Case, observed: Observation, expected: Observation, upd_bad) -> Diagnosis | None:
    """Gradients right, update wrong: measure the step each parameter actually took."""
    if observed.updated is None or expected.updated is None:
        names = tuple(_key(v.name) or v.name for v in upd_bad)
        return Diagnosis("update_only", "the gradients match but the training trajectory does not", names)
    dtype = case.spec.dtype
    parts, ev = [], {}
    names = []
    for k, exp in expected.updated.items():
        got = observed.updated.get(k)
        if got is None:
            continue
        p = case.typed(case.params[k]).astype(np.float64)
        try:
            step_obs = p - np.asarray(got, dtype=np.float64)
        except ValueError:
            names.append(k)
            parts.append(f"{k} has shape {np.shape(got)}")
            continue
        step_exp = p - exp
        # p - p_new cancels: its rounding is eps * |p|, whatever the size of the step
        est = float(np.finfo(dtype).eps) * float(np.linalg.norm(p) + np.linalg.norm(exp))
        if step_obs.shape == step_exp.shape and _close(step_obs, step_exp, dtype, est):
            continue
        names.append(k)
        if step_obs.shape == step_exp.shape and not np.any(step_obs) and np.any(step_exp):
            parts.append(f"{k} never updated")
            ev[k] = 0.0
            continue
        named = [(f, s) for f, s, _ in _named_factors(case.m) if step_obs.shape == step_exp.shape
                 and _close(step_obs, f * step_exp, dtype, abs(f) * est)]
        c = _fit(step_obs.ravel(), step_exp.ravel()) if step_obs.shape == step_exp.shape else None
        if named:
            parts.append(f"{k} stepped by {named[0][1]} x lr x gradient")
            ev[k] = named[0][0]
        elif c is not None and _close(step_obs, c * step_exp, dtype, abs(c) * est):
            parts.append(f"{k} stepped by {c:.6g} x lr x gradient")
            ev[k] = c
        else:
            parts.append(f"{k} stepped wrongly")
    if not names:
        return None
    return Diagnosis("update_only", "gradients match, the update does not: " + "; ".join(parts), tuple(names), ev)


def _layer_break(case: Case, grad_bad: dict, grad_ok: list[str]) -> Diagnosis | None:
    """Layers above some layer right, that layer and below wrong: name where the recursion broke."""
    L = case.spec.n_layers
    if L < 2:
        return None
    bad_layers = sorted({_layer_of(k) for k in grad_bad if k[0] in "Wb" and _layer_of(k)}, reverse=True)
    if not bad_layers:
        return None
    top = bad_layers[0]
    ok_above = all(f"W{l}" in grad_ok or f"b{l}" in grad_ok for l in range(top + 1, L + 1))
    if top == L or not ok_above:
        return None
    return Diagnosis("layer_break", f"layers {top + 1}..{L} are right and layer {top} is the first wrong one "
                     f"counting from the output: the backward recursion breaks between layer {top + 1} and "
                     f"layer {top} (delta^{top} = (W^{top + 1})^T delta^{top + 1} * sigma'(z^{top}))",
                     tuple(sorted(grad_bad)), {"first_wrong_layer": top})


def _annotate(bad: list[TensorVerdict], out: list[Diagnosis]) -> None:
    for v in bad:
        k = _key(v.name)
        for d in out:
            if k in d.tensors or v.name in d.tensors:
                v.diagnosis = f"{d.bug_class}: {d.message}"
                break
        else:
            if out and not v.diagnosis:
                v.diagnosis = f"{out[0].bug_class}: {out[0].message}"


def primary(diagnoses: Sequence[Diagnosis]) -> Diagnosis | None:
    return diagnoses[0] if diagnoses else None


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


# ---- across Cases --------------------------------------------------------------------------


def diagnose_campaign(results: Iterable[tuple[Case, bool, Sequence[Diagnosis]]]) -> list[Diagnosis]:
    """Patterns across Cases: ``results`` holds (case, failed, diagnoses of that case).

    Reports bugs that only show on some inputs (label targets, batch > 1, large inputs) when the
    failing Cases all have the property and some passing Cases lack it; then the per-Case bug
    classes by how many failing Cases they explain. The most specific explanation comes first.
    """
    results = list(results)
    failed = [(c, ds) for c, f, ds in results if f]
    passed = [c for c, f, _ in results if not f]
    if not failed:
        return []
    n_f = len(failed)
    counts = Counter(primary(ds).bug_class for _, ds in failed if ds)
    cond: list[Diagnosis] = []

    def only(prop: Callable[[Case], bool], cls: str, msg: str) -> None:
        if all(prop(c) for c, _ in failed) and any(not prop(c) for c in passed):
            n_other = sum(not prop(c) for c in passed)
            cond.append(Diagnosis(cls, f"{msg}: all {n_f} failing Cases have it and the {n_other} Cases without "
                                  f"it pass", (), {"failing": n_f, "passing_without": n_other}))

    only(lambda c: c.spec.target == "labels", "one_hot_only", "fails only with label targets (one-hot pass)")
    only(lambda c: c.m > 1, "batch_only", "fails only with batch size > 1 (single samples pass)")
    only(_is_large, "large_inputs", "fails only on large-magnitude inputs")
    per_case = []
    for cls, n in counts.most_common():
        example = next(primary(ds) for _, ds in failed if ds and primary(ds).bug_class == cls)
        per_case.append(Diagnosis(cls, f"{n}/{n_f} failing Cases: {example.message}", example.tensors,
                                  {"cases": n, **example.evidence}))
    # a specific per-case class (e.g. missing_mean, which also only shows for m > 1) explains more
    # than a condition; a condition more than a generic class; a bare exception least
    def major(d: Diagnosis) -> bool:  # explains at least half the failing Cases
        return 2 * d.evidence["cases"] >= n_f

    specific = [d for d in per_case if d.bug_class not in _GENERIC]
    generic = [d for d in per_case if d.bug_class in _GENERIC and d.bug_class not in ("raised", "unclassified")]
    # ties between generic classes: the one that says more about where the bug is
    say = ("layer_break", "forward_pass", "bias_only", "zero_grad", "constant_factor", "shape")
    generic.sort(key=lambda d: (-d.evidence["cases"], say.index(d.bug_class) if d.bug_class in say else len(say)))
    rest = [d for d in per_case if d.bug_class in ("raised", "unclassified")]
    return ([d for d in specific if major(d)] + cond + [d for d in generic if major(d)]
            + [d for d in specific if not major(d)] + [d for d in generic if not major(d)] + rest)


def _is_large(case: Case) -> bool:
    return "large_logits" in case.tags or "saturated" in case.tags or float(np.abs(case.x).max()) > 50.0
