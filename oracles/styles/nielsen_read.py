"""Reading what a Nielsen-style file returns: the (nabla_b, nabla_w) pair in either order and layout, and
the parameters it stored after a step. Split from nielsen.py to keep modules small."""

from __future__ import annotations

import numpy as np

from oracles.case import Case, Spec
from oracles.styles._common import Recorder

__all__ = ["GRAD_FAMILIES"]

GRAD_FAMILIES = ("grad_W", "grad_b")


def _as_list(v) -> list | None:
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, np.ndarray) and v.dtype == object:
        return list(v)
    if isinstance(v, np.ndarray) and v.ndim == 3:  # np.array of equal-shaped layers
        return list(v)
    return None


def _matches(seq, shapes, loose: bool) -> int:
    count = 0
    for g, s in zip(seq, shapes):
        if not isinstance(g, np.ndarray):
            continue
        if g.shape == s or (loose and g.size == s[0] and g.ndim <= 2):
            count += 1
    return count


def _split(rec: Recorder, what: str, ret, spec: Spec, order: str | None = None) -> tuple[dict, bool]:
    """(nabla_b, nabla_w) -> {W1: (n, k), b1: (n,), ...} float64; errors recorded; (grads, ok_all).

    order: 'wb' or 'bw' when known from a network where the shapes tell (see _return_order)."""
    L = spec.n_layers
    wshapes = [(spec.sizes[l], spec.sizes[l - 1]) for l in range(1, L + 1)]
    bshapes = [(spec.sizes[l], 1) for l in range(1, L + 1)]
    if not isinstance(ret, (tuple, list)) or len(ret) != 2:
        desc = f"a {type(ret).__name__} of {len(ret)} items" if isinstance(ret, (tuple, list)) else (
            "None" if ret is None else f"a {type(ret).__name__}")
        rec.error(GRAD_FAMILIES, f"{what} returned {desc}; expected a pair (nabla_b, nabla_w)")
        return {}, False
    first, second = _as_list(ret[0]), _as_list(ret[1])
    if first is None or second is None:
        bad = "first" if first is None else "second"
        rec.error(GRAD_FAMILIES, f"{what}: the {bad} item of the pair is not a list of per-layer arrays")
        return {}, False
    std = _matches(second, wshapes, False) + _matches(first, bshapes, True)
    swap = _matches(first, wshapes, False) + _matches(second, bshapes, True)
    swapped = swap > std or (swap == std and wshapes == bshapes and order == "wb")
    if swap > std:
        rec.note(f"{what} returned (nabla_w, nabla_b); recognised by shape")
        first, second = second, first
    elif swap == std and wshapes == bshapes:
        if order == "wb":
            rec.note(f"{what} returned (nabla_w, nabla_b) (the order it uses where shapes tell)")
            first, second = second, first
        elif order is None:
            rec.note(f"{what}: weights and biases have the same shapes here; read as (nabla_b, nabla_w), the "
                     f"book's order")
    if "grads" in rec.obs.calls:  # the order read, for the snippet's names
        rec.obs.calls["grads"]["order"] = "wb" if swapped else "bw"
    nabla_b, nabla_w = first, second
    grads: dict[str, np.ndarray] = {}
    ok = True
    for name, seq, fam in (("nabla_b", nabla_b, "grad_b"), ("nabla_w", nabla_w, "grad_W")):
        if len(seq) != L:
            rec.error(fam, f"{what}: {name} has {len(seq)} entries; expected {L} (one per layer)")
            ok = False
            continue
        for l in range(1, L + 1):
            if fam == "grad_b":
                g = rec.array(fam, f"{what}: nabla_b[{l - 1}]", seq[l - 1], bshapes[l - 1], loose=True)
                key = f"b{l}"
            else:
                g = rec.array(fam, f"{what}: nabla_w[{l - 1}]", seq[l - 1], wshapes[l - 1])
                key = f"W{l}"
            if g is None:
                ok = False
            else:
                grads[key] = g.reshape(-1) if fam == "grad_b" else g
    return grads, ok




def _ambiguous(spec: Spec) -> bool:
    return all(spec.sizes[l - 1] == 1 for l in range(1, spec.n_layers + 1))


def _read_params(net, case: Case, rec: Recorder, family: str, what: str, shapes0) -> dict[str, np.ndarray] | None:
    """The network's stored parameters in canonical form; shape changes recorded."""
    spec = case.spec
    L = spec.n_layers
    out = {}
    for attr, key, fam_shape in (("weights", "W", lambda l: (spec.sizes[l], spec.sizes[l - 1])),
                                 ("biases", "b", lambda l: (spec.sizes[l], 1))):
        seq = _as_list(getattr(net, attr, None))
        if seq is None or len(seq) != L:
            rec.error(family, f"after {what}, network.{attr} is not a list of {L} arrays")
            return None
        for l in range(1, L + 1):
            p = seq[l - 1]
            if isinstance(p, np.ndarray) and shapes0.get(f"{key}{l}") not in (None, p.shape):
                rec.obs.shape_changes[f"{key}{l}"] = f"{shapes0[f'{key}{l}']} -> {p.shape}"
            a = rec.array(family, f"after {what}, network.{attr}[{l - 1}]", p, fam_shape(l), loose=(key == "b"))
            if a is not None:
                out[f"{key}{l}"] = a.reshape(-1) if key == "b" else a
    return out
