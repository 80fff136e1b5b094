"""CS231n assignment 2's normalisation and dropout functions, checked one layer at a time, as the course's
notebooks check them: ``fn:batchnorm``, ``fn:batchnorm_alt``, ``fn:layernorm``, ``fn:spatial_batchnorm``,
``fn:spatial_groupnorm``, ``fn:dropout`` (hooked into oracles/styles/cs231n.py).

Each entry is a one-layer Spec with loss 'dot' (L = sum(out * dout), the upstream gradient dout drawn
standard normal): the driver calls ``<kind>_forward(x, gamma, beta, bn_param)`` (``G, gn_param`` for
groupnorm, ``dropout_forward(x, dropout_param)``), reads ``out`` (the ``output`` check), the running
statistics written back into ``bn_param`` (the ``state`` check), then ``<kind>_backward(dout, cache)``
(``dx``, ``dgamma``, ``dbeta``). Test mode checks ``out`` only for batchnorm (the course never
backpropagates there) and ``out``, ``dx`` for dropout.

Conventions are read from the file, never blamed on it:
* batchnorm's running variance: the course's biased ``np.var`` or torch's unbiased one (one probe call);
  the momentum side is the course's (``momentum * running + (1 - momentum) * batch``: the skeleton gives it).
* dropout's p: keep (2018 on) or drop (2016-2017) probability, read by an exact binomial test over 10^4
  units (oracles.keep_rate), and the scaling: inverted (train divides by the keep probability) or at test
  time. A keep rate that fits neither p nor 1 - p is a failure of the ``output`` check.
The mask the implementation drew is read from its cache (any array of x's shape whose zeros are out's)
or, failing that, from ``out != 0`` (x is never 0), and handed to the oracle (``Observation.aux``).
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.keep_rate import declared_meaning, read_dropout
from oracles.observation import Observation
from oracles.styles._common import Recorder, Snapshot, UnsupportedCase, get, probed, require

__all__ = ["FNS", "entry_points", "spec_space", "run", "own_loss", "probe_dropout"]

# entry -> (forward, backward, table kind, modes checked)
FNS = {
    "batchnorm": ("batchnorm_forward", "batchnorm_backward", "batchnorm", ("train", "test")),
    "batchnorm_alt": ("batchnorm_forward", "batchnorm_backward_alt", "batchnorm", ("train",)),
    "layernorm": ("layernorm_forward", "layernorm_backward", "layernorm", ("train",)),
    "spatial_batchnorm": ("spatial_batchnorm_forward", "spatial_batchnorm_backward", "spatial_batchnorm",
                          ("train", "test")),
    "spatial_groupnorm": ("spatial_groupnorm_forward", "spatial_groupnorm_backward", "groupnorm", ("train",)),
    "dropout": ("dropout_forward", "dropout_backward", "dropout", ("train", "test")),
}
_IMAGES = ((2, 3, 3), (3, 2, 4), (4, 3, 2), (6, 2, 2), (4, 1, 1))
_ALL = ("output", "grad_x", "grad_param", "state")  # state: batchnorm only (_families)


def _families(name: str) -> tuple[str, ...]:
    return {"dropout": ("output", "grad_x"), "layernorm": _ALL[:3], "spatial_groupnorm": _ALL[:3]}.get(name, _ALL)
_PROBE_UNITS = (100, 100)  # 10^4 units: p = 0.3 and 0.7 lie ~90 standard deviations apart


def _pair(impl, entry: str):
    fwd, bwd = get(impl, FNS[entry][0]), get(impl, FNS[entry][1])
    ok = callable(fwd) and callable(bwd) and not isinstance(fwd, type) and not isinstance(bwd, type)
    return (fwd, bwd) if ok else None


def entry_points(impl) -> list[str]:
    """``fn:<kind>`` for every forward/backward pair the file defines."""
    return [f"fn:{e}" for e in FNS if _pair(impl, e) is not None]


# ---------------------------------------------------------------------------------- conventions




def probe_running_var(impl, entry: str) -> str | None:
    """'biased' or 'unbiased': which batch variance the file's running_var follows (None: neither, or
    the forward failed: the state check then judges the course's formula)."""
    fwd = get(impl, FNS[entry][0])
    rng = np.random.default_rng(7)
    shape = (5, 3) if entry.startswith("batchnorm") else (3, 2, 2, 2)
    x = 1.0 + 2.0 * rng.standard_normal(shape)
    c = shape[1]
    bn = {"mode": "train", "eps": 1e-5, "momentum": 0.5, "running_mean": np.zeros(c), "running_var": np.ones(c)}
    try:
        with np.errstate(all="ignore"):
            fwd(x, np.ones(c), np.zeros(c), bn)
        got = np.asarray(bn.get("running_var"), dtype=np.float64).reshape(-1)
    except Exception:  # noqa: BLE001 - the checks will show what is wrong with the forward
        return None
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    for name, ddof in (("biased", 0), ("unbiased", 1)):
        want = 0.5 + 0.5 * x.var(axis=axes, ddof=ddof)
        if got.shape == want.shape and np.allclose(got, want, rtol=1e-9, atol=0):
            return name
    return None


