"""Driver for Nielsen-style networks (network.py, network2.py, seed 003, full-matrix seed 004).

Layout: one sample per column. ``weights[l]`` is W{l+1} (n, k), ``biases[l]`` is b{l+1} as (n, 1).

Entry points
* ``Network``: ``backprop(x, y)`` on one (n_0, 1) column at a time; the per-sample gradients are
  summed (reduction sum) or averaged (mean). The update is ``update_mini_batch(batch, eta)``,
  Nielsen's step of eta/len(batch) times the summed gradients, i.e. SGD on the mean with lr = eta.
* ``Network[batch]``: ``backprop(X, Y)`` on the whole (n_0, m) batch, returning batch-MEAN
  gradients with (n, 1) bias gradients (the full-matrix method).

Variants recognised: ``Network(sizes, activations=..., cost=...)`` (reference), network2's
``cost=CrossEntropyCost`` and ``update_mini_batch(batch, eta, lmbda, n)`` (reg = lmbda / n), seed
003's ``NeuralNetwork(sizes, act, act_derivative, cost_derivative)`` with ``update_batch(batch,
learning_rate)`` (the file's own functions are passed in), ``(nabla_w, nabla_b)`` return order
(told apart by shape), (n,) biases.
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
    get,
    positional_count,
    public_names,
    require,
)

__all__ = ["ENTRIES", "find_network", "entry_points", "spec_space", "run", "own_loss"]

ENTRIES = ("Network", "Network[batch]", "Network[backprop_matrix]")
UPDATE_NAMES = ("update_mini_batch", "update_batch", "update_minibatch")
# network2's L2 is lmbda / n with n the size of the training set: we pick n != m so that a
# division by len(mini_batch) instead of n shows.
N_TRAIN = 50

_ACT_PRIME_NAMES = ("sigmoid_prime", "sigmoid_derivative", "sigmoid_deriv", "dsigmoid", "d_sigmoid", "sigmoid_grad")
_COST_PRIME_NAMES = (
    "cost_derivative",
    "distance_derivative",
    "quadratic_derivative",
    "mse_derivative",
    "loss_derivative",
    "cost_prime",
    "quadratic_cost_derivative",
)
GRAD_FAMILIES = ("grad_W", "grad_b")


def find_network(impl) -> tuple[str | None, type | None]:
    """The class with a ``backprop`` method (Network / NeuralNetwork preferred)."""
    preferred = ("Network", "NeuralNetwork", "Net", "MLP")
    names = list(preferred) + sorted(n for n in public_names(impl) if n not in preferred)
    for name in names:
        cls = get(impl, name)
        if isinstance(cls, type) and callable(getattr(cls, "backprop", None)):
            return name, cls
    return None, None


def _update_name(cls) -> str | None:
    return next((n for n in UPDATE_NAMES if callable(getattr(cls, n, None))), None)


def _update_has_lmbda(cls) -> bool:
    name = _update_name(cls)
    if name is None:
        return False
    fn = getattr(cls, name)
    return accepts(fn, "lmbda") or accepts(fn, "lmbd") or accepts(fn, "lambda_") or positional_count(fn)[1] >= 5


def _ctor_extra(cls) -> list[str]:
    """Names of the required constructor parameters after ``sizes`` (seed 003: act, act_derivative, cost_derivative)."""
    import inspect

    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return []
    req = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    return req[1:]


def _cost_class(impl, loss: str):
    return get(impl, {"quadratic": "QuadraticCost", "binary_cross_entropy": "CrossEntropyCost"}.get(loss, ""))


def _file_function(impl, candidates, must: tuple[str, ...] = ()):
    for name in candidates:
        fn = get(impl, name)
        if callable(fn) and not isinstance(fn, type):
            return name, fn
    for name in sorted(public_names(impl)):
        low = name.lower()
        if all(k in low for k in must) and ("deriv" in low or "prime" in low):
            fn = get(impl, name)
            if callable(fn) and not isinstance(fn, type):
                return name, fn
    return None, None


def _functions_args(impl, extra: list[str], rec: Recorder | None):
    """The file's own (act, act_derivative, cost_derivative) for a seed-003 constructor, in its order."""
    from reference import functions as F

    act_name, act = ("sigmoid", get(impl, "sigmoid")) if callable(get(impl, "sigmoid")) else (None, None)
    dname, dact = _file_function(impl, _ACT_PRIME_NAMES, ("sigmoid",))
    cname, dcost = _file_function(impl, _COST_PRIME_NAMES, ("cost",))
    if cname is None:
        cname, dcost = _file_function(impl, (), ("distance",))
    if act is None:
        act, act_name = F.sigmoid, "reference sigmoid"
    if dact is None:
        dact, dname = F.sigmoid_prime, "reference sigmoid_prime"
    if dcost is None:
        dcost, cname = (lambda a, y: a - y), "reference cost derivative a - y"
    used = [act_name, dname, cname]
    kinds = []
    for n in extra:
        low = n.lower()
        if any(k in low for k in ("cost", "loss", "distance", "error", "err")):
            kinds.append("cost")
        elif any(k in low for k in ("deriv", "prime", "grad")) or low.startswith("d"):
            kinds.append("dact")
        else:
            kinds.append("act")
    if sorted(kinds) != sorted(["act", "dact", "cost"][: len(extra)]) or len(extra) > 3:
        kinds = ["act", "dact", "cost"][: len(extra)]
    table = {"act": act, "dact": dact, "cost": dcost}
    if rec is not None:
        rec.note(
            f"constructor takes ({', '.join(['sizes', *extra])}) (seed-003 style): passed {', '.join(used)}"
        )
    return [table[k] for k in kinds]


