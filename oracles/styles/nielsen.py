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
    bind_roles,
    get,
    public_names,
    require,
    role_of,
)
from oracles.styles._configs import (
    activation_words,
    configured,
    identify_activation,
    split_entry,
    string_constants,
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


def _params(fn) -> list:
    import inspect

    try:
        return [p for p in inspect.signature(fn).parameters.values() if p.kind not in (p.VAR_POSITIONAL,
                                                                                        p.VAR_KEYWORD)]
    except (TypeError, ValueError):
        return []


def _update_has_lmbda(cls) -> bool:
    name = _update_name(cls)
    return name is not None and any(role_of(p.name) == "lmbda" for p in _params(getattr(cls, name)))


_SELECTOR_HINTS = ("activ", "act", "mode", "nonlin", "func", "type", "kind", "transfer")


def _ctor_params(cls) -> list:
    """Constructor parameters after sizes."""
    return _params(cls)[1:]


def _selector(cls) -> tuple[str, list[tuple[str, str]], str | None] | None:
    """(parameter, [(string, guess)], default string) when the constructor picks the activation by a string."""
    words = activation_words(string_constants(cls))
    if not words:
        return None
    for p in _ctor_params(cls):
        low = p.name.lower()
        if any(k in low for k in ("deriv", "prime", "cost", "loss", "size", "seed", "init", "weight")):
            continue
        if isinstance(p.default, str) or (p.default is p.empty and any(k in low for k in _SELECTOR_HINTS)):
            return p.name, words, p.default if isinstance(p.default, str) else None
    return None


def _ctor_extra(cls) -> list[str]:
    """Required constructor parameters after ``sizes`` filled with the file's own functions (seed 003:
    act, act_derivative, cost_derivative); a string selector is not one of them."""
    sel = _selector(cls)
    return [p.name for p in _ctor_params(cls) if p.default is p.empty and p.kind is not p.KEYWORD_ONLY
            and (sel is None or p.name != sel[0])]


def _cost_param(cls) -> str | None:
    """The constructor parameter that takes a cost class (network2's ``cost=CrossEntropyCost``)."""
    for p in _ctor_params(cls):
        if p.name.lower() in ("cost", "cost_function", "costfunction", "cost_fn", "loss", "cost_func", "costfn"):
            return p.name
        if isinstance(p.default, type) and callable(getattr(p.default, "fn", None)):
            return p.name
    return None


_PROBE_A = np.array([[0.3], [0.8], [0.55]])
_PROBE_Y = np.array([[0.0], [1.0], [1.0]])


def _cost_loss(cost) -> str | None:
    """The canonical loss a cost class computes (its fn on a probe; a factor 2 is a convention), or None."""
    from reference import functions as F

    fn = getattr(cost, "fn", None)
    if not callable(fn) or not callable(getattr(cost, "delta", None)):
        return None
    try:
        with np.errstate(all="ignore"):
            value = float(np.asarray(fn(_PROBE_A.copy(), _PROBE_Y.copy()), dtype=np.float64).sum())
    except Exception:  # noqa: BLE001 - fn(a, y) in another form: not one we can classify
        return None
    quad = float(F.quadratic_loss(_PROBE_A.T, _PROBE_Y.T).sum())
    bce = float(F.binary_cross_entropy(_PROBE_A.T, _PROBE_Y.T).sum())
    for loss, ref in (("quadratic", quad), ("binary_cross_entropy", bce)):
        if any(abs(value - k * ref) <= 1e-9 * abs(ref) for k in (1.0, 2.0)):
            return loss
    return None


def cost_classes(impl) -> dict[str, tuple[type, str]]:
    """name -> (class, canonical loss) for every *Cost class with fn and delta the file defines."""
    out = {}
    for name in public_names(impl):
        cls = get(impl, name)
        if isinstance(cls, type) and name.lower().endswith("cost"):
            loss = _cost_loss(cls)
            if loss is not None:
                out[name] = (cls, loss)
    return out


def _default_cost(impl, cls) -> str | None:
    """The cost class the constructor uses when given none (QuadraticCost when it takes no cost)."""
    costs = cost_classes(impl)
    param = _cost_param(cls)
    if param is None:
        return None
    default = next((p.default for p in _ctor_params(cls) if p.name == param), None)
    for name, (c, _) in costs.items():
        if c is default:
            return name
    return next(iter(costs), None)


def _cost_class(impl, loss: str):
    for name, (c, l) in cost_classes(impl).items():
        if l == loss and name in ("QuadraticCost", "CrossEntropyCost"):
            return c
    return next((c for c, l in cost_classes(impl).values() if l == loss), None)


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


def _construct(impl, cls, cls_name: str, spec: Spec, rec: Recorder | None, config: dict | None = None):
    """Build the network for spec: (net, None), (None, reason) when the constructor failed on arguments
    it accepts from the course's contract, or (None, None) when bpcheck's guess of its arguments did not
    fit (declined: not checked, never the file's error)."""
    config = config or {}
    args: list = [list(spec.sizes)]
    kwargs: dict = {}
    extra = _ctor_extra(cls)
    if extra:
        args += _functions_args(impl, extra, rec)
    if accepts(cls.__init__, "activations"):
        kwargs["activations"] = list(spec.activations)
    param = _cost_param(cls)
    if param is not None:
        costs = cost_classes(impl)
        name = config.get("cost") or next((n for n, (_, l) in costs.items() if l == spec.loss
                                           and n == _default_cost(impl, cls)), None)
        cost = costs[name][0] if name in costs else _cost_class(impl, spec.loss)
        if cost is not None:
            kwargs[param] = cost
            if rec is not None and cost.__name__ != "QuadraticCost":
                rec.note(f"network2-style constructor: passed {param}={cost.__name__}")
    sel = _selector(cls)
    if sel is not None:
        choice = config.get("activation") or _default_selector(impl, cls, cls_name)
        if choice is not None:
            kwargs[sel[0]] = choice
    guessed = bool(extra or kwargs)
    shown = ", ".join(["sizes", *extra, *(f"{k}={v.__name__ if isinstance(v, type) else repr(v)}"
                                          for k, v in kwargs.items() if k != "activations")])
    if rec is not None and not rec.fits_call(cls, f"{cls_name}({shown})", *args, **kwargs):
        return None, None
    try:
        with np.errstate(all="ignore"):
            return cls(*args, **kwargs), None
    except SystemExit as exc:
        return None, f"{cls_name}({shown}) called sys.exit({exc.code!r})"
    except Exception as exc:
        why = f"{cls_name}({shown}) raised {type(exc).__name__}: {exc}"
        if guessed and rec is not None:
            rec.decline(cls, f"{cls_name}({shown})", f"bpcheck's guess of its arguments failed: {why}")
            return None, None
        return None, why


_SELECTOR_CACHE: dict[tuple[int, str], tuple[str, str] | None] = {}


_CANONICAL = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity")
_GRID = np.array([-2.5, -0.6, 0.0, 0.3, 1.7])


def _feed(impl, cls, cls_name: str, choice: str, n_layers: int) -> np.ndarray | None:
    """feedforward of a 1-wide network with unit weights and zero biases on _GRID (None if it cannot run)."""
    spec = Spec(sizes=(1,) * (n_layers + 1), activations=("sigmoid",) * n_layers)
    net, _ = _construct(impl, cls, cls_name, spec, None, {"activation": choice})
    if net is None:
        return None
    try:
        net.weights = [np.ones((1, 1)) for _ in range(n_layers)]
        net.biases = [np.zeros((1, 1)) if _bias_is_column(net) else np.zeros(1) for _ in range(n_layers)]
        feed = getattr(net, "feedforward", None) or getattr(net, "feed_forward", None)
        with np.errstate(all="ignore"):
            return np.array([float(np.asarray(feed(np.array([[v]]))).reshape(-1)[0]) for v in _GRID])
    except Exception:  # noqa: BLE001 - no usable feedforward: the caller looks elsewhere
        return None


def _selector_activation(impl, cls, cls_name: str, choice: str) -> tuple[str, str] | None:
    """(hidden, output) activations the network uses for one selector string, probed, or None.

    The output activation from a one-layer network, then the hidden one from a two-layer network
    (two layers alone cannot tell a leaky slope of 0.1 applied twice from 0.01 once)."""
    from reference import functions as F

    key = (id(cls), choice)
    if key in _SELECTOR_CACHE:
        return _SELECTOR_CACHE[key]
    found = None
    one, two = _feed(impl, cls, cls_name, choice, 1), _feed(impl, cls, cls_name, choice, 2)
    if one is not None and two is not None:
        close = lambda a, b: bool(np.allclose(a, b, rtol=1e-12, atol=1e-12))  # noqa: E731
        out = next((o for o in _CANONICAL if close(one, F.activation(o)(_GRID))), None)
        if out is not None:
            found = next(((h, out) for h in _CANONICAL if close(two, F.activation(out)(F.activation(h)(_GRID)))),
                         None)
    elif one is None and two is None:
        spec = Spec(sizes=(1, 1), activations=("sigmoid",))
        net, _ = _construct(impl, cls, cls_name, spec, None, {"activation": choice})
        for v in list(vars(net).values()) if net is not None else []:
            act = identify_activation(v) if callable(v) and not isinstance(v, type) else None
            if act is not None:
                found = (act, act)
                break
    _SELECTOR_CACHE[key] = found
    return found


def selector_choices(impl, cls, cls_name: str) -> dict[str, tuple[str, str]]:
    """Selector string -> (hidden, output) activation, for the strings whose activation was recognised."""
    sel = _selector(cls)
    if sel is None:
        return {}
    out = {}
    for string, _guess in sel[1]:
        acts = _selector_activation(impl, cls, cls_name, string)
        if acts is not None:
            out[string] = acts
    return out


def _default_selector(impl, cls, cls_name: str) -> str | None:
    """The constructor's default string, else the one meaning sigmoid (the book's), else the first recognised."""
    sel = _selector(cls)
    if sel is None:
        return None
    if sel[2] is not None:
        return sel[2]
    choices = selector_choices(impl, cls, cls_name)
    return next((s for s, acts in choices.items() if acts[0] == "sigmoid"), next(iter(choices), sel[1][0][0]))


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


def _backprop_roles(net) -> set[str] | None:
    """The roles backprop's parameters take ({'x', 'y'} or {'batch'}), None when none fit."""
    fn = getattr(net, "backprop", None)
    got = bind_roles(fn, {"x": 0, "y": 0, "batch": 0}) if callable(fn) else "no backprop"
    if isinstance(got, str):
        return None
    return {role_of(p.name) for p in _params(fn)[: len(got[0])]} | {role_of(k) for k in got[1]}


def _call_backprop(rec: Recorder, net, X, Y, what: str):
    """backprop on columns X, Y (one sample or a batch), in whatever form its parameters ask for."""
    pairs = [(X[:, [i]].copy(), Y[:, [i]].copy()) for i in range(X.shape[1])]
    got = bind_roles(net.backprop, {"x": X, "y": Y, "batch": pairs})
    if isinstance(got, str):
        rec.decline(net.backprop, what, f"{got}")
        return False, None
    args, kwargs = got
    return rec.call(GRAD_FAMILIES, what, net.backprop, *args, **kwargs)


def entry_points(impl) -> list[str]:
    name, cls = find_network(impl)
    if cls is None:
        return []
    entries = []
    roles = _probe_roles(impl, cls, name)
    if roles is None or roles >= {"x", "y"}:
        entries.append("Network")  # an unreadable backprop is still called, to report why
    if _batch_capable(impl, cls, name):
        entries.append("Network[batch]")
    if callable(getattr(cls, "backprop_matrix", None)):
        entries.append("Network[backprop_matrix]")  # seed 004: the whole batch, and the update inside
    base = entries[0] if entries else None
    if base is not None:
        default = _default_cost(impl, cls)
        for cost in cost_classes(impl):
            if cost != default and _cost_param(cls) is not None:
                entries.append(configured(base, "cost", cost))
        default_sel = _default_selector(impl, cls, name)
        for string in selector_choices(impl, cls, name):
            if string != default_sel:
                entries.append(configured(base, "activation", string, quote=True))
    return entries


def _probe_roles(impl, cls, name) -> set[str] | None:
    spec = Spec(sizes=(2, 3, 2), activations=("sigmoid", "sigmoid"))
    net, _ = _construct(impl, cls, name, spec, None)
    return _backprop_roles(net) if net is not None else None


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
        allow_reg=_update_has_lmbda(cls) and base != "Network[backprop_matrix]",
    )


