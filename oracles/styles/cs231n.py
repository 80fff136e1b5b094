"""Driver for CS231n-style layer functions and nets (one sample per row, integer labels).

Entry points
* ``TwoLayerNet`` / ``FullyConnectedNet``: ``net.params`` W1 (D, H), b1 (H,) ... are replaced
  (the course's nets read ``self.params`` on every call), ``net.reg`` set from the Case;
  ``loss(X, y) -> (loss, grads)``. The course's loss adds 0.5 * reg * sum W^2.
* ``layers``: the file's ``affine_forward/backward``, ``<act>_forward/backward`` and
  ``softmax_loss`` / ``svm_loss`` composed into a net of any depth: loss, dw/db, dx and the
  gradient of every hidden activation.
* ``fn:<name>``: one of the file's functions (affine, relu, sigmoid, tanh, leaky_relu,
  softmax_loss, svm_loss) with reference.cs231n for all the others.

The update, where the file has ``sgd(w, dw, config) -> (next_w, config)``, is sgd on every
parameter with ``config = {"learning_rate": lr}`` (a copy is passed: the course's sgd may write
into w). Side effects: x, y, every dout, every cache, the parameters.
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case, Spec, SpecSpace
from oracles.observation import Observation
from oracles.styles import conv_entries
from oracles.styles import cs231n_layers_fcnet as fcnet
from oracles.styles import cs231n_layers_norm as norm
from oracles.styles import cs231n_linear as linear
from oracles.styles._common import Recorder, Snapshot, UnsupportedCase, accepts, get, require, row_input
from oracles.styles.own_code import own_entries

__all__ = ["ENTRIES", "NETS", "entry_points", "spec_space", "run", "own_loss", "functions"]

NETS = ("TwoLayerNet", "FullyConnectedNet")
ENTRIES = (*NETS, "layers")  # plus "fn:<name>"
ACTS = ("relu", "leaky_relu", "sigmoid", "tanh", "softplus", "identity")
LOSS_FNS = {"softmax_cross_entropy": "softmax_loss", "hinge": "svm_loss"}
_ALL = ("loss", "grad_W", "grad_b", "grad_x", "grad_hidden")
_NET_FAMILIES = ("loss", "grad_W", "grad_b", "update", "trajectory")


def functions(impl) -> dict[str, tuple]:
    """name ('affine', 'relu', ..., 'softmax_loss', 'svm_loss') -> callables the file defines."""
    out = {}
    for kind in ("affine", *ACTS):
        f, b = get(impl, f"{kind}_forward"), get(impl, f"{kind}_backward")
        if callable(f) and callable(b) and not isinstance(f, type):
            out[kind] = (f, b)
    for name in LOSS_FNS.values():
        fn = get(impl, name)
        if callable(fn) and not isinstance(fn, type):
            out[name] = (fn,)
    return out


def _reference_functions() -> dict[str, tuple]:
    from reference import cs231n

    return functions(cs231n)


def _net_class(impl, name: str):
    cls = get(impl, name)
    if isinstance(cls, type) and callable(getattr(cls, "loss", None)) and not callable(getattr(cls, "gradient", None)):
        return cls
    return None


def entry_points(impl) -> list[str]:
    out = [n for n in NETS if _net_class(impl, n) is not None]
    mine = functions(impl)
    if "affine" in mine and any(n in mine for n in LOSS_FNS.values()):
        out.append("layers")
    ref = _reference_functions()
    for kind, fns in mine.items():
        if ref.get(kind) != fns:  # isolating our own function tests nothing new
            out.append(f"fn:{kind}")
    out += norm.entry_points(impl) + fcnet.entry_points(impl) + conv_entries.entry_points("cs231n", impl)
    out += linear.entry_points(impl)
    # judged on what the file defines: fc_net.py's `from cs231n.layers import *` brings layers.py's and the
    # course's fast layers into its namespace, but they are not fc_net.py's code (its net still uses them)
    return own_entries(impl, out, _units)


def _units(entry: str) -> tuple[str, ...]:
    """The functions or class an entry point drives: the file's own code when it defines one of them."""
    if entry in NETS or entry in fcnet.ENTRIES or entry in linear.ENTRIES:
        return (entry.split("[")[0],)
    if entry == "layers":
        return ("affine_forward", "affine_backward")
    if conv_entries.owns("cs231n", entry):
        return tuple(conv_entries.ENTRIES[("cs231n", entry)].units)
    kind = entry[3:]
    if kind in norm.FNS:
        return tuple(norm.FNS[kind][:2])
    if kind in LOSS_FNS.values():
        return (kind,)
    return (f"{kind}_forward", f"{kind}_backward")


