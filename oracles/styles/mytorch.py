"""Driver for CMU 11-785 MyTorch (homework 1 part 1): a numpy framework of layer classes, one sample per row.

Entry points
* ``layers``: the file's ``Linear`` and activation classes assembled into a net of any depth,
  ending in its ``MSELoss`` or ``CrossEntropyLoss`` (Y one-hot, shape (N, C)): the loss, dLdW and
  dLdb of every Linear, dLdA of the input and of every hidden activation.
* ``layer:BatchNorm1d``, ``layer:Flatten``, hw2's conv, pool and resampling layers: single layers from
  the layer table, checked alone (oracles/styles/mytorch_layers.py).
* ``layer:Linear``, ``layer:<activation>``, ``loss:<MSELoss|CrossEntropyLoss>``: the parts of a file
  without a ``layers`` net (a ``linear.py``, ``activation.py`` or ``loss.py`` validated on its own), and
  ``layer:GELU`` / ``layer:Softmax`` always (oracles/styles/mytorch_parts.py).
* ``cell:RNNCell`` / ``cell:GRUCell``: hw3p1's recurrent cells, one time step (oracles/styles/mytorch_cells.py).
* ``MLP0`` / ``MLP1`` / ``MLP4``: the file's models (fixed 2-3, 2-3-2, 2-4-8-8-4-2 nets, ReLU after
  every Linear): weights set in ``model.layers``, ``model.forward(A0)``, ``model.backward(dLdA)``
  with the gradient of the mean 1/2 ||A - Y||^2 as dLdA (the models carry no loss); dLdW, dLdb come
  from the model's own forward and backward, dLdA of the hidden layers from a layer-by-layer pass.

Course years differ, and a file is judged by the year it follows (detected, and stated in a note):

* ``nn`` API (Spring 2022 on): ``Linear(in_features, out_features)``, W (C_out, C_in), b (C_out, 1),
  ``forward(A)``, ``backward(dLdZ)`` storing ``dLdW`` / ``dLdb``; activations ``forward(Z)`` and
  ``backward(dLdA) -> dLdZ`` or (earlier terms) ``backward() -> dAdZ``; losses ``forward(A, Y) -> L``
  (MSE: the sum of squares over N * C) and ``backward()``.
  - ``sum`` scale (S24 on, the S24 writeup): the losses' backward carries the 1/N (MSE: 2 (A - Y) /
    (N C), cross-entropy (softmax - Y) / N) and Linear sums over the batch;
  - ``mean`` scale (S22-F23): the losses' backward is A - Y / softmax - Y and Linear divides
    dLdW, dLdb by N (so dLdA of the hidden layers is N times the mean loss's).
  (Terms per docs/real-world/conventions.md, read in real files of each term by corpus-layers.)
* ``2021`` API (S20-F21): ``Linear(in_feature, out_feature, weight_init_fn,
  bias_init_fn)``, W (C_in, C_out), b (1, C_out), ``forward(x)``, ``backward(delta)`` storing ``dW``
  / ``db`` averaged over the batch; activations keep ``state`` and give ``derivative()``;
  ``SoftmaxCrossEntropy.forward(x, y)`` returns the per-sample losses, ``derivative()`` softmax - y.

The scale is read off the file's own Linear (a probe with a known batch); observations are then
put in canonical form (oracles/case.py: mean of 1/2 ||a - y||^2, mean cross-entropy), so a file that
follows its year passes and one that mixes years fails with the factor named.
"""

from __future__ import annotations

import inspect

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.observation import Observation
from oracles.styles import mytorch_cells, mytorch_dropout, mytorch_layers, mytorch_parts
from oracles.styles._common import (
    Recorder,
    Snapshot,
    UnsupportedCase,
    _signature,
    accepts,
    get,
    positional_count,
    require,
)
from oracles.styles.own_code import own_entries

__all__ = ["MODELS", "ENTRIES", "entry_points", "spec_space", "run", "own_loss", "era"]

