"""Driver for Nielsen-style networks (network.py, network2.py, seed 003, full-matrix seed 004).

Layout: one sample per column. ``weights[l]`` is W{l+1} (n, k), ``biases[l]`` is b{l+1} as (n, 1).

Entry points
* ``Network``: ``backprop(x, y)`` on one (n_0, 1) column at a time; the per-sample gradients are
  summed (reduction sum) or averaged (mean). The update is ``update_mini_batch(batch, eta)``,
  Nielsen's step of eta/len(batch) times the summed gradients, i.e. SGD on the mean with lr = eta.
* ``Network[batch]``: ``backprop(X, Y)`` on the whole (n_0, m) batch, returning batch-MEAN
  gradients with (n, 1) bias gradients (the full-matrix method).

* ``Network[backprop_matrix]``: seed 004's ``backprop_matrix(x, y, m, eta)`` (steps the network) or a
  ``backprop_matrix(X, Y)`` that returns batch gradients.
* Configurations (oracles/styles/_configs.py): ``Network (cost=CrossEntropyCost)`` for every cost
  class besides the constructor's default, ``Network (activation='ReLU')`` for every selector string
  whose activation is recognised.

Arguments are chosen by what the parameters are called (``_common.ROLE_NAMES``): ``mini_batch`` or
``X, Y``; ``eta``/``lr``; ``lmbda`` (reg = lmbda / n), ``n``; a momentum ``mu`` = 0; a batch size. A
signature no role fits is declined (not checked, shown), never called wrongly. Also recognised
(nielsen_build.py): network2's ``cost=``, seed 003's ``NeuralNetwork(sizes, act, act_derivative,
cost_derivative)`` (the file's own functions are passed in), ``(nabla_w, nabla_b)`` return order
(told apart by shape), (n,) biases; the loss from ``total_cost``/``compute_cost`` or ``cost.fn``.
"""

from __future__ import annotations

import numpy as np

from oracles.case import ACTIVATION_NAMES, Case, Spec, SpecSpace
from oracles.observation import Observation
from oracles.styles._common import (
    Recorder,
    Snapshot,
    UnsupportedCase,
    accepts,
    bind_roles,
    probed,
    require,
    role_of,
)
from oracles.styles._configs import (
    configured,
    split_entry,
)
from oracles.styles.nielsen_build import (
    _FORMS,
    _bias_is_column,
    _columns,
    _cost_param,
    _ctor_extra,
    _default_cost,
    _default_selector,
    _describe_call,
    _form,
    _params,
    _selector,
    _update_has_lmbda,
    _update_name,
    class_choices,
    construct,
    cost_classes,
    declined_selectors,
    find_network,
    fixed_cost,
    selector_choices,
)
from oracles.styles.nielsen_loss import net_loss
from oracles.styles.nielsen_read import GRAD_FAMILIES, _ambiguous, _as_list, _matches, _split
from oracles.styles.nielsen_update import (
    N_TRAIN,  # noqa: F401 - re-exported (oracles/diagnose/structure.py)
    _matrix_is_step,
    _matrix_values,
    _updates,
    sgd_values,  # noqa: F401 - re-exported
    step_values,  # noqa: F401 - re-exported
)

__all__ = ["ENTRIES", "find_network", "entry_points", "spec_space", "run", "own_loss"]

ENTRIES = ("Network", "Network[batch]", "Network[backprop_matrix]")


def _load(net, case: Case, rec: Recorder, families) -> bool:
    """Put case.params into net.weights / net.biases (typed copies)."""
    L = case.spec.n_layers
    for attr in ("weights", "biases"):
        cur = getattr(net, attr, None)
        if not isinstance(cur, (list, tuple)) or len(cur) != L:
            what = f"a {type(cur).__name__}" if cur is not None else "missing"
            rec.error(families, f"network.{attr} is {what}; expected a list of {L} arrays (one per layer)")
            return False
    column = _bias_is_column(net)
    if not column:
        rec.note("the network stores biases as (n,) vectors, not (n, 1) columns; kept that way")
    if "network" in rec.obs.calls:
        rec.obs.calls["network"]["bias"] = "column" if column else "vector"
    net.weights = [np.ascontiguousarray(case.typed(case.params[f"W{l}"])) for l in range(1, L + 1)]
    net.biases = [
        case.typed(case.params[f"b{l}"]).reshape((-1, 1) if column else (-1,)).copy() for l in range(1, L + 1)
    ]
    return True


_ORDER: dict[tuple[int, str], str | None] = {}