# ---------------------------------------------------------------------------------- spaces


def _fns_for(impl, entry: str) -> dict[str, tuple]:
    if entry == "layers":
        return functions(impl)
    kind = entry.split(":", 1)[1]
    mine = functions(impl)
    if kind not in mine:
        raise UnsupportedCase(f"cs231n[{entry}]: the file defines no {kind}_forward/_backward (or {kind}) function")
    fns = dict(_reference_functions())
    fns[kind] = mine[kind]
    return fns


def _outputs(available) -> tuple:
    outs = []
    if "softmax_loss" in available:
        outs.append(("softmax_cross_entropy", ("identity",)))
    if "svm_loss" in available:
        outs.append(("hinge", ("identity",)))
    return tuple(outs)


def spec_space(impl, entry: str) -> SpecSpace:
    if entry[3:] in norm.FNS and entry.startswith("fn:"):
        return norm.spec_space(impl, entry)
    if conv_entries.owns("cs231n", entry):
        return conv_entries.spec_space("cs231n", impl, entry)
    if entry in fcnet.ENTRIES:
        return fcnet.spec_space(impl, entry)
    if entry in linear.ENTRIES:
        return linear.spec_space(impl, entry)
    if entry == "TwoLayerNet":
        if _net_class(impl, entry) is None:
            raise UnsupportedCase("cs231n[TwoLayerNet]: the file defines no TwoLayerNet with loss(X, y)")
        return SpecSpace(layout="rows", min_layers=2, max_layers=2, hidden_activations=("relu",),
                         outputs=(("softmax_cross_entropy", ("identity",)),), targets=("labels",), allow_reg=True,
                         min_outputs=2)
    if entry == "FullyConnectedNet":
        cls = _net_class(impl, entry)
        if cls is None:
            raise UnsupportedCase("cs231n[FullyConnectedNet]: the file defines no FullyConnectedNet with loss(X, y)")
        acts = ("relu",)
        if accepts(cls.__init__, "activation"):
            acts = tuple(a for a in ACTS if a in functions(impl)) or acts
        outs = [("softmax_cross_entropy", ("identity",))]
        if accepts(cls.__init__, "loss") and "svm_loss" in functions(impl):
            outs.append(("hinge", ("identity",)))
        # min_layers=2: at least one hidden layer. The course never builds a FullyConnectedNet with
        # hidden_dims=[] and real correct files crash on it (np.hstack([input_dim, [], C]) makes the dims
        # floats; hidden_dims[0] is indexed): outside the contract, so never drawn.
        return SpecSpace(layout="rows", min_layers=2, hidden_activations=acts, uniform_hidden=True,
                         outputs=tuple(outs), targets=("labels",), allow_reg=True, min_outputs=2)
    if entry == "layers" or entry.startswith("fn:"):
        fns = _fns_for(impl, entry)
        acts = tuple(a for a in ACTS if a in fns or a == "identity")
        outs = _outputs(fns)
        min_layers, uniform = 1, False
        kind = entry.split(":", 1)[1] if entry.startswith("fn:") else None
        if kind in ACTS:
            acts, min_layers, uniform = (kind,), 2, True
        elif kind in LOSS_FNS.values():
            outs = tuple(o for o in outs if LOSS_FNS[o[0]] == kind)
        if not outs:
            raise UnsupportedCase(f"cs231n[{entry}]: no loss function (softmax_loss or svm_loss) available")
        return SpecSpace(layout="rows", min_layers=min_layers, hidden_activations=acts, uniform_hidden=uniform,
                         outputs=outs, targets=("labels",), min_outputs=2)
    raise UnsupportedCase(f"cs231n has no entry point {entry!r}; choose from {', '.join(entry_points(impl))}")


# ---------------------------------------------------------------------------------- nets


