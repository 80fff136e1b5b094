"""Saito's ``layers`` and ``layer:<Class>`` entry points: the file's own layer classes assembled into a net.

``layer_classes`` finds the file's Affine, activation and loss classes (the book's names and the
"...Layer" spellings); ``_run_layers`` builds a net of any depth from them (or one of them among
reference.layers for the rest) and reads the loss, dW/db of every Affine, dx and every hidden
activation's gradient. Split from saito.py (the driver: entry points, the file's TwoLayerNet /
MultiLayerNet, the API) to keep modules small; saito.py imports the class table and the two helpers
both paths share (``_target``, ``_report_params``) from here.
"""

from __future__ import annotations

import inspect

import numpy as np

from oracles.case import ACTIVATION_NAMES, Case, SpecSpace
from oracles.styles._common import (
    ACTIVATION_CLASS_NAMES,
    Recorder,
    Snapshot,
    UnsupportedCase,
    get,
    positional_count,
    row_input,
)

__all__ = ["layer_classes"]

_ALL = ("loss", "grad_W", "grad_b", "grad_x", "grad_hidden")
# The book's names first, then the "...Layer" spellings real files use (docs/real-world/layers.tsv, session 6:
# AffineLayer, ReluLayer, SigmoidLayer, SoftmaxWithLossLayer beside MulLayer/AddLayer)
_CLASS_NAMES = {kind: (*names, *(f"{n}Layer" for n in names)) for kind, names in {
    "affine": ("Affine",),
    **ACTIVATION_CLASS_NAMES,
    "softmax": ("SoftmaxWithLoss",),
    "squared": ("SquaredLoss",),
}.items()}
_KIND_OF_LOSS = {"softmax_cross_entropy": "softmax", "quadratic": "squared"}


def layer_classes(impl) -> dict[str, tuple[str, type]]:
    """kind ('affine', 'relu', ..., 'softmax', 'squared') -> (class name, class) defined by impl."""
    out = {}
    for kind, names in _CLASS_NAMES.items():
        for n in names:
            cls = get(impl, n)
            if isinstance(cls, type) and callable(getattr(cls, "forward", None)) and callable(
                getattr(cls, "backward", None)
            ):
                out[kind] = (n, cls)
                break
    return out


def _reference_classes() -> dict[str, tuple[str, type]]:
    from reference import layers

    return layer_classes(layers)


def _target(case: Case) -> np.ndarray:
    if case.spec.target == "labels" and case.spec.loss == "quadratic":
        return case.typed(case.onehot)
    return case.typed(case.y).copy()


def _report_params(rec: Recorder, snap: Snapshot, what: str) -> None:
    for path in snap.changed():
        key = path.split("'")[1]
        rec.mutated(f"params:{key}")
        rec.note(f"{what} wrote into params[{key!r}]")


def _classes_for(impl, entry: str) -> dict[str, tuple[str, type]]:
    if entry == "layers":
        return layer_classes(impl)
    name = entry.split(":", 1)[1]
    classes = dict(_reference_classes())
    for kind, (n, cls) in layer_classes(impl).items():
        if n == name:
            classes[kind] = (n, cls)
            return classes
    raise UnsupportedCase(f"saito[{entry}]: the file defines no layer class {name!r} with forward and backward")


def _layers_space(impl, entry: str) -> SpecSpace:
    classes = _classes_for(impl, entry)
    acts = tuple(a for a in ACTIVATION_NAMES if a in classes or a == "identity")
    outputs = []
    if "softmax" in classes:
        outputs.append(("softmax_cross_entropy", ("identity",)))
    if "squared" in classes:
        outputs.append(("quadratic", acts))
    min_layers = 1
    uniform = False
    if entry != "layers":
        kind = next(k for k, (n, _) in classes.items() if n == entry.split(":", 1)[1])
        if kind in ACTIVATION_CLASS_NAMES:
            acts, min_layers, uniform = (kind,), 2, True  # every hidden layer uses the class under test
        elif kind == "softmax":
            outputs = [o for o in outputs if o[0] == "softmax_cross_entropy"]
        elif kind == "squared":
            outputs = [o for o in outputs if o[0] == "quadratic"]
    if not outputs:
        raise UnsupportedCase(f"saito[{entry}]: no loss layer (SoftmaxWithLoss or SquaredLoss) available")
    return SpecSpace(layout="rows", min_layers=min_layers, hidden_activations=acts, uniform_hidden=uniform,
                     outputs=tuple(outputs))


def _check_out(rec: Recorder, what: str, out, shape) -> bool:
    a = rec.array(_ALL, what, out, shape)
    return a is not None


