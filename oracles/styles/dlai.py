"""Driver for deeplearning.ai-style functions (one sample per column, parameters in a dict).

Entry points
* ``L_model``: ``L_model_forward(X, parameters) -> (AL, caches)``, ``compute_cost(AL, Y)``,
  ``L_model_backward(AL, Y, caches) -> grads`` (dA0..dA{L-1}, dW1.., db1..),
  ``update_parameters(parameters, grads, learning_rate)``. ReLU hidden, sigmoid output, mean BCE.
* ``two_layer``: ``forward_propagation(X, parameters) -> (A2, cache)``, ``compute_cost(A2, Y[,
  parameters])``, ``backward_propagation(parameters, cache, X, Y)``, ``update_parameters``. tanh
  hidden, sigmoid output.

W{l} (n_l, n_{l-1}) and b{l} (n_l, 1); X (n_0, m), Y (n_L, m). The course's dA are gradients of
the SUMMED cost (dW and db carry the 1/m, dA does not): canonical A{l} = dA{l}.T / m. Old
notebooks number dA one higher (dA1..dAL for the inputs of layers 1..L); recognised by the keys.
"""

from __future__ import annotations

import numpy as np

from oracles.case import ACTIVATION_NAMES, Case, SpecSpace
from oracles.observation import Observation
from oracles.styles import conv_entries
from oracles.styles import dlai_layers_norm as norm
from oracles.styles._common import Recorder, Snapshot, UnsupportedCase, accepts, get, positional_count, require

__all__ = ["ENTRIES", "entry_points", "spec_space", "run", "own_loss"]

ENTRIES = ("L_model", "two_layer")
_ALL = ("loss", "grad_W", "grad_b", "grad_x", "grad_hidden", "update", "trajectory")
_GRADS = ("grad_W", "grad_b", "grad_x", "grad_hidden")


def _fns(impl, entry: str) -> dict:
    if entry == "L_model":
        names = {"forward": "L_model_forward", "backward": "L_model_backward"}
    else:
        names = {"forward": "forward_propagation", "backward": "backward_propagation"}
    out = {k: get(impl, v) for k, v in names.items()}
    out["cost"] = get(impl, "compute_cost")
    out["update"] = get(impl, "update_parameters")
    return out


def entry_points(impl) -> list[str]:
    out = []
    for entry in ENTRIES:
        f = _fns(impl, entry)
        if callable(f["forward"]) and callable(f["backward"]):
            if entry == "two_layer" and positional_count(f["backward"])[1] < 4:
                continue  # the gradient-checking notebook's backward_propagation(X, Y, cache)
            out.append(entry)
    return out + norm.entry_points(impl) + conv_entries.entry_points("dlai", impl)  # issue 10 layers


def _flexible(impl, entry: str) -> bool:
    """Our reference takes activations=...: any hidden activation, several outputs."""
    f = _fns(impl, entry)
    return entry == "L_model" and accepts(f["forward"], "activations") and accepts(f["backward"], "activations")


def spec_space(impl, entry: str) -> SpecSpace:
    if entry in norm.ENTRIES:
        return norm.spec_space(impl, entry)
    if conv_entries.owns("dlai", entry):
        return conv_entries.spec_space("dlai", impl, entry)
    if entry not in ENTRIES:
        raise UnsupportedCase(f"dlai has no entry point {entry!r}; choose one of {', '.join(ENTRIES)}")
    if entry == "two_layer":
        return SpecSpace(
            layout="columns", min_layers=2, max_layers=2, hidden_activations=("tanh",),
            outputs=(("binary_cross_entropy", ("sigmoid",)),), targets=("dense",), max_outputs=1,
        )
    flexible = _flexible(impl, entry)
    # the course's compute_cost (np.dot(Y, log(AL).T)) is written for a single output unit
    return SpecSpace(
        layout="columns",
        hidden_activations=ACTIVATION_NAMES if flexible else ("relu",),
        outputs=(("binary_cross_entropy", ("sigmoid",)),),
        targets=("dense",),
        max_outputs=None if flexible else 1,
    )


def _parameters(case: Case) -> dict[str, np.ndarray]:
    p = {}
    for l in range(1, case.spec.n_layers + 1):
        p[f"W{l}"] = np.ascontiguousarray(case.typed(case.params[f"W{l}"]))
        p[f"b{l}"] = case.typed(case.params[f"b{l}"]).reshape(-1, 1).copy()
    return p