def _build(impl, name: str, spec: Spec):
    cls = _net_class(impl, name)
    sizes = spec.sizes
    kw = {}
    if name == "TwoLayerNet":
        names = ("input_dim", "hidden_dim", "num_classes")
        values = (sizes[0], sizes[1], sizes[2])
    else:
        names = ("hidden_dims", "input_dim", "num_classes")
        values = (list(sizes[1:-1]), sizes[0], sizes[-1])
    args = ()
    if all(accepts(cls.__init__, n) for n in names):
        kw.update(zip(names, values))
    else:
        args = values
    if accepts(cls.__init__, "reg"):
        kw["reg"] = spec.reg
    if accepts(cls.__init__, "dtype"):
        kw["dtype"] = np.dtype(spec.dtype).type
    if name == "FullyConnectedNet":
        hidden = spec.activations[:-1]
        if hidden and accepts(cls.__init__, "activation"):
            kw["activation"] = hidden[0]
        if spec.loss == "hinge" and accepts(cls.__init__, "loss"):
            kw["loss"] = "svm"
    try:
        with np.errstate(all="ignore"):
            return cls(*args, **kw), None
    except SystemExit as exc:
        return None, f"{name}(...) called sys.exit({exc.code!r})"
    except Exception as exc:
        shown = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kw.items())])
        return None, f"{name}({shown}) raised {type(exc).__name__}: {exc}"


def _net_params(case: Case) -> dict[str, np.ndarray]:
    p = {}
    for l in range(1, case.spec.n_layers + 1):
        p[f"W{l}"] = np.ascontiguousarray(case.typed(case.params[f"W{l}"]).T)
        p[f"b{l}"] = case.typed(case.params[f"b{l}"]).copy()
    return p


def _install(net, params: dict, case: Case, rec: Recorder, families) -> bool:
    cur = getattr(net, "params", None)
    if not isinstance(cur, dict):
        rec.error(families, f"net.params is {type(cur).__name__}; expected a dict W1, b1, ...")
        return False
    for k, v in params.items():
        old = cur.get(k)
        if isinstance(old, np.ndarray) and old.shape != v.shape:
            if old.size != v.size:
                rec.error(families, f"net.params[{k!r}] has shape {old.shape}; the Case needs {v.shape}")
                return False
            rec.note(f"net.params[{k!r}] is stored as {old.shape}; set with the same numbers")
            v = v.reshape(old.shape)
        cur[k] = v
    if hasattr(net, "reg"):
        net.reg = case.spec.reg
    if hasattr(net, "dtype"):
        try:
            net.dtype = np.dtype(case.spec.dtype).type
        except Exception:
            pass
    return True


def _grads_of(rec: Recorder, case: Case, grads, what: str) -> dict[str, np.ndarray]:
    spec = case.spec
    if not isinstance(grads, dict):
        rec.error(("grad_W", "grad_b"), f"{what} gave grads as a {type(grads).__name__}; expected a dict W1, b1, ...")
        return {}
    out = {}
    for l in range(1, spec.n_layers + 1):
        for p, fam, shape, loose in (("W", "grad_W", (spec.sizes[l - 1], spec.sizes[l]), False),
                                     ("b", "grad_b", (spec.sizes[l],), True)):
            k = f"{p}{l}"
            if k not in grads:
                rec.error(fam, f"{what} grads have no {k!r} (keys: {', '.join(map(str, grads))})")
                continue
            g = rec.array(fam, f"{what} grads[{k!r}]", grads[k], shape, loose=loose)
            if g is not None:
                out[k] = g.T.copy() if p == "W" else g.reshape(-1)
    return out


def _canonical_params(rec: Recorder, case: Case, params: dict, family: str, what: str, shapes0: dict):
    spec = case.spec
    out = {}
    for l in range(1, spec.n_layers + 1):
        for p, shape in (("W", (spec.sizes[l - 1], spec.sizes[l])), ("b", (spec.sizes[l],))):
            k = f"{p}{l}"
            v = params.get(k)
            if isinstance(v, np.ndarray) and v.shape != shapes0[k]:
                rec.obs.shape_changes[k] = f"{shapes0[k]} -> {v.shape}"
            a = rec.array(family, f"{what}[{k!r}]", v, shape, loose=(p == "b"))
            if a is not None:
                out[k] = a.T.copy() if p == "W" else a.reshape(-1)
    return out if len(out) == 2 * spec.n_layers else None