def _return_order(impl, net, method: str) -> str | None:
    """'bw' or 'wb': the order of the pair a gradient method returns, read on a network whose weight and bias
    shapes differ (a 1-wide network cannot tell them apart by shape)."""
    cls = type(net)
    key = (id(cls), method)
    if key not in _ORDER:
        _ORDER[key] = None
        spec = Spec(sizes=(2, 3, 4), activations=("sigmoid", "sigmoid"))
        probe, _ = construct(impl, cls, cls.__name__, spec, None)
        if probe is not None:
            rng = np.random.default_rng(1)
            c = Case(spec, {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal(3),
                            "W2": rng.standard_normal((4, 3)), "b2": rng.standard_normal(4)},
                     rng.standard_normal((1, 2)), rng.uniform(0.1, 0.9, (1, 4)))
            rec = Recorder(c)
            if _load(probe, c, rec, GRAD_FAMILIES):
                X, Y = c.x.T.copy(), c.y.T.copy()
                if method == "backprop":
                    ok, ret = _call_backprop(rec, probe, X, Y, "backprop")
                else:
                    got = bind_roles(probe.backprop_matrix, {"x": X, "y": Y, "m": 1, "batch": [(X, Y)]})
                    ok, ret = (False, None) if isinstance(got, str) else rec.call(GRAD_FAMILIES, method,
                                                                                   probe.backprop_matrix,
                                                                                   *got[0], **got[1])
                seqs = [_as_list(r) for r in ret] if ok and isinstance(ret, (tuple, list)) and len(ret) == 2 else []
                ws = [(3, 2), (4, 3)]
                for name, a in (("bw", 1), ("wb", 0)):
                    if seqs and all(s is not None for s in seqs) and _matches(seqs[a], ws, False) == 2:
                        _ORDER[key] = name
    return _ORDER[key]


def _backprop_roles(net) -> set[str] | None:
    """The roles backprop's parameters take ({'x', 'y'} or {'batch'}), None when none fit."""
    fn = getattr(net, "backprop", None)
    got = bind_roles(fn, {"x": 0, "y": 0, "batch": 0}) if callable(fn) else "no backprop"
    if isinstance(got, str):
        return None
    return {role_of(p.name) for p in _params(fn)[: len(got[0])]} | {role_of(k) for k in got[1]}


def _ensure_form(impl, cls) -> str:
    """How the file's backprop takes X: an (n, m) matrix (the book's full-matrix exercise) or np.array of
    the (n, 1) columns, (m, n, 1), for np.matmul (probed once on a (2, 3, 4) network, batch 3)."""
    key = id(cls)
    if key not in _FORMS:
        _FORMS[key] = "matrix"
        if callable(getattr(cls, "backprop", None)):
            spec = Spec(sizes=(2, 3, 4), activations=("sigmoid", "sigmoid"))
            rng = np.random.default_rng(2)
            c = Case(spec, {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal(3),
                            "W2": rng.standard_normal((4, 3)), "b2": rng.standard_normal(4)},
                     rng.standard_normal((3, 2)), rng.uniform(0.1, 0.9, (3, 4)))
            for form in ("matrix", "stack"):
                net, _ = construct(impl, cls, cls.__name__, spec, None)
                rec = Recorder(c)
                if net is None or not _load(net, c, rec, GRAD_FAMILIES):
                    break
                _FORMS[key] = form
                ok, ret = _call_backprop(rec, net, c.x.T.copy(), c.y.T.copy(), "backprop")
                seqs = [_as_list(r) for r in ret] if ok and isinstance(ret, (tuple, list)) and len(ret) == 2 else []
                if len(seqs) == 2 and all(s is not None for s in seqs) and any(
                        _matches(seqs[a], [(3, 2), (4, 3)], False) == 2 and _matches(seqs[1 - a], [(3, 1), (4, 1)],
                                                                                      True) == 2 for a in (0, 1)):
                    break
                _FORMS[key] = "matrix"
    return _FORMS[key]


def _form_matters(cls, entry: str) -> bool:
    """Whether a whole batch X reaches the file (batch backprop, or an update taking X, Y): only then is the
    form probed, so a per-sample file sees nothing but the case's own inputs in the case's dtype."""
    if split_entry(entry)[0] != "Network":
        return True
    name = _update_name(cls)
    return name is not None and "x" in {role_of(p.name) for p in _params(getattr(cls, name))}