def probe_eps_at_test(impl, entry: str) -> str | None:
    """'inside' or 'outside': where the test-mode forward adds eps (a small running_var shows it)."""
    fwd = get(impl, FNS[entry][0])
    shape = (4, 3) if entry.startswith("batchnorm") else (2, 3, 2, 2)
    x = np.random.default_rng(8).standard_normal(shape)
    rv, eps = np.array([1e-3, 0.04, 2.0]), 1e-3
    bn = {"mode": "test", "eps": eps, "momentum": 0.9, "running_mean": np.zeros(3), "running_var": rv.copy()}
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fwd(x, np.ones(3), np.zeros(3), bn)[0], dtype=np.float64)
    except Exception:  # noqa: BLE001
        return None
    per = rv if len(shape) == 2 else rv.reshape(1, 3, 1, 1)
    for name, std in (("inside", np.sqrt(per + eps)), ("outside", np.sqrt(per) + eps)):
        if out.shape == x.shape and np.allclose(out, x / std, rtol=1e-9, atol=0):
            return name
    return None


def probe_dropout(fwd, p: float = 0.3, *, call=None):
    """One train-time call on 10^4 units: a keep_rate.DropoutReading (None when the call failed)."""
    x = np.random.default_rng(11).uniform(0.5, 1.5, _PROBE_UNITS)
    call = call or (lambda x, p: fwd(x, {"p": p, "mode": "train"}))
    try:
        with np.errstate(all="ignore"):
            ret = call(x, p)
        out, cache = (ret[0], ret[1]) if isinstance(ret, (tuple, list)) and len(ret) == 2 else (ret, None)
        out = np.asarray(out, dtype=np.float64)
        if out.shape != x.shape:
            return None
    except Exception:  # noqa: BLE001
        return None
    return read_dropout(x, out, p, mask=find_mask(cache, x.shape, out))


