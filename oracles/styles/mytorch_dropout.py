"""MyTorch's dropout layers, checked alone (entries ``layer:Dropout`` and ``layer:Dropout2d``).

* ``Dropout(p=0.5)``, the S20-F21 hw1 bonus: ``forward(x, train=True)`` on (N, D), ``backward(delta)``;
  "1) Get and apply a mask generated from np.random.binomial 2) Scale your output accordingly 3) During test
  time, you should not apply any mask or scaling": inverted dropout. The skeleton's only word on p is the
  comment "Dropout probability", and the real files of that term draw the mask as ``np.random.binomial(1,
  p)`` (p keeps a unit, as the course's seeded reference must have done for them to pass): what p means is
  read off the file's own keep rate (an exact binomial test) and stated, never judged.
* ``Dropout2d(p=0.5)``, hw2's bonus: ``forward(x, eval=False)`` on (N, C, H, W), "a per-channel mask
  generated from np.random.binomial": one draw per (sample, channel), shared by its H x W values.

Train mode: the output against the table's dropout twin (x * mask / keep, the mask read back from the layer,
broadcast over H and W for Dropout2d), the keep rate, and ``backward(delta)`` = delta * mask / keep, the
derivative of the file's own forward. Test mode: the identity.
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.keep_rate import read_dropout
from oracles.styles._common import Recorder, Snapshot, UnsupportedCase, probed
from oracles.styles._common import layer_class as _cls

__all__ = ["CLASSES", "entry_points", "owns", "spec_space", "run"]

CLASSES = ("Dropout", "Dropout2d")
PREFIX = "layer:"
_FLAT = ((3,), (5,), (8,), (12,))
_IMAGES = ((2, 3, 3), (3, 2, 4), (1, 4, 2), (4, 1, 1))
_PROBE_P = 0.3  # not 0.5: keep and drop must be told apart


def entry_points(impl) -> list[str]:
    return [PREFIX + n for n in CLASSES if _cls(impl, n) is not None]


def owns(entry: str) -> bool:
    return entry in {PREFIX + n for n in CLASSES}


def _mode_kwargs(fn, train: bool) -> dict:
    """``train=`` (S20-F21) or ``eval=`` (hw2): the flag the file's forward takes; {} when it takes none."""
    from oracles.styles.mytorch_layers import _eval_kwargs

    return _eval_kwargs(fn, not train)[1]


