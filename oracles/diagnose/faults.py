"""Faults a driver reported as text (a wrong shape, NaN, an exception) and stored parameters that changed shape."""

from __future__ import annotations

import re

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import Diagnosis

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
        if "(dxt from the a_prev columns" in text:  # said by dlai_layers_rnn only when dxt has a_prev's shape
            return Diagnosis("lstm_dx_wrong_columns", text, (family,), ev)
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
