"""Hypotheses for CS231n assignment 1's linear classifiers (one ``linear`` layer, softmax or hinge loss).

dW = X^T G / N + reg gradient, with G = P - onehot (softmax) or the hinge's active-margin matrix whose
correct-class entry is minus the count of positive margins. The slips real files make (docs/real-world/
layers.tsv) are recomputed from the Case: G summed but not averaged (the loss is averaged, dW is not), and
the SVM's correct-class column never moved or moved once too often (its own margin of delta counted). Each
is tried with the L2 gradient right, missing, half, doubled or added once per sample (N times), so a file
with two slips is named for both;
a hypothesis that equals the right answer on this Case (nothing to tell apart) is not claimed.

Hooked into oracles.diagnose.core.diagnose beside pair_patterns; never raises.
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import Diagnosis, _close
from oracles.observation import Observation

__all__ = ["linear_patterns"]

# the L2 gradient as a multiple of the right one (spec.reg * W): right, missing, half, doubled
_REG_KS = (1.0, 0.0, 0.5, 2.0)


def _softmax_g(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    s = z - z.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    return p


def _hinge_g(z: np.ndarray, y: np.ndarray, correct: str) -> np.ndarray:
    n = np.arange(len(y))
    margins = z - z[n, y][:, None] + 1.0
    margins[n, y] = 0.0
    active = (margins > 0).astype(np.float64)
    count = active.sum(axis=1)
    active[n, y] = {"right": -count, "missing": 0.0, "extra": -count - 1.0}[correct]
    return active


def linear_patterns(case: Case, bad, observed: Observation, expected: Observation) -> list[Diagnosis]:
    spec = case.spec
    try:
        if spec.is_mlp or spec.kinds() != "linear" or spec.loss not in ("softmax_cross_entropy", "hinge"):
            return []
        got, want = observed.grads.get("W1"), expected.grads.get("W1")
        if got is None or want is None or not any(v.check == "grad_W" and v.status == "fail" for v in bad):
            return []
        got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
        W = case.typed(case.params["W1"]).astype(np.float64)  # (C, D)
        x = case.typed(case.x).astype(np.float64).reshape(case.m, -1)
        y = np.asarray(case.y).astype(np.int64)
        z = x @ W.T
        r = spec.reg * W
        m = case.m
        variants = [("right", _softmax_g(z, y) if spec.loss == "softmax_cross_entropy" else _hinge_g(z, y, "right"))]
        if spec.loss == "hinge":
            variants += [(c, _hinge_g(z, y, c)) for c in ("missing", "extra")]
        for how, g in variants:
            for scale in (1.0 / m, 1.0):
                data = g.T @ x * scale
                # (and m times: the L2 gradient added inside the per-sample loop of a naive version)
                for k in (*_REG_KS, float(m)) if spec.reg and m > 2 else _REG_KS if spec.reg else (1.0,):
                    if (how, scale, k) == ("right", 1.0 / m, 1.0):
                        continue
                    hyp = data + k * r
                    if _close(hyp, want, spec.dtype) or not _close(got, hyp, spec.dtype):
                        continue
                    return _name(how, scale == 1.0 and m > 1, k, m)
        return []
    except Exception:  # noqa: BLE001 - a hypothesis that cannot be tested is skipped
        return []


def _name(how: str, unaveraged: bool, k: float, m: int) -> list[Diagnosis]:
    out = []
    if how == "missing":
        out.append(Diagnosis("svm_correct_class", "dW never moves the correct class: each positive margin adds X_i "
                             "to its class's column but dW[:, y_i] -= X_i (once per positive margin) is missing",
                             ("W1",), {"correct_column": "missing"}))
    elif how == "extra":
        out.append(Diagnosis("svm_correct_class", "dW's correct-class column subtracts X_i once too often: the "
                             "count of positive margins includes the correct class's own margin of delta (count "
                             "only j != y_i)", ("W1",), {"correct_column": "count + 1"}))
    if unaveraged:
        out.append(Diagnosis("missing_mean", f"dW's data part is N = {m} times the mean's: the loss is averaged "
                             f"over the N samples, dW is not (dW /= N missing)", ("W1",), {"factor": float(m)}))
    if k == m and m > 2:
        out.append(Diagnosis("l2_per_sample", f"the L2 gradient in dW is N = {m} times what it should be: it is added "
                             f"inside the loop over the samples, once per sample, instead of once after it",
                             ("W1",), {"factor": float(m)}))
    elif k != 1.0:
        say = "missing" if k == 0 else f"{k:g} times what it should be"
        out.append(Diagnosis("reg_scale", f"the L2 gradient in dW is {say} (the loss's reg * sum(W * W) has "
                             f"gradient 2 * reg * W; 0.5 * reg * sum(W * W) has reg * W)", ("W1",), {"k": k - 1.0}))
    return out