def _mask_of(layer, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Which units the forward kept: the layer's own ``mask`` broadcast to x (a per-channel (N, C) or
    (N, C, 1, 1) mask included), else out != 0 where x != 0."""
    m = getattr(layer, "mask", None)
    if isinstance(m, np.ndarray) and m.size and x.ndim == 4 and m.size == x.shape[0] * x.shape[1]:
        m = m.reshape(x.shape[0], x.shape[1], 1, 1)
    try:
        kept = np.broadcast_to(np.asarray(m) != 0, x.shape) if isinstance(m, np.ndarray) and m.size else None
    except ValueError:
        kept = None
    if kept is None or not np.array_equal(kept & (x != 0), (out != 0) & (x != 0)):
        kept = out != 0  # a mask that is not the one the output shows is no mask to judge by
    return np.asarray(kept, dtype=np.float64)


def _probe(cls, name: str, p: float):
    """One train call on 20,000 units (Dropout2d: 20,000 channels of 2 x 1): a DropoutReading."""
    shape = (200, 100) if name == "Dropout" else (400, 50, 2, 1)
    x = np.random.default_rng(11).uniform(0.5, 1.5, shape)
    try:
        layer = cls(p)
        with np.errstate(all="ignore"):
            out = np.asarray(layer.forward(x, **_mode_kwargs(layer.forward, True)), dtype=np.float64)
        if out.shape != x.shape:
            return None
    except Exception:  # noqa: BLE001 - the case runs it again, recorded
        return None
    if name == "Dropout2d":  # one draw per channel: read the channels, not their H x W copies
        x, out = x[:, :, 0, 0], out[:, :, 0, 0]
    return read_dropout(x, out, p)


def _meaning(impl, cls, name: str) -> tuple[str, str]:
    r = probed(impl, f"mytorch:{name}:{_PROBE_P}", lambda: _probe(cls, name, _PROBE_P))
    if r is None or r.meaning not in ("keep", "drop"):
        return "drop", "p read as the dropout probability (the skeleton's comment; the keep rate could not tell)"
    return r.meaning, f"{r.describe()}: judged under it"


def spec_space(impl, entry: str) -> SpecSpace:
    name = entry[len(PREFIX):]
    cls = _cls(impl, name)
    if cls is None:
        raise UnsupportedCase(f"the file defines no {name} with forward and backward")
    meaning, _why = _meaning(impl, cls, name)
    return SpecSpace(layout="rows", sequences=("dropout",), outputs=(("dot", ("identity",)),), reductions=("sum",),
                     targets=("dense",), modes=("train", "test"), input_shapes=_FLAT if name == "Dropout" else _IMAGES,
                     fixed=(("dropout", "p_means", meaning), ("dropout", "scaling", "inverted")))


def run(impl, case: Case, entry: str, rec: Recorder) -> None:
    name = entry[len(PREFIX):]
    cls = _cls(impl, name)
    slot = case.spec.slots[0]
    hp = slot.layer.hp
    p, train = float(hp["p"]), case.spec.mode == "train"
    rec.note(f"{name}: {_meaning(impl, cls, name)[1]}")
    fams = ("output", "grad_x")
    x = np.ascontiguousarray(case.typed(case.x))
    if train:
        rec.obs.aux[slot.aux["mask"]] = np.ones(x.shape)  # replaced below by the layer's own mask
    ok, layer = rec.call(fams, f"{name}({p!r})", cls, p)
    if not ok:
        return
    kw = _mode_kwargs(layer.forward, train)
    if not train and not kw:
        rec.error("output", f"{name}.forward takes no train / eval flag: test mode cannot be asked for")
        return
    what = f"{name}.forward(x{''.join(f', {k}={v!r}' for k, v in kw.items())})"
    snap = Snapshot(x, "x")
    ok, out = rec.call(fams, what, layer.forward, x, **kw)
    if snap.changed():
        rec.mutated("x")
    out = rec.array("output", what, out, x.shape) if ok else None
    if out is None:
        return
    rec.obs.out = out
    if not train:
        return  # "This method is only called during training": no backward in test mode
    kept = _mask_of(layer, x, out)
    rec.obs.aux[slot.aux["mask"]] = kept
    _keep_rate(impl, cls, name, p, hp["p_means"], kept, rec)
    dout = np.ascontiguousarray(case.typed(case.y))
    dsnap = Snapshot(dout, "delta")
    ok, dx = rec.call("grad_x", f"{name}.backward(delta)", layer.backward, dout)
    if dsnap.changed():
        rec.mutated("dout")
    g = rec.array("grad_x", f"{name}.backward(delta)", dx, x.shape) if ok else None
    if g is not None:
        rec.obs.grads["x"] = g


def _keep_rate(impl, cls, name: str, p: float, meaning: str, kept: np.ndarray, rec: Recorder) -> None:
    """The probe's binomial test at this p (the case's own few units cannot tell), and Dropout2d's mask shared
    by every value of a channel."""
    if name == "Dropout2d" and kept.ndim == 4:
        flat = kept.reshape(kept.shape[0], kept.shape[1], -1)
        if not np.array_equal(flat.min(axis=2), flat.max(axis=2)):
            rec.error("output", "Dropout2d keeps some values of a channel and drops others: the handout's mask is "
                                "per channel (one draw per sample and channel, shared by its H x W values)")
    r = probed(impl, f"mytorch:{name}:{p}", lambda: _probe(cls, name, p))
    if r is None:
        return
    if r.meaning == "neither":
        rec.error("output", f"{name} keep rate: {r.describe()} (exact binomial test)")
    elif r.meaning not in ("either", meaning):
        rec.error("output", f"{name} keep rate: {r.describe()}; at p = {_PROBE_P} it read p as the {meaning} "
                            f"probability: the meaning of p changes with its value")