MODELS = {"MLP0": (2, 3), "MLP1": (2, 3, 2), "MLP4": (2, 4, 8, 8, 4, 2)}
ENTRIES = ("layers", *MODELS)
_ALL = ("loss", "grad_W", "grad_b", "grad_x", "grad_hidden")
_ACT_CLASSES = {"identity": ("Identity",), "sigmoid": ("Sigmoid",), "tanh": ("Tanh",), "relu": ("ReLU", "Relu")}
_LOSSES = {"quadratic": ("MSELoss", "L2Loss"), "softmax_cross_entropy": ("CrossEntropyLoss", "SoftmaxCrossEntropy")}


def _cls(impl, names):
    for n in names:
        c = get(impl, n)
        if isinstance(c, type) and callable(getattr(c, "forward", None)):
            return n, c
    return None, None


def _api(impl) -> str | None:
    """'nn', '2021' or '2021r' from the Linear constructor's parameters (None without a Linear).

    '2021r': ``Linear(in_feature, out_feature)`` without init functions, holding W (out, in) and b (out,) (the
    S20-F21 hw3 handout's, with ``init_weights(W, b)``), dW, db averaged over the batch as in hw1 of those
    terms; its layout is read off a Linear(2, 3) it builds, never assumed."""
    _n, lin = _cls(impl, ("Linear",))
    if lin is None:
        return None
    try:
        params = list(inspect.signature(lin.__init__).parameters)
    except (TypeError, ValueError):
        return "nn"
    if "in_feature" in params and "weight_init_fn" not in params and _holds_out_in(lin):
        return "2021r"
    return "2021" if "weight_init_fn" in params or "in_feature" in params else "nn"


def _holds_out_in(lin) -> bool:
    """True when Linear(2, 3) (two arguments alone) builds W of shape (3, 2)."""
    try:
        with np.errstate(all="ignore"):
            W = getattr(lin(2, 3), "W", None)
    except Exception:  # noqa: BLE001 - a constructor that needs more is not this layout
        return False
    return isinstance(W, np.ndarray) and W.shape == (3, 2)


def _set_linear(obj, api: str, W: np.ndarray, b: np.ndarray) -> None:
    """W (C_out, C_in) and b (C_out,) into a Linear, in the file's year's layout."""
    if api == "2021":
        obj.W, obj.b = W.T.copy(), b.reshape(1, -1).copy()
    elif api == "2021r":
        obj.W, obj.b = W.copy(), b.reshape(-1).copy()  # the hw3 handout's b is (out,)
    else:
        obj.W, obj.b = W.copy(), b.reshape(-1, 1).copy()


def _new_linear(rec: Recorder, lin, api: str, W: np.ndarray, b: np.ndarray, what: str, families=_ALL):
    """A Linear holding W (C_out, C_in) and b (C_out,) in the file's year's layout."""
    n_out, n_in = W.shape
    if api == "2021":
        ok, obj = rec.call(families, f"{what}({n_in}, {n_out}, weight_init_fn, bias_init_fn)", lin, n_in, n_out,
                           lambda i, o: W.T.copy(), lambda o: b.reshape(1, -1).copy())
    else:
        ok, obj = rec.call(families, f"{what}({n_in}, {n_out})", lin, n_in, n_out)
    if ok:
        _set_linear(obj, api, W, b)
    return obj if ok else None


def _act_backward_kind(obj) -> str:
    if callable(getattr(obj, "derivative", None)) and not callable(getattr(obj, "backward", None)):
        return "derivative"
    back = getattr(obj, "backward", None)
    if back is None:
        return "derivative"
    sig = _signature(back)
    first = next(iter(sig.parameters), None) if sig is not None else None
    if first == "state":  # hw3's Tanh/Sigmoid: backward(state=None) -> dA/dZ at the given (or stored) output
        return "dAdZ"
    return "dLdA" if positional_count(back)[1] >= 1 else "dAdZ"