def _run_layers(impl, case: Case, entry: str, rec: Recorder, *, loss_only: bool = False) -> None:
    classes = _classes_for(impl, entry)
    spec, m = case.spec, case.m
    L = spec.n_layers
    if entry != "layers":
        rec.note(f"{entry}: the file's {entry.split(':', 1)[1]} among reference.layers for every other layer")
    layers = []  # (kind, class name, object, layer index)
    weights = {}
    for l in range(1, L + 1):
        W = np.ascontiguousarray(case.typed(case.params[f"W{l}"]).T)
        b = case.typed(case.params[f"b{l}"]).copy()
        weights[f"W{l}"], weights[f"b{l}"] = W, b
        cname, cls = classes["affine"]
        ok, obj = rec.call(_ALL, f"{cname}(W, b)", cls, W, b)
        if not ok:
            return
        layers.append(("affine", cname, obj, l))
        act = spec.activations[l - 1]
        if l == L and spec.loss != "quadratic":
            break
        if act == "identity" and "identity" not in classes:
            continue
        cname, cls = classes[act]
        args = ()
        if act == "leaky_relu" and positional_count(cls.__init__)[1] >= 2:
            from reference.functions import LEAKY_SLOPE

            args = (LEAKY_SLOPE,)  # the canonical slope, whatever the class's default
            try:
                default = list(inspect.signature(cls.__init__).parameters.values())[1].default
            except (TypeError, ValueError, IndexError):
                default = None
            if default != LEAKY_SLOPE:
                rec.note(f"{cname} constructed with slope {LEAKY_SLOPE} (bpcheck's leaky_relu), not its default")
        ok, obj = rec.call(_ALL, f"{cname}()", cls, *args)
        if not ok:
            return
        layers.append((act, cname, obj, l))
    lname, lcls = classes[_KIND_OF_LOSS[spec.loss]]
    ok, last = rec.call(_ALL, f"{lname}()", lcls)
    if not ok:
        return
    psnap = Snapshot(weights, "params")

    # forward
    x = row_input(case)
    out = x
    for i, (_kind, cname, obj, l) in enumerate(layers):
        snap = Snapshot(out, "in")
        ok, new = rec.call(_ALL, f"{cname}.forward (layer {i + 1})", obj.forward, out)
        if snap.changed():
            rec.mutated("x" if i == 0 else "activations")
            rec.note(f"{cname}.forward (layer {i + 1}) wrote into its input")
        if not ok:
            return
        shape = (m, spec.sizes[l])
        if not _check_out(rec, f"{cname}.forward (layer {i + 1}) output", new, shape):
            return
        out = new
    t = _target(case)
    tsnap = Snapshot({"logits": out, "t": t}, "in")
    ok, value = rec.call(_ALL, f"{lname}.forward(x, t)", last.forward, out, t)
    if not ok:
        return
    rec.obs.loss = rec.scalar("loss", f"{lname}.forward(x, t)", value)
    if loss_only:
        return

    # backward
    req, total = positional_count(last.backward)
    ok, dout = rec.call(_ALL[1:], f"{lname}.backward(1)", last.backward, *((1,) if total >= 1 else ()))
    for path in tsnap.changed():
        rec.mutated("y" if "'t'" in path else "activations")
        rec.note(f"{lname} wrote into its {'target t' if chr(39) + 't' in path else 'input'}")
    if not ok or not _check_out(rec, f"{lname}.backward(1)", dout, (m, spec.sizes[-1])):
        return
    grads = rec.obs.grads  # filled as the chain goes: a later failure keeps what was read
    for i in range(len(layers) - 1, -1, -1):
        kind, cname, obj, l = layers[i]
        snap = Snapshot(dout, "dout")
        ok, dx = rec.call(_ALL[1:], f"{cname}.backward (layer {i + 1})", obj.backward, dout)
        if snap.changed():
            rec.mutated("dout")
            rec.note(f"{cname}.backward (layer {i + 1}) wrote into its dout argument")
        if not ok:
            return
        in_shape = x.shape if i == 0 else (m, spec.sizes[l - 1] if kind == "affine" else spec.sizes[l])
        fam = "grad_x" if i == 0 else "grad_hidden"
        if kind == "affine":
            for p, attr, shape, loose in (("W", "dW", (spec.sizes[l - 1], spec.sizes[l]), False),
                                          ("b", "db", (spec.sizes[l],), True)):
                pfam = f"grad_{p}"
                g = rec.array(pfam, f"{cname}.{attr} (layer {l})", getattr(obj, attr, None), shape, loose=loose)
                if g is not None:
                    grads[f"{p}{l}"] = g.T.copy() if p == "W" else g.reshape(-1)
        a = rec.array(fam, f"{cname}.backward (layer {i + 1})", dx, in_shape)
        if a is None:
            if i > 0:  # the chain is broken: nothing below this layer can be read
                rec.error(("grad_W", "grad_b", "grad_x", "grad_hidden"),
                          f"backward stopped at layer {i + 1} ({cname}): its gradient was unusable")
                _report_params(rec, psnap, "the layers")
                return
            continue
        if kind == "affine":
            if i == 0:
                grads["x"] = a.reshape(m, -1)
            else:
                grads[f"A{l - 1}"] = a
        dout = dx
    _report_params(rec, psnap, "the layers")
