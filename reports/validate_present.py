"""The smallest failing case made to look like a network before a student reads it.

The shrinker (oracles/shrink.py) prefers round numbers, and the roundest number is 0: left alone it
hands a student all-zero weights, an input of ``-0.0`` and an expected gradient of zeros, on which
the bug is technically visible and humanly invisible. Here every exact zero and every ``-0.0`` in the
weights, biases and inputs becomes a small non-zero one-decimal value (a fixed pattern, so the same
case always prints the same numbers), and the result is kept only when the failure still shows
(``fails``). Targets keep their zeros: a one-hot row or a 0/1 label is what a target looks like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from oracles.case import Case

__all__ = ["presentable", "looks_like_a_network"]

# Short decimals of both signs and different sizes: a pattern no layer cancels by symmetry.
_PATTERN = np.array([0.3, -0.2, 0.5, -0.4, 0.1, 0.6, -0.3, 0.2, -0.5, 0.4, -0.1, 0.7])


def _fill(a: np.ndarray, offset: int) -> np.ndarray:
    """a with its exact zeros (and -0.0) replaced by pattern values; other entries kept, -0.0 gone."""
    a = np.asarray(a)
    if a.dtype.kind != "f":
        return a
    flat = a.astype(np.float64).reshape(-1).copy()
    zero = flat == 0.0
    idx = np.nonzero(zero)[0]
    flat[idx] = _PATTERN[(idx + offset) % len(_PATTERN)]
    return (flat + 0.0).reshape(a.shape).astype(a.dtype)  # + 0.0 turns any -0.0 left into 0.0


def _no_negative_zero(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a + 0.0 if a.dtype.kind == "f" else a


def looks_like_a_network(case: Case) -> list[str]:
    """What would make a student distrust the case: arrays that are all zero, entries of -0.0 (empty: fine)."""
    problems = []
    arrays = {**case.params, "x": case.x}
    if case.spec.target == "dense":
        arrays["y"] = case.y
    for name, a in arrays.items():
        a = np.asarray(a)
        if a.dtype.kind != "f" or a.size == 0:
            continue
        if name != "y" and not np.any(a):
            problems.append(f"{name} is all zero")
        if np.any(np.signbit(a) & (a == 0)):
            problems.append(f"{name} holds -0.0")
    return problems


def _candidate(case: Case, which: set[str]) -> Case | None:
    try:
        params = {k: (_fill(v, 3 * i) if k in which else _no_negative_zero(v))
                  for i, (k, v) in enumerate(case.params.items())}
        x = _fill(case.x, 7) if "x" in which else _no_negative_zero(case.x)
        y = _no_negative_zero(case.y) if case.spec.target == "dense" else case.y
        return replace(case, params=params, x=x, y=y)
    except (ValueError, TypeError):
        return None


def presentable(case: Case, fails: Callable[[Case], bool], *, max_tries: int = 12) -> Case:
    """The case with its zeros replaced by small short decimals, as far as the failure still shows.

    Tries everything at once, then one array at a time (the bug may live on a zero: a ReLU kink, a
    zero bias), then only the -0.0 clean-up; the first candidate that still fails wins. A case that
    already looks like a network is returned as it is."""
    if not looks_like_a_network(case):
        return case
    names = [k for k, v in case.params.items() if np.asarray(v).dtype.kind == "f"] + ["x"]
    attempts: list[set[str]] = [set(names)]
    # without the one array whose zeros matter, then one array at a time
    attempts += [set(names) - {n} for n in names if len(names) > 1]
    attempts += [{n} for n in names]
    attempts.append(set())
    tried = 0
    for which in attempts:
        cand = _candidate(case, which)
        if cand is None or _same(cand, case):
            continue
        if tried >= max_tries:
            break
        tried += 1
        try:
            if fails(cand):
                return cand
        except Exception:  # noqa: BLE001 - a candidate the checker cannot judge is not kept
            continue
    return case


def _same(a: Case, b: Case) -> bool:
    arrays = lambda c: [*c.params.values(), c.x, c.y]  # noqa: E731
    return all(np.array_equal(u, v) and np.array_equal(np.signbit(u), np.signbit(v))
               for u, v in zip(arrays(a), arrays(b)))
