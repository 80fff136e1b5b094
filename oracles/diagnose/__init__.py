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
  on the upstream gradient or on ``z >= 0``, the input X in place of A_{l-1}; a model's own backward
  stepping over one activation while the hidden dA (read by a separate layer-by-layer pass) are right.
* single layers: wrong activation derivatives, batchnorm/dropout, conv/pool bugs, a flatten that
  lays the features out in another axis order (flatten.py).
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

from oracles.diagnose._base import BUG_CLASSES, Convention, Diagnosis
from oracles.diagnose.campaign import conditions, diagnose_campaign
from oracles.diagnose.conventions import detect_convention
from oracles.diagnose.core import diagnose, primary
from oracles.diagnose.recompute import recompute_grads
from oracles.diagnose.tensors import tensor_pattern

__all__ = [
    "BUG_CLASSES",
    "Diagnosis",
    "Convention",
    "diagnose",
    "diagnose_campaign",
    "conditions",
    "detect_convention",
    "primary",
    "recompute_grads",
    "tensor_pattern",
]
