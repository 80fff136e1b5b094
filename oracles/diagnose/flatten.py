"""Hypotheses for a flatten layer checked on its own (loss 'dot'): the features laid out in another axis order.

The table's flatten (MyTorch's hw2 ``Flatten``) turns A (N, C, W) into Z (N, C W) in row-major order,
channel by channel. A file that moves the channels last first (``A.transpose(0, 2, 1).reshape(N, -1)``,
a channels-last framework's layout) returns a permutation of the right Z, and its backward, undoing
that permutation, a permutation of the right dLdA: every number right, every position wrong. For each
order of the axes after the batch axis other than the given one, the output and dLdA that order gives
are recomputed from the Case and compared with the observation; an order that gives the right answer
on this Case (an axis of length 1) is skipped, so a right file is never called wrong.

Hooked into oracles.diagnose.core.diagnose beside activation_patterns; never raises.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import Diagnosis, _close, _key
from oracles.observation import Observation

__all__ = ["flatten_patterns", "flatten_in_order"]


def flatten_in_order(x: np.ndarray, dout: np.ndarray, order: tuple[int, ...]) -> dict[str, np.ndarray]:
    """{'out', 'x'}: the output and dLdA of a flatten that lays the per-sample axes out in ``order``
    (a permutation of 0..k-1 over x's axes after the batch axis; the identity is the right flatten)."""
    m, shape = x.shape[0], x.shape[1:]
    axes = (0, *(a + 1 for a in order))
    moved = dout.reshape(m, *(shape[a] for a in order))
    return {"out": x.transpose(axes).reshape(m, -1), "x": moved.transpose(tuple(np.argsort(axes)))}


def _say(shape: tuple[int, ...], order: tuple[int, ...]) -> tuple[str, str]:
    """(the order used, the right order) in the course's axis names."""
    names = ("C", "W") if len(shape) == 2 else ("C", "H", "W") if len(shape) == 3 else \
        tuple(f"d{i + 1}" for i in range(len(shape)))
    return f"({', '.join(names[a] for a in order)})", f"({', '.join(names)})"


def flatten_patterns(case: Case, bad, observed: Observation, expected: Observation) -> list[Diagnosis]:
    spec = case.spec
    try:
        if spec.is_mlp or len(spec.layers) != 1 or spec.layers[0].kind != "flatten" or spec.loss != "dot":
            return []
        x = np.asarray(case.x, dtype=np.float64)
        if x.ndim < 3:
            return []
        dout = np.asarray(case.y, dtype=np.float64)
        got = {"out": observed.out, "x": observed.grads.get("x")}
        want = {"out": expected.out, "x": expected.grads.get("x")}
        failing = [k for k in ("out", "x") if any(_key(v.name) == k and v.status != "error" for v in bad)
                   and got[k] is not None and want[k] is not None]
        if not failing:
            return []
        identity = tuple(range(x.ndim - 1))
        for order in permutations(identity):
            if order == identity:
                continue
            alt = flatten_in_order(x, dout, order)
            # every failing tensor must be told apart from the right one by this order, and equal what it gives
            if any(_close(alt[k], want[k], spec.dtype) for k in failing):
                continue
            if all(_close(got[k], alt[k], spec.dtype) for k in failing):
                wrong, right = _say(x.shape[1:], order)
                what = {"out": "the output", "x": "dLdA"}
                told = " and ".join(what[k] for k in failing)
                verb = "equal" if len(failing) > 1 else "equals"
                return [Diagnosis("flatten_axis_order", f"{told} {verb} a flatten in {wrong} order: the features are "
                                  f"laid out {wrong}, the course's (and numpy's reshape) order is {right} (channel "
                                  f"by channel); reshape A itself (A.reshape(N, -1)) without moving an axis first, "
                                  f"and dLdZ back with dLdZ.reshape(A.shape)", tuple(failing),
                                  {"order": list(order)})]
    except Exception:  # noqa: BLE001 - a hypothesis that cannot be tested is skipped
        return []
    return []