def _call_backprop(rec: Recorder, net, X, Y, what: str, over: str | None = None):
    """backprop on columns X, Y (one sample or a batch), in whatever form its parameters ask for.

    over ('sample' or 'batch'): the call is the one judged, recorded for the snippet (probes pass None)."""
    pairs = [(X[:, [i]].copy(), Y[:, [i]].copy()) for i in range(X.shape[1])]
    form = _FORMS.get(id(type(net)), "matrix")
    if form != "matrix":
        rec.note(f"{what}: takes the batch as np.array of (n, 1) columns, shape (m, n, 1)")
    got = bind_roles(net.backprop, {"x": _form(X, form), "y": _form(Y, form), "batch": pairs})
    if isinstance(got, str):
        rec.decline(net.backprop, what, f"{got}")
        return False, None
    args, kwargs = got
    if over is not None:
        rec.bound("grads", "backprop", net.backprop, got, form=form, over=over)
    return rec.call(GRAD_FAMILIES, what, net.backprop, *args, **kwargs)


def entry_points(impl) -> list[str]:
    name, cls = find_network(impl)
    if cls is None:
        return []
    entries = []
    _ensure_form(impl, cls)
    roles = _probe_roles(impl, cls, name)
    if roles is None or roles >= {"x", "y"}:
        entries.append("Network")  # an unreadable backprop (or none: the update alone) is still called
    if roles == {"batch"} or _batch_capable(impl, cls, name):
        entries.append("Network[batch]")  # backprop(mini_batch) takes the batch as a list of (x, y)
    if callable(getattr(cls, "backprop_matrix", None)):
        entries.append("Network[backprop_matrix]")  # seed 004: the whole batch, and the update inside
    base = entries[0] if entries else None
    if base is not None:
        default = _default_cost(impl, cls)
        for cost in cost_classes(impl):
            if cost != default and _cost_param(cls) is not None:
                entries.append(configured(base, "cost", cost))
        default_sel = _default_selector(impl, cls, name)
        declined_selectors(impl, cls, name)  # probed here, outside run()'s coverage recording: a probe checks nothing
        for string in selector_choices(impl, cls, name):
            if string != default_sel:
                entries.append(configured(base, "activation", string, quote=True))
        for param, alts in class_choices(impl, cls).items():
            entries += [configured(base, param, alt) for alt in alts]
    return entries


def _probe_roles(impl, cls, name) -> set[str] | None:
    spec = Spec(sizes=(2, 3, 2), activations=("sigmoid", "sigmoid"))
    net, _ = construct(impl, cls, name, spec, None)
    return _backprop_roles(net) if net is not None else None


def _batch_capable(impl, cls, name) -> bool:
    """Call backprop on a (2, 3) batch: bias gradients of one column each mean it averages (or sums) the batch."""
    spec = Spec(sizes=(2, 3, 2), activations=("sigmoid", "sigmoid"))
    net, why = construct(impl, cls, name, spec, None)
    if net is None:
        return False
    rng = np.random.default_rng(0)
    params = {f"W{l}": rng.standard_normal(s) for l, s in ((1, (3, 2)), (2, (2, 3)))}
    params.update({f"b{l}": rng.standard_normal(n) for l, n in ((1, 3), (2, 2))})
    probe = Case(spec, params, rng.standard_normal((3, 2)), rng.uniform(0.1, 0.9, (3, 2)))
    rec = Recorder(probe)
    if not _load(net, probe, rec, GRAD_FAMILIES):
        return False
    if not callable(getattr(net, "backprop", None)):
        return False
    ok, ret = _call_backprop(rec, net, probe.x.T.copy(), probe.y.T.copy(), "backprop")
    if not ok or not isinstance(ret, (tuple, list)) or len(ret) != 2:
        return False
    seqs = [_as_list(r) for r in ret]
    if any(s is None or len(s) != 2 for s in seqs):
        return False
    wshapes, bsizes = [(3, 2), (2, 3)], [3, 2]
    for bs, ws in (seqs, seqs[::-1]):
        if all(isinstance(g, np.ndarray) and g.shape == s for g, s in zip(ws, wshapes)) and all(
            isinstance(g, np.ndarray) and g.size == n for g, n in zip(bs, bsizes)
        ):
            return True
    return False


def spec_space(impl, entry: str) -> SpecSpace:
    """What the entry point accepts: read from the file once per entry (every run of a Case asks again)."""
    return probed(impl, f"nielsen:spec_space:{entry}", lambda: _spec_space(impl, entry))


