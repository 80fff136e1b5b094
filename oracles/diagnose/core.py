"""The per-Case diagnosis: faults first, then tensor patterns, recomputation, structure; most specific first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from oracles.case import Case
from oracles.compare import TensorVerdict
from oracles.diagnose._base import Diagnosis, _key
from oracles.diagnose.activations import activation_patterns
from oracles.diagnose.conv import conv_hypotheses
from oracles.diagnose.conventions import detect_convention
from oracles.diagnose.faults import _error_pattern, _shape_change_pattern
from oracles.diagnose.flatten import flatten_patterns
from oracles.diagnose.linear import linear_patterns
from oracles.diagnose.mytorch_cells import cell_hypotheses
from oracles.diagnose.norm import norm_patterns
from oracles.diagnose.pair import pair_patterns
from oracles.diagnose.recompute import _recompute_match, _skipped_activation_match
from oracles.diagnose.recurrent import recurrent_hypotheses
from oracles.diagnose.structure import _annotate, _layer_break, _loss_pattern, _merge_patterns, _update_pattern
from oracles.diagnose.tensors import tensor_pattern
from oracles.observation import Observation

# Ordering of one Case's diagnoses: faults, specific patterns (1), structure, generic, unexplained.
_RANK = {"mutation": 0, "raised": 3,
         "layer_break": 2, "bias_only": 2, "update_only": 2, "forward_pass": 2, "loss_grad_mismatch": 2,
         "constant_factor": 3, "shape": 3, "unclassified": 4}


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
    out.extend(norm_patterns(case, bad, observed, expected))  # norm/dropout layers (oracles/diagnose/norm.py)
    out.extend(activation_patterns(case, bad, observed, expected))  # one activation layer on its own
    out.extend(flatten_patterns(case, bad, observed, expected))  # a flatten layer on its own
    out.extend(pair_patterns(case, bad, observed, expected))  # Saito's MulLayer on its own
    linear = linear_patterns(case, bad, observed, expected)  # CS231n assignment 1's linear classifiers
    out.extend(linear)

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
        if k in observed.grads and k in expected.grads and not any(k in d.tensors for d in linear):
            d = tensor_pattern(k, observed.grads[k], expected.grads[k], case)
            if d is not None:
                patterns[k] = d
    if patterns:
        out.extend(_merge_patterns(patterns, grad_bad))

    out[_first_nonfault(out):_first_nonfault(out)] = conv_hypotheses(case, observed, expected, grad_bad)  # issue 10
    recurrent = recurrent_hypotheses(case, observed, expected, grad_bad) or cell_hypotheses(
        case, observed, expected, grad_bad)
    if recurrent:  # the whole bug, named: the per-tensor factors it happens to show are not second findings
        # (a temporal loss divided by N * T reads "exactly 1/2 times the oracle's" on a Case with T = 2)
        covered = {t for d in recurrent for t in d.tensors}
        out = [o for o in out if not (o.bug_class == "constant_factor" or "factor" in o.evidence
                                      and (not covered or set(o.tensors) <= covered))]
        out[_first_nonfault(out):_first_nonfault(out)] = recurrent
    # recomputed hypotheses, when the per-tensor view left something unexplained
    if grad_bad and case.spec.is_mlp and (len(patterns) < len(grad_bad) or all(d.bug_class == "constant_factor"
                                                           for d in patterns.values())):
        d = _recompute_match(case, observed, expected, sorted(grad_bad))
        if d is None:  # the hidden dA right, the model's own dW, db wrong: a layer skipped in the chaining
            d = _skipped_activation_match(case, observed, expected, sorted(grad_bad))
            if d is not None:  # a factor some of its tensors happen to show on this Case is not a second finding
                out = [o for o in out if not (o.bug_class == "constant_factor" and set(o.tensors) <= set(d.tensors))]
        if d is not None:
            out.insert(_first_nonfault(out), d)

    loss_v = next((v for v in bad if v.check == "loss" and v.status != "error"), None)
    if loss_v is not None and observed.loss is not None and expected.loss is not None:
        # a gradient that raised is not "matching": the loss hypotheses must not say every gradient matches
        grads_unjudged = any(v.check.startswith("grad_") and v.status == "error" for v in bad)
        out.extend(_loss_pattern(case, observed, expected, bool(grad_bad), unjudged=grads_unjudged))

    # an update that raised is a fault (said above), not "gradients right, the update wrong"
    upd_bad = [v for v in bad if v.check in ("update", "trajectory") and v.status != "error"]
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
    if any(d.bug_class == "l2_per_sample" for d in out):
        # an L2 term m times too large is the per-sample loop: the more specific name wins
        out = [d for d in out if not (d.bug_class == "reg_cost_scale" and abs(d.evidence.get("factor", 0) - case.m)
                                      < 1e-6 * case.m)]
    _bias_reg_over_convention(out)
    out.sort(key=lambda d: _RANK.get(d.bug_class, 1))  # stable: within a rank, the order found
    conv = detect_convention(case, observed, expected)
    if conv is not None and not any(d.bug_class == "forward_pass" for d in out):
        # a convention explains consistent factors; beside a wrong forward pass it would contradict it
        for d in out:
            if d.bug_class in ("factor_2", "missing_mean", "double_mean", "reg_scale", "constant_factor"):
                d.message += f"; consistent with the convention '{conv.name}' ({conv.description})"
                d.evidence["convention"] = conv.name
    _annotate(bad, out)
    return out


def _bias_reg_over_convention(out: list[Diagnosis]) -> None:
    """Biases regularised on top of the reg * sum(W^2) handout: the weights' "reg gradient 2 times" is that
    convention, not a second bug, so the bias finding leads and a wrong forward pass is not claimed."""
    if not any(d.bug_class == "reg_on_bias" for d in out):
        return
    scales = [d for d in out if d.bug_class == "reg_scale"]
    if scales and all(abs(d.evidence.get("k", 0) - 1.0) < 1e-12 for d in scales):
        for d in scales:
            out.remove(d)
        for d in out:
            if d.bug_class == "reg_on_bias":
                d.message += ("; the weights' L2 term is reg * sum(W^2) (the convention 'reg instead of 0.5 reg', "
                              "gradient 2 reg W)")
    if any(d.bug_class == "reg_on_bias" and "loss" in d.tensors for d in out):
        out[:] = [d for d in out if d.bug_class != "forward_pass"]


def _first_nonfault(out: list[Diagnosis]) -> int:
    for i, d in enumerate(out):
        if d.bug_class not in ("raised", "mutation", "missing_keepdims"):
            return i
    return len(out)


def primary(diagnoses: Sequence[Diagnosis]) -> Diagnosis | None:
    return diagnoses[0] if diagnoses else None
