"""Diagnosis hypotheses for CS231n assignment 3's word embedding and temporal softmax loss (the layers of
oracles/layers/words.py): which classic bug the numbers are. Called through
oracles.diagnose.recurrent.recurrent_hypotheses (and so by oracles.diagnose.core).

* ``embedding_repeats_lost``: word_embedding_backward writes ``dW[x] += dout`` (or ``dW[x] = dout``): numpy's
  fancy-index assignment keeps one write per index, so a word used k times gets one of its k gradients, not
  their sum (np.add.at(dW, x, dout) is right). Recognised row by row: every row of the observed dW is the
  gradient of ONE use of its word (0 for an unused word), and a repeated word's row is not the sum.
* ``temporal_loss_mean_over_steps``: temporal_softmax_loss divides by N * T (a mean over every step), where
  the handout sums over the steps and divides by N only;
* ``temporal_loss_mean_over_mask``: divides by mask.sum() (a mean over the unmasked steps) instead of N;
* ``temporal_loss_mask_dropped``: the mask left out (of dx, of the loss, or both): padded steps count.

A loss hypothesis is named when each wrong tensor (loss, dx) equals that bug's and the others are right;
"equal" is oracles.compare's, through _close.
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import BUG_CLASSES, Diagnosis, _close
from oracles.layers.words import pack_scores, split_scores, word_indices
from oracles.observation import Observation

__all__ = ["WORD_BUG_CLASSES", "word_hypotheses", "temporal_loss_model"]

WORD_BUG_CLASSES = {
    "embedding_repeats_lost": "word_embedding_backward keeps one gradient per word (dW[x] += dout): a word used "
                              "several times needs the sum (np.add.at)",
    "temporal_loss_mean_over_steps": "temporal_softmax_loss divides by N * T; the handout divides by N only",
    "temporal_loss_mean_over_mask": "temporal_softmax_loss divides by mask.sum(); the handout divides by N",
    "temporal_loss_mask_dropped": "temporal_softmax_loss ignores the mask: padded steps add to the loss or to dx",
}
BUG_CLASSES.update(WORD_BUG_CLASSES)

_LOSS_BUGS = {
    "temporal_loss_mean_over_steps": "the loss and dx are divided by N * T (a mean over every step); the handout "
                                     "sums over the steps and divides by N only",
    "temporal_loss_mean_over_mask": "the loss and dx are divided by mask.sum() (the unmasked steps); the handout "
                                    "divides by N",
    "temporal_loss_mask_dropped": "the mask is not applied: the padded steps (mask False) count in the loss or "
                                  "in dx (multiply both by the mask)",
}


def temporal_loss_model(case: Case, bug: str | None) -> tuple[float, np.ndarray]:
    """(loss, packed dx) of the Case's temporal_softmax_loss with one bug, in float64 numpy."""
    scores, y, mask = split_scores(case.typed(case.x))
    s = scores.astype(np.float64)
    N, T, V = s.shape
    shifted = s - s.max(axis=2, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    onehot = np.eye(V)[y]
    ce, d = -(logp * onehot).sum(axis=2), np.exp(logp) - onehot
    m = mask.astype(np.float64)
    if bug == "temporal_loss_mask_dropped":
        m = np.ones_like(m)
    div = {"temporal_loss_mean_over_steps": N * T, "temporal_loss_mean_over_mask": float(mask.sum())}.get(bug, N)
    if div == 0:
        raise ValueError("no unmasked step: mask.sum() is 0")
    return float((m * ce).sum() / div), pack_scores(d * m[:, :, None] / div)


def _loss_hypotheses(case: Case, observed: Observation, expected: Observation, grad_bad) -> list[Diagnosis]:
    dtype = case.spec.dtype
    checks = []
    if observed.loss is not None and expected.loss is not None and not _close(observed.loss, expected.loss, dtype):
        checks.append("loss")
    if "x" in grad_bad and "x" in observed.grads:
        checks.append("x")
    if not checks:
        return []
    fits = []
    for bug in _LOSS_BUGS:
        try:
            loss, dx = temporal_loss_model(case, bug)
        except ValueError:
            continue
        model = {"loss": loss, "x": dx}
        got = {"loss": observed.loss, "x": observed.grads.get("x")}
        want = {"loss": expected.loss, "x": expected.grads.get("x")}
        if all(_close(got[k], model[k], dtype) and not _close(model[k], want[k], dtype) for k in checks):
            fits.append(bug)
    if not fits:
        return []
    # a Case with no padded step has mask.sum() = N * T: the two means are then the same numbers; said so
    also = f"; on this Case the same numbers as: {', '.join(fits[1:])}" if len(fits) > 1 else ""
    return [Diagnosis(fits[0], f"{_LOSS_BUGS[fits[0]]} (the numbers are exactly that bug's{also})", tuple(checks))]


def _embedding_hypotheses(case: Case, observed: Observation, expected: Observation, grad_bad) -> list[Diagnosis]:
    if "W1" not in grad_bad or "W1" not in observed.grads:
        return []
    dtype = case.spec.dtype
    idx = word_indices(case.typed(case.x)).reshape(-1)
    dout = np.asarray(case.typed(case.y), dtype=np.float64).reshape(len(idx), -1)
    got = np.asarray(observed.grads["W1"], dtype=np.float64)
    right = np.asarray(expected.grads["W1"], dtype=np.float64)
    if got.shape != right.shape:
        return []
    lost = []
    for v in range(got.shape[0]):
        uses = np.flatnonzero(idx == v)
        if not len(uses):
            if not _close(got[v], np.zeros_like(got[v]), dtype):
                return []
            continue
        if not any(_close(got[v], dout[u], dtype) for u in uses):
            return []  # a row that is not one use's gradient: another bug
        if len(uses) > 1 and not _close(got[v], right[v], dtype):
            lost.append(v)
    if not lost:
        return []
    return [Diagnosis("embedding_repeats_lost",
                      f"dW row(s) {', '.join(map(str, lost[:5]))} of words used more than once hold the gradient of "
                      f"one use only: dW[x] += dout keeps one write per index; accumulate with "
                      f"np.add.at(dW, x, dout)", ("W1",))]


def word_hypotheses(case: Case, observed: Observation, expected: Observation, grad_bad) -> list[Diagnosis]:
    """The word-layer bug whose numbers the observation equals (empty for other Specs or no match)."""
    spec = case.spec
    if spec.is_mlp or len(spec.layers) != 1 or spec.loss != "dot":
        return []
    name = spec.layers[0].kind
    if name == "word_embedding":
        return _embedding_hypotheses(case, observed, expected, grad_bad)
    if name == "temporal_softmax_loss":
        return _loss_hypotheses(case, observed, expected, grad_bad)
    return []