def find_mask(cache, shape, out, x=None) -> np.ndarray | None:
    """The first array of x's shape in a cache whose zeros are exactly out's zeros where x is not 0 (the mask
    it drew; a zero input, e.g. a dead ReLU unit, tells nothing)."""
    stack, seen = [cache], 0
    out_kept = np.asarray(out) != 0
    known = np.ones(out_kept.shape, dtype=bool) if x is None else np.asarray(x) != 0
    while stack and seen < 200:
        obj = stack.pop(0)
        seen += 1
        if isinstance(obj, np.ndarray):
            if obj.shape == tuple(shape) and obj.dtype != object and np.array_equal((obj != 0) & known,
                                                                                  out_kept & known):
                return obj
        elif isinstance(obj, (tuple, list)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
    return None


def _dropout_conventions(impl) -> tuple[tuple, str]:
    """(fixed conventions, a sentence saying what the file does) from the probe and the docstring."""
    fwd = get(impl, "dropout_forward")
    r = probe_dropout(fwd)
    said = declared_meaning(getattr(fwd, "__doc__", None))
    if r is None or r.meaning in ("either", "neither"):
        meaning = said or "keep"
        why = f"p read as the {meaning} probability ({'its docstring' if said else 'the course since 2018'})"
    else:
        meaning = r.meaning
        why = r.describe()
        if said and said != meaning:
            why += f" (its docstring says p is the {said} probability)"
    scaling = "inverted"  # the handout (every year): "implement inverted dropout"; a file that is not fails
    if meaning == "drop":
        why += "; CS231n 2016-2017's convention (p drops), not a bug"
    return (("dropout", "p_means", meaning), ("dropout", "scaling", scaling)), why


# ---------------------------------------------------------------------------------- spaces


def spec_space(impl, entry: str) -> SpecSpace:
    name = entry.split(":", 1)[1]
    if name not in FNS or _pair(impl, name) is None:
        raise UnsupportedCase(f"cs231n[{entry}]: the file defines no {FNS.get(name, (name,))[0]} with its backward")
    layer, modes = FNS[name][2], FNS[name][3]
    fixed: tuple = ()
    if layer in ("batchnorm", "spatial_batchnorm"):
        rv = probed(impl, f"running_var:{name}", lambda: probe_running_var(impl, name)) or "biased"
        at_test = probed(impl, f"eps_at_test:{name}", lambda: probe_eps_at_test(impl, name)) or "inside"
        fixed = ((layer, "running_var", rv), (layer, "momentum_on", "running"), (layer, "eps_at_test", at_test))
    elif layer == "dropout":
        fixed = probed(impl, "dropout", lambda: _dropout_conventions(impl))[0]
    shapes = _IMAGES if layer in ("spatial_batchnorm", "groupnorm") else ()
    return SpecSpace(layout="rows", sequences=(layer,), fixed=fixed, modes=modes, input_shapes=shapes,
                     outputs=(("dot", ("identity",)),), reductions=("sum",), targets=("dense",))


# ---------------------------------------------------------------------------------- running


def _hyper(case: Case) -> dict:
    return case.spec.layers[0].hp


def _call_forward(impl, name: str, case: Case, rec: Recorder, x, gamma, beta, state: dict):
    fwd = get(impl, FNS[name][0])
    hp, mode = _hyper(case), case.spec.mode
    what = f"{FNS[name][0]}(x, ...)"
    fams = _families(name)
    if name == "dropout":
        return rec.call(fams, what, fwd, x, {"p": float(hp["p"]), "mode": mode}), None
    if name == "layernorm":
        return rec.call(fams, what, fwd, x, gamma, beta, {"eps": float(hp["eps"])}), None
    if name == "spatial_groupnorm":
        G, c = int(hp["G"]), x.shape[1]
        ok, ret = rec.call(fams, what, fwd, x, gamma.reshape(1, c, 1, 1), beta.reshape(1, c, 1, 1), G,
                           {"eps": float(hp["eps"])})
        if not ok:  # the course's gamma was (C,) before 2021
            sub = Recorder(case)
            ok2, ret2 = sub.call(fams, what, fwd, x, gamma, beta, G, {"eps": float(hp["eps"])})
            if ok2:
                rec.obs.errors.clear()
                rec.note(f"{FNS[name][0]} takes gamma, beta of shape (C,) (the course's layout before 2021)")
                return (ok2, ret2), None
        return (ok, ret), None
    bn = {"mode": mode, "eps": float(hp["eps"]), "momentum": float(hp["momentum"]),
          "running_mean": state["running_mean"], "running_var": state["running_var"]}
    return rec.call(fams, what, fwd, x, gamma, beta, bn), bn


def _read_pair(rec: Recorder, what: str, ret, n: int, names: str, fams=_ALL):
    if isinstance(ret, (tuple, list)) and len(ret) == n:
        return ret
    got = f"a {type(ret).__name__} of {len(ret)} items" if isinstance(ret, (tuple, list)) else (
        "None" if ret is None else f"a {type(ret).__name__}")
    rec.error(fams, f"{what} returned {got}; expected {names}")
    return None


_SAY = {
    ("running_var", "unbiased"): "running_var follows the unbiased batch variance (torch's convention; the course "
                                 "uses the biased np.var): judged under it",
    ("eps_at_test", "outside"): "test mode adds eps outside the sqrt, sqrt(running_var) + eps (the course puts it "
                                "inside, as in train mode; relative difference ~ eps / (2 running_var))",
    ("p_means", "drop"): "p is read as the DROP probability (CS231n 2016-2017's convention; since 2018 p keeps)",
    ("scaling", "at_test"): "dropout is not inverted: train keeps x, test multiplies by the keep probability",
}


def convention_notes(space: SpecSpace, entry: str) -> list[str]:
    """A sentence for every convention this entry runs under that differs from the course's default."""
    return [f"convention: {entry}: {_SAY[(k, v)]}" for _, k, v in space.fixed if (k, v) in _SAY]


def run(impl, case: Case, entry: str) -> Observation:
    space = spec_space(impl, entry)
    require(space, case, "cs231n", entry)
    name = entry.split(":", 1)[1]
    rec = Recorder(case)
    for n in convention_notes(space, entry):
        rec.note(n)
    _run(impl, name, case, rec)
    return rec.obs


def _run(impl, name: str, case: Case, rec: Recorder, *, loss_only: bool = False) -> None:
    slot = case.spec.slots[0]
    x = np.ascontiguousarray(case.typed(case.x))
    gamma = beta = None
    if slot.params:
        gamma, beta = (np.ascontiguousarray(case.typed(case.params[slot.params[k]])) for k in ("gamma", "beta"))
    state = {short: case.typed(case.state[full]).copy() for short, full in slot.state.items()}
    dout = np.ascontiguousarray(case.typed(case.y))
    watch = Snapshot({"x": x, "gamma": gamma, "beta": beta}, "in")
    (ok, ret), bn = _call_forward(impl, name, case, rec, x, gamma, beta, state)
    fname = FNS[name][0]
    ret = _read_pair(rec, fname, ret, 2, "(out, cache)", _families(name)) if ok else None
    if name == "dropout" and case.spec.mode == "train":
        rec.obs.aux[slot.aux["mask"]] = np.ones(x.shape)  # replaced below by the mask it drew
    if ret is None:
        return
    out = rec.array(_families(name), f"{fname} out", ret[0], x.shape)
    if out is None:
        return
    cache = ret[1]
    rec.obs.out = out
    if loss_only:  # the own loss sum(out * dout); never judged: 'output' judges out itself, and this sum of
        rec.obs.loss = float(np.sum(out * case.y))  # signed products cancels beyond the oracle's estimate
    if name == "dropout" and case.spec.mode == "train":
        mask = find_mask(cache, x.shape, out)
        rec.obs.aux[slot.aux["mask"]] = (mask != 0 if mask is not None else out != 0).astype(np.float64)
        if not loss_only:
            _keep_rate_check(impl, case, rec)
    if bn is not None and case.spec.mode == "train":
        for short, full in slot.state.items():
            got = rec.array("state", f"bn_param[{short!r}] after {fname}", bn.get(short), state[short].shape,
                            loose=True)  # (1, D) running statistics (keepdims) broadcast like (D,): a note
            if got is not None:
                rec.obs.state[full] = got
    if loss_only:
        return
    for path in watch.changed():
        rec.mutated("x" if "'x'" in path else f"params:{slot.params['gamma' if 'gamma' in path else 'beta']}")
        rec.note(f"{fname} wrote into its argument {path[3:]}")
    backprop = case.spec.mode == "train" or name == "dropout"
    if backprop:
        _backward(impl, name, case, rec, dout, cache, slot)


def _backward(impl, name: str, case: Case, rec: Recorder, dout, cache, slot) -> None:
    bname = FNS[name][1]
    bwd = get(impl, bname)
    fams = ("grad_x", "grad_param")
    snap = Snapshot(dout, "dout")
    csnap = Snapshot(cache, "cache")
    ok, ret = rec.call(fams, f"{bname}(dout, cache)", bwd, dout, cache)
    if snap.changed():
        rec.mutated("dout")
        rec.note(f"{bname} wrote into its dout argument")
    if csnap.changed():
        rec.mutated("caches")
        rec.note(f"{bname} wrote into the cache ({', '.join(csnap.changed()[:3])})")
    if not ok:
        return
    if name == "dropout":
        dx = ret[0] if isinstance(ret, (tuple, list)) and len(ret) == 1 else ret
        g = rec.array("grad_x", f"{bname} dx", dx, dout.shape)
        if g is not None:
            rec.obs.grads["x"] = g
        return
    ret = _read_pair(rec, bname, ret, 3, "(dx, dgamma, dbeta)", fams)
    if ret is None:
        return
    g = rec.array("grad_x", f"{bname} dx", ret[0], dout.shape)
    if g is not None:
        rec.obs.grads["x"] = g
    c = dout.shape[1]
    for k, v in zip(("gamma", "beta"), ret[1:]):
        g = rec.array("grad_param", f"{bname} d{k}", v, (c,), loose=True)
        if g is not None:
            rec.obs.grads[slot.params[k]] = g


def _keep_rate_check(impl, case: Case, rec: Recorder) -> None:
    """The binomial test at this case's p: a keep rate that fits neither p nor 1 - p fails ``output``;
    one that contradicts the convention this entry runs under (read once per file) fails it too."""
    hp = _hyper(case)
    p = float(hp["p"])
    r = probed(impl, f"dropout:{p}", lambda: probe_dropout(get(impl, "dropout_forward"), p))
    if r is None:
        return
    if r.meaning == "neither":
        rec.error("output", f"dropout_forward keep rate: {r.describe()} (exact binomial test, p-values "
                            f"{r.p_value_keep:.1e} for p, {r.p_value_drop:.1e} for 1 - p)")
    elif r.meaning != "either" and r.meaning != hp["p_means"]:
        rec.error("output", f"dropout_forward keep rate: {r.describe()}; at another p it read p as the "
                            f"{hp['p_means']} probability: the meaning of p changes with its value")
    else:
        # The handout's docstring is this file's contract: CS231n 2016-2017 say "We drop each neuron output with
        # probability p", 2018 on "We keep ...". A mask that reads p the other way is a bug (seen in two real
        # files), even though it is the right reading in another year; the values are judged under what it does.
        said = declared_meaning(getattr(get(impl, "dropout_forward"), "__doc__", None))
        if said and r.meaning in ("keep", "drop") and r.meaning != said:
            rec.error("output", f"dropout_forward keep rate: {r.describe()}, but its docstring says p is the "
                                f"{said.upper()} probability: the mask reads p the wrong way for this handout")


def own_loss(impl, case: Case, entry: str) -> float | None:
    """sum(out * dout) from the file's forward; None for dropout (a fresh mask on every call)."""
    require(spec_space(impl, entry), case, "cs231n", entry)
    name = entry.split(":", 1)[1]
    if name == "dropout":
        return None
    rec = Recorder(case)
    _run(impl, name, case, rec, loss_only=True)
    return rec.obs.loss