class _Run:
    """One forward / cost / backward / update pass with the file's own functions."""

    def __init__(self, impl, case: Case, entry: str, rec: Recorder) -> None:
        self.impl, self.case, self.entry, self.rec = impl, case, entry, rec
        self.f = _fns(impl, entry)
        spec = case.spec
        self.X = np.ascontiguousarray(case.typed(case.x).T)
        self.Y = np.ascontiguousarray(case.typed(case.y).T)
        self.kw = {"activations": list(spec.activations)} if _flexible(impl, entry) else {}
        self.fwd_name = "L_model_forward(X, parameters)" if entry == "L_model" else "forward_propagation(X, parameters)"

    def forward(self, params, families, *, watch: bool):
        rec = self.rec
        snap = Snapshot({"x": self.X, "params": params}, "in") if watch else None
        ok, ret = rec.call(families, self.fwd_name, self.f["forward"], self.X, params, **self.kw)
        if watch:
            self._report(snap, self.fwd_name.split("(")[0])
        if not ok:
            return None, None
        if not isinstance(ret, (tuple, list)) or len(ret) != 2:
            n = f"a {type(ret).__name__} of {len(ret)} items" if isinstance(ret, (tuple, list)) else type(ret).__name__
            rec.error(families, f"{self.fwd_name} returned {n}; expected (AL, caches)")
            return None, None
        AL, caches = ret
        shape = (self.case.spec.sizes[-1], self.case.m)
        if not isinstance(AL, np.ndarray) or AL.size != np.prod(shape):
            rec.error(families, f"{self.fwd_name} returned AL of shape {np.shape(AL)}; expected {shape}")
            return None, None
        return AL, caches

    def _report(self, snap: Snapshot, when: str) -> None:
        for path in snap.changed():
            if path.startswith("in['x']"):
                self.rec.mutated("x")
            elif path.startswith("in['y']"):
                self.rec.mutated("y")
            elif path.startswith("in['params']"):
                key = path.split("'")[3]
                self.rec.mutated(f"params:{key}")
            elif path.startswith("in['AL']"):
                self.rec.mutated("AL")
            else:
                self.rec.mutated("caches")
            head, _, rest = path[len("in['"):].partition("']")
            shown = {"x": "X", "y": "Y", "params": "parameters"}.get(head, head) + rest
            self.rec.note(f"{when} wrote into {shown}")

    def cost(self, AL, caches, params) -> float | None:
        fn = self.f["cost"]
        if not callable(fn):
            return None
        rec = self.rec
        args = (AL, self.Y)
        if self.entry == "two_layer" and positional_count(fn)[0] >= 3:
            args = (AL, self.Y, params)  # the planar notebook's compute_cost(A2, Y, parameters)
        kw = {}
        try:  # our reference computes the cost from the logits when given them (exact when AL saturates)
            if self.entry == "L_model" and accepts(fn, "ZL"):
                kw["ZL"] = caches[-1][1]
            elif self.entry == "two_layer" and accepts(fn, "Z2"):
                kw["Z2"] = caches["Z2"]
        except (TypeError, KeyError, IndexError):
            kw = {}
        ok, c = rec.call("loss", "compute_cost(AL, Y)", fn, *args, **kw)
        if not ok:
            return None
        return rec.scalar("loss", "compute_cost(AL, Y)", c)

    def backward(self, AL, caches, params, families, *, watch: bool):
        rec = self.rec
        if self.entry == "L_model":
            what = "L_model_backward(AL, Y, caches)"
            args = (AL, self.Y, caches)
            snap = Snapshot({"AL": AL, "y": self.Y, "x": self.X, "params": params, "caches": caches}, "in",
                            skip=[self.X, *params.values()])
        else:
            what = "backward_propagation(parameters, cache, X, Y)"
            args = (params, caches, self.X, self.Y)
            snap = Snapshot({"y": self.Y, "x": self.X, "params": params, "caches": caches}, "in",
                            skip=[self.X, *params.values()])
        extra = Snapshot({"x": self.X, "params": params}, "in")
        ok, grads = rec.call(families, what, self.f["backward"], *args, **self.kw)
        if watch:
            self._report(snap, what.split("(")[0])
            self._report(extra, what.split("(")[0])
        if not ok:
            return None, what
        if not isinstance(grads, dict):
            rec.error(families, f"{what} returned a {type(grads).__name__}; expected a dict of dW1, db1, ...")
            return None, what
        return grads, what

    def canonical(self, grads: dict, what: str) -> dict[str, np.ndarray]:
        rec, spec, m = self.rec, self.case.spec, self.case.m
        L = spec.n_layers
        out = {}
        for l in range(1, L + 1):
            for p, fam, shape, loose in (("W", "grad_W", (spec.sizes[l], spec.sizes[l - 1]), False),
                                         ("b", "grad_b", (spec.sizes[l], 1), True)):
                key = f"d{p}{l}"
                if key not in grads:
                    rec.error(fam, f"{what} has no {key!r} (keys: {', '.join(map(str, grads))})")
                    continue
                g = rec.array(fam, f"{what}[{key!r}]", grads[key], shape, loose=loose)
                if g is not None:
                    out[f"{p}{l}"] = g.reshape(-1) if p == "b" else g
        if self.entry != "L_model":
            return out
        # dA numbering: dA{l} is the gradient of A[l] (dA0 = dX); old notebooks use dA{l+1}
        shift = 0
        if "dA0" not in grads and f"dA{L}" in grads:
            shift = 1
            rec.note(f"{what} numbers dA one higher (dA1..dA{L} for A0..A{L - 1}); read accordingly")
        for l in range(0, L):
            key = f"dA{l + shift}"
            fam = "grad_x" if l == 0 else "grad_hidden"
            if key not in grads:
                rec.error(fam, f"{what} has no {key!r} (the gradient of A{l}; keys: {', '.join(map(str, grads))})")
                continue
            g = rec.array(fam, f"{what}[{key!r}]", grads[key], (spec.sizes[l], m))
            if g is not None:
                # the course's dA are gradients of the summed cost
                out["x" if l == 0 else f"A{l}"] = g.T / (m if spec.reduction == "mean" else 1)
        return out

    def update(self, params, grads, family) -> dict | None:
        fn = self.f["update"]
        rec = self.rec
        before = {k: v.copy() for k, v in params.items()}
        ok, new = rec.call(family, "update_parameters(parameters, grads, learning_rate)", fn, params, grads,
                           self.case.lr)
        if not ok:
            return None
        changed = [k for k, v in params.items()
                   if isinstance(v, np.ndarray) and (v.shape != before[k].shape or not np.array_equal(v, before[k]))]
        if changed:
            rec.note(f"update_parameters changed the caller's parameters in place ({', '.join(changed)})")
        if new is None:
            rec.note("update_parameters returned None; read the parameters dict it was given")
            new = params
        if not isinstance(new, dict):
            rec.error(family, f"update_parameters returned a {type(new).__name__}; expected the parameters dict")
            return None
        return new

    def read(self, new: dict, family: str, shapes0: dict) -> dict[str, np.ndarray] | None:
        rec, spec = self.rec, self.case.spec
        out = {}
        for l in range(1, spec.n_layers + 1):
            for p, shape in (("W", (spec.sizes[l], spec.sizes[l - 1])), ("b", (spec.sizes[l], 1))):
                k = f"{p}{l}"
                v = new.get(k)
                if isinstance(v, np.ndarray) and v.shape != shapes0[k]:
                    rec.obs.shape_changes[k] = f"{shapes0[k]} -> {v.shape}"
                a = rec.array(family, f"updated parameters[{k!r}]", v, shape, loose=(p == "b"))
                if a is not None:
                    out[k] = a.reshape(-1) if p == "b" else a
        return out if len(out) == 2 * spec.n_layers else None