def _sgd_step(impl, rec: Recorder, case: Case, params: dict, raw_grads: dict, family) -> dict | None:
    """sgd(w, dw, config) on every parameter; returns the new params (course layout) or None."""
    sgd = get(impl, "sgd")
    new = {}
    wrote = False
    for k, w in params.items():
        if k not in raw_grads:
            rec.error(family, f"no gradient for {k!r} to step with")
            return None
        w_in = w.copy()
        ok, ret = rec.call(family, f"sgd(w, dw, config) for {k}", sgd, w_in, raw_grads[k],
                           {"learning_rate": case.lr})
        if not ok:
            return None
        if not isinstance(ret, (tuple, list)) or len(ret) != 2:
            rec.error(family, f"sgd returned {type(ret).__name__}; expected (next_w, config)")
            return None
        wrote = wrote or not np.array_equal(w_in, w)
        new[k] = ret[0]
    if wrote:
        rec.note("sgd updated w in place (the course's sgd does); the driver passed copies")
    return new


class _NetRun:
    def __init__(self, impl, case: Case, name: str, rec: Recorder) -> None:
        self.impl, self.case, self.name, self.rec = impl, case, name, rec
        self.x = row_input(case)
        self.y = case.typed(case.y).copy()

    def loss(self, params: dict, families, *, watch: bool):
        rec, case = self.rec, self.case
        net, why = _build(self.impl, self.name, case.spec)
        if net is None:
            rec.error(families, why)
            return None, None, None
        if not _install(net, params, case, rec, families):
            return None, None, None
        snap = Snapshot({"x": self.x, "y": self.y, "params": net.params}, "in")
        what = f"{self.name}.loss(X, y)"
        kw = {}
        if accepts(net.loss, "reg"):  # assignment 1's neural_net.py: loss(X, y=None, reg=0.0)
            kw["reg"] = case.spec.reg
            what = f"{self.name}.loss(X, y, reg)"
        ok, ret = rec.call(families, what, net.loss, self.x, self.y, **kw)
        if watch:
            for path in snap.changed():
                name = path.split("'")[1]
                rec.mutated(name if name in ("x", "y") else f"params:{path.split(chr(39))[3]}")
                head, _, rest = path[len("in['"):].partition("']")
                rec.note(f"{what} wrote into {dict(x='X', params='params').get(head, head)}{rest}")
        if not ok:
            return None, None, None
        if not isinstance(ret, (tuple, list)) or len(ret) != 2:
            n = f"a {type(ret).__name__} of {len(ret)} items" if isinstance(ret, (tuple, list)) else type(ret).__name__
            rec.error(families, f"{what} returned {n}; expected (loss, grads)")
            return None, None, None
        return net, ret[0], ret[1]


def _run_net(impl, case: Case, name: str, rec: Recorder, *, loss_only: bool = False) -> None:
    r = _NetRun(impl, case, name, rec)
    params = _net_params(case)
    net, loss, grads = r.loss(params, _NET_FAMILIES, watch=True)
    if net is None:
        return
    rec.obs.loss = rec.scalar("loss", f"{name}.loss(X, y)[0]", loss)
    if loss_only:
        return
    rec.obs.grads = _grads_of(rec, case, grads, f"{name}.loss(X, y)")
    dX = getattr(net, "dX", None)  # our reference keeps dLoss/dX for checkers
    if isinstance(dX, np.ndarray) and dX.shape == r.x.shape:
        g = rec.array("grad_x", f"{name}.dX", dX, r.x.shape)
        if g is not None:
            rec.obs.grads["x"] = g.reshape(case.m, -1)
    if not callable(get(impl, "sgd")):
        rec.note("no sgd(w, dw, config) in the file: update not checked")
        return
    if not isinstance(grads, dict):
        rec.error(("update", "trajectory"), "no usable grads to step with")
        return
    _trajectory(impl, case, rec, params, grads, lambda p, fam: r.loss(p, fam, watch=False)[2])


def _trajectory(impl, case: Case, rec: Recorder, params: dict, grads: dict, regrad) -> None:
    shapes0 = {k: v.shape for k, v in params.items()}
    trajectory = []
    current = params
    for step in range(int(case.steps)):
        family = "update" if step == 0 else "trajectory"
        if step > 0:
            grads = regrad(current, family)
            if not isinstance(grads, dict):
                break
        new = _sgd_step(impl, rec, case, current, grads, ("update", "trajectory") if step == 0 else family)
        if new is None:
            break
        canon = _canonical_params(rec, case, new, family, "sgd next_w", shapes0)
        if canon is None:
            break
        trajectory.append(canon)
        current = new
    if trajectory:
        rec.obs.updated = trajectory[0]
    if len(trajectory) == int(case.steps):
        rec.obs.trajectory = trajectory


