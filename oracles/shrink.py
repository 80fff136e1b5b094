"""Shrink a failing Case to the smallest one that still fails: what a person wants to read.

Greedy and deterministic: try simplifications in a fixed order (drop layers, fewer samples,
narrower layers, rounder numbers, fewer steps) and keep each one under which ``fails`` still
holds, until a full round changes nothing or the budget of ``fails`` calls runs out. Every
candidate is a valid Case (the constructor checks it) inside ``space`` when one is given.

Dropping a hidden layer l composes its affine map into the next layer
(W' = W_{l+1} W_l, b' = W_{l+1} b_l + b_{l+1}), so the shrunk network computes something close
to the original's and a value-dependent bug usually survives the step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from oracles.case import Case, SpecSpace

__all__ = ["shrink", "candidates", "narrow"]


def shrink(
    case: Case,
    fails: Callable[[Case], bool],
    *,
    max_steps: int = 200,
    space: SpecSpace | None = None,
) -> Case:
    """The smallest Case found from ``case`` on which ``fails`` still returns True.

    ``fails(case)`` should be True for the input (if it is not, the input is returned as is).
    ``max_steps`` bounds the number of ``fails`` calls. Exceptions raised by ``fails`` count as
    "does not fail" so a candidate that crashes the checker itself is never kept.
    """
    calls = 0
    current = case
    improved = True
    while improved and calls < max_steps:
        improved = False
        # one family at a time, to a fixed point, then the next (a pass); passes until nothing changes
        for family in _FAMILIES:
            progress = True
            while progress and calls < max_steps:
                progress = False
                for cand in _simpler(current, family):
                    if space is not None and space.allows(cand.spec) is not None:
                        continue
                    if calls >= max_steps:
                        break
                    calls += 1
                    try:
                        still = bool(fails(cand))
                    except Exception:  # noqa: BLE001 - a candidate the checker cannot judge is not kept
                        still = False
                    if still:
                        current, progress, improved = cand, True, True
                        break
    return current


def _size(case: Case) -> tuple:
    """Smaller is simpler: layers, then parameters, then samples, then non-round numbers."""
    arrays = [*case.params.values(), case.x] + ([case.y] if case.spec.target == "dense" else [])
    unround = sum(int(np.count_nonzero(a != np.round(a))) for a in arrays)
    digits = sum(int(np.count_nonzero(a * 10 != np.round(a * 10))) for a in arrays)
    return (case.spec.n_layers, case.spec.n_params, case.m, case.steps, case.spec.reg != 0, digits, unround,
            case.lr != _round_lr(case.lr))


def candidates(case: Case) -> Iterator[Case]:
    """Strictly simpler valid Cases, most aggressive first (each differs from ``case`` in one way)."""
    for family in _FAMILIES:
        yield from _simpler(case, family)


def _simpler(case: Case, family) -> Iterator[Case]:
    here = _size(case)
    for cand in family(case):
        if cand is not None and _size(cand) < here:
            yield cand


def _build(case: Case, **changes) -> Case | None:
    """A Case with these fields replaced, or None when the result is not a valid Case."""
    spec_changes = changes.pop("spec_changes", None)
    try:
        spec = replace(case.spec, **spec_changes) if spec_changes else case.spec
        return replace(case, spec=spec, **changes)
    except (ValueError, TypeError):
        return None


def _drop_layers(case: Case) -> Iterator[Case | None]:
    spec = case.spec
    if not spec.is_mlp:  # folding affine maps is an MLP move; a layer sequence keeps its layers
        return
    L = spec.n_layers
    p = case.params
    # hidden layer l (1 <= l < L): fold its affine map into layer l + 1
    for l in range(1, L):
        W = p[f"W{l + 1}"] @ p[f"W{l}"]
        b = p[f"W{l + 1}"] @ p[f"b{l}"] + p[f"b{l + 1}"]
        params = {}
        for k in range(1, L + 1):
            if k < l:
                params[f"W{k}"], params[f"b{k}"] = p[f"W{k}"], p[f"b{k}"]
            elif k == l + 1:
                params[f"W{k - 1}"], params[f"b{k - 1}"] = W, b
            elif k > l + 1:
                params[f"W{k - 1}"], params[f"b{k - 1}"] = p[f"W{k}"], p[f"b{k}"]
        sizes = spec.sizes[:l] + spec.sizes[l + 1:]
        acts = spec.activations[: l - 1] + spec.activations[l:]
        yield _build(case, params=params, spec_changes={"sizes": sizes, "activations": acts})


def _fewer_samples(case: Case) -> Iterator[Case | None]:
    m = case.m
    if m <= 1:
        return
    keep_sets = [[0], [0, 1], list(range((m + 1) // 2)), list(range(m // 2, m))]
    keep_sets += [[i] for i in range(1, min(m, 8))]
    seen = set()
    for keep in keep_sets:
        key = tuple(keep)
        if len(keep) >= m or key in seen or max(keep) >= m:
            continue
        seen.add(key)
        yield _build(case, x=case.x[keep], y=case.y[keep])


def _narrower(case: Case) -> Iterator[Case | None]:
    spec = case.spec
    if not spec.is_mlp:
        return
    L = spec.n_layers
    for j in range(L + 1):  # j = 0 input, 1..L-1 hidden, L output
        n = spec.sizes[j]
        keeps = [list(range(k)) for k in (1, 2, n // 2) if 1 <= k < n]
        keeps += [[i] for i in range(1, min(n, 8))]  # the unit that matters may not be the first
        for keep in keeps:
            yield narrow(case, j, keep)


def narrow(case: Case, j: int, keep: int | list[int]) -> Case | None:
    """Keep the first ``keep`` units (or the listed units) of layer j (0 = the input features).

    None when the result is not a valid Case (e.g. one class left for a loss that needs two)."""
    spec = case.spec
    L = spec.n_layers
    idx = list(range(keep)) if isinstance(keep, int) else list(keep)
    k = len(idx)
    params = dict(case.params)
    x, y = case.x, case.y
    if j == 0:
        x = x[:, idx]
    else:
        params[f"W{j}"] = params[f"W{j}"][idx]
        params[f"b{j}"] = params[f"b{j}"][idx]
    if j < L:
        params[f"W{j + 1}"] = params[f"W{j + 1}"][:, idx]
    else:
        if spec.target == "labels":
            # labels of dropped classes move to the last kept class; the Spec check refuses k < 2
            # where the loss needs classes
            remap = np.full(spec.sizes[-1], k - 1)
            remap[idx] = np.arange(k)
            y = remap[y]
        else:
            y = y[:, idx]
    sizes = spec.sizes[:j] + (k,) + spec.sizes[j + 1:]
    return _build(case, params=params, x=x, y=y, spec_changes={"sizes": sizes})


def _rounder(case: Case) -> Iterator[Case | None]:
    for decimals in (0, 1, 2):
        params = {n: np.round(v, decimals) for n, v in case.params.items()}
        y = case.y if case.spec.target == "labels" else np.round(case.y, decimals)
        yield _build(case, params=params, x=np.round(case.x, decimals), y=y)
        # one array at a time, when rounding everything loses the failure
        yield _build(case, x=np.round(case.x, decimals))
        yield _build(case, params=params)
    if case.lr != _round_lr(case.lr):
        yield _build(case, lr=_round_lr(case.lr))


def _fewer_steps(case: Case) -> Iterator[Case | None]:
    if case.steps > 1:
        yield _build(case, steps=1)
    if case.spec.reg:
        yield _build(case, spec_changes={"reg": 0.0})  # without regularisation, when the bug still shows


def _round_lr(lr: float) -> float:
    return float(f"{lr:.1g}")  # one significant digit


_FAMILIES = (_drop_layers, _fewer_samples, _narrower, _rounder, _fewer_steps)