def _prepare(impl, case: Case, entry: str, rec: Recorder, families):
    name, cls = find_network(impl)
    require(spec_space(impl, entry), case, "nielsen", entry)
    net, why = _construct(impl, cls, name, case.spec, rec, split_entry(entry)[1])
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


def _gradients(net, case: Case, entry: str, rec: Recorder) -> dict[str, np.ndarray]:
    spec = case.spec
    m = case.m
    snap = _net_snapshot(net)
    grads: dict[str, np.ndarray] = {}
    if split_entry(entry)[0] == "Network[batch]":
        X, Y = np.ascontiguousarray(case.typed(case.x).T), np.ascontiguousarray(case.typed(case.y).T)
        inputs = Snapshot({"x": X, "y": Y}, "in")
        ok, ret = _call_backprop(rec, net, X, Y, "backprop(X, Y)")
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
            ok, ret = _call_backprop(rec, net, xi, yi, "backprop(x, y)")
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


def _step_values(case: Case) -> dict:
    """What bpcheck can hand an update method, by role (see _common.ROLE_NAMES)."""
    spec = case.spec
    eta = case.lr * (case.m if spec.reduction == "sum" else 1)
    X, Y = np.ascontiguousarray(case.typed(case.x).T), np.ascontiguousarray(case.typed(case.y).T)
    # network2's L2 is lmbda / n with n the training-set size; mu = 0 makes a momentum method plain SGD
    return {"eta": eta, "lmbda": spec.reg * N_TRAIN * case.lr / eta, "n": N_TRAIN, "mu": 0.0, "m": case.m,
            "x": X, "y": Y}


