"""MyTorch hw1 modules on their own: a ``linear.py``, ``activation.py`` or ``loss.py`` validated alone.

The handout splits hw1 into one file per module (``mytorch/nn/linear.py``, ``activation.py``, ``loss.py``),
and a learner's repository is often validated file by file. A file without the three parts the
``layers`` net needs (Linear, an activation, a loss) is checked part by part, as the course's
autograder checks each:

* ``layer:Linear``: the table's ``affine`` on a given upstream gradient dLdZ (loss ``dot``): Z, dLdA and
  the stored dLdW, dLdb (dW, db in the S20-F21 API); the year's scale is probed on the Linear itself
  (``mytorch.era``: summed, S24 on, or divided by N, S22-F23, then multiplied back by N here).
* ``layer:Identity`` / ``Sigmoid`` / ``Tanh`` / ``ReLU``, and ``layer:GELU`` / ``layer:Softmax`` (checked
  alone even beside a full net: the ``layers`` net has no slot for them): A and dLdZ for a given dLdA,
  whichever backward the year has (``backward(dLdA) -> dLdZ``, ``backward() -> dAdZ``, ``derivative()``).
* ``loss:MSELoss`` / ``loss:CrossEntropyLoss`` (``SoftmaxCrossEntropy`` in S20-F21): L and dLdA on a one-hot
  Y, against the canonical mean losses (oracles/case.py) at the year's scale. With no Linear to probe, the
  scale is read off the file's own losses (a probe batch N = 3, C = 2): ``sum`` (S24 on: MSE's backward
  2 (A - Y) / (N C), cross-entropy's (softmax - Y) / N) or ``mean`` (S22-F23 and S20-F21: A - Y, softmax
  - Y). A file whose losses follow different years is judged by the current one, the factor named.
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.styles._common import Recorder, Snapshot, UnsupportedCase, get

__all__ = ["ACTIVATIONS", "ALWAYS", "LOSSES", "entry_points", "owns", "spec_space", "run", "loss_scale", "mse_halved"]

LAYER, LOSS = "layer:", "loss:"
ACTIVATIONS = {"Identity": "identity", "Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu", "GELU": "gelu",
               "Softmax": "softmax"}
ALWAYS = ("GELU", "Softmax")  # outside the `layers` net's activations: checked alone in every file
LOSSES = {"MSELoss": "quadratic", "L2Loss": "quadratic", "CrossEntropyLoss": "softmax_cross_entropy",
          "SoftmaxCrossEntropy": "softmax_cross_entropy"}
_DOT = "dot"
_FLAT = ((1,), (2,), (3,), (5,), (8,))


def _cls(impl, name: str) -> type | None:
    c = get(impl, name)
    if isinstance(c, type) and callable(getattr(c, "forward", None)) and (
            callable(getattr(c, "backward", None)) or callable(getattr(c, "derivative", None))):
        return c
    return None


def entry_points(impl, with_net: bool) -> list[str]:
    """The parts checked alone: all of them without a ``layers`` net, GELU and Softmax always."""
    out = []
    if not with_net:
        if _cls(impl, "Linear") is not None:
            out.append(LAYER + "Linear")
        out += [LAYER + n for n in ACTIVATIONS if n not in ALWAYS and _cls(impl, n) is not None]
        out += [LOSS + n for n in LOSSES if _cls(impl, n) is not None]
    return out + [LAYER + n for n in ALWAYS if _cls(impl, n) is not None]


def owns(entry: str) -> bool:
    return entry.startswith(LOSS) or entry in {LAYER + n for n in ("Linear", *ACTIVATIONS)}


def _name(impl, entry: str) -> tuple[str, type]:
    name = entry.split(":", 1)[1]
    c = _cls(impl, name)
    if c is None:
        raise UnsupportedCase(f"the file defines no {name} with forward and backward")
    return name, c


def spec_space(impl, entry: str) -> SpecSpace:
    name, _c = _name(impl, entry)
    if entry.startswith(LOSS):
        loss = LOSSES[name]
        # cross-entropy over one class is constant: two classes at least
        shapes = _FLAT[1:] if loss == "softmax_cross_entropy" else _FLAT
        return SpecSpace(layout="rows", sequences=("identity",), outputs=((loss, ("identity",)),),
                         reductions=("mean",), targets=("dense",), input_shapes=shapes)
    k = "affine" if name == "Linear" else ACTIVATIONS[name]
    return SpecSpace(layout="rows", sequences=(k,), outputs=((_DOT, (k, "identity")),), reductions=("sum",),
                     targets=("dense",), input_shapes=() if k == "affine" else _FLAT)


def run(impl, case: Case, entry: str, rec: Recorder) -> None:
    name, cls = _name(impl, entry)
    if entry.startswith(LOSS):
        _loss(impl, case, name, cls, rec)
    elif name == "Linear":
        _linear(impl, case, cls, rec)
    else:
        _activation(case, name, cls, rec)


def _forward(rec: Recorder, fams, what: str, fn, x: np.ndarray, shape) -> np.ndarray | None:
    snap = Snapshot(x, "A")
    ok, z = rec.call(fams, what, fn, x)
    if snap.changed():
        rec.mutated("x")
    return rec.array("output", what, z, shape) if ok else None


def _linear(impl, case: Case, cls: type, rec: Recorder) -> None:
    from oracles.styles import mytorch  # the era probe and the Linear builder live with the net driver

    api, scale, text = mytorch.era(impl)
    rec.note(text)
    slot = case.spec.slots[0]
    t = case.typed
    W, b = t(case.params[slot.params["W"]]), t(case.params[slot.params["b"]])
    n_out, n_in = W.shape
    fams = ("output", "grad_x", "grad_W", "grad_b")
    obj = mytorch._new_linear(rec, cls, api, W, b, "Linear", fams)
    if obj is None:
        return
    x = np.ascontiguousarray(t(case.x))
    out = _forward(rec, fams, "Linear.forward(A)", obj.forward, x, (case.m, n_out))
    if out is None:
        return
    rec.obs.out = out
    dz = np.ascontiguousarray(t(case.y))
    snap = Snapshot(dz, "dLdZ")
    ok, da = rec.call(fams[1:], "Linear.backward(dLdZ)", obj.backward, dz)
    if snap.changed():
        rec.mutated("dout")
    if not ok:
        return
    g = rec.array("grad_x", "Linear.backward(dLdZ)", da, (case.m, n_in))
    if g is not None:
        rec.obs.grads["x"] = g
    # the mean scale divides dLdW, dLdb by N (not dLdA): multiplied back, a file of that year is exact
    k = float(case.m) if scale == "mean" else 1.0
    pairs = {"2021": (("W", "dW", (n_in, n_out)), ("b", "db", (1, n_out))),
             "2021r": (("W", "dW", (n_out, n_in)), ("b", "db", (n_out,)))}.get(
        api, (("W", "dLdW", (n_out, n_in)), ("b", "dLdb", (n_out, 1))))
    for p, attr, shape in pairs:
        v = rec.array(f"grad_{p}", f"Linear.{attr}", getattr(obj, attr, None), shape, loose=p == "b")
        if v is not None:
            v = v.T if (api == "2021" and p == "W") else v
            rec.obs.grads[slot.params[p]] = (v.reshape(-1) if p == "b" else v) * k


def _activation(case: Case, name: str, cls: type, rec: Recorder) -> None:
    from oracles.styles import mytorch

    fams = ("output", "grad_x")
    ok, obj = rec.call(fams, f"{name}()", cls)
    if not ok:
        return
    shape = (case.m, *case.spec.out_shape)
    x = np.ascontiguousarray(case.typed(case.x))
    out = _forward(rec, fams, f"{name}.forward(Z)", obj.forward, x, shape)
    if out is None:
        return
    rec.obs.out = out
    dA = np.ascontiguousarray(case.typed(case.y))
    snap = Snapshot(dA, "dLdA")
    how = mytorch._act_backward_kind(obj)
    if how == "dLdA":
        ok, dz = rec.call("grad_x", f"{name}.backward(dLdA)", obj.backward, dA)
    elif name == "Softmax":  # a row's Jacobian is no elementwise derivative: nothing to multiply dLdA by
        rec.decline(obj.backward, name, f"{name}.backward() takes no dLdA: softmax's Jacobian is not elementwise")
        rec.error("grad_x", f"{name}.backward takes no dLdA: bpcheck cannot apply softmax's Jacobian for it")
        return
    else:
        fn = obj.backward if how == "dAdZ" else obj.derivative
        what = f"{name}.{fn.__name__}()"
        ok, d = rec.call("grad_x", what, fn)
        if ok and isinstance(d, (int, float)) and not isinstance(d, bool):
            d = np.full(shape, float(d))  # an Identity may answer the scalar 1
        d = rec.array("grad_x", what, d, shape) if ok else None
        ok, dz = d is not None, (None if d is None else dA * d)
    if snap.changed():
        rec.mutated("dout")
    g = rec.array("grad_x", f"{name}.backward", dz, shape) if ok else None
    if g is not None:
        rec.obs.grads["x"] = g


_PROBE_A = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])
_PROBE_Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])


def _probe_one(cls: type, loss: str) -> str | None:
    """'sum' or 'mean': which year's backward this loss class computes on the probe batch (None: neither)."""
    N, C = _PROBE_A.shape
    if loss == "quadratic":  # "half": F22-F23's MSE, forward SSE / (2 N C), backward (A - Y) / (N C)
        base, by = _PROBE_A - _PROBE_Y, {"sum": 2.0 / (N * C), "mean": 1.0, "half": 1.0 / (N * C)}
    else:
        e = np.exp(_PROBE_A - _PROBE_A.max(axis=1, keepdims=True))
        base, by = e / e.sum(axis=1, keepdims=True) - _PROBE_Y, {"sum": 1.0 / N, "mean": 1.0}
    rec = Recorder(None)
    ok, obj = rec.call(("loss",), "probe", cls)
    ok = ok and rec.call(("loss",), "probe", obj.forward, _PROBE_A.copy(), _PROBE_Y.copy())[0]
    back = (getattr(obj, "backward", None) or getattr(obj, "derivative", None)) if ok else None
    ok, g = rec.call(("loss",), "probe", back) if back is not None else (False, None)
    if not ok or not isinstance(g, np.ndarray) or g.size != N * C:
        return None
    g = np.asarray(g, dtype=np.float64).reshape(N, C)
    return next((s for s, k in by.items() if np.allclose(g, k * base, rtol=1e-6, atol=1e-9)), None)


