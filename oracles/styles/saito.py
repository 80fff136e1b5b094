"""Driver for Saito-style layers ("Deep Learning from Scratch", ch. 5), one sample per row.

Entry points
* ``TwoLayerNet`` / ``MultiLayerNet``: the file's net; ``params`` W1 (in, out), b1 (out,) ... are
  set IN PLACE (``params[k][...] = value``), because the Affine layers hold references to those
  arrays (float32 Cases replace the arrays and re-point the layers that held them; a note says so).
  ``loss(x, t)`` and ``gradient(x, t) -> dict``. An ``SGD`` optimiser class in the file gives the update.
* ``layers``: the file's own Affine, activation and loss classes assembled into a net of any
  depth: loss, dW/db of every Affine, dx and the gradient of every hidden activation.
* ``layer:<Class>``: one of the file's layer classes among reference.layers for all the others.
  (These two live in oracles/styles/saito_layers.py.)

Side effects: each ``backward`` gets a dout whose copy is compared afterwards (the book's
``Relu.backward`` zeroes dout in place: reported as "dout", a hygiene finding), each
``forward`` its input ("x" for the net input), parameters ("params:W1").
"""

from __future__ import annotations

import numpy as np

from oracles.case import ACTIVATION_NAMES, Case, Spec, SpecSpace
from oracles.observation import Observation
from oracles.styles import conv_entries
from oracles.styles import saito_layers_norm as norm
from oracles.styles import saito_naive as naive
from oracles.styles._common import (
    ACTIVATION_CLASS_NAMES,
    Recorder,
    Snapshot,
    UnsupportedCase,
    accepts,
    get,
    probed,
    require,
    row_input,
)
from oracles.styles._configs import activation_words, string_constants
from oracles.styles.saito_layers import (
    _CLASS_NAMES,
    _layers_space,
    _reference_classes,
    _report_params,
    _run_layers,
    _target,
    layer_classes,
)

__all__ = ["ENTRIES", "NETS", "entry_points", "spec_space", "run", "own_loss", "layer_classes"]

NETS = ("TwoLayerNet", "MultiLayerNet")
ENTRIES = (*NETS, "layers")  # plus "layer:<Class>"
_NET_FAMILIES = ("loss", "grad_W", "grad_b", "update", "trajectory")


def _net_class(impl, name: str):
    cls = get(impl, name)
    if isinstance(cls, type) and callable(getattr(cls, "gradient", None)) and callable(getattr(cls, "loss", None)):
        return cls
    return None


def entry_points(impl) -> list[str]:
    out = [n for n in NETS if _net_class(impl, n) is not None]
    for n in out:
        declined_activations(impl, n)  # probed here, outside run()'s coverage recording: a probe checks nothing
    mine = layer_classes(impl)
    if "affine" in mine and ("softmax" in mine or "squared" in mine):
        out.append("layers")
    ref = _reference_classes()
    for kind, (name, cls) in mine.items():
        if ref.get(kind, (None, None))[1] is not cls:  # isolating our own class tests nothing new
            out.append(f"layer:{name}")
    return out + naive.entry_points(impl) + norm.entry_points(impl) + conv_entries.entry_points("saito", impl)


# ---------------------------------------------------------------------------------- nets


def _kind_of(obj) -> str | None:
    name = type(obj).__name__
    for kind, names in _CLASS_NAMES.items():
        if name in names:
            return kind
    return None


def _net_layers(net) -> list:
    layers = getattr(net, "layers", None)
    if isinstance(layers, dict):
        return list(layers.values())
    if isinstance(layers, (list, tuple)):
        return list(layers)
    return []


def _last_layer(net):
    for attr in ("last_layer", "lastLayer", "last", "loss_layer"):
        obj = getattr(net, attr, None)
        if obj is not None and hasattr(obj, "forward"):
            return obj
    return None


def _build(impl, name: str, spec: Spec, *, probe: bool = False):
    """(net, None) or (None, reason): the file's net for spec's architecture."""
    cls = _net_class(impl, name)
    sizes = spec.sizes
    if name == "TwoLayerNet":
        args, kwargs = (sizes[0], sizes[1], sizes[2]), {}
    else:
        args = (sizes[0], list(sizes[1:-1]), sizes[-1])
        kwargs = {}
        hidden = spec.activations[:-1]
        if hidden and accepts(cls.__init__, "activation"):
            kwargs["activation"] = hidden[0]
        if accepts(cls.__init__, "weight_decay_lambda"):
            kwargs["weight_decay_lambda"] = spec.reg
        if spec.loss == "quadratic" and accepts(cls.__init__, "last_layer"):
            kwargs["last_layer"] = "squared"
            if accepts(cls.__init__, "output_activation"):
                kwargs["output_activation"] = spec.activations[-1]
    if accepts(cls.__init__, "dtype"):
        kwargs["dtype"] = np.dtype(spec.dtype).type
    try:
        with np.errstate(all="ignore"):
            return cls(*args, **kwargs), None
    except SystemExit as exc:
        return None, f"{name}(...) called sys.exit({exc.code!r})"
    except Exception as exc:
        shown = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        return None, f"{name}({shown}) raised {type(exc).__name__}: {exc}"


