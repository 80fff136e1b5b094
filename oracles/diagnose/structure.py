"""Where in the network it breaks: only the loss, only the update, from one layer down; merging per-tensor findings."""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.compare import TensorVerdict
from oracles.diagnose._base import Diagnosis, _close, _fit, _key, _layer_of, _named_factors
from oracles.observation import Observation


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


def _loss_pattern(case: Case, observed: Observation, expected: Observation, grads_bad: bool, *,
                  unjudged: bool = False) -> list[Diagnosis]:
    """Hypotheses about the loss; ``unjudged``: some gradient raised, so none may be called matching."""
    a, e = float(observed.loss), float(expected.loss)
    dtype = case.spec.dtype
    if not np.isfinite(a) and np.isfinite(e):
        return [Diagnosis("large_inputs", f"loss is {a} while the oracle's is {e:.6g}: overflow or log(0) "
                          f"(largest |x| {np.abs(case.x).max():.3g})", ("loss",))]
    if case.spec.reg and case.m > 1 and getattr(case.spec, "is_mlp", False):
        l2 = 0.5 * case.spec.reg * sum(float(np.sum(case.typed(case.params[f"W{l}"]).astype(np.float64) ** 2))
                                       for l in range(1, case.spec.n_layers + 1))
        if l2 > 0 and _close(a, e + (case.m - 1) * l2, dtype):
            return [Diagnosis("l2_per_sample", f"the loss is the oracle's plus {case.m - 1} extra copies of the L2 "
                              f"term 0.5 * reg * sum W^2: it is added once per sample (m = {case.m}), not once",
                              ("loss",), {"l2": l2, "m": case.m})]
    if (bias := _bias_in_l2(case, a, e)) is not None:
        return [bias]
    for k, say, _cls in _named_factors(case.m):
        if _close(a, k * e, dtype):
            if not grads_bad and not unjudged:
                return [Diagnosis("loss_grad_mismatch", f"the loss is {say} times the oracle's while every gradient "
                                  f"matches: the cost and its gradient are averaged differently", ("loss",),
                                  {"factor": k})]
            return []
    shown = _pair(a, e)
    rel = abs(a - e) / max(abs(e), 1e-300)
    if rel < _ROUNDING_LEVEL:
        # a difference no printed digit shows is no evidence of a wrong forward pass (issue 9: never
        # "the loss itself differs (0.682512 vs 0.682512)")
        return [Diagnosis("loss_grad_mismatch",
                          f"the loss differs only at the rounding level ({shown}, relative {rel:.1g}): not a "
                          f"wrong forward pass", ("loss",), {"loss": a, "expected": e, "rounding_level": True})
                ] if not (grads_bad or unjudged) else []
    if unjudged and not grads_bad:
        return [Diagnosis("forward_pass", f"the loss itself differs ({shown}): the forward pass or the cost is "
                          f"wrong (the gradients could not be compared)", ("loss",), {"loss": a, "expected": e})]
    if grads_bad:
        return [Diagnosis("forward_pass", f"the loss itself differs ({shown}) and so do the gradients: "
                          f"the forward pass is wrong", ("loss",), {"loss": a, "expected": e})]
    return [Diagnosis("loss_grad_mismatch", f"the loss differs ({shown}) while every gradient matches: "
                      f"the cost does not compute what its gradient differentiates", ("loss",),
                      {"loss": a, "expected": e})]


def _bias_in_l2(case: Case, a: float, e: float) -> Diagnosis | None:
    """The loss's L2 term sums the biases' squares too (with 0.5 reg or reg on the weights: either handout)."""
    spec = case.spec
    if not spec.reg or not getattr(spec, "is_mlp", False):
        return None
    def squares(p: str) -> float:
        return sum(float(np.sum(case.typed(case.params[f"{p}{l}"]).astype(np.float64) ** 2))
                   for l in range(1, spec.n_layers + 1))
    w2, b2 = squares("W"), squares("b")
    if b2 <= 0:
        return None
    data = e - 0.5 * spec.reg * w2
    for fw in (0.5, 1.0):
        for fb in (0.5, 1.0):
            if _close(a, data + spec.reg * (fw * w2 + fb * b2), spec.dtype):
                form = "0.5 * reg" if fw == 0.5 else "reg"
                return Diagnosis("reg_on_bias", f"the loss's L2 term includes the biases: {form} * sum(W^2) + "
                                 f"{fb:g} * reg * sum(b^2) (biases are not regularised; the loss differs "
                                 f"by {a - e:.6g})", ("loss",), {"reg": spec.reg, "bias_factor": fb})
    return None