# ---------------------------------------------------------------------------------- layers


def _pair(rec: Recorder, families, what: str, ret, n: int, names: str):
    if not isinstance(ret, (tuple, list)) or len(ret) != n:
        got = f"a {type(ret).__name__} of {len(ret)} items" if isinstance(ret, (tuple, list)) else (
            "None" if ret is None else f"a {type(ret).__name__}")
        rec.error(families, f"{what} returned {got}; expected {names}")
        return None
    return ret


def _compose(fns: dict, case: Case, params: dict, rec: Recorder, *, want_grads: bool, watch: bool):
    """Forward and backward through the composed functions; (loss, raw grads in course layout, canonical grads)."""
    spec, m = case.spec, case.m
    L = spec.n_layers
    x = row_input(case)
    y = case.typed(case.y).copy()
    inputs = Snapshot({"x": x, "y": y}, "in")
    psnap = Snapshot(params, "params")
    fwd, bwd = fns["affine"]
    caches = []
    out = x
    for l in range(1, L + 1):
        ok, ret = rec.call(_ALL, f"affine_forward(x, w, b) (layer {l})", fwd, out, params[f"W{l}"], params[f"b{l}"])
        ret = _pair(rec, _ALL, f"affine_forward (layer {l})", ret, 2, "(out, cache)") if ok else None
        if ret is None or rec.array(_ALL, f"affine_forward (layer {l}) out", ret[0], (m, spec.sizes[l])) is None:
            return None
        out, cache = ret
        act_cache = None
        act = spec.activations[l - 1]
        if l < L and act != "identity":
            snap = Snapshot(out, "in")
            ok, ret = rec.call(_ALL, f"{act}_forward(x) (layer {l})", fns[act][0], out)
            if snap.changed() and watch:
                rec.mutated("activations")
                rec.note(f"{act}_forward (layer {l}) wrote into its input")
            ret = _pair(rec, _ALL, f"{act}_forward (layer {l})", ret, 2, "(out, cache)") if ok else None
            if ret is None or rec.array(_ALL, f"{act}_forward (layer {l}) out", ret[0], (m, spec.sizes[l])) is None:
                return None
            out, act_cache = ret
        caches.append((cache, act_cache))
    lname = LOSS_FNS[spec.loss]
    csnap = Snapshot(caches, "caches")
    ok, ret = rec.call(_ALL, f"{lname}(x, y)", fns[lname][0], out, y)
    ret = _pair(rec, _ALL, f"{lname}(x, y)", ret, 2, "(loss, dx)") if ok else None
    if ret is None:
        return None
    loss = rec.scalar("loss", f"{lname}(x, y) loss", ret[0])
    if not want_grads:
        return loss, None, None
    fams = _ALL[1:]
    if rec.array(fams, f"{lname}(x, y) dx", ret[1], (m, spec.sizes[-1])) is None:
        return loss, None, None
    dout = ret[1]
    raw, canon = {}, {}
    for l in range(L, 0, -1):
        cache, act_cache = caches[l - 1]
        act = spec.activations[l - 1]
        if l < L and act != "identity":
            snap = Snapshot(dout, "dout")
            ok, dout_new = rec.call(fams, f"{act}_backward(dout, cache) (layer {l})", fns[act][1], dout, act_cache)
            if snap.changed() and watch:
                rec.mutated("dout")
                rec.note(f"{act}_backward (layer {l}) wrote into its dout argument")
            if not ok or rec.array(fams, f"{act}_backward (layer {l})", dout_new, (m, spec.sizes[l])) is None:
                return loss, raw, canon
            dout = dout_new
        snap = Snapshot(dout, "dout")
        ok, ret = rec.call(fams, f"affine_backward(dout, cache) (layer {l})", bwd, dout, cache)
        if snap.changed() and watch:
            rec.mutated("dout")
            rec.note(f"affine_backward (layer {l}) wrote into its dout argument")
        ret = _pair(rec, fams, f"affine_backward (layer {l})", ret, 3, "(dx, dw, db)") if ok else None
        if ret is None:
            return loss, raw, canon
        dx, dw, db = ret
        g = rec.array("grad_W", f"affine_backward (layer {l}) dw", dw, (spec.sizes[l - 1], spec.sizes[l]))
        if g is not None:
            raw[f"W{l}"], canon[f"W{l}"] = dw, g.T.copy()
        g = rec.array("grad_b", f"affine_backward (layer {l}) db", db, (spec.sizes[l],), loose=True)
        if g is not None:
            raw[f"b{l}"], canon[f"b{l}"] = db, g.reshape(-1)
        in_shape = x.shape if l == 1 else (m, spec.sizes[l - 1])
        fam = "grad_x" if l == 1 else "grad_hidden"
        g = rec.array(fam, f"affine_backward (layer {l}) dx", dx, in_shape)
        if g is None:
            if l > 1:
                rec.error(("grad_W", "grad_b", "grad_x", "grad_hidden"),
                          f"backward stopped at layer {l}: affine_backward's dx was unusable")
                return loss, raw, canon
            continue
        canon["x" if l == 1 else f"A{l - 1}"] = g.reshape(m, -1) if l == 1 else g
        dout = dx
    if watch:
        for path in inputs.changed():
            rec.mutated("x" if "'x'" in path else "y")
        for path in psnap.changed():
            rec.mutated(f"params:{path.split(chr(39))[1]}")
        if csnap.changed():
            rec.mutated("caches")
            rec.note(f"the backward functions wrote into the caches ({', '.join(csnap.changed()[:3])})")
    return loss, raw, canon