def run(impl, case: Case, entry: str) -> Observation:
    if entry in norm.ENTRIES:
        return norm.run(impl, case, entry)
    if conv_entries.owns("dlai", entry):
        return conv_entries.run("dlai", impl, case, entry)
    require(spec_space(impl, entry), case, "dlai", entry)
    rec = Recorder(case)
    r = _Run(impl, case, entry, rec)
    params = _parameters(case)
    AL, caches = r.forward(params, _ALL, watch=True)
    if AL is None:
        return rec.obs
    rec.obs.loss = r.cost(AL, caches, params)
    grads, what = r.backward(AL, caches, params, _GRADS + ("update", "trajectory"), watch=True)
    if grads is None:
        return rec.obs
    rec.obs.grads = r.canonical(grads, what)
    if not callable(r.f["update"]):
        rec.note("no update_parameters: update not checked")
        return rec.obs
    # steps of forward -> backward -> update_parameters, as the course's training loop does
    shapes0 = {k: v.shape for k, v in _parameters(case).items()}
    trajectory = []
    current = _parameters(case)
    for step in range(int(case.steps)):
        family = "update" if step == 0 else "trajectory"
        if step > 0:
            AL, caches = r.forward(current, family, watch=False)
            if AL is None:
                break
            grads, _ = r.backward(AL, caches, current, family, watch=False)
            if grads is None:
                break
        new = r.update(current, grads, ("update", "trajectory") if step == 0 else family)
        if new is None:
            break
        canon = r.read(new, family, shapes0)
        if canon is None:
            if step == 0:
                rec.error("trajectory", "the first update failed")
            break
        trajectory.append(canon)
        current = new
    if trajectory:
        rec.obs.updated = trajectory[0]
    if len(trajectory) == int(case.steps):
        rec.obs.trajectory = trajectory
    return rec.obs


def own_loss(impl, case: Case, entry: str) -> float | None:
    if entry in norm.ENTRIES:
        return norm.own_loss(impl, case, entry)
    if conv_entries.owns("dlai", entry):
        return conv_entries.own_loss("dlai", impl, case, entry)
    require(spec_space(impl, entry), case, "dlai", entry)
    rec = Recorder(case)
    r = _Run(impl, case, entry, rec)
    params = _parameters(case)
    AL, caches = r.forward(params, ("loss",), watch=False)
    if AL is None:
        return None
    return r.cost(AL, caches, params)