def _construct(impl, cls, cls_name: str, spec: Spec, rec: Recorder | None):
    """Build the network for spec; returns (net, None) or (None, reason)."""
    args: list = [list(spec.sizes)]
    kwargs: dict = {}
    extra = _ctor_extra(cls)
    if extra:
        args += _functions_args(impl, extra, rec)
    if accepts(cls.__init__, "activations"):
        kwargs["activations"] = list(spec.activations)
    if accepts(cls.__init__, "cost"):
        cost = _cost_class(impl, spec.loss)
        if cost is not None:
            kwargs["cost"] = cost
            if rec is not None and cost.__name__ != "QuadraticCost":
                rec.note(f"network2-style constructor: passed cost={cost.__name__}")
    shown = ", ".join(["sizes", *extra, *(f"{k}=..." for k in kwargs)])
    try:
        with np.errstate(all="ignore"):
            return cls(*args, **kwargs), None
    except SystemExit as exc:
        return None, f"{cls_name}({shown}) called sys.exit({exc.code!r})"
    except Exception as exc:
        return None, f"{cls_name}({shown}) raised {type(exc).__name__}: {exc}"


def _bias_is_column(net) -> bool:
    b = getattr(net, "biases", None)
    try:
        return not (isinstance(b[0], np.ndarray) and b[0].ndim == 1)
    except Exception:
        return True


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
    net.weights = [np.ascontiguousarray(case.typed(case.params[f"W{l}"])) for l in range(1, L + 1)]
    net.biases = [
        case.typed(case.params[f"b{l}"]).reshape((-1, 1) if column else (-1,)).copy() for l in range(1, L + 1)
    ]
    return True


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


def _split(rec: Recorder, what: str, ret, spec: Spec) -> tuple[dict[str, np.ndarray], bool]:
    """(nabla_b, nabla_w) -> {W1: (n, k), b1: (n,), ...} float64; errors recorded; (grads, ok_all)."""
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
    if swap > std:
        rec.note(f"{what} returned (nabla_w, nabla_b); recognised by shape")
        first, second = second, first
    elif swap == std and wshapes == bshapes:
        rec.note(f"{what}: weights and biases have the same shapes here; read as (nabla_b, nabla_w), the book's order")
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


def _columns(case: Case):
    """Fresh (x, y) column pairs, typed, one per sample."""
    x, y = case.typed(case.x), case.typed(case.y)
    return [(x[i].reshape(-1, 1).copy(), y[i].reshape(-1, 1).copy()) for i in range(case.m)]


def entry_points(impl) -> list[str]:
    name, cls = find_network(impl)
    if cls is None:
        return []
    entries = ["Network"]
    if _batch_capable(impl, cls, name):
        entries.append("Network[batch]")
    if callable(getattr(cls, "backprop_matrix", None)):
        entries.append("Network[backprop_matrix]")  # seed 004: the whole batch, and the update inside
    return entries


