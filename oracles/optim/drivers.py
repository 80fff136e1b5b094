"""Course-style optimizer drivers: an OptimCase into a file's update rule, an OptimObservation out.

Each driver calls the file the way its course's own training loop does, unmodified:

* CS231n ``optim.py``: ``next_w, config = rule(w, dw, config)`` once per parameter and step, one
  config per parameter built from the hyper-parameters (as the Solver builds it from
  ``optim_config``) and replaced by the one returned.
* deeplearning.ai course 2: ``v = initialize_velocity(parameters)`` / ``v, s =
  initialize_adam(parameters)``, then ``parameters, v = update_parameters_with_momentum(parameters,
  grads, v, beta, learning_rate)`` / ``update_parameters_with_adam(parameters, grads, v, s, t, ...)``
  with t = 1, 2, ... as the course's ``model`` counts; ``random_mini_batches(X, Y, size, seed)``.
* Saito ch. 6: ``opt = Momentum(lr=..., momentum=...)``; ``opt.update(params, grads)`` on one
  ``params`` dict whose arrays must be updated in place (the layers hold them).

Every call is guarded (oracles.styles._common.Recorder): an exception, a wrong type or shape, NaN
become ``errors[family]`` and the other checks still run. Numpy only: this runs in the child.

    entries = entry_points(style, impl)         # ["optim:momentum", "optim:adam", ...]
    obs = run(style, impl, case, entry)         # OptimObservation
"""

from __future__ import annotations

import inspect

import numpy as np

from oracles.optim.case import MINI_BATCHES, OptimCase
from oracles.optim.observation import OptimObservation
from oracles.optim.rules import STYLE_RULES, Binding
from oracles.styles._common import Recorder, get
from oracles.styles._coverage import recording

__all__ = ["PREFIX", "DETECT", "detect", "entry_points", "run", "entry_rule", "style_shape"]

PREFIX = "optim:"

# Names that make a file an optimizer file of a style (any one suffices; "Class.method" needs the method).
DETECT = {
    "cs231n": ("sgd_momentum", "rmsprop", "adam"),
    "dlai": ("update_parameters_with_momentum", "update_parameters_with_adam", "initialize_velocity",
             "initialize_adam", "random_mini_batches", "update_parameters_with_gd"),
    "saito": ("Momentum.update", "Nesterov.update", "AdaGrad.update", "RMSprop.update", "Adam.update",
              "SGD.update"),
    "mytorch": ("SGD.step", "Adam.step", "AdamW.step"),
}


def detect(names) -> tuple[str | None, str]:
    """The optimizer style a file's names show (None when it defines no course optimizer)."""
    names = set(names)
    found = {s: [n for n in DETECT[s] if n in names] for s in DETECT}
    best = max(found, key=lambda s: len(found[s]))
    if not found[best]:
        return None, "no course optimizer names (sgd_momentum/adam, update_parameters_with_adam, Momentum.update ...)"
    return best, f"{best} optimizers: defines {', '.join(found[best])}"


def entry_rule(entry: str) -> str:
    if not entry.startswith(PREFIX):
        raise ValueError(f"{entry!r} is not an optimizer entry point (they start with {PREFIX!r})")
    return entry[len(PREFIX):]


def _find(impl, b: Binding):
    for name in b.entry:
        obj = get(impl, name)
        if obj is not None and callable(obj):
            return name, obj
    return None, None


def entry_points(style: str, impl) -> list[str]:
    """``optim:<rule>`` for every rule of the style the file defines (and ``optim:mini_batches``)."""
    out = []
    for rule, b in STYLE_RULES.get(style, {}).items():
        name, obj = _find(impl, b)
        if obj is None:
            continue
        if style == "saito" and not (isinstance(obj, type) and callable(getattr(obj, "update", None))):
            continue
        if style == "cs231n" and isinstance(obj, type):
            continue  # a class named like a CS231n rule function is not one
        if style == "mytorch" and not (isinstance(obj, type) and callable(getattr(obj, "step", None))):
            continue
        out.append(PREFIX + rule)
    if style == "dlai" and callable(get(impl, "random_mini_batches")):
        out.append(PREFIX + MINI_BATCHES)
    return out


