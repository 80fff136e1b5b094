"""Hypotheses for Saito's MulLayer checked on its own (kind ``mul_pair``, loss 'dot').

d(xy)/dx = y and d(xy)/dy = x: each operand's gradient is dout times the OTHER operand. The book's own
comment ("x and y swapped") is there because the slip is common, and real files make it: backward returns
dout * self.x as dx. For each of dx and dy, the value that slip gives (dout times its own operand) is
recomputed from the Case; a component equal to it, and told apart from the right one on this Case (equal
operands make the slip invisible), is named.

Hooked into oracles.diagnose.core.diagnose beside flatten_patterns; never raises.
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import Diagnosis, _close
from oracles.observation import Observation

__all__ = ["pair_patterns"]


def pair_patterns(case: Case, bad, observed: Observation, expected: Observation) -> list[Diagnosis]:
    spec = case.spec
    try:
        if spec.is_mlp or len(spec.layers) != 1 or spec.layers[0].kind != "mul_pair" or spec.loss != "dot":
            return []
        got, want = observed.grads.get("x"), expected.grads.get("x")
        if got is None or want is None or not any(v.check == "grad_x" and v.status == "fail" for v in bad):
            return []
        x = np.asarray(case.x, dtype=np.float64)
        dout = np.asarray(case.y, dtype=np.float64)
        slipped = []
        for k, (name, own) in enumerate((("dx", "x"), ("dy", "y"))):
            own_times = dout * x[:, k]  # the slip: its own operand
            if _close(own_times, want[:, k], spec.dtype):
                continue  # indistinguishable from the right answer on this Case
            if _close(got[:, k], own_times, spec.dtype):
                slipped.append((name, own))
        if not slipped:
            return []
        said = " and ".join(f"{n} = dout * {o}" for n, o in slipped)
        return [Diagnosis("mul_backward_swapped", f"MulLayer.backward returns {said}: each input's gradient is "
                          f"dout times the OTHER input (d(xy)/dx = y, d(xy)/dy = x), so dx = dout * self.y and "
                          f"dy = dout * self.x", ("x",), {"components": [n for n, _ in slipped]})]
    except Exception:  # noqa: BLE001 - a hypothesis that cannot be tested is skipped
        return []
