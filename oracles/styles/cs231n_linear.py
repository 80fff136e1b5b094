"""CS231n assignment 1's linear classifiers: ``classifiers/softmax.py`` (``softmax_loss_naive``,
``softmax_loss_vectorized``) and ``classifiers/linear_svm.py`` (``svm_loss_naive``, ``svm_loss_vectorized``),
each ``f(W, X, y, reg) -> (loss, dW)``; one entry per function (hooked into oracles/styles/cs231n.py), so
a naive and a vectorized version are judged apart.

The model is one ``linear`` layer (no bias: the course's bias trick makes it a row of W) followed by
softmax cross-entropy or the multiclass hinge (margin 1, sum over j != y), a mean over the N samples, on
integer labels. The file's W (D, C) is the Case's W1 (C, D) transposed; dW comes back the same way.

L2 changed by handout year: 2017 on, ``loss += reg * np.sum(W * W)`` (gradient 2 reg W); 2016,
``0.5 * reg * np.sum(W * W)`` (gradient reg W). The oracle adds 0.5 * spec.reg * sum W^2. Each call is
preceded by a probe with X = 0, where the data loss is known (log C for softmax, C - 1 for the SVM) and
the data gradient is 0: loss - data loss = factor * reg * sum W^2 and dW = 2 factor * reg * W. The file
gets reg = spec.reg / (2 factor), so both agree, and the convention is noted. A loss whose L2 term fits
neither year is read through its gradient's factor; when neither fits, the 2017+ convention is used and
the loss (or dW) fails: that is the file's own inconsistency, never our guess.
"""

from __future__ import annotations

import math

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.observation import Observation
from oracles.styles._common import Recorder, Snapshot, UnsupportedCase, get, require

__all__ = ["ENTRIES", "entry_points", "spec_space", "run", "own_loss", "reg_factor"]

_LOSS = {"softmax_loss_naive": "softmax_cross_entropy", "softmax_loss_vectorized": "softmax_cross_entropy",
         "svm_loss_naive": "hinge", "svm_loss_vectorized": "hinge"}
ENTRIES = tuple(_LOSS)
_FAMS = ("loss", "grad_W")
# the two handout years' L2 factors on reg * sum W^2, as the probe reads them
_YEARS = {1.0: "reg * np.sum(W * W), gradient 2 * reg * W (2017+ handouts)",
          0.5: "0.5 * reg * np.sum(W * W), gradient reg * W (2016 handouts)"}


def _fn(impl, entry: str):
    f = get(impl, entry)
    return f if callable(f) and not isinstance(f, type) else None


def entry_points(impl) -> list[str]:
    return [e for e in ENTRIES if _fn(impl, e) is not None]


def spec_space(impl, entry: str) -> SpecSpace:
    if entry not in ENTRIES or _fn(impl, entry) is None:
        raise UnsupportedCase(f"cs231n[{entry}]: the file defines no {entry}(W, X, y, reg) function")
    return SpecSpace(layout="rows", sequences=("linear",), outputs=((_LOSS[entry], ("identity",)),),
                     reductions=("mean",), targets=("labels",), allow_reg=True, min_outputs=2)


def _data_loss(loss: str, C: int) -> float:
    """The data loss at X = 0 (every score 0): log C for softmax, C - 1 margins of 1 for the SVM."""
    return math.log(C) if loss == "softmax_cross_entropy" else float(C - 1)


def reg_factor(fn, loss: str, D: int, C: int, N: int, dtype) -> tuple[float | None, float | None]:
    """(loss factor, gradient factor): the file's L2 read as f * reg * sum W^2 and dW = g * reg * W at X = 0
    (a right file has g = 2 f). None where the probe could not read one (it raised, or gave no number)."""
    W = np.random.default_rng(0x231).standard_normal((D, C)).astype(dtype)
    X = np.zeros((N, D), dtype=dtype)
    y = np.arange(N) % C
    reg = 0.37  # not 1: an L2 term without reg (np.sum(W * W) alone) must not read as the 2017+ one
    try:
        with np.errstate(all="ignore"):
            out = fn(W.copy(), X, y, reg)
    except Exception:
        return None, None
    w = W.astype(np.float64)
    ww = reg * float(np.sum(w * w))
    f = g = None
    try:
        f = (float(out[0]) - _data_loss(loss, C)) / ww
        dW = np.asarray(out[1], dtype=np.float64)
        if dW.shape == w.shape:
            g = float(np.sum(dW * w)) / ww  # <dW, W> / (reg <W, W>)
    except Exception:
        pass
    return (f if f is not None and math.isfinite(f) else None), (g if g is not None and math.isfinite(g) else None)