def _probe_activation(impl, name: str, act: str | None, n_layers: int = 2) -> str | None:
    """The hidden activation a net really uses (read from its layer classes), None if it cannot be built."""
    hidden = (act or "relu",) * (n_layers - 1)
    spec = Spec(sizes=(2,) + (3,) * (n_layers - 1) + (2,), activations=hidden + ("identity",),
                loss="softmax_cross_entropy")
    net, _ = _build(impl, name, spec, probe=True)
    if net is None:
        return None
    kinds = [_kind_of(layer) for layer in _net_layers(net)]
    acts = [k for k in kinds if k in ACTIVATION_CLASS_NAMES]
    if n_layers == 1:
        return "identity" if not acts else None
    return acts[0] if acts and len(set(acts)) == 1 else None


_SPACES: dict[tuple[type, str], SpecSpace] = {}


def _net_space(impl, name: str) -> SpecSpace:
    cls = _net_class(impl, name)
    if cls is None:
        raise UnsupportedCase(f"saito[{name}]: the file defines no class {name} with loss(x, t) and gradient(x, t)")
    # probing builds a few nets; run() asks again for every Case, so remember the answer per class
    if (cls, name) not in _SPACES:
        _SPACES[(cls, name)] = _probe_space(impl, cls, name)
    return _SPACES[(cls, name)]


def _probe_space(impl, cls: type, name: str) -> SpecSpace:
    if name == "TwoLayerNet":
        act = _probe_activation(impl, name, None) or "relu"
        return SpecSpace(layout="rows", min_layers=2, max_layers=2, hidden_activations=(act,),
                         outputs=(("softmax_cross_entropy", ("identity",)),), min_outputs=2)
    if accepts(cls.__init__, "activation"):
        acts = tuple(a for a in ACTIVATION_NAMES if _probe_activation(impl, name, a) == a) or ("relu",)
    else:
        acts = (_probe_activation(impl, name, None) or "relu",)
    min_layers = 1 if _probe_activation(impl, name, acts[0], n_layers=1) == "identity" else 2
    outputs = [("softmax_cross_entropy", ("identity",))]
    if accepts(cls.__init__, "last_layer") and accepts(cls.__init__, "output_activation"):
        outputs.append(("quadratic", tuple(dict.fromkeys(acts + ("identity",)))))
    return SpecSpace(layout="rows", min_layers=min_layers, hidden_activations=acts, uniform_hidden=True,
                     outputs=tuple(outputs), allow_reg=accepts(cls.__init__, "weight_decay_lambda"),
                     min_outputs=1 if len(outputs) > 1 else 2)


# The book's MultiLayerNet takes activation='relu' or 'sigmoid' (its docstring). An activation the probe above could
# not build, or that builds no layer of its kind, is left out of the space: it is listed as not checked with why,
# never dropped in silence (a net whose table misspelt 'sigmoid' read "PASS (checked 11 of 11 functions)").
_BOOK_ACTIVATIONS = ("relu", "sigmoid")


def declined_activations(impl, name: str) -> dict[str, str]:
    """``MultiLayerNet(activation='sigmoid')`` -> why it is not checked, for the activations the book's net offers
    (and the file's own strings name) that its space left out."""
    cls = _net_class(impl, name)
    if cls is None or name not in NETS[1:] or not accepts(cls.__init__, "activation"):
        return {}
    return probed(impl, f"saito:declined:{name}", lambda: _declined(impl, cls, name))  # run() asks every Case


def _declined(impl, cls: type, name: str) -> dict[str, str]:
    words = [g for _, g in activation_words(string_constants(cls)) if g in ACTIVATION_NAMES and g != "identity"]
    space = _net_space(impl, name)
    out = {}
    for act in dict.fromkeys((*_BOOK_ACTIVATIONS, *words)):
        if act in space.hidden_activations:
            continue
        spec = Spec(sizes=(2, 3, 2), activations=(act, "identity"), loss="softmax_cross_entropy")
        net, why = _build(impl, name, spec, probe=True)
        if net is None:
            out[f"{name}(activation={act!r})"] = f"bpcheck could not build it: {why}"
        else:
            built = ", ".join(type(layer).__name__ for layer in _net_layers(net)) or "no layers in net.layers"
            out[f"{name}(activation={act!r})"] = f"it builds {built}: no {act} layer bpcheck recognises"
    return out