def era(impl) -> tuple[str | None, str, str]:
    """(api, scale, text): the course year a file follows, probed on its own Linear (scale 'sum' or 'mean')."""
    api = _api(impl)
    if api is None:
        return None, "sum", "no Linear"
    _n, lin = _cls(impl, ("Linear",))
    rec = Recorder(None)
    W = np.array([[1.0, -2.0], [0.5, 1.5], [-1.0, 0.25]])
    obj = _new_linear(rec, lin, api, W, np.array([0.1, -0.2, 0.3]), "Linear")
    default = "mean" if api in ("2021", "2021r") else "sum"
    scale, why = default, f"the {api} API's usual scale (the probe could not tell)"
    if obj is not None:
        A = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]])
        dZ = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0], [-1.0, 1.0, 0.5]])
        ok, _ = rec.call(_ALL, "Linear.forward", obj.forward, A)
        ok = ok and rec.call(_ALL, "Linear.backward", obj.backward, dZ)[0]
        g = getattr(obj, "dW" if api in ("2021", "2021r") else "dLdW", None) if ok else None
        if isinstance(g, np.ndarray) and g.size == 6:
            g = np.asarray(g, dtype=float).reshape(W.T.shape if api == "2021" else W.shape)
            summed = dZ.T @ A if api != "2021" else A.T @ dZ
            if np.allclose(g, summed):
                scale, why = "sum", "Linear.backward sums dLdW over the batch"
            elif np.allclose(g, summed / 3):
                scale, why = "mean", "Linear.backward averages dLdW over the batch"
    year = {("nn", "sum"): "S24 on", ("nn", "mean"): "S22-F23", ("2021", "mean"): "S20-F21",
            ("2021", "sum"): "S20-F21 API with summed gradients",
            ("2021r", "mean"): "S20-F21 (Linear(in_feature, out_feature), W (out, in), dW averaged)",
            ("2021r", "sum"): "S20-F21 API (Linear(in_feature, out_feature), W (out, in)) with summed gradients",
            }[(api, scale)]
    return api, scale, f"MyTorch {year} conventions ({why})"


def entry_points(impl) -> list[str]:
    out = []
    _n, lin = _cls(impl, ("Linear",))
    acts = [k for k, names in _ACT_CLASSES.items() if _cls(impl, names)[1] is not None]
    losses = [k for k, names in _LOSSES.items() if _cls(impl, names)[1] is not None]
    if lin is not None and acts and losses:
        out.append("layers")
    for name in MODELS:
        cls = get(impl, name)
        if isinstance(cls, type) and callable(getattr(cls, "forward", None)) and callable(
                getattr(cls, "backward", None)):
            out.append(name)
    # a class the file only imports (pool.py's `from resampling import *`) is judged in its own file, not here:
    # a square-only Downsample2d read as pool.py's FAIL (docs/real-world/layers.tsv, shrikiran's pool/conv rows)
    alone = (mytorch_parts.entry_points(impl, with_net="layers" in out) + mytorch_layers.entry_points(impl)
             + mytorch_dropout.entry_points(impl) + mytorch_cells.entry_points(impl))
    return out + own_entries(impl, alone, lambda e: [e.split(":", 1)[1]] if ":" in e else [])


def spec_space(impl, entry: str) -> SpecSpace:
    if mytorch_cells.owns(entry):
        return mytorch_cells.spec_space(impl, entry)
    if mytorch_dropout.owns(entry):
        return mytorch_dropout.spec_space(impl, entry)
    if mytorch_parts.owns(entry):
        return mytorch_parts.spec_space(impl, entry)
    if entry.startswith(mytorch_layers.PREFIX):
        return mytorch_layers.spec_space(impl, entry)
    if entry in MODELS:
        return SpecSpace(layout="rows", min_layers=len(MODELS[entry]) - 1, max_layers=len(MODELS[entry]) - 1,
                         hidden_activations=("relu",), outputs=(("quadratic", ("relu",)),), targets=("dense",),
                         sizes=MODELS[entry])
    if entry != "layers":
        raise UnsupportedCase(f"mytorch has no entry point {entry!r}; choose from {', '.join(entry_points(impl))}")
    acts = tuple(k for k, names in _ACT_CLASSES.items() if _cls(impl, names)[1] is not None)
    outputs = []
    if _cls(impl, _LOSSES["quadratic"])[1] is not None:
        outputs.append(("quadratic", acts))
    if _cls(impl, _LOSSES["softmax_cross_entropy"])[1] is not None:
        outputs.append(("softmax_cross_entropy", ("identity",)))
    return SpecSpace(layout="rows", min_layers=1, max_layers=4, hidden_activations=acts or ("relu",),
                     outputs=tuple(outputs), targets=("dense",))