def _year(f: float | None, g: float | None, dtype) -> tuple[float, str]:
    """The handout year's factor (1 or 0.5) that the probe's factors fit, and a note for the reader."""
    tol = 1e-6 if np.dtype(dtype) == np.float64 else 1e-3

    def near(v, want):
        return v is not None and abs(v - want) <= tol * want

    for c in (1.0, 0.5):
        if near(f, c):
            return c, f"L2 convention read from the file's loss: {_YEARS[c]}"
    for c in (1.0, 0.5):
        if near(g, 2 * c):
            return c, (f"L2 convention read from the file's dW (its loss adds {f:.4g} * reg * sum W^2, neither "
                       f"year's): {_YEARS[c]}" if f is not None else f"L2 convention read from dW: {_YEARS[c]}")
    shown = "" if f is None else f" (its loss adds {f:.4g} * reg * sum W^2"
    shown += "" if g is None else f"{', ' if shown else ' ('}its dW has {g:.4g} * reg * W"
    shown += ")" if shown else ""
    return 1.0, f"the file's L2 term fits neither handout year{shown}: judged as the 2017+ {_YEARS[1.0]}"


def _run(impl, case: Case, entry: str, rec: Recorder, *, loss_only: bool = False) -> None:
    spec = case.spec
    fn = _fn(impl, entry)
    W = np.ascontiguousarray(case.typed(case.params["W1"]).T)  # (D, C), the course's layout
    X = np.ascontiguousarray(case.typed(case.x).reshape(case.m, -1))
    y = np.asarray(case.y).astype(np.int64)
    D, C = W.shape
    reg = 0.0
    if spec.reg:
        f, g = reg_factor(fn, spec.loss, D, C, case.m, W.dtype)
        c, why = _year(f, g, W.dtype)
        rec.note(why)
        reg = spec.reg / (2.0 * c)  # c * reg * sum W^2 = 0.5 * spec.reg * sum W^2, the oracle's
    snap = Snapshot({"W": W, "X": X, "y": y}, "in")
    what = f"{entry}(W, X, y, reg={reg:.6g})"
    ok, out = rec.call(_FAMS, what, fn, W, X, y, reg)
    for path in snap.changed():
        name = path.split("'")[1]
        rec.mutated("params:W1" if name == "W" else name.lower())
        rec.note(f"{what} wrote into its argument {name}")
    if not ok:
        return
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        got = f"a {type(out).__name__} of {len(out)} items" if isinstance(out, (tuple, list)) else type(out).__name__
        rec.error(_FAMS, f"{what} returned {got}; expected (loss, dW)")
        return
    rec.obs.loss = rec.scalar("loss", f"{what} loss", out[0])
    if loss_only:
        return
    dW = rec.array("grad_W", f"{what} dW", out[1], (D, C))
    if dW is not None:
        rec.obs.grads["W1"] = dW.T.copy()


def run(impl, case: Case, entry: str) -> Observation:
    require(spec_space(impl, entry), case, "cs231n", entry)
    rec = Recorder(case)
    _run(impl, case, entry, rec)
    return rec.obs


def own_loss(impl, case: Case, entry: str) -> float | None:
    require(spec_space(impl, entry), case, "cs231n", entry)
    rec = Recorder(case)
    _run(impl, case, entry, rec, loss_only=True)
    return rec.obs.loss


def snippet(style: str, entry: str, case: Case, path: str, oracle) -> str | None:
    """The pasteable smallest failing case: W, X, y as literals, the file's own call, and what a correct
    function returns in the course's layout (None for any other check: reports/validate_snippets.py)."""
    from pathlib import Path

    from oracles.styles._common import array_literal as lit

    if style != "cs231n" or entry not in ENTRIES or case.spec.is_mlp or case.spec.kinds() != "linear":
        return None
    exp = oracle.expected(case, estimate=False)
    spec = case.spec
    lines = ["import numpy as np", f"import {Path(path).stem} as student", "",
             f"# {spec.describe()}, batch {case.m}",
             f"W = {lit(case.params['W1'].T)}  # (D, C)", f"X = {lit(case.x.reshape(case.m, -1))}",
             f"y = {lit(np.asarray(case.y).astype(np.int64))}"]
    if spec.reg:
        lines.append(f"reg = {spec.reg / 2!r}  # the 2017+ L2 reg * np.sum(W * W); a 2016 file's "
                     f"0.5 * reg * np.sum(W * W) takes reg = {spec.reg!r}")
    else:
        lines.append("reg = 0.0")
    lines += [f"loss, dW = student.{entry}(W, X, y, reg)", "",
              "# what a correct function returns (torch float64 autograd):"]
    if exp.loss is not None:
        lines.append(f"expected_loss = {float(exp.loss)!r}")
    if "W1" in exp.grads:
        lines.append(f"expected_dW = {lit(exp.grads['W1'].T)}")
    return "\n".join(lines)