def _install(net, case: Case, rec: Recorder, families) -> bool:
    """Set net.params in place (float32: replace and re-point the layers holding the old arrays)."""
    params = getattr(net, "params", None)
    if not isinstance(params, dict):
        rec.error(families, f"net.params is {type(params).__name__}; expected a dict W1, b1, ...")
        return False
    spec = case.spec
    holders = [*_net_layers(net)]
    last = _last_layer(net)
    if last is not None:
        holders.append(last)
    shared = 0
    rebound = 0
    for l in range(1, spec.n_layers + 1):
        for p, value in (("W", case.typed(case.params[f"W{l}"]).T), ("b", case.typed(case.params[f"b{l}"]))):
            k = f"{p}{l}"
            cur = params.get(k)
            if not isinstance(cur, np.ndarray):
                rec.error(families, f"net.params[{k!r}] is {type(cur).__name__}; expected an array {value.shape}")
                return False
            if cur.shape != value.shape:
                if cur.size != value.size:
                    rec.error(families, f"net.params[{k!r}] has shape {cur.shape}; the Case needs {value.shape}")
                    return False
                rec.note(f"net.params[{k!r}] is stored as {cur.shape}; set with the same numbers")
            refs = [(h, a) for h in holders if hasattr(h, "__dict__") for a, v in list(vars(h).items()) if v is cur]
            shared += bool(refs)
            if cur.dtype == value.dtype:
                cur[...] = value.reshape(cur.shape)
            else:
                new = np.array(value.reshape(cur.shape), copy=True)
                params[k] = new
                for h, a in refs:
                    setattr(h, a, new)
                    rebound += 1
    if rebound:
        rec.note(f"{spec.dtype} Case: replaced the params arrays and re-pointed {rebound} layer attributes to them")
    else:
        rec.note("parameters set in place (params[k][...] = value), as the layers hold references to them")
    if holders and shared == 0:
        rec.note("no layer holds a reference to the params arrays: the net may not see parameter changes")
    return True


def _watch_params(net) -> Snapshot:
    params = getattr(net, "params", {})
    return Snapshot(dict(params) if isinstance(params, dict) else {}, "params")


def _net_grads(rec: Recorder, case: Case, grads, what: str) -> dict[str, np.ndarray]:
    spec = case.spec
    if not isinstance(grads, dict):
        rec.error(("grad_W", "grad_b"), f"{what} returned a {type(grads).__name__}; expected a dict W1, b1, ...")
        return {}
    out = {}
    for l in range(1, spec.n_layers + 1):
        for p, fam, shape, loose in (("W", "grad_W", (spec.sizes[l - 1], spec.sizes[l]), False),
                                     ("b", "grad_b", (spec.sizes[l],), True)):
            k = f"{p}{l}"
            if k not in grads:
                rec.error(fam, f"{what} has no {k!r} (keys: {', '.join(map(str, grads))})")
                continue
            g = rec.array(fam, f"{what}[{k!r}]", grads[k], shape, loose=loose)
            if g is not None:
                out[k] = g.T.copy() if p == "W" else g.reshape(-1)
    return out


def _optimizer(impl, case: Case, rec: Recorder):
    cls = get(impl, "SGD")
    if not (isinstance(cls, type) and callable(getattr(cls, "update", None))):
        return None
    try:
        return cls(lr=case.lr) if accepts(cls.__init__, "lr") else cls(case.lr)
    except Exception as exc:
        rec.error(("update", "trajectory"), f"SGD(lr) raised {type(exc).__name__}: {exc}")
        return None


def _read_net_params(rec: Recorder, case: Case, net, family: str, shapes0: dict) -> dict | None:
    spec = case.spec
    params = getattr(net, "params", {})
    out = {}
    for l in range(1, spec.n_layers + 1):
        for p, shape in (("W", (spec.sizes[l - 1], spec.sizes[l])), ("b", (spec.sizes[l],))):
            k = f"{p}{l}"
            v = params.get(k)
            if isinstance(v, np.ndarray) and v.shape != shapes0.get(k, v.shape):
                rec.obs.shape_changes[k] = f"{shapes0[k]} -> {v.shape}"
            a = rec.array(family, f"after SGD.update, params[{k!r}]", v, shape, loose=(p == "b"))
            if a is not None:
                out[k] = a.T.copy() if p == "W" else a.reshape(-1)
    return out if len(out) == 2 * spec.n_layers else None


