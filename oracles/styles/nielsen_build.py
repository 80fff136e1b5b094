"""Building a Nielsen-style network the way the file expects: its constructor's arguments, its cost
classes, its activation selector strings (probed, never assumed from the spelling).

Numpy only: this runs inside the sandbox child (see oracles/styles/nielsen.py).
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case, Spec
from oracles.observation import call_literal
from oracles.styles._common import Recorder, accepts, by_identity, get, probed, public_names, role_of
from oracles.styles._configs import activation_words, identify_activation, string_constants

__all__ = ["find_network", "cost_classes", "class_choices", "fixed_cost", "selector_choices", "declined_selectors",
           "construct", "UPDATE_NAMES"]

UPDATE_NAMES = ("update_mini_batch", "update_batch", "update_minibatch")
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


def find_network(impl) -> tuple[str | None, type | None]:
    """The class with a ``backprop`` method (Network / NeuralNetwork preferred), else one with an update
    method that does its backprop inside."""
    preferred = ("Network", "NeuralNetwork", "Net", "MLP")
    names = list(preferred) + sorted(n for n in public_names(impl) if n not in preferred)
    classes = [(n, get(impl, n)) for n in names]
    classes = [(n, c) for n, c in classes if isinstance(c, type)]
    for name, cls in classes:
        if callable(getattr(cls, "backprop", None)):
            return name, cls
    for name, cls in classes:
        if _update_name(cls) is not None:
            return name, cls
    return None, None


def _update_name(cls) -> str | None:
    return next((n for n in UPDATE_NAMES if callable(getattr(cls, n, None))), None)


def _params(fn) -> list:
    from oracles.styles._common import _signature

    sig = _signature(fn)
    return [] if sig is None else [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL,
                                                                                          p.VAR_KEYWORD)]


def _update_has_lmbda(cls) -> bool:
    name = _update_name(cls)
    return name is not None and any(role_of(p.name) == "lmbda" for p in _params(getattr(cls, name)))


_SELECTOR_HINTS = ("activ", "act", "mode", "nonlin", "func", "type", "kind", "transfer")


def _ctor_params(cls) -> list:
    """Constructor parameters after sizes."""
    return _params(cls)[1:]


@by_identity
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


# The method of a cost class that computes the cost (network2's fn, and what learners call it).
COST_FN_NAMES = ("fn", "cost_function", "cost", "loss", "value", "compute", "function", "func", "cost_fn")
_PROBE_A = np.array([[0.3], [0.8], [0.55]])
_PROBE_Y = np.array([[0.0], [1.0], [1.0]])


def _cost_loss(cost) -> str | None:
    """The canonical loss a cost class computes (its fn on a probe; a factor 2 is a convention), or None."""
    from reference import functions as F

    fn = next((getattr(cost, n) for n in COST_FN_NAMES if callable(getattr(cost, n, None))), None)
    if fn is None:
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
    """name -> (class, canonical loss) for every *Cost class with fn and delta the file defines (read once
    per file: every Case asks, several times; the dict is shared, read-only)."""
    return probed(impl, "nielsen:cost_classes", lambda: _cost_classes(impl))


def _cost_classes(impl) -> dict[str, tuple[type, str]]:
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


_FIXED: dict[int, str | None] = {}


def fixed_cost(impl, cls) -> str | None:
    """The loss of a network whose constructor takes no cost but stores one (``self.cost = CrossEntropyCost``)."""
    key = id(cls)
    if key not in _FIXED:
        _FIXED[key] = None
        spec = Spec(sizes=(2, 2), activations=("sigmoid",))
        net, _ = construct(impl, cls, cls.__name__, spec, None)
        costs = {id(c): loss for c, loss in cost_classes(impl).values()}
        for attr in ("cost", "cost_function", "loss", "cost_fn", "costfunction"):
            value = getattr(net, attr, None) if net is not None else None
            target = value if isinstance(value, type) else type(value)
            if id(target) in costs:
                _FIXED[key] = costs[id(target)]
                break
            if value is not None and not isinstance(value, type) and callable(getattr(value, "fn", None)):
                _FIXED[key] = _cost_loss(value)
                break
    return _FIXED[key]


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
    return [table[k] for k in kinds], [dict(zip(("act", "dact", "cost"), used))[k] for k in kinds]


def construct(impl, cls, cls_name: str, spec: Spec, rec: Recorder | None, config: dict | None = None):
    """Build the network for spec: (net, None), (None, reason) when the constructor failed on arguments
    it accepts from the course's contract, or (None, None) when bpcheck's guess of its arguments did not
    fit (declined: not checked, never the file's error)."""
    config = config or {}
    args: list = [list(spec.sizes)]
    kwargs: dict = {}
    extra = _ctor_extra(cls)
    handed: list[str] = []  # what each extra positional argument is: a name of the file's, or a stand-in
    if extra:
        funcs, handed = _functions_args(impl, extra, rec)
        args += funcs
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
    for key, value in config.items():
        if key not in ("cost", "activation") and accepts(cls.__init__, key) and isinstance(get(impl, value), type):
            kwargs[key] = get(impl, value)  # a class-valued option (reg=L1Reg): see class_choices
    guessed = bool(extra or kwargs)
    shown = ", ".join(["sizes", *extra, *(f"{k}={v.__name__ if isinstance(v, type) else repr(v)}"
                                          for k, v in kwargs.items() if k != "activations")])
    if rec is not None and not rec.fits_call(cls, f"{cls_name}({shown})", *args, **kwargs):
        return None, None
    if rec is not None:
        rec.obs.calls["network"] = _constructor_call(impl, cls, cls_name, extra, handed, kwargs)
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


def _constructor_call(impl, cls, cls_name: str, extra: list[str], handed: list[str], kwargs: dict) -> dict:
    """The constructor call construct() makes, as ``Observation.calls['network']``: sizes (and activations)
    from the Case, the file's own functions and classes by name, selector strings as literals."""
    sizes = next((p.name for p in _params(cls)[:1]), "sizes")
    args = [[sizes, "spec", "sizes"]]
    args += [[p, "file", h] if h.isidentifier() and get(impl, h) is not None else [p, "standin", h]
             for p, h in zip(extra, handed)]
    items = []
    for k, v in kwargs.items():
        if k == "activations":
            items.append([k, "spec", "activations"])
        elif isinstance(v, type):
            items.append([k, "file", v.__name__] if get(impl, v.__name__) is v else [k, "standin", v.__name__])
        else:
            spelled = isinstance(v, str) and call_literal(v)  # a selector string
            items.append([k, "literal", v] if spelled else [k, "standin", type(v).__name__])
    return {"fn": cls_name, "args": args, "kwargs": items}


def class_choices(impl, cls) -> dict[str, list[str]]:
    """Constructor parameters (besides the cost) whose default is a class of the file, -> the file's other
    classes with the same methods (network2 extended with ``reg=L2Reg`` / ``L1Reg``). Judged with lmbda = 0,
    where every regulariser is the plain network, so a crash or a wrong data part shows and nothing else."""
    cost = _cost_param(cls)
    out: dict[str, list[str]] = {}
    for p in _ctor_params(cls):
        d = p.default
        if p.name == cost or not isinstance(d, type) or get(impl, d.__name__) is not d:
            continue
        methods = {k for k, v in vars(d).items() if not k.startswith("_") and callable(getattr(d, k, None))}
        if not methods:
            continue
        alts = [n for n in public_names(impl) if n != d.__name__ and isinstance(get(impl, n), type)
                and methods <= {k for k in vars(get(impl, n)) if not k.startswith("_")}]
        if alts:
            out[p.name] = sorted(alts)
    return out


_SELECTOR_CACHE: dict[tuple[int, str], tuple[str, str] | None] = {}


_CANONICAL = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity")
_GRID = np.array([-2.5, -0.6, 0.0, 0.3, 1.7])


def _feed(impl, cls, cls_name: str, choice: str, n_layers: int) -> np.ndarray | None:
    """feedforward of a 1-wide network with unit weights and zero biases on _GRID (None if it cannot run)."""
    spec = Spec(sizes=(1,) * (n_layers + 1), activations=("sigmoid",) * n_layers)
    net, _ = construct(impl, cls, cls_name, spec, None, {"activation": choice})
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
        net, _ = construct(impl, cls, cls_name, spec, None, {"activation": choice})
        for v in list(vars(net).values()) if net is not None else []:
            act = identify_activation(v) if callable(v) and not isinstance(v, type) else None
            if act is not None:
                found = (act, act)
                break
    _SELECTOR_CACHE[key] = found
    return found


def _selector_strings(sel) -> list[str]:
    """The strings a selector offers: those its code compares with, and its default (``activation='sigmoid'``
    with only ``if self.activation == 'relu'`` in the code: the default is no constant of the code)."""
    strings = [s for s, _guess in sel[1]]
    return strings + [sel[2]] if sel[2] is not None and sel[2] not in strings else strings


def selector_choices(impl, cls, cls_name: str) -> dict[str, tuple[str, str]]:
    """Selector string -> (hidden, output) activation, for the strings whose activation was recognised."""
    sel = _selector(cls)
    if sel is None:
        return {}
    out = {}
    for string in _selector_strings(sel):
        acts = _selector_activation(impl, cls, cls_name, string)
        if acts is not None:
            out[string] = acts
    return out


def declined_selectors(impl, cls, cls_name: str) -> dict[str, str]:
    """``Network(activation='relu')`` -> why it is not checked, for every string the selector offers whose
    activation the probe did not recognise: said in the coverage line, never dropped in silence."""
    sel = _selector(cls)
    if sel is None:
        return {}

    return probed(impl, f"nielsen:declined:{cls_name}", lambda: _declined(impl, cls, cls_name, sel))  # every Case


def _declined(impl, cls, cls_name: str, sel) -> dict[str, str]:
    known = selector_choices(impl, cls, cls_name)
    out: dict[str, str] = {}
    for string in _selector_strings(sel):
        if string in known:
            continue
        spec = Spec(sizes=(1, 1), activations=("sigmoid",))
        net, why = construct(impl, cls, cls_name, spec, None, {"activation": string})
        if net is not None:
            feed = getattr(net, "feedforward", None) or getattr(net, "feed_forward", None)
            try:
                with np.errstate(all="ignore"):
                    feed(np.array([[0.5]]))
                why = "its feedforward matched no activation bpcheck knows (probed on a 1-wide network)"
            except Exception as exc:  # noqa: BLE001 - the reason shown; the option is listed, not judged
                why = f"its feedforward raised {type(exc).__name__}: {exc}"
        out[f"{cls_name}({sel[0]}={string!r})"] = f"bpcheck could not run it: {why or 'no usable constructor'}"
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


def _columns(case: Case):
    """Fresh (x, y) column pairs, typed, one per sample."""
    x, y = case.typed(case.x), case.typed(case.y)
    return [(x[i].reshape(-1, 1).copy(), y[i].reshape(-1, 1).copy()) for i in range(case.m)]


_FORMS: dict[int, str] = {}


def _form(A: np.ndarray, form: str) -> np.ndarray:
    """Columns (n, m) as the file takes a batch: the matrix itself, or a stack of m columns (m, n, 1)."""
    return np.ascontiguousarray(A.T[:, :, None]) if form == "stack" else A


def _describe_call(name: str, fn, got) -> str:
    args, kwargs = got
    names = [p.name for p in _params(fn)][: len(args)] + list(kwargs)
    return f"{name}({', '.join(names)})"
