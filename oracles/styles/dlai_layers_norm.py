"""deeplearning.ai course 2 week 1 ("Regularization"): the three-layer model with L2 or inverted dropout,
entries ``regularization`` and ``dropout`` (hooked into oracles/styles/dlai.py).

* ``regularization``: ``forward_propagation(X, parameters)`` (the course's reg_utils; ours when the file has
  none), ``compute_cost_with_regularization(A3, Y, parameters, lambd)``,
  ``backward_propagation_with_regularization(X, Y, cache, lambd)``. The course's L2 term is
  lambd / (2 m) sum ||W||^2, i.e. the Spec's 0.5 reg sum ||W||^2 with reg = lambd / m: lambd = reg * m.
* ``dropout``: ``forward_propagation_with_dropout(X, parameters, keep_prob)`` (masks D1, D2 in the cache),
  ``compute_cost(A3, Y)`` (the file's, else ours), ``backward_propagation_with_dropout(X, Y, cache,
  keep_prob)``. keep_prob KEEPS a unit (its name says so): a keep rate that fits 1 - keep_prob (the binomial
  test of oracles.keep_rate on D1) fails ``output``. The masks are read from the cache and given to the oracle.

One sample per column, W{l} (n_l, n_{l-1}), b{l} (n_l, 1); dW, db carry the 1/m; the course's dA are
gradients of the summed cost (canonical A{l} = dA{l}.T / m), checked for the L2 model only (with dropout the
course's dA1 is taken before the mask, not at the next layer's input).
"""

from __future__ import annotations

import re

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.keep_rate import read_dropout
from oracles.observation import Observation
from oracles.styles._common import Recorder, Snapshot, UnsupportedCase, get, probed, require

__all__ = ["ENTRIES", "entry_points", "spec_space", "run", "own_loss"]

ENTRIES = ("regularization", "dropout")
_FAMS = ("loss", "grad_W", "grad_b", "grad_hidden", "output")
_NAMES = {"regularization": ("compute_cost_with_regularization", "backward_propagation_with_regularization"),
          "dropout": ("forward_propagation_with_dropout", "backward_propagation_with_dropout")}
_SEQ = "affine>relu>dropout>affine>relu>dropout>affine>sigmoid"
_KEEP = 0.7  # one keep_prob for both layers, as the course's function takes it (the notebook's tests use 0.7)


def entry_points(impl) -> list[str]:
    return [e for e in ENTRIES if all(callable(get(impl, n)) for n in _NAMES[e])]


def _reference():
    from reference import dlai_regularization

    return dlai_regularization


def _fn(impl, name: str):
    f = get(impl, name)
    return f if callable(f) and not isinstance(f, type) else getattr(_reference(), name)