# ---------------------------------------------------------------- layouts


def style_shape(style: str, name: str, a: np.ndarray) -> np.ndarray:
    """A canonical parameter (W (n_out, n_in), b (n_out,)) in the style's layout."""
    if name.startswith("W") and style in ("cs231n", "saito"):
        return np.ascontiguousarray(a.T)
    if name.startswith("b") and style in ("dlai", "mytorch") and a.ndim == 1:
        return a.reshape(-1, 1)
    return a


def _canonical(style: str, name: str, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if name.startswith("W") and style in ("cs231n", "saito"):
        return a.T
    return a.reshape(shape)


# ---------------------------------------------------------------- runner


def run(style: str, impl, case: OptimCase, entry: str) -> OptimObservation:
    """Run ``case`` through the file's rule; implementation faults go into the observation's errors."""
    rule = entry_rule(entry)
    if rule != case.rule:
        raise ValueError(f"entry {entry!r} cannot run a {case.rule!r} case")
    rec = Recorder(case)  # Recorder only keeps the case for reference; its Observation collects errors/notes
    out = OptimObservation()
    # what ran is what was checked (coverage); only the first runs of an entry are traced
    with recording(impl, ("optim", style, entry)) as called:
        try:
            if rule == MINI_BATCHES:
                _mini_batches(impl, case, rec, out)
            else:
                b = STYLE_RULES[style][rule]
                {"cs231n": _cs231n, "dlai": _dlai, "saito": _saito, "mytorch": _mytorch}[style](impl, case, b, rec,
                                                                                               out)
        except Exception as exc:  # noqa: BLE001 - an answer so odd that the driver tripped: still the file's
            rec.error(("step", "trajectory"), f"the implementation's results could not be read "
                                              f"({type(exc).__name__}: {exc})")
    out.called = sorted(called)
    out.errors.update(rec.obs.errors)
    out.notes.extend(n for n in rec.obs.notes if n not in out.notes)
    out.not_checked.update(rec.obs.not_checked)  # our call did not fit: why, for the report and the coverage
    return out


def _hyper_kwargs(fn, b: Binding, case: OptimCase, rec: Recorder, what: str) -> dict | None:
    """Keyword arguments for the style's hyper-parameter names that fn declares; None when one is missing."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    kwargs = {}
    for canon, name in b.hypers.items():
        if name in params:
            kwargs[name] = case.hyper[canon]
        else:
            rec.error("hyperparams", f"{what} takes no {name!r}: the {canon} cannot be set, so the rule cannot be "
                                     f"checked with other values than its default")
            return None
    return kwargs


def _record_step(style: str, case: OptimCase, current: dict, rec: Recorder, out: OptimObservation, s: int) -> bool:
    """Append step s's parameters (canonical); False when one is unreadable (later steps are not judged)."""
    fam = "step" if s == 1 else "trajectory"
    step = {}
    for k, a in current.items():
        shape = style_shape(style, k, case.params[k]).shape
        arr = _numbers(rec, fam, f"step {s}: {k}", a, shape, loose=k.startswith("b"))
        if arr is None:
            return False
        step[k] = _canonical(style, k, arr, case.params[k].shape)
    out.trajectory = (out.trajectory or []) + [step]
    return True


def _numbers(rec: Recorder, fam: str, what: str, value, shape, *, loose: bool = False) -> np.ndarray | None:
    """Like Recorder.array, but NaN and inf are kept: the judge compares where they appear with where a
    known bug puts them (a bias correction at t = 0 divides by zero everywhere)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        finite = np.nan_to_num(value.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        checked = rec.array(fam, what, finite, shape, loose=loose)
        return None if checked is None else value.astype(np.float64).reshape(checked.shape)
    return rec.array(fam, what, value, shape, loose=loose)


# ---------------------------------------------------------------- CS231n: next_w, config = rule(w, dw, config)


def _cs231n(impl, case: OptimCase, b: Binding, rec: Recorder, out: OptimObservation) -> None:
    name, fn = _find(impl, b)
    configs = {k: {b.hypers[c]: case.hyper[c] for c in b.hypers} for k in case.params}
    w = {k: style_shape("cs231n", k, v) for k, v in case.typed_params().items()}
    for s, g in enumerate(case.typed_grads(), start=1):
        fam = "step" if s == 1 else "trajectory"
        nxt, states = {}, {}
        for k in case.params:
            wk, dwk = w[k].copy(), style_shape("cs231n", k, g[k]).copy()
            w_before, dw_before = wk.copy(), dwk.copy()
            ok, res = rec.call(fam, f"{name}(w, dw, config) for {k} at step {s}", fn, wk, dwk, configs[k])
            if not ok:
                return
            if not (isinstance(res, tuple) and len(res) == 2):
                rec.error(fam, f"{name} returned {type(res).__name__}; expected (next_w, config)")
                return
            next_w, config = res
            if not isinstance(config, dict):
                rec.error(("state", fam), f"{name} returned a config of type {type(config).__name__}; expected the "
                                          f"config dict (with its state) for the next call")
                return
            if not np.array_equal(dwk, dw_before, equal_nan=True) and "dw" not in out.mutated:
                out.mutated.append("dw")
            if next_w is wk or not np.array_equal(wk, w_before, equal_nan=True):
                if "w" not in out.mutated:
                    # the handout: "update rules may perform in-place updates, mutating w and setting next_w
                    # equal to w" (its own sgd does): stated, not judged
                    out.mutated.append("w")
                    out.hygiene.append("w")
                    rec.note(f"{name} updates w in place and returns it, which the CS231n handout allows")
            nxt[k] = next_w
            configs[k] = config
            for canon, key in b.state.items():
                if key in config:
                    val = config[key]
                    if canon == "t":
                        states[f"t.{k}"] = np.asarray(val, dtype=np.float64) if isinstance(
                            val, (int, float, np.number)) and not isinstance(val, bool) else np.asarray(np.nan)
                    elif isinstance(val, np.ndarray) and val.shape == wk.shape:
                        states[f"{canon}.{k}"] = _canonical("cs231n", k, val.astype(np.float64), case.params[k].shape)
                    else:
                        rec.error("state", f"config[{key!r}] after step {s} for {k} is "
                                           f"{type(val).__name__ if not isinstance(val, np.ndarray) else val.shape}; "
                                           f"expected an array shaped like w")
                else:
                    rec.error("state", f"config has no {key!r} after step {s}: the {canon} is not stored in the "
                                       f"config, so the next call cannot reuse it")
        if not _record_step("cs231n", case, nxt, rec, out, s):
            return
        w = {k: np.asarray(v) for k, v in nxt.items()}
        out.state = (out.state or []) + [states]


# ---------------------------------------------------------------- deeplearning.ai


def _dlai_call(fn, name: str, values: dict, rec: Recorder, fam: str):
    """Call fn with the course's argument names (positional order as the file declares them)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    args, kwargs, missing = [], {}, []
    for p in params:
        if p.name in values:
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and not kwargs:
                args.append(values[p.name])
            else:
                kwargs[p.name] = values[p.name]
        elif p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            missing.append(p.name)
    if missing:
        rec.error(fam, f"{name} needs {missing}, which the course's training loop does not pass; signature "
                       f"{name}({', '.join(p.name for p in params)})")
        return False, None
    unknown = [k for k in values if k not in {p.name for p in params}]
    if unknown and fam in ("step", "trajectory"):
        hyp = [k for k in unknown if k in ("learning_rate", "beta", "beta1", "beta2", "epsilon")]
        if hyp:
            rec.error("hyperparams", f"{name} takes no {hyp}: those hyper-parameters cannot be set")
    return rec.call(fam, f"{name}(...)", fn, *args, **kwargs)


def _dlai_dict(style_params: dict, prefix: str = "d") -> dict:
    return {prefix + k: v for k, v in style_params.items()}


def _dlai_state(rec: Recorder, what: str, d, case: OptimCase, canon: str, fam: str) -> dict | None:
    """{canon.W1: canonical array} from a dict keyed dW1/db1; None with the cause recorded."""
    if not isinstance(d, dict):
        rec.error(fam, f"{what} is {type(d).__name__}; expected a dict keyed 'dW1', 'db1', ...")
        return None
    out = {}
    for k, a in case.params.items():
        key = "d" + k
        if key not in d:
            rec.error(fam, f"{what} has no key {key!r} (keys: {sorted(map(str, d))[:8]})")
            return None
        arr = rec.array(fam, f"{what}[{key!r}]", d[key], style_shape("dlai", k, a).shape, loose=k.startswith("b"))
        if arr is None:
            return None
        out[f"{canon}.{k}"] = arr.reshape(a.shape)
    return out


def _dlai(impl, case: OptimCase, b: Binding, rec: Recorder, out: OptimObservation) -> None:
    name, fn = _find(impl, b)
    params = {k: style_shape("dlai", k, v) for k, v in case.typed_params().items()}
    zeros = {"d" + k: np.zeros_like(v) for k, v in params.items()}
    state_names = list(b.state.values())  # "v" (momentum), or "v", "s" (adam)
    state = {n: {k: z.copy() for k, z in zeros.items()} for n in state_names}
    init = get(impl, b.init) if b.init else None
    if b.init and callable(init):
        ok, res = _dlai_call(init, b.init, {"parameters": {k: v.copy() for k, v in params.items()}}, rec, "init")
        if ok:
            got = res if len(state_names) > 1 else (res,)
            if not isinstance(got, tuple) or len(got) != len(state_names):
                rec.error("init", f"{b.init} returned {type(res).__name__}; expected {', '.join(state_names)}")
            else:
                init_obs = {}
                for n, d, canon in zip(state_names, got, b.state):
                    seen = _dlai_state(rec, f"{b.init}(...) {n}", d, case, canon, "init")
                    if seen is not None:
                        init_obs.update(seen)
                if len(init_obs) == len(state_names) * len(case.params):
                    out.init = init_obs
                    # the course's flow: the update gets what the initializer returned
                    state = {n: {k: np.array(v, dtype=case.dtype) for k, v in d.items()}
                             for n, d in zip(state_names, got)}
    elif b.init:
        rec.note(f"{b.init} not defined: the update was started from zero state")
    for s, g in enumerate(case.typed_grads(), start=1):
        fam = "step" if s == 1 else "trajectory"
        grads = _dlai_dict({k: style_shape("dlai", k, v) for k, v in g.items()})
        g_before = {k: v.copy() for k, v in grads.items()}
        values = {"parameters": dict(params), "grads": grads, **{b.hypers[c]: case.hyper[c] for c in b.hypers}}
        if b.rule == "momentum":
            values["v"] = state["v"]
        if b.rule == "adam":
            values.update(v=state["v"], s=state["s"], t=s)
        ok, res = _dlai_call(fn, name, values, rec, fam)
        if not ok:
            return
        n_state = len(state_names)
        if n_state == 0:
            new_params = res[0] if isinstance(res, tuple) and res and isinstance(res[0], dict) else res
            got_state = ()
        else:
            if not (isinstance(res, tuple) and len(res) >= 1 + n_state):
                rec.error(fam, f"{name} returned {type(res).__name__}; expected (parameters, {', '.join(state_names)})")
                return
            new_params, got_state = res[0], res[1:1 + n_state]
        if not isinstance(new_params, dict):
            rec.error(fam, f"{name} returned parameters of type {type(new_params).__name__}; expected the dict")
            return
        if any(not np.array_equal(grads[k], g_before[k], equal_nan=True) for k in grads) and "grads" not in out.mutated:
            out.mutated.append("grads")
        current = {}
        for k in case.params:
            if k not in new_params:
                rec.error(fam, f"{name} returned parameters without {k!r}")
                return
            current[k] = new_params[k]
        if not _record_step("dlai", case, current, rec, out, s):
            return
        params = {k: np.asarray(current[k]) for k in case.params}
        states = {}
        for n, d, canon in zip(state_names, got_state, b.state):
            seen = _dlai_state(rec, f"{n} after step {s}", d, case, canon, "state")
            if seen is None:
                return
            states.update(seen)
            state[n] = d
        out.state = (out.state or []) + [states]


def _mini_batches(impl, case: OptimCase, rec: Recorder, out: OptimObservation) -> None:
    fn = get(impl, "random_mini_batches")
    X, Y = case.typed(case.params["X"]), case.typed(case.params["Y"])
    Xc, Yc = X.copy(), Y.copy()
    values = {"X": X, "Y": Y, "mini_batch_size": int(case.hyper["mini_batch_size"]), "seed": int(case.hyper["seed"])}
    ok, res = _dlai_call(fn, "random_mini_batches", values, rec, "mini_batches")
    if not ok:
        return
    if not np.array_equal(X, Xc) or not np.array_equal(Y, Yc):
        out.mutated.append("X/Y")
    if not isinstance(res, (list, tuple)):
        rec.error("mini_batches", f"random_mini_batches returned {type(res).__name__}; expected a list of "
                                  f"(mini_batch_X, mini_batch_Y)")
        return
    batches = []
    for i, pair in enumerate(res):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            rec.error("mini_batches", f"mini-batch {i} is {type(pair).__name__}; expected (mini_batch_X, mini_batch_Y)")
            return
        xb = rec.array("mini_batches", f"mini-batch {i} X", pair[0], None)
        yb = rec.array("mini_batches", f"mini-batch {i} Y", pair[1], None)
        if xb is None or yb is None:
            return
        batches.append((xb, yb))
    out.batches = batches


# ---------------------------------------------------------------- Saito: opt.update(params, grads) in place


def _saito(impl, case: OptimCase, b: Binding, rec: Recorder, out: OptimObservation) -> None:
    name, cls = _find(impl, b)
    kwargs = _hyper_kwargs(cls, b, case, rec, f"{name}(...)")
    if kwargs is None:
        return
    ok, opt = rec.call("step", f"{name}({', '.join(f'{k}={v:.3g}' for k, v in kwargs.items())})", cls, **kwargs)
    if not ok:
        return
    params = {k: style_shape("saito", k, v).copy() for k, v in case.typed_params().items()}
    held = dict(params)  # what the network's layers hold: the update must reach these very arrays
    for s, g in enumerate(case.typed_grads(), start=1):
        fam = "step" if s == 1 else "trajectory"
        grads = {k: style_shape("saito", k, v).copy() for k, v in g.items()}
        g_before = {k: v.copy() for k, v in grads.items()}
        ok, _ = rec.call(fam, f"{name}.update(params, grads) at step {s}", opt.update, params, grads)
        if not ok:
            return
        if any(not np.array_equal(grads[k], g_before[k], equal_nan=True) for k in grads) and "grads" not in out.mutated:
            out.mutated.append("grads")
        for k in case.params:
            if params.get(k) is not held[k] and k not in out.not_in_place:
                out.not_in_place.append(k)
        if not _record_step("saito", case, {k: params.get(k) for k in case.params}, rec, out, s):
            return
        held = {k: params[k] for k in case.params}  # judge the values from here on, not the rebinding again


# ---------------------------------------------------------------- MyTorch: SGD(model, lr, momentum).step()


def _mytorch(impl, case: OptimCase, b: Binding, rec: Recorder, out: OptimObservation) -> None:
    """The course's autograder layout first; the other one when the file's optimizer cannot use it."""
    other = "linear" if b.model_layers == "interleaved" else "interleaved"
    trial = Recorder(case)
    first = OptimObservation()
    if _mytorch_run(impl, case, b, trial, first, b.model_layers) or "step" not in trial.obs.errors:
        rec.obs.errors.update(trial.obs.errors)
        rec.obs.notes.extend(trial.obs.notes)
        rec.obs.not_checked.update(trial.obs.not_checked)
        out.__dict__.update(first.__dict__)
        return
    if _mytorch_run(impl, case, b, rec, out, other):
        why = trial.obs.errors["step"].split(" raised ", 1)[-1]
        rec.note(f"model.layers given as {'Linear layers only' if other == 'linear' else 'Linear, activation, ...'}:"
                 f" the optimizer cannot take the course's {b.model_layers} layout (it raised {why[:120]})")
    else:  # neither layout: report the course's layout's fault
        rec.obs.errors = dict(trial.obs.errors)
        rec.obs.not_checked.update(trial.obs.not_checked)
        out.__dict__.update(first.__dict__)


def _mytorch_run(impl, case: OptimCase, b: Binding, rec: Recorder, out: OptimObservation, layout: str) -> bool:
    """Step the file's optimizer over a model whose layers are Linear ("linear") or Linear, activation, ...
    ("interleaved"); True when every step ran."""
    from types import SimpleNamespace

    name, cls = _find(impl, b)
    kwargs = _hyper_kwargs(cls, b, case, rec, f"{name}(model, ...)")
    if kwargs is None:
        return False
    kwargs.update(b.constants)
    names = list(case.params)
    # one layer per (W, b) pair: the file's own Linear when it has one (an isinstance filter must see it)
    lin = get(impl, "Linear")
    act = get(impl, "ReLU")
    layers, linears, keys = [], [], []
    for k in names:
        if not k.startswith("W"):
            continue
        bk = "b" + k[1:]
        W, bias = style_shape("mytorch", k, case.typed(case.params[k])), style_shape("mytorch", bk,
                                                                                   case.typed(case.params[bk]))
        layer = None
        if isinstance(lin, type) and W.ndim == 2:
            ok, layer = rec.call("step", "Linear(in, out)", lin, W.shape[1], W.shape[0])
            layer = layer if ok else None
        if layer is None:
            layer = SimpleNamespace()
        layer.W, layer.b = W.copy(), bias.copy()
        layer.dLdW, layer.dLdb = np.zeros_like(W), np.zeros_like(bias)
        layers.append(layer)
        linears.append(layer)
        keys.append((k, bk))
        if layout == "interleaved":
            ok, a = rec.call("step", "ReLU()", act) if isinstance(act, type) else (False, None)
            layers.append(a if ok else SimpleNamespace())
    model = SimpleNamespace(layers=layers)
    shown = ", ".join(f"{k}={v:.3g}" for k, v in kwargs.items())
    ok, opt = rec.call("step", f"{name}(model, {shown})", cls, model, **kwargs)
    if not ok:
        return False
    for s, g in enumerate(case.typed_grads(), start=1):
        fam = "step" if s == 1 else "trajectory"
        for layer, (k, bk) in zip(linears, keys):
            layer.dLdW = style_shape("mytorch", k, g[k]).copy()
            layer.dLdb = style_shape("mytorch", bk, g[bk]).copy()
        before = [(layer.dLdW.copy(), layer.dLdb.copy()) for layer in linears]
        ok, _ = rec.call(fam, f"{name}.step() at step {s}", opt.step)
        if not ok:
            return False
        if any(not (np.array_equal(l_.dLdW, w) and np.array_equal(l_.dLdb, b_))
               for l_, (w, b_) in zip(linears, before)) and "grads" not in out.mutated:
            out.mutated.append("grads")
        current = {}
        for layer, (k, bk) in zip(linears, keys):
            current[k], current[bk] = getattr(layer, "W", None), getattr(layer, "b", None)
        if not _record_step("mytorch", case, current, rec, out, s):
            return True  # ran; the numbers were unreadable (recorded)
    return True