def _describe_call(name: str, fn, got) -> str:
    args, kwargs = got
    names = [p.name for p in _params(fn)][: len(args)] + list(kwargs)
    return f"{name}({', '.join(names)})"


def _update_call(net, cls, case: Case, rec: Recorder):
    """(callable(batch), description) for one SGD step in the course's form, or None when declined."""
    name = _update_name(cls)
    fn = getattr(net, name)
    values = _step_values(case)
    got = bind_roles(fn, {**values, "batch": []})
    if isinstance(got, str):
        rec.decline(fn, f"{name}(mini_batch, eta)", got)
        return None
    what = _describe_call(name, fn, got)
    used = {role_of(p) for p in what[len(name) + 1:-1].split(", ")}
    if "mu" in used:
        rec.note(f"{what} called with a momentum coefficient of 0 (plain SGD)")
    if "lmbda" in used:
        rec.note(f"network2-style {what}: lmbda / n = reg with n = {N_TRAIN}")

    def step(batch):
        got2 = bind_roles(fn, {**values, "batch": batch})
        return fn(*got2[0], **got2[1])

    return step, what


def _matrix_values(case: Case) -> dict:
    values = _step_values(case)
    values["batch"] = _columns(case)
    return values


def _matrix_is_step(net, case: Case) -> bool:
    """Seed 004's backprop_matrix(x, y, m, eta) steps the network; a (X, Y) form returns gradients."""
    got = bind_roles(net.backprop_matrix, _matrix_values(case))
    return not isinstance(got, str) and "eta" in {role_of(p.name) for p in _params(net.backprop_matrix)}


