"""Convolution and pooling entry points of the CS231n, deeplearning.ai and Saito drivers.

Each course style's driver hands its conv/pool entry points here with a one-line hook
(``conv_entries.entry_points(style, impl)``, ``owns(style, entry)``, ``spec_space``, ``run``,
``own_loss``); the per-course code lives in ``cs231n_layers_conv``, ``dlai_layers_conv`` and
``saito_layers_conv``. A single layer is checked as the courses check it: loss 'dot' (dout = the
Case's y, the upstream gradient), the forward output (``out``, the 'output' check) and every
gradient its backward returns; a whole net (ThreeLayerConvNet, SimpleConvNet) against its softmax loss.

Every layout is canonical in the Observation: x and dx (m, C, H, W), W (F, C, HH, WW), b (F,).

Max-pool ties: random inputs have none, so the checks never meet one. Each max-pool entry also
runs a tie probe (the case's own numbers rounded to integers: many tied windows) and says which
routing the file uses (first maximum as torch, every tied maximum, shared equally); a note, never a
failure: courses disagree and none is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.layers.conv import kernel
from oracles.observation import Observation
from oracles.styles._common import Recorder, Snapshot, UnsupportedCase, get, positional_count, require

__all__ = ["Entry", "register", "entry_points", "owns", "spec_space", "run", "own_loss", "layer_space",
           "net_space", "SHAPES", "tie_probe", "pair"]

# Per-sample image shapes for single layers: one channel and several, square and not, small enough for
# naive loops (a CS231n naive conv loops over H' x W' positions).
SHAPES = ((1, 4, 4), (2, 5, 5), (3, 6, 5), (2, 7, 7), (1, 3, 6))
FWD = ("output", "grad_x", "grad_W", "grad_b")
BWD = ("grad_x", "grad_W", "grad_b")


@dataclass(frozen=True)
class Entry:
    """One conv/pool entry point of one style.

    ``present(impl)``: whether the file defines what it needs; ``space(impl)``: its SpecSpace;
    ``core(impl, rec, case, x, p, hp, dout)``: runs the file and returns canonical arrays
    (``out``, ``x``, ``W1``, ``b1``, or a net's ``loss`` and grads), recording faults in ``rec``;
    ``pool``: (kh, kw, stride) -> dx runner for the tie probe (max-pool entries only)."""

    style: str
    name: str
    present: Callable
    space: Callable
    core: Callable
    units: tuple[str, ...] = ()
    pool: Callable | None = None
    net: bool = False


ENTRIES: dict[tuple[str, str], Entry] = {}


def register(e: Entry) -> Entry:
    ENTRIES[(e.style, e.name)] = e
    return e


def _load() -> None:
    # the per-course modules register their entries on import
    from oracles.styles import (  # noqa: F401
        cs231n_layers_conv,
        cs231n_layers_rnn,
        dlai_layers_conv,
        dlai_layers_rnn,
        saito_layers_conv,
    )


def entry_points(style: str, impl) -> list[str]:
    """The conv/pool entry points this file offers (the file's own code, not a copy of our reference)."""
    _load()
    return [e.name for (s, _), e in ENTRIES.items() if s == style and _safe_present(e, impl)]


def _safe_present(e: Entry, impl) -> bool:
    try:
        return bool(e.present(impl))
    except Exception:  # probing a strange file must never stop the other entry points
        return False


def owns(style: str, entry: str) -> bool:
    _load()
    return (style, entry) in ENTRIES


def _entry(style: str, entry: str) -> Entry:
    _load()
    if (style, entry) not in ENTRIES:
        raise UnsupportedCase(f"{style} has no conv entry point {entry!r}")
    return ENTRIES[(style, entry)]


def spec_space(style: str, impl, entry: str) -> SpecSpace:
    e = _entry(style, entry)
    if not _safe_present(e, impl):
        raise UnsupportedCase(f"{style}[{entry}]: the file does not define {', '.join(e.units) or entry}")
    return e.space(impl)


def layer_space(*sequences: str, fixed=(), shapes=SHAPES) -> SpecSpace:
    """A single-layer (or sandwich) check: loss 'dot' summed, dout the Case's y."""
    return SpecSpace(layout="rows", sequences=tuple(sequences), outputs=(("dot", ("identity", "relu")),),
                     targets=("dense",), reductions=("sum",), fixed=tuple(fixed), input_shapes=tuple(shapes))


def net_space(sequence: str, *, fixed=(), shapes, allow_reg: bool = True) -> SpecSpace:
    """A whole conv net against mean softmax cross-entropy on integer labels."""
    return SpecSpace(layout="rows", sequences=(sequence,), outputs=(("softmax_cross_entropy", ("identity",)),),
                     targets=("labels",), reductions=("mean",), fixed=tuple(fixed), input_shapes=tuple(shapes),
                     allow_reg=allow_reg, min_outputs=2)


def pair(rec: Recorder, families, what: str, ret, n: int, names: str):
    """ret as an n-tuple, or None with what it was recorded."""
    if isinstance(ret, (tuple, list)) and len(ret) == n:
        return ret
    got = f"a {type(ret).__name__} of {len(ret)} items" if isinstance(ret, (tuple, list)) else (
        "None" if ret is None else f"a {type(ret).__name__}")
    rec.error(families, f"{what} returned {got}; expected {names}")
    return None


# ---------------------------------------------------------------------------------- running


def _inputs(case: Case):
    """x, this layer's parameters by short name, its hyper-parameters, dout: in the case's dtype."""
    spec = case.spec
    first = spec.slots[0]
    x = case.typed(case.x).copy()
    p = {short: case.typed(case.params[full]).copy() for short, full in first.params.items()}
    dout = case.typed(case.y).copy() if spec.loss == "dot" else None
    return x, p, first.layer.hp, dout


def _run(e: Entry, impl, case: Case, *, loss_only: bool) -> Observation:
    rec = Recorder(case)
    x, p, hp, dout = _inputs(case)
    res = e.core(impl, rec, case, x, p, hp, dout, loss_only=loss_only)
    spec, m = case.spec, case.m
    # name the file's own functions in every finding: the forward for out, the backward for gradients
    fwd_name = e.units[0] if e.units else e.name
    bwd_name = e.units[-1] if e.units else e.name
    if e.net:
        fwd_name = bwd_name = e.units[0] if e.units else e.name
    if not res:
        if not rec.obs.errors and not loss_only:
            # a core that gave up without a finding: the forward returned no output (the handout's skeleton
            # returns out = None). Said, never an empty Observation: that had no verdict, so no row, and a
            # file with unimplemented conv layers read "PASS (checked 14 of 14 functions)" (a real file)
            fams = ("loss",) if e.net else FWD if spec.param_shapes() else ("output", "grad_x")
            rec.error(fams, f"{fwd_name} returned no output (None): nothing to check")
        return rec.obs
    if "loss" in res:
        rec.obs.loss = rec.scalar("loss", f"{e.name} loss", res["loss"])
    if "out" in res and (res["out"] is not None or not loss_only):
        out = rec.array("output", f"{fwd_name} output", res["out"], (m, *spec.out_shape))
        if out is not None:
            rec.obs.out = out
            if spec.loss == "dot" and loss_only:
                # the own loss (for the self-check): the 'output' check already judges the forward, and a
                # projection that cancels would only judge summation order
                rec.obs.loss = float(np.sum(out * np.asarray(case.y, dtype=np.float64)))
    if loss_only:
        return rec.obs
    shapes = spec.param_shapes()
    for key, g in res.items():
        if key in ("loss", "out"):
            continue  # (a gradient that is None is a finding: rec.array says "dx is None")
        if key == "x":
            a = rec.array("grad_x", f"{bwd_name} dx", g, case.x.shape)
        else:
            fam = "grad_b" if key.startswith("b") else "grad_W"
            shown = f"grads[{key!r}]" if e.net else f"d{key.rstrip('0123456789')}"
            a = rec.array(fam, f"{bwd_name} {shown}", g, shapes[key], loose=key.startswith("b"))
        if a is not None:
            rec.obs.grads[key] = a
    if e.pool is not None and dout is not None and spec.slots[0].layer.kind == "max_pool":
        note = tie_probe(e, impl, case)
        if note:
            rec.note(note)
    return rec.obs


def run(style: str, impl, case: Case, entry: str) -> Observation:
    e = _entry(style, entry)
    require(spec_space(style, impl, entry), case, style, entry)
    return _run(e, impl, case, loss_only=False)


def own_loss(style: str, impl, case: Case, entry: str) -> float | None:
    e = _entry(style, entry)
    require(spec_space(style, impl, entry), case, style, entry)
    return _run(e, impl, case, loss_only=True).loss


def watch(rec: Recorder, snap: Snapshot, name: str, what: str) -> None:
    """Record an in-place write the snapshot saw (side effects: x, w, dout, caches)."""
    changed = snap.changed()
    if changed:
        rec.mutated(name)
        rec.note(f"{what} wrote into {', '.join(changed[:3])}")


# ---------------------------------------------------------------------------------- ties


def tie_probe(e: Entry, impl, case: Case) -> str | None:
    """Which routing the file's max-pool backward gives tied windows (a note), or None without ties."""
    from oracles.conv_bug_models import TIE_CONVENTIONS, max_pool_backward_model

    hp = case.spec.slots[0].layer.hp
    kh, kw = kernel(hp)
    stride = int(hp["stride"])
    # the case's own numbers on a coarse integer grid: most windows hold a tie
    x = case.typed(np.round(np.asarray(case.x, dtype=np.float64) * 0.7))
    if kh * kw < 2:
        return None
    dout = case.typed(np.asarray(case.y, dtype=np.float64)).copy()
    from oracles.conv_ops import windows

    win = windows(np.asarray(x, dtype=np.float64), kh, kw, stride).reshape(*dout.shape, kh * kw)
    if not (np.sum(win == win.max(axis=-1, keepdims=True), axis=-1) > 1).any():
        return None
    scratch = Recorder(case)
    try:
        dx = e.pool(impl, scratch, x.copy(), dout.copy(), kh, kw, stride)
    except Exception:  # noqa: BLE001 - a probe, never a verdict: the checks report the function's faults
        return None
    if dx is None or np.shape(dx) != x.shape:
        return None
    dx = np.asarray(dx, dtype=np.float64)
    scale = float(np.abs(dout).max(initial=0.0)) or 1.0
    for rule, text in TIE_CONVENTIONS.items():
        want = max_pool_backward_model(np.asarray(x, dtype=np.float64), dout.astype(np.float64), kh, kw, stride, rule)
        if np.abs(dx - want).max(initial=0.0) <= 1e-5 * scale:
            torch_too = "" if rule == "pool_ties_first" else "; torch gives it to the first: a convention, not a bug"
            return f"{e.name}: max-pool ties: {text}{torch_too}"
    return (f"{e.name}: max-pool ties: a tied window's gradient is routed by none of the known conventions "
            f"(first maximum, every maximum, shared); not judged: random inputs have no ties")


def function_pair(impl, fwd: str, bwd: str):
    """(forward, backward) when the file defines both as functions."""
    f, b = get(impl, fwd), get(impl, bwd)
    if callable(f) and callable(b) and not isinstance(f, type) and not isinstance(b, type):
        return f, b
    return None


def pair_taking(fwd: str, bwd: str, n_args: int):
    """A ``present`` test: both functions defined, the forward taking ``n_args`` positional arguments. Two courses
    share names with other arities (CS231n's rnn_forward(x, h0, Wx, Wh, b), deeplearning.ai course 5's
    rnn_forward(x, a0, parameters)): calling one with the other's arguments would blame a file bpcheck misread."""
    def present(impl) -> bool:
        fns = function_pair(impl, fwd, bwd)
        if fns is None:
            return False
        low, high = positional_count(fns[0])
        return low <= n_args <= high

    return present