def _run_layers(impl, case: Case, entry: str, rec: Recorder, *, loss_only: bool = False) -> None:
    fns = _fns_for(impl, entry)
    if entry != "layers":
        rec.note(f"{entry}: the file's {entry.split(':', 1)[1]} with reference.cs231n for every other function")
    params = _net_params(case)
    res = _compose(fns, case, params, rec, want_grads=not loss_only, watch=True)
    if res is None:
        return
    loss, raw, canon = res
    rec.obs.loss = loss
    if loss_only or canon is None:
        return
    rec.obs.grads = canon
    if not callable(get(impl, "sgd")):
        rec.note("no sgd(w, dw, config) in the file: update not checked")
        return
    if len(raw) != 2 * case.spec.n_layers:
        rec.error(("update", "trajectory"), "not every gradient could be read: no update")
        return

    def regrad(p, fam):
        sub = Recorder(case)
        res = _compose(fns, case, p, sub, want_grads=True, watch=False)
        if res and res[1] and len(res[1]) == 2 * case.spec.n_layers:
            return res[1]
        # only what stopped the parameter gradients matters here (a bad dx or loss does not)
        why = [sub.obs.errors[f] for f in ("grad_W", "grad_b") if f in sub.obs.errors]
        rec.error(fam, "; ".join(why) or "the gradients could not be read")
        return None

    _trajectory(impl, case, rec, params, raw, regrad)


# ---------------------------------------------------------------------------------- API


def run(impl, case: Case, entry: str) -> Observation:
    if entry[3:] in norm.FNS and entry.startswith("fn:"):
        return norm.run(impl, case, entry)
    if conv_entries.owns("cs231n", entry):
        return conv_entries.run("cs231n", impl, case, entry)
    if entry in fcnet.ENTRIES:
        return fcnet.run(impl, case, entry)
    if entry in linear.ENTRIES:
        return linear.run(impl, case, entry)
    require(spec_space(impl, entry), case, "cs231n", entry)
    rec = Recorder(case)
    if entry in NETS:
        _run_net(impl, case, entry, rec)
        if entry == "FullyConnectedNet":  # its options no entry point drives: listed as not checked
            for option, why in fcnet.declined_options(impl).items():
                rec.obs.not_checked.setdefault(option, why)
    else:
        _run_layers(impl, case, entry, rec)
    return rec.obs


def own_loss(impl, case: Case, entry: str) -> float | None:
    if entry[3:] in norm.FNS and entry.startswith("fn:"):
        return norm.own_loss(impl, case, entry)
    if conv_entries.owns("cs231n", entry):
        return conv_entries.own_loss("cs231n", impl, case, entry)
    if entry in fcnet.ENTRIES:
        return fcnet.own_loss(impl, case, entry)
    if entry in linear.ENTRIES:
        return linear.own_loss(impl, case, entry)
    require(spec_space(impl, entry), case, "cs231n", entry)
    rec = Recorder(case)
    if entry in NETS:
        _run_net(impl, case, entry, rec, loss_only=True)
    else:
        _run_layers(impl, case, entry, rec, loss_only=True)
    return rec.obs.loss