def _matrix_step(net, case: Case, rec: Recorder):
    """Seed 004's backprop_matrix(x, y, m, eta): mean gradients of the (n, m) batch, stepped by eta."""
    fn = net.backprop_matrix
    got = bind_roles(fn, _matrix_values(case))
    if isinstance(got, str):
        rec.decline(fn, "backprop_matrix(x, y, m, eta)", got)
        return None
    what = _describe_call("backprop_matrix", fn, got)

    def step(_batch):
        got2 = bind_roles(fn, _matrix_values(case))
        return fn(*got2[0], **got2[1])

    return step, what


def _matrix_gradients(net, case: Case, rec: Recorder) -> dict[str, np.ndarray]:
    """backprop_matrix(X, Y) that returns (nabla_b, nabla_w): read as batch-mean gradients, like backprop(X, Y)."""
    fn = net.backprop_matrix
    got = bind_roles(fn, _matrix_values(case))
    if isinstance(got, str):
        rec.decline(fn, "backprop_matrix(X, Y)", got)
        return {}
    what = _describe_call("backprop_matrix", fn, got)
    ok, ret = rec.call(GRAD_FAMILIES, what, fn, *got[0], **got[1])
    if not ok:
        return {}
    grads, _ = _split(rec, what, ret, case.spec)
    rec.note(f"{what} returns gradients: read as batch-MEAN gradients (the full-matrix method)")
    if case.spec.reduction == "sum":
        grads = {k: v * case.m for k, v in grads.items()}
    return grads