_ROUNDING_LEVEL = 1e-9  # relative: far below any bug's effect on a loss, far above float64 rounding


def _pair(a: float, e: float) -> str:
    """'0.68251234 vs 0.68251239': the fewest significant digits (6 to 17) that show the two differ."""
    for digits in range(6, 18):
        sa, se = f"{a:.{digits}g}", f"{e:.{digits}g}"
        if sa != se:
            return f"{sa} vs {se}"
    return f"{a!r} vs {e!r}"


def _update_pattern(case: Case, observed: Observation, expected: Observation, upd_bad) -> Diagnosis | None:
    """Gradients right, update wrong: measure the step each parameter actually took."""
    if observed.updated is None or expected.updated is None:
        names = tuple(_key(v.name) or v.name for v in upd_bad)
        return Diagnosis("update_only", "the gradients match but the training trajectory does not", names)
    dtype = case.spec.dtype
    parts, ev = [], {}
    names = []
    step_classes: set[str] = set()
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
        named = [(f, s, cls) for f, s, cls in _named_factors(case.m) if step_obs.shape == step_exp.shape
                 and _close(step_obs, f * step_exp, dtype, abs(f) * est)]
        c = _fit(step_obs.ravel(), step_exp.ravel()) if step_obs.shape == step_exp.shape else None
        if named:
            parts.append(f"{k} stepped by {named[0][1]} x lr x gradient")
            ev[k] = named[0][0]
            step_classes.add(named[0][2])
        elif c is not None and _close(step_obs, c * step_exp, dtype, abs(c) * est):
            parts.append(f"{k} stepped by {c:.6g} x lr x gradient")
            ev[k] = c
        elif (decay := _decay_scale(case, k, p, step_obs, step_exp, est)) is not None:
            parts.append(f"{k}: {decay[1]}")
            ev[k] = decay[0]
            step_classes.add("reg_decay_scale")
        else:
            parts.append(f"{k} stepped wrongly")
    if not names:
        return None
    if step_classes == {"reg_decay_scale"} and len(parts) == sum(": " in s for s in parts):
        return Diagnosis("reg_decay_scale", "gradients match, the update does not: " + "; ".join(parts),
                         tuple(names), ev)
    if len(step_classes) == 1:
        # every step that has a name has the same one (a step m times too long): the gradient the
        # update used carries that bug, which a batch entry shows directly
        ev["step_class"] = step_classes.pop()
    return Diagnosis("update_only", "gradients match, the update does not: " + "; ".join(parts), tuple(names), ev)


def _decay_scale(case: Case, k: str, p: np.ndarray, step_obs: np.ndarray, step_exp: np.ndarray,
                 est: float) -> tuple[float, str] | None:
    """The step is right but for its weight-decay part, scaled by a constant: (scale, what it means)."""
    reg = case.spec.reg
    if not reg or not k.startswith("W") or step_obs.shape != step_exp.shape:
        return None
    decay = case.lr * reg * p  # the weight-decay part of the expected step
    if not np.any(decay):
        return None
    c = _fit((step_obs - step_exp).ravel(), decay.ravel())
    if c is None or abs(c) < 1e-9 or not _close(step_obs, step_exp + c * decay, case.spec.dtype, est):
        return None
    from oracles.styles.nielsen import N_TRAIN  # the training-set size the network2 driver passes as n

    scale = 1.0 + c
    if case.m > 1 and abs(scale - N_TRAIN / case.m) <= 1e-6 * scale:
        return scale, (f"the weight decay is lmbda / m with m = {case.m} the mini-batch size, where network2 "
                       f"has lmbda / n with n = {N_TRAIN} the training-set size (decay {scale:.6g} times too "
                       f"strong; total_cost charges lmbda / n)")
    return scale, f"the weight-decay (L2) part of the step is {scale:.6g} times what it should be"


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