def _spec_space(impl, entry: str) -> SpecSpace:
    base, config = split_entry(entry)
    if base not in ENTRIES:
        raise UnsupportedCase(f"nielsen has no entry point {entry!r}; choose one of {', '.join(ENTRIES)}")
    name, cls = find_network(impl)
    if cls is None:
        raise UnsupportedCase("no class with a backprop method: nielsen style needs Network(sizes).backprop(x, y)")
    flexible = accepts(cls.__init__, "activations") and not _ctor_extra(cls)
    acts = ACTIVATION_NAMES if flexible else ("sigmoid",)
    out_acts = acts
    if _selector(cls) is not None:
        choice = config.get("activation") or _default_selector(impl, cls, name)
        pair = selector_choices(impl, cls, name).get(choice)
        if pair is None:
            raise UnsupportedCase(f"nielsen[{entry}]: the activation {choice!r} was not recognised")
        acts, out_acts = (pair[0],), (pair[1],)
    outputs = []
    costs = cost_classes(impl)
    if _cost_param(cls) is None:
        stored = fixed_cost(impl, cls)  # network2-like files that fix self.cost in the constructor
        if stored == "binary_cross_entropy" and "sigmoid" in out_acts:
            outputs.append(("binary_cross_entropy", ("sigmoid",)))
        else:
            outputs.append(("quadratic", out_acts))
    else:
        chosen = config.get("cost") or _default_cost(impl, cls)
        loss = costs[chosen][1] if chosen in costs else None
        if loss == "quadratic":
            outputs.append(("quadratic", out_acts))
        elif loss == "binary_cross_entropy" and "sigmoid" in out_acts:
            outputs.append(("binary_cross_entropy", ("sigmoid",)))
        if not outputs:
            raise UnsupportedCase(f"nielsen[{entry}]: no cost class bpcheck recognises for this configuration")
    return SpecSpace(
        layout="columns",
        hidden_activations=acts,
        uniform_hidden=len(acts) == 1,
        outputs=tuple(outputs),
        reductions=("mean",),  # the book averages over the mini-batch; sum would only rescale what we show students
        targets=("dense",),
        # a class-valued option (reg=L1Reg) is judged with lmbda = 0, where every regulariser agrees
        allow_reg=_update_has_lmbda(cls) and base != "Network[backprop_matrix]"
        and not (set(config) - {"cost", "activation", "reg"} or config.get("reg", "> 0") != "> 0"),
    )


def _prepare(impl, case: Case, entry: str, rec: Recorder, families):
    name, cls = find_network(impl)
    require(spec_space(impl, entry), case, "nielsen", entry)
    net, why = construct(impl, cls, name, case.spec, rec, split_entry(entry)[1])
    if net is None:
        if why is not None:
            rec.error(families, why)
        return None, name, cls
    if not _load(net, case, rec, families):
        return None, name, cls
    return net, name, cls


def _net_snapshot(net) -> Snapshot:
    return Snapshot({"W": list(getattr(net, "weights", [])), "b": list(getattr(net, "biases", []))}, "params")


def _report_param_writes(rec: Recorder, snap: Snapshot, what: str) -> None:
    for path in snap.changed():
        # params['W'][0] -> params:W1
        kind = "W" if "['W']" in path else "b"
        idx = int(path.rsplit("[", 1)[1].rstrip("]")) + 1
        rec.mutated(f"params:{kind}{idx}")
        rec.note(f"{what} wrote into the stored parameter {kind}{idx}")


def _gradients(net, case: Case, entry: str, rec: Recorder, impl=None) -> dict[str, np.ndarray]:
    spec = case.spec
    order = _return_order(impl, net, "backprop") if impl is not None and _ambiguous(spec) else None
    m = case.m
    snap = _net_snapshot(net)
    grads: dict[str, np.ndarray] = {}
    if split_entry(entry)[0] == "Network[batch]":
        X, Y = np.ascontiguousarray(case.typed(case.x).T), np.ascontiguousarray(case.typed(case.y).T)
        inputs = Snapshot({"x": X, "y": Y}, "in")
        ok, ret = _call_backprop(rec, net, X, Y, "backprop(X, Y)", over="batch")
        for path in inputs.changed():
            rec.mutated("x" if "'x'" in path else "y")
        if ok:
            grads, _ = _split(rec, "backprop(X, Y)", ret, spec, order)
            if spec.reduction == "sum":
                grads = {k: v * m for k, v in grads.items()}
        rec.note("Network[batch]: backprop(X, Y) read as batch-MEAN gradients (the full-matrix method)")
    else:
        total: dict[str, np.ndarray] = {}
        failed: set[str] = set()
        for xi, yi in _columns(case):
            inputs = Snapshot({"x": xi, "y": yi}, "in")
            ok, ret = _call_backprop(rec, net, xi, yi, "backprop(x, y)", over="sample")
            for path in inputs.changed():
                rec.mutated("x" if "'x'" in path else "y")
            if not ok:
                return {}
            g, _ = _split(rec, "backprop(x, y)", ret, spec, order)
            for k in [f"{p}{l}" for l in range(1, spec.n_layers + 1) for p in "Wb"]:
                if k not in g:
                    failed.add(k)
                elif k not in failed:
                    total[k] = total.get(k, 0.0) + g[k]
        grads = {k: (v / m if spec.reduction == "mean" else v) for k, v in total.items() if k not in failed}
    _report_param_writes(rec, snap, "backprop")
    if spec.reg:
        for l in range(1, spec.n_layers + 1):
            if f"W{l}" in grads:
                grads[f"W{l}"] = grads[f"W{l}"] + spec.reg * case.typed(case.params[f"W{l}"]).astype(np.float64)
        rec.note("backprop has no L2 term (network2 applies it in the update): the driver added reg * W to dW")
    return grads