def _batch_capable(impl, cls, name) -> bool:
    """Call backprop on a (2, 3) batch: bias gradients of one column each mean it averages (or sums) the batch."""
    spec = Spec(sizes=(2, 3, 2), activations=("sigmoid", "sigmoid"))
    net, why = _construct(impl, cls, name, spec, None)
    if net is None:
        return False
    rng = np.random.default_rng(0)
    params = {f"W{l}": rng.standard_normal(s) for l, s in ((1, (3, 2)), (2, (2, 3)))}
    params.update({f"b{l}": rng.standard_normal(n) for l, n in ((1, 3), (2, 2))})
    probe = Case(spec, params, rng.standard_normal((3, 2)), rng.uniform(0.1, 0.9, (3, 2)))
    rec = Recorder(probe)
    if not _load(net, probe, rec, GRAD_FAMILIES):
        return False
    ok, ret = rec.call(GRAD_FAMILIES, "backprop", net.backprop, probe.x.T.copy(), probe.y.T.copy())
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
    if entry not in ENTRIES:
        raise UnsupportedCase(f"nielsen has no entry point {entry!r}; choose one of {', '.join(ENTRIES)}")
    _, cls = find_network(impl)
    if cls is None:
        raise UnsupportedCase("no class with a backprop method: nielsen style needs Network(sizes).backprop(x, y)")
    flexible = accepts(cls.__init__, "activations") and not _ctor_extra(cls)
    acts = ACTIVATION_NAMES if flexible else ("sigmoid",)
    outputs = []
    with_cost = accepts(cls.__init__, "cost")
    if not with_cost or _cost_class(impl, "quadratic") is not None:
        outputs.append(("quadratic", acts))
    if with_cost and _cost_class(impl, "binary_cross_entropy") is not None:
        outputs.append(("binary_cross_entropy", ("sigmoid",)))
    return SpecSpace(
        layout="columns",
        hidden_activations=acts,
        outputs=tuple(outputs),
        reductions=("mean",),  # the book averages over the mini-batch; sum would only rescale what we show students
        targets=("dense",),
        allow_reg=_update_has_lmbda(cls) and entry != "Network[backprop_matrix]",
    )


def _prepare(impl, case: Case, entry: str, rec: Recorder, families):
    name, cls = find_network(impl)
    require(spec_space(impl, entry), case, "nielsen", entry)
    net, why = _construct(impl, cls, name, case.spec, rec)
    if net is None:
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


def _gradients(net, case: Case, entry: str, rec: Recorder) -> dict[str, np.ndarray]:
    spec = case.spec
    m = case.m
    snap = _net_snapshot(net)
    grads: dict[str, np.ndarray] = {}
    if entry == "Network[batch]":
        X, Y = np.ascontiguousarray(case.typed(case.x).T), np.ascontiguousarray(case.typed(case.y).T)
        inputs = Snapshot({"x": X, "y": Y}, "in")
        ok, ret = rec.call(GRAD_FAMILIES, "backprop(X, Y)", net.backprop, X, Y)
        for path in inputs.changed():
            rec.mutated("x" if "'x'" in path else "y")
        if ok:
            grads, _ = _split(rec, "backprop(X, Y)", ret, spec)
            if spec.reduction == "sum":
                grads = {k: v * m for k, v in grads.items()}
        rec.note("Network[batch]: backprop(X, Y) read as batch-MEAN gradients (the full-matrix method)")
    else:
        total: dict[str, np.ndarray] = {}
        failed: set[str] = set()
        for xi, yi in _columns(case):
            inputs = Snapshot({"x": xi, "y": yi}, "in")
            ok, ret = rec.call(GRAD_FAMILIES, "backprop(x, y)", net.backprop, xi, yi)
            for path in inputs.changed():
                rec.mutated("x" if "'x'" in path else "y")
            if not ok:
                return {}
            g, _ = _split(rec, "backprop(x, y)", ret, spec)
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


def _update_call(net, cls, case: Case):
    """(callable, args description, args) for one SGD step in the course's form."""
    spec = case.spec
    name = _update_name(cls)
    eta = case.lr * (case.m if spec.reduction == "sum" else 1)
    fn = getattr(net, name)
    if _update_has_lmbda(cls):
        lmbda = spec.reg * N_TRAIN * case.lr / eta
        return fn, f"{name}(mini_batch, eta, lmbda, n)", (eta, lmbda, N_TRAIN)
    return fn, f"{name}(mini_batch, eta)", (eta,)


def _matrix_step(net, case: Case):
    """Seed 004's backprop_matrix(x, y, m, eta): mean gradients of the (n, m) batch, stepped by eta."""
    eta = case.lr * (case.m if case.spec.reduction == "sum" else 1)

    def step(_batch):
        X, Y = np.ascontiguousarray(case.typed(case.x).T), np.ascontiguousarray(case.typed(case.y).T)
        return net.backprop_matrix(X, Y, case.m, eta)

    return step, "backprop_matrix(x, y, m, eta)", ()