def _updates(net, cls, case: Case, rec: Recorder, entry: str = "Network") -> None:
    if split_entry(entry)[0] == "Network[backprop_matrix]" and _matrix_is_step(net, case):
        rec.note("backprop_matrix updates the network itself and returns nothing: only the update is observed")
        _step_loop(net, case, rec, _matrix_step(net, case, rec))
    else:
        _plain_updates(net, cls, case, rec)


def _plain_updates(net, cls, case: Case, rec: Recorder) -> None:
    if _update_name(cls) is None:
        rec.note("no update_mini_batch/update_batch method: update not checked")
        return
    _step_loop(net, case, rec, _update_call(net, cls, case, rec))


def _step_loop(net, case: Case, rec: Recorder, made) -> None:
    spec = case.spec
    if made is None:
        return
    fn, what = made
    if spec.reduction == "sum":
        rec.note(f"{what} called with eta = lr * m: a step of eta on mean gradients is an SGD step on the summed loss")
    shapes0 = {f"W{l}": np.shape(w) for l, w in enumerate(net.weights, 1)}
    shapes0.update({f"b{l}": np.shape(b) for l, b in enumerate(net.biases, 1)})
    trajectory = []
    for step in range(int(case.steps)):
        family = "update" if step == 0 else "trajectory"
        batch = _columns(case)
        inputs = Snapshot(batch, "batch")
        ok, _ = rec.call(("update", "trajectory") if step == 0 else "trajectory", what, fn, batch)
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


COST_METHODS = ("total_cost", "compute_cost", "cost_function", "calculate_cost", "get_cost", "calc_cost",
                "evaluate_cost", "loss")


def _l2(case: Case) -> float:
    return 0.5 * case.spec.reg * sum(float(np.sum(case.typed(case.params[f"W{l}"]).astype(np.float64) ** 2))
                                     for l in range(1, case.spec.n_layers + 1))


def _loss(net, case: Case, rec: Recorder) -> float | None:
    """The network's own cost on the batch (total_cost / compute_cost, else cost.fn), None if it has none."""
    spec = case.spec
    m = case.m
    data = _columns(case)
    for name in COST_METHODS:
        total_cost = getattr(net, name, None)
        if callable(total_cost) and not isinstance(total_cost, type):
            break
    else:
        total_cost = None
    if total_cost is not None:
        X, Y = np.ascontiguousarray(case.typed(case.x).T), np.ascontiguousarray(case.typed(case.y).T)
        values = {"batch": data, "x": X, "y": Y}
        got = bind_roles(total_cost, {**values, "lmbda": 0.0})
        if isinstance(got, str):
            rec.decline(total_cost, f"{name}(data)", got)
            return None
        what = _describe_call(name, total_cost, got)
        with_lmbda = "lmbda" in {role_of(p.name) for p in _params(total_cost)}

        def cost(lmbda):
            got = bind_roles(total_cost, {"batch": _columns(case), "x": X.copy(), "y": Y.copy(), "lmbda": lmbda})
            return rec.call("loss", what, total_cost, *got[0], **got[1])

        ok, c0 = cost(0.0)
        c0 = rec.scalar("loss", f"{what} with lmbda = 0" if with_lmbda else what, c0) if ok else None
        if c0 is None:
            return None
        value = c0 * (m if spec.reduction == "sum" else 1)
        if spec.reg:
            if not with_lmbda:
                rec.note(f"{what} takes no lmbda: the driver added 0.5 * reg * sum ||W||^2")
                return value + _l2(case)
            ok, cr = cost(spec.reg * m)
            cr = rec.scalar("loss", what, cr) if ok else None
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
        value += _l2(case)
        rec.note("loss = cost.fn per sample plus 0.5 * reg * sum ||W||^2 added by the driver")
    return value


def run(impl, case: Case, entry: str) -> Observation:
    rec = Recorder(case)
    all_families = ("grad_W", "grad_b", "update", "trajectory")
    net, name, cls = _prepare(impl, case, entry, rec, all_families)
    if net is None:
        return rec.obs
    if split_entry(entry)[0] != "Network[backprop_matrix]":
        rec.obs.grads = _gradients(net, case, entry, rec)
    elif not _matrix_is_step(net, case):
        rec.obs.grads = _matrix_gradients(net, case, rec)
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