def probe_keep(impl):
    """A keep_rate reading of D1 from one forward pass with 10^4 hidden units at keep_prob = 0.7."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3, 1000))
    params = {"W1": np.abs(rng.standard_normal((10, 3))), "b1": np.ones((10, 1)), "W2": rng.standard_normal((4, 10)),
              "b2": np.zeros((4, 1)), "W3": rng.standard_normal((1, 4)), "b3": np.zeros((1, 1))}
    try:
        with np.errstate(all="ignore"):
            _, cache = get(impl, "forward_propagation_with_dropout")(np.abs(X), params, 0.7)
        masks = _masks(cache, [(10, 1000), (4, 1000)])
        if masks[0] is None:
            return None
        return read_dropout(np.ones((10, 1000)), masks[0].astype(np.float64), 0.7, mask=masks[0])
    except Exception:  # noqa: BLE001
        return None


def _masks(cache, shapes) -> list:
    """D1, D2: the 0/1 arrays of the hidden shapes in the cache, in order (the course's tuple).

    A hidden layer whose units are all dropped (or all dead) leaves an all-zero activation beside its
    mask, a 0/1 array of the next mask's shape too; so an integer or boolean array (the course's
    ``.astype(int)``, a student's ``rand < keep_prob``) is taken before a float one, and in a dict the
    keys that name a mask (D1, mask2, dropout...) before the others."""
    if isinstance(cache, dict):
        named = sorted(cache, key=lambda k: not re.fullmatch(r"(?i)(d\d*|.*mask.*|.*drop.*)", str(k)))
        items = [cache[k] for k in named]
    else:
        items = list(cache) if isinstance(cache, (tuple, list)) else []
    found = [a for a in items if isinstance(a, np.ndarray) and a.ndim == 2 and np.isin(a, (0, 1)).all()]
    found.sort(key=lambda a: a.dtype.kind == "f")  # stable: order kept within each kind
    out = []
    for shape in shapes:
        k = next((i for i, a in enumerate(found) if a.shape == tuple(shape)), None)
        out.append(None if k is None else found.pop(k))
    return out


def spec_space(impl, entry: str) -> SpecSpace:
    if entry not in entry_points(impl):
        raise UnsupportedCase(f"dlai[{entry}]: the file defines no {' and '.join(_NAMES.get(entry, (entry,)))}")
    if entry == "regularization":
        return SpecSpace(layout="columns", min_layers=3, max_layers=3, hidden_activations=("relu",),
                         uniform_hidden=True, outputs=(("binary_cross_entropy", ("sigmoid",)),), targets=("dense",),
                         allow_reg=True, max_outputs=1)
    return SpecSpace(layout="columns", sequences=(_SEQ,), outputs=(("binary_cross_entropy", ("sigmoid",)),),
                     targets=("dense",), max_outputs=1, fixed=(("dropout", "p_means", "keep"),
                                                               ("dropout", "scaling", "inverted"),
                                                               ("dropout", "p", _KEEP)))


def _parameters(case: Case) -> dict[str, np.ndarray]:
    p = {}
    for l in range(1, case.spec.n_layers + 1):
        p[f"W{l}"] = case.typed(case.params[f"W{l}"]).copy()
        p[f"b{l}"] = case.typed(case.params[f"b{l}"]).reshape(-1, 1).copy()
    return p


def run(impl, case: Case, entry: str) -> Observation:
    require(spec_space(impl, entry), case, "dlai", entry)
    rec = Recorder(case)
    _run(impl, case, entry, rec)
    return rec.obs


def _run(impl, case: Case, entry: str, rec: Recorder, *, loss_only: bool = False) -> None:
    spec, m = case.spec, case.m
    X = np.ascontiguousarray(case.typed(case.x).T)
    Y = np.ascontiguousarray(case.typed(case.y).T)
    params = _parameters(case)
    watch = Snapshot({"X": X, "Y": Y, "parameters": params}, "in")
    widths = [s.out_shape[0] for s in spec.slots if s.layer.kind == "affine"]
    if entry == "regularization":
        lambd = float(spec.reg) * m  # lambd / (2 m) ||W||^2 = 0.5 reg ||W||^2
        ok, ret = rec.call(_FAMS, "forward_propagation(X, parameters)", _fn(impl, "forward_propagation"), X, params)
    else:
        keep = float(spec.layers[2].hp["p"])
        ok, ret = rec.call(_FAMS, "forward_propagation_with_dropout(X, parameters, keep_prob)",
                           get(impl, "forward_propagation_with_dropout"), X, params, keep)
        for full in spec.aux_names():
            rec.obs.aux[full] = np.ones((m, widths[0] if full == "mask1" else widths[1]))
    if not ok:
        return
    if not isinstance(ret, (tuple, list)) or len(ret) != 2:
        rec.error(_FAMS, f"the forward pass returned {type(ret).__name__}; expected (A3, cache)")
        return
    A3, cache = ret
    if entry == "dropout":
        D1, D2 = _masks(cache, [(widths[0], m), (widths[1], m)])
        if D1 is None or D2 is None:
            rec.error(_FAMS, "no dropout masks D1, D2 (0/1 arrays of the hidden layers' shapes) in the cache")
            return
        rec.obs.aux["mask1"], rec.obs.aux["mask2"] = D1.T.astype(np.float64), D2.T.astype(np.float64)
        r = probed(impl, "dlai:keep", lambda: probe_keep(impl))
        if r is not None and r.meaning not in ("keep", "either"):
            rec.error("output", f"forward_propagation_with_dropout keep rate: {r.describe()}; keep_prob is the "
                                f"probability of KEEPING a unit (exact binomial test on D1)")
    if rec.array("loss", "A3", A3, (1, m)) is None:
        return
    if entry == "regularization":
        ok, cost = rec.call("loss", "compute_cost_with_regularization(A3, Y, parameters, lambd)",
                            get(impl, "compute_cost_with_regularization"), A3, Y, params, lambd)
    else:
        ok, cost = rec.call("loss", "compute_cost(A3, Y)", _fn(impl, "compute_cost"), A3, Y)
    if ok:
        rec.obs.loss = rec.scalar("loss", "the cost", cost)
    if loss_only:
        return
    fams = ("grad_W", "grad_b", "grad_hidden")
    csnap = Snapshot(cache, "cache")
    if entry == "regularization":
        ok, grads = rec.call(fams, "backward_propagation_with_regularization(X, Y, cache, lambd)",
                             get(impl, "backward_propagation_with_regularization"), X, Y, cache, lambd)
    else:
        ok, grads = rec.call(fams, "backward_propagation_with_dropout(X, Y, cache, keep_prob)",
                             get(impl, "backward_propagation_with_dropout"), X, Y, cache, keep)
    for path in watch.changed():  # in['X'], in['Y'], in['parameters']['W1']
        parts = path.split("'")
        rec.mutated({"X": "x", "Y": "y"}.get(parts[1]) or f"params:{parts[3]}")
    if csnap.changed():
        rec.mutated("caches")
    if not ok:
        return
    if not isinstance(grads, dict):
        rec.error(fams, f"the backward pass returned {type(grads).__name__}; expected a dict dW1, db1, ...")
        return
    sizes = [spec.x_shape[0], *widths]
    for l in range(1, 4):
        for p, fam, shape in (("W", "grad_W", (sizes[l], sizes[l - 1])), ("b", "grad_b", (sizes[l], 1))):
            g = rec.array(fam, f"grads['d{p}{l}']", grads.get(f"d{p}{l}"), shape, loose=(p == "b"))
            if g is not None:
                rec.obs.grads[f"{p}{l}"] = g.reshape(-1) if p == "b" else g
    if entry == "regularization":
        for l in (1, 2):
            g = rec.array("grad_hidden", f"grads['dA{l}']", grads.get(f"dA{l}"), (sizes[l], m))
            if g is not None:
                rec.obs.grads[f"A{l}"] = g.T / m  # the course's dA: gradient of the summed cost


def own_loss(impl, case: Case, entry: str) -> float | None:
    if entry == "dropout":
        return None  # a fresh mask per call (the course reseeds, a student's file may not)
    require(spec_space(impl, entry), case, "dlai", entry)
    rec = Recorder(case)
    _run(impl, case, entry, rec, loss_only=True)
    return rec.obs.loss