def _check(rec: Recorder, families, what: str, value, shape) -> np.ndarray | None:
    return rec.array(families, what, value, shape)


def _run(impl, case: Case, entry: str, rec: Recorder, *, loss_only: bool = False) -> None:
    spec, m = case.spec, case.m
    L = spec.n_layers
    api, scale, text = era(impl)
    rec.note(text)
    _ln, lin = _cls(impl, ("Linear",))
    layers = []  # (kind, name, object, l)
    if entry in MODELS:
        cls = get(impl, entry)
        debug = accepts(cls, "debug")  # S22: MLPk(debug=True) keeps dLdA0, its backward returns nothing
        kw = {"debug": True} if debug else {}
        ok, model = rec.call(_ALL, f"{entry}({'debug=True' if debug else ''})", cls, **kw)
        if not ok:
            return
        mine = list(getattr(model, "layers", []) or [])
        acts = list(getattr(model, "f", []) or [])
        if acts and len(acts) == len(mine) and all(hasattr(o, "W") for o in mine):
            # the S22 handout keeps the Linears in self.layers and their activations in self.f
            mine = [o for pair in zip(mine, acts) for o in pair]
        linears = [o for o in mine if hasattr(o, "W")]
        if len(linears) != L:
            rec.error(_ALL, f"{entry}().layers holds {len(linears)} layers with weights; the course's {entry} has {L}")
            return
        l = 0
        for obj in mine:
            if hasattr(obj, "W"):
                l += 1
                W, b = case.typed(case.params[f"W{l}"]), case.typed(case.params[f"b{l}"])
                _set_linear(obj, api, W, b)
                layers.append(("affine", type(obj).__name__, obj, l))
            else:
                layers.append(("relu", type(obj).__name__, obj, l))
    else:
        for l in range(1, L + 1):
            obj = _new_linear(rec, lin, api, case.typed(case.params[f"W{l}"]), case.typed(case.params[f"b{l}"]),
                              _ln)
            if obj is None:
                return
            layers.append(("affine", _ln, obj, l))
            act = spec.activations[l - 1]
            if l == L and spec.loss == "softmax_cross_entropy":
                break
            an, acls = _cls(impl, _ACT_CLASSES[act])
            ok, aobj = rec.call(_ALL, f"{an}()", acls)
            if not ok:
                return
            layers.append((act, an, aobj, l))

    # forward
    x = np.ascontiguousarray(case.typed(case.x))
    out = x
    for i, (_kind, name, obj, l) in enumerate(layers):
        snap = Snapshot(out, "in")
        ok, new = rec.call(_ALL, f"{name}.forward (layer {i + 1})", obj.forward, out)
        if snap.changed():
            rec.mutated("x" if i == 0 else "activations")
        if not ok or _check(rec, _ALL, f"{name}.forward (layer {i + 1}) output", new, (m, spec.sizes[l])) is None:
            return
        out = new
    Y = case.typed(case.onehot)
    N, C = m, spec.sizes[-1]
    if entry in MODELS:
        # the models carry no loss: the gradient of the mean 1/2 ||A - Y||^2, at the year's scale
        A = np.asarray(out, dtype=np.float64)
        up = (A - Y) / N * (N if scale == "mean" else 1)
        dout = up.astype(case.spec.dtype)
        factor_w, factor_a = 1.0, (N if scale == "mean" else 1.0)
    else:
        lname, lcls = _cls(impl, _LOSSES[spec.loss])
        ok, crit = rec.call(_ALL, f"{lname}()", lcls)
        if not ok:
            return
        ok, value = rec.call(_ALL, f"{lname}.forward(A, Y)", crit.forward, out, Y)
        if not ok:
            return
        if isinstance(value, np.ndarray) and value.shape == (N,):  # 2021: per-sample losses
            value = value.mean()
        half = spec.loss == "quadratic" and mytorch_parts.mse_halved(lcls)
        loss = rec.scalar("loss", f"{lname}.forward(A, Y)", value)
        if loss is not None:
            # MSE is the sum of squares over N * C (F22-F23 halve it: 2 N C); the canonical quadratic loss is its
            # mean over N of 1/2 ||.||^2
            rec.obs.loss = (loss * C if half else loss * C / 2) if spec.loss == "quadratic" else loss
        if loss_only:
            return
        back = getattr(crit, "backward", None) or getattr(crit, "derivative", None)
        ok, dout = rec.call(_ALL[1:], f"{lname}.backward()", back)
        if not ok or _check(rec, _ALL[1:], f"{lname}.backward()", dout, (N, C)) is None:
            return
        # sum scale: MSE's dLdA = 2 (A - Y) / (N C) is 2/C times the canonical (A - Y) / N, cross-entropy's equal;
        # mean scale (Fall 2022): dLdA = A - Y or softmax - Y is N times it, and Linear divides dLdW by N
        # halved MSE (F22-F23): dLdA = (A - Y) / (N C) is 1/C times the canonical, at either Linear scale
        k = 2.0 / C if spec.loss == "quadratic" else 1.0
        if half:
            k = 1.0 / C
            factor_w, factor_a = (k, k) if scale == "sum" else (k / N, k)
        else:
            factor_w, factor_a = (k, k) if scale == "sum" else (1.0, float(N))
    grads = rec.obs.grads
    for i in range(len(layers) - 1, -1, -1):
        kind, name, obj, l = layers[i]
        snap = Snapshot(dout, "dout")
        if kind == "affine":
            ok, dx = rec.call(_ALL[1:], f"{name}.backward (layer {i + 1})", obj.backward, dout)
        else:
            how = _act_backward_kind(obj)
            if how == "dLdA":
                ok, dx = rec.call(_ALL[1:], f"{name}.backward(dLdA) (layer {i + 1})", obj.backward, dout)
            else:
                fn = obj.backward if how == "dAdZ" else obj.derivative
                ok, dAdZ = rec.call(_ALL[1:], f"{name}.{fn.__name__}() (layer {i + 1})", fn)
                dx = None
                if ok:
                    if isinstance(dAdZ, (int, float)):
                        dAdZ = np.full(np.shape(dout), float(dAdZ))
                    d = _check(rec, _ALL[1:], f"{name}.{fn.__name__}() (layer {i + 1})", dAdZ, np.shape(dout))
                    if d is None:
                        return
                    dx = dout * d
        if snap.changed():
            rec.mutated("dout")
        if not ok:
            return
        if kind == "affine":
            _read_linear(rec, obj, name, l, api, spec, factor_w, grads)
        in_shape = (m, spec.sizes[l - 1]) if kind == "affine" else (m, spec.sizes[l])
        fam = "grad_x" if i == 0 else "grad_hidden"
        a = _check(rec, fam, f"{name}.backward (layer {i + 1})", dx, in_shape)
        if a is None:
            if i > 0:
                rec.error(("grad_W", "grad_b", "grad_x", "grad_hidden"),
                          f"backward stopped at layer {i + 1} ({name}): its gradient was unusable")
                return
            continue
        if kind == "affine":
            grads["x" if l == 1 else f"A{l - 1}"] = a / factor_a
        dout = dx
    if entry in MODELS:
        _model_pass(rec, model, entry, layers, case, api, scale, factor_w, factor_a)