def _sum_bias_columns(rec: Recorder, what: str, ret, case: Case):
    """A helper that hands update_mini_batch per-sample bias columns (n, m) to sum: summed here.

    Only for this internal helper: the update that consumes it is checked on its own, so a sum it
    forgets still fails there."""
    m = case.m
    if m < 2 or not isinstance(ret, (tuple, list)) or len(ret) != 2:
        return ret
    sizes = case.spec.sizes[1:]
    for i in (0, 1):
        seq = _as_list(ret[i])
        if seq is None or len(seq) != len(sizes):
            continue
        if all(isinstance(g, np.ndarray) and g.shape == (n, m) for g, n in zip(seq, sizes)) and any(
                n != m for n in sizes):
            rec.note(f"{what} returns per-sample bias gradients (n, m); summed over the batch, as an update does")
            out = list(ret)
            out[i] = [g.sum(axis=1, keepdims=True) for g in seq]
            return tuple(out)
    return ret


def _matrix_gradients(net, case: Case, rec: Recorder, impl=None) -> dict[str, np.ndarray]:
    """backprop_matrix(X, Y) that returns (nabla_b, nabla_w): read as batch-mean gradients, like backprop(X, Y)."""
    fn = net.backprop_matrix
    got = bind_roles(fn, _matrix_values(case))
    if isinstance(got, str):
        rec.decline(fn, "backprop_matrix(X, Y)", got)
        return {}
    rec.bound("grads", "backprop_matrix", fn, got, form="matrix", over="batch")
    what = _describe_call("backprop_matrix", fn, got)
    ok, ret = rec.call(GRAD_FAMILIES, what, fn, *got[0], **got[1])
    if not ok:
        return {}
    order = _return_order(impl, net, "backprop_matrix") if impl is not None and _ambiguous(case.spec) else None
    ret = _sum_bias_columns(rec, what, ret, case)
    grads, _ = _split(rec, what, ret, case.spec, order)
    rec.note(f"{what} returns gradients: read as batch-MEAN gradients (the full-matrix method)")
    if case.spec.reduction == "sum":
        grads = {k: v * case.m for k, v in grads.items()}
    return grads


def run(impl, case: Case, entry: str) -> Observation:
    rec = Recorder(case)
    all_families = ("grad_W", "grad_b", "update", "trajectory")
    net, name, cls = _prepare(impl, case, entry, rec, all_families)
    if net is None:
        return rec.obs
    rec.obs.not_checked.update(declined_selectors(impl, cls, name))  # selector strings no entry runs: said
    if _form_matters(cls, entry):
        _ensure_form(impl, cls)
    if not callable(getattr(net, "backprop", None)):
        rec.note(f"{name} has no backprop method: its gradients are checked through the update")
    elif split_entry(entry)[0] != "Network[backprop_matrix]":
        rec.obs.grads = _gradients(net, case, entry, rec, impl)
    elif not _matrix_is_step(net, case):
        rec.obs.grads = _matrix_gradients(net, case, rec, impl)
    # a fresh network for the loss and the update: backprop may have left state behind
    for job in ("loss", "update"):
        net, _, _ = _prepare(impl, case, entry, rec, ("loss",) if job == "loss" else ("update", "trajectory"))
        if net is None:
            continue
        if job == "loss":
            rec.obs.loss = net_loss(net, case, rec)
        else:
            _updates(net, cls, case, rec, entry)
    return rec.obs


def own_loss(impl, case: Case, entry: str) -> float | None:
    rec = Recorder(case)
    net, _, _ = _prepare(impl, case, entry, rec, ("loss",))
    if net is None:
        return None
    return net_loss(net, case, rec)