def _updates(net, cls, case: Case, rec: Recorder, entry: str = "Network") -> None:
    spec = case.spec
    if entry == "Network[backprop_matrix]":
        fn, what, args = _matrix_step(net, case)
        rec.note("backprop_matrix updates the network itself and returns nothing: only the update is observed")
    elif _update_name(cls) is None:
        rec.note("no update_mini_batch/update_batch method: update not checked")
        return
    else:
        fn, what, args = _update_call(net, cls, case)
    if spec.reduction == "sum":
        rec.note(f"{what} called with eta = lr * m: a step of eta on mean gradients is an SGD step on the summed loss")
    if len(args) == 3:
        rec.note(f"network2-style {what}: lmbda / n = reg with n = {N_TRAIN}")
    shapes0 = {f"W{l}": np.shape(w) for l, w in enumerate(net.weights, 1)}
    shapes0.update({f"b{l}": np.shape(b) for l, b in enumerate(net.biases, 1)})
    trajectory = []
    for step in range(int(case.steps)):
        family = "update" if step == 0 else "trajectory"
        batch = _columns(case)
        inputs = Snapshot(batch, "batch")
        ok, _ = rec.call(("update", "trajectory") if step == 0 else "trajectory", what, fn, batch, *args)
        if inputs.changed():
            rec.mutated("x")
            rec.note(f"{what} wrote into the mini-batch arrays")
        if not ok:
            break
        params = _read_params(net, case, rec, family, what, shapes0)
        if params is None or len(params) != 2 * spec.n_layers:
            if step == 0:
                rec.error("trajectory", f"the first step failed ({what})")
            break
        trajectory.append(params)
    if trajectory:
        rec.obs.updated = trajectory[0]
    if len(trajectory) == int(case.steps):
        rec.obs.trajectory = trajectory


def _loss(net, case: Case, rec: Recorder) -> float | None:
    """The network's own cost on the batch (network2's total_cost or cost.fn), None if it has none."""
    spec = case.spec
    m = case.m
    data = _columns(case)
    total_cost = getattr(net, "total_cost", None)
    if callable(total_cost):
        req, tot = positional_count(total_cost)

        def cost(lmbda):
            if tot >= 2:
                return rec.call("loss", "total_cost(data, lmbda)", total_cost, data, lmbda)
            return rec.call("loss", "total_cost(data)", total_cost, data)

        ok, c0 = cost(0.0)
        c0 = rec.scalar("loss", "total_cost(data, 0)", c0) if ok else None
        if c0 is None:
            return None
        value = c0 * (m if spec.reduction == "sum" else 1)
        if spec.reg:
            if tot < 2:
                rec.error("loss", "total_cost(data) takes no lmbda: the regularised loss is not exposed")
                return None
            ok, cr = cost(spec.reg * m)
            cr = rec.scalar("loss", "total_cost(data, lmbda)", cr) if ok else None
            if cr is None:
                return None
            value += cr - c0  # the file's own 0.5 * (lmbda / n) * sum ||W||^2 with lmbda / n = reg
        return value
    costobj = getattr(net, "cost", None)
    fn = getattr(costobj, "fn", None)
    feed = getattr(net, "feedforward", None)
    if not (callable(fn) and callable(feed)):
        return None
    total = 0.0
    for xi, yi in data:
        ok, a = rec.call("loss", "feedforward(x)", feed, xi)
        if not ok:
            return None
        ok, c = rec.call("loss", "cost.fn(a, y)", fn, a, yi)
        c = rec.scalar("loss", "cost.fn(a, y)", c) if ok else None
        if c is None:
            return None
        total += c
    value = total / m if spec.reduction == "mean" else total
    if spec.reg:
        value += 0.5 * spec.reg * sum(float(np.sum(case.typed(case.params[f"W{l}"]).astype(np.float64) ** 2))
                                      for l in range(1, spec.n_layers + 1))
        rec.note("loss = cost.fn per sample plus 0.5 * reg * sum ||W||^2 added by the driver")
    return value


def run(impl, case: Case, entry: str) -> Observation:
    rec = Recorder(case)
    all_families = ("grad_W", "grad_b", "update", "trajectory")
    net, name, cls = _prepare(impl, case, entry, rec, all_families)
    if net is None:
        return rec.obs
    if entry != "Network[backprop_matrix]":
        rec.obs.grads = _gradients(net, case, entry, rec)
    # a fresh network for the loss and the update: backprop may have left state behind
    for job in ("loss", "update"):
        net, _, _ = _prepare(impl, case, entry, rec, ("loss",) if job == "loss" else ("update", "trajectory"))
        if net is None:
            continue
        if job == "loss":
            rec.obs.loss = _loss(net, case, rec)
        else:
            _updates(net, cls, case, rec, entry)
    return rec.obs


def own_loss(impl, case: Case, entry: str) -> float | None:
    rec = Recorder(case)
    net, _, _ = _prepare(impl, case, entry, rec, ("loss",))
    if net is None:
        return None
    return _loss(net, case, rec)