def _read_linear(rec: Recorder, obj, name: str, l: int, api: str, spec, factor_w: float, grads: dict) -> None:
    """dLdW, dLdb (dW, db in the 2021 API) of Linear number l, in canonical form."""
    n_in, n_out = spec.sizes[l - 1], spec.sizes[l]
    pairs = {"2021": (("W", "dW", (n_in, n_out), True), ("b", "db", (1, n_out), True)),
             "2021r": (("W", "dW", (n_out, n_in), False), ("b", "db", (n_out,), False))}.get(
        api, (("W", "dLdW", (n_out, n_in), False), ("b", "dLdb", (n_out, 1), False)))
    for p, attr, shape, transposed in pairs:
        g = rec.array(f"grad_{p}", f"{name}.{attr} (layer {l})", getattr(obj, attr, None), shape, loose=p == "b")
        if g is not None:
            g = g.T if (transposed and p == "W") else g
            grads[f"{p}{l}"] = g.reshape(-1) / factor_w if p == "b" else g / factor_w


def _model_pass(rec: Recorder, model, entry: str, layers: list, case: Case, api: str, scale: str,
                factor_w: float, factor_a: float) -> None:
    """The model's own forward and backward, as the course's autograder calls them: dLdW, dLdb come from them.

    The layer-by-layer pass before it gives dLdA of every hidden layer (the models do not return them); this
    one checks that MLPk.forward and MLPk.backward chain their layers right (a skipped ReLU fails here)."""
    spec, m, N = case.spec, case.m, case.m
    x = np.ascontiguousarray(case.typed(case.x))
    snap = Snapshot(x, "A0")
    ok, A = rec.call(_ALL, f"{entry}.forward(A0)", model.forward, x)
    if snap.changed():
        rec.mutated("x")
    if not ok or (A := _check(rec, ("grad_W", "grad_b"), f"{entry}.forward(A0)", A, (m, spec.sizes[-1]))) is None:
        return
    up = (A - case.onehot) / N * (N if scale == "mean" else 1)
    ok, ret = rec.call(_ALL[1:], f"{entry}.backward(dLdA)", model.backward, up.astype(spec.dtype))
    if not ok:
        return
    for _kind, name, obj, l in layers:
        if _kind == "affine":
            _read_linear(rec, obj, name, l, api, spec, factor_w, rec.obs.grads)
    if not isinstance(ret, np.ndarray):
        ret = getattr(model, "dLdA0", None)  # the S22 handout: backward returns NotImplemented, debug keeps dLdA0
    if isinstance(ret, np.ndarray) and ret.shape == (m, spec.sizes[0]):
        rec.obs.grads["x"] = np.asarray(ret, dtype=np.float64) / factor_a  # the handout returns dLdA0 (or nothing)


def run(impl, case: Case, entry: str) -> Observation:
    require(spec_space(impl, entry), case, "mytorch", entry)
    rec = Recorder(case)
    if mytorch_cells.owns(entry):
        mytorch_cells.run(impl, case, entry, rec)
    elif mytorch_dropout.owns(entry):
        mytorch_dropout.run(impl, case, entry, rec)
    elif mytorch_parts.owns(entry):
        mytorch_parts.run(impl, case, entry, rec)
    elif entry.startswith(mytorch_layers.PREFIX):
        mytorch_layers.run(impl, case, entry, rec)
    else:
        _run(impl, case, entry, rec)
    return rec.obs


def own_loss(impl, case: Case, entry: str) -> float | None:
    require(spec_space(impl, entry), case, "mytorch", entry)
    if entry in MODELS or entry.startswith(mytorch_layers.PREFIX) or mytorch_parts.owns(entry) or \
            mytorch_cells.owns(entry):
        return None
    rec = Recorder(case)
    _run(impl, case, entry, rec, loss_only=True)
    return rec.obs.loss