def mse_halved(cls: type | None) -> bool:
    """True when an MSE class follows F22-F23's halved MSE: forward SSE / (2 N C) on the probe batch.

    That term's backward is (A - Y) / (N C), the exact gradient of its own forward: both are 1/C times the
    canonical ones (mean over N of 1/2 ||A - Y||^2 and (A - Y) / N); S22 and S24-on divide by N C. Read off
    the forward, so a backward that is wrong is judged against the halved form, not mistaken for another year."""
    if cls is None:
        return False
    rec = Recorder(None)
    ok, obj = rec.call(("loss",), "probe", cls)
    ok, v = rec.call(("loss",), "probe", obj.forward, _PROBE_A.copy(), _PROBE_Y.copy()) if ok else (False, None)
    try:
        v = float(np.asarray(v, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        return False
    sse = float(((_PROBE_A - _PROBE_Y) ** 2).sum())
    return ok and bool(np.isclose(v, sse / (2 * _PROBE_A.size), rtol=1e-9, atol=0.0))


def loss_scale(impl) -> tuple[str, str]:
    """(scale, why) of a file's losses, probed on their own backward (no Linear to probe)."""
    seen = {n: _probe_one(c, LOSSES[n]) for n in LOSSES if (c := _cls(impl, n)) is not None}
    # the halved MSE (F22-F23) sits beside a cross-entropy without the 1/N: the mean-scale years
    kinds = {"mean" if s == "half" else s for s in seen.values() if s is not None}
    if kinds == {"mean"}:
        return "mean", "the losses' backward leaves out the 1/N: S22-F23 (or S20-F21) conventions"
    if kinds == {"sum"}:
        return "sum", "the losses' backward carries the 1/N: S24-on conventions"
    if kinds:
        return "sum", (f"the losses follow different course years ({', '.join(f'{n}: {s}' for n, s in seen.items())})"
                       f": judged by the S24-on conventions")
    return "sum", "the losses' backward matches no course year on a probe batch: judged by the S24-on conventions"


def _loss(impl, case: Case, name: str, cls: type, rec: Recorder) -> None:
    scale, why = loss_scale(impl)
    rec.note(f"MyTorch losses: {why}")
    loss = case.spec.loss
    N, C = case.m, case.spec.n_out
    fams = ("loss", "grad_x")
    ok, crit = rec.call(fams, f"{name}()", cls)
    if not ok:
        return
    A, Y = np.ascontiguousarray(case.typed(case.x)), np.ascontiguousarray(case.typed(case.onehot))
    snap = Snapshot((A, Y), "A, Y")
    ok, value = rec.call(fams, f"{name}.forward(A, Y)", crit.forward, A, Y)
    if snap.changed():
        rec.mutated("x")
    if not ok:
        return
    api2021 = not callable(getattr(crit, "backward", None))  # S20-F21's Criterion: derivative(), no backward
    if api2021 and isinstance(value, np.ndarray) and value.shape == (N,):  # its forward: the per-sample losses
        value = value.mean()
    half = loss == "quadratic" and mse_halved(cls)
    if half:
        rec.note(f"{name}: the F22-F23 halved MSE (forward SSE / (2 N C), backward (A - Y) / (N C)): judged under it")
    v = rec.scalar("loss", f"{name}.forward(A, Y)", value)
    if v is not None:
        # MSE is the sum of squares over N C (halved: 2 N C); the canonical quadratic loss is the mean over N of
        # 1/2 ||.||^2
        rec.obs.loss = (v * C if half else v * C / 2) if loss == "quadratic" else v
    back = getattr(crit, "backward", None) or getattr(crit, "derivative", None)
    what = f"{name}.{getattr(back, '__name__', 'backward')}()"
    ok, dA = rec.call("grad_x", what, back)
    g = rec.array("grad_x", what, dA, (N, C)) if ok else None
    if g is not None:
        # canonical dL/dA is (A - Y) / N or (softmax - Y) / N; each year's backward is a known multiple of it
        k = 1.0 / C if half else (2.0 / C if loss == "quadratic" else 1.0) if scale == "sum" else float(N)
        rec.obs.grads["x"] = g / k