def _run_net(impl, case: Case, name: str, rec: Recorder, *, loss_only: bool = False):
    net, why = _build(impl, name, case.spec)
    if net is None:
        rec.error(_NET_FAMILIES, why)
        return
    if not _install(net, case, rec, _NET_FAMILIES):
        return
    x, t = row_input(case), _target(case)
    inputs = Snapshot({"x": x, "y": t}, "in")
    psnap = _watch_params(net)
    ok, value = rec.call("loss", f"{name}.loss(x, t)", net.loss, x, t)
    if ok:
        rec.obs.loss = rec.scalar("loss", f"{name}.loss(x, t)", value)
    if loss_only:
        return
    ok, grads = rec.call(("grad_W", "grad_b", "update", "trajectory"), f"{name}.gradient(x, t)", net.gradient, x, t)
    for path in inputs.changed():
        rec.mutated("x" if "'x'" in path else "y")
    _report_params(rec, psnap, f"{name}.loss/gradient")
    if not ok:
        return
    rec.obs.grads = _net_grads(rec, case, grads, f"{name}.gradient(x, t)")
    dx = getattr(net, "dx", None)  # our reference keeps dLoss/dx for checkers
    if isinstance(dx, np.ndarray) and dx.shape == x.shape:
        g = rec.array("grad_x", f"{name}.dx", dx, x.shape)
        if g is not None:
            rec.obs.grads["x"] = g.reshape(case.m, -1)
    opt = _optimizer(impl, case, rec)
    if opt is None:
        if "update" not in rec.obs.errors:
            rec.note("no SGD optimiser class in the file: update not checked")
        return
    shapes0 = {k: v.shape for k, v in net.params.items() if isinstance(v, np.ndarray)}
    trajectory = []
    for step in range(int(case.steps)):
        family = "update" if step == 0 else "trajectory"
        if step > 0:
            ok, grads = rec.call(family, f"{name}.gradient(x, t)", net.gradient, x, t)
            if not ok:
                break
        ok, _ = rec.call(("update", "trajectory") if step == 0 else family, "SGD.update(params, grads)",
                         opt.update, net.params, grads)
        if not ok:
            break
        canon = _read_net_params(rec, case, net, family, shapes0)
        if canon is None:
            break
        trajectory.append(canon)
    if trajectory:
        rec.obs.updated = trajectory[0]
    if len(trajectory) == int(case.steps):
        rec.obs.trajectory = trajectory


# ---------------------------------------------------------------------------------- API


def spec_space(impl, entry: str) -> SpecSpace:
    if entry in naive.ENTRIES:
        return naive.spec_space(impl, entry)
    if entry in norm.ENTRIES:
        return norm.spec_space(impl, entry)
    if conv_entries.owns("saito", entry):
        return conv_entries.spec_space("saito", impl, entry)
    if entry in NETS:
        return _net_space(impl, entry)
    if entry == "layers" or entry.startswith("layer:"):
        return _layers_space(impl, entry)
    raise UnsupportedCase(f"saito has no entry point {entry!r}; choose from {', '.join(entry_points(impl))}")


def run(impl, case: Case, entry: str) -> Observation:
    if entry in naive.ENTRIES:
        return naive.run(impl, case, entry)
    if entry in norm.ENTRIES:
        return norm.run(impl, case, entry)
    if conv_entries.owns("saito", entry):
        return conv_entries.run("saito", impl, case, entry)
    require(spec_space(impl, entry), case, "saito", entry)
    rec = Recorder(case)
    if entry in NETS:
        _run_net(impl, case, entry, rec)
        for option, why in declined_activations(impl, entry).items():
            rec.obs.not_checked.setdefault(option, why)
    else:
        _run_layers(impl, case, entry, rec)
    return rec.obs


def own_loss(impl, case: Case, entry: str) -> float | None:
    if entry in naive.ENTRIES:
        return naive.own_loss(impl, case, entry)
    if entry in norm.ENTRIES:
        return norm.own_loss(impl, case, entry)
    if conv_entries.owns("saito", entry):
        return conv_entries.own_loss("saito", impl, case, entry)
    require(spec_space(impl, entry), case, "saito", entry)
    rec = Recorder(case)
    if entry in NETS:
        _run_net(impl, case, entry, rec, loss_only=True)
    else:
        _run_layers(impl, case, entry, rec, loss_only=True)
    return rec.obs.loss
