"""Saito's simple layers MulLayer and AddLayer ("Deep Learning from Scratch", 5.4), checked one class at a
time (entries ``MulLayer`` and ``AddLayer``, hooked into oracles/styles/saito.py).

``MulLayer()``: ``forward(x, y) -> x * y``, ``backward(dout) -> (dx, dy)`` = (dout * y, dout * x);
``AddLayer()``: ``forward(x, y) -> x + y``, ``backward(dout) -> (dout, dout)``. The book calls them on
Python scalars (an apple's price, a count, a tax rate) and the layers are written for numpy arrays too:
each Case calls them on arrays (m, *s) and, for its first sample's first element, on Python floats, the
book's own use. The oracle's kinds ``mul_pair`` / ``add_pair`` (oracles/layers/pair.py) take the two
operands stacked on axis 1; dx and dy are stacked the same way, as the gradient of "x".
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.observation import Observation
from oracles.styles._common import Recorder, Snapshot, UnsupportedCase, get, require

__all__ = ["ENTRIES", "entry_points", "spec_space", "run", "own_loss"]

ENTRIES = ("MulLayer", "AddLayer")
_KIND = {"MulLayer": "mul_pair", "AddLayer": "add_pair"}
# per-sample operand shapes: (2, n) is two vectors of n; (2, 1) the book's scalars, one per row
_SHAPES = ((2, 1), (2, 3), (2, 4), (2, 2, 3))


# the spellings real files use (docs/real-world/layers.tsv): a lower-case l, a doubled l
SPELLINGS = {"MulLayer": ("MulLayer", "Mullayer", "MullLayer"), "AddLayer": ("AddLayer", "Addlayer")}


def _spelled(impl, name: str) -> str | None:
    """The file's spelling of the class, when it defines one with forward and backward."""
    for spelling in SPELLINGS.get(name, ()):
        c = get(impl, spelling)
        if isinstance(c, type) and callable(getattr(c, "forward", None)) and callable(getattr(c, "backward", None)):
            return spelling
    return None


def _cls(impl, name: str):
    spelling = _spelled(impl, name)
    return get(impl, spelling) if spelling else None


def entry_points(impl) -> list[str]:
    return [n for n in ENTRIES if _cls(impl, n) is not None]


def spec_space(impl, entry: str) -> SpecSpace:
    if entry not in ENTRIES or _cls(impl, entry) is None:
        raise UnsupportedCase(f"saito[{entry}]: the file defines no {entry} class with forward and backward")
    return SpecSpace(layout="rows", sequences=(_KIND[entry],), outputs=(("dot", ("identity",)),),
                     reductions=("sum",), targets=("dense",), input_shapes=_SHAPES)


def run(impl, case: Case, entry: str) -> Observation:
    require(spec_space(impl, entry), case, "saito", entry)
    rec = Recorder(case)
    if _spelled(impl, entry) != entry:
        rec.note(f"the file's {_spelled(impl, entry)} is read as the book's {entry}")
    _run(_cls(impl, entry), case, entry, rec)
    return rec.obs


def own_loss(impl, case: Case, entry: str) -> float | None:
    return None  # the one-layer 'dot' loss is ours; 'output' judges the forward itself


def _pair(rec: Recorder, what: str, got, shape: tuple[int, ...]) -> tuple | None:
    """(dx, dy) as two float64 arrays of ``shape``, or None with the reason recorded."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        kind = f"a {type(got).__name__} of {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
        rec.error("grad_x", f"{what} returned {kind}; the book's backward returns the pair dx, dy")
        return None
    dx = rec.array("grad_x", f"{what} dx", got[0], shape)
    dy = rec.array("grad_x", f"{what} dy", got[1], shape)
    return (dx, dy) if dx is not None and dy is not None else None


def _run(cls, case: Case, entry: str, rec: Recorder) -> None:
    fams = ("output", "grad_x")
    x = np.ascontiguousarray(case.typed(case.x))
    dout = np.ascontiguousarray(case.typed(case.y))
    a, b = np.ascontiguousarray(x[:, 0]), np.ascontiguousarray(x[:, 1])
    ok, layer = rec.call(fams, f"{entry}()", cls)
    if not ok:
        return
    if rec.forward(fams, f"{entry}.forward(x, y)", layer.forward, (a, b), dout.shape, {"x": (a, b)}) is None:
        return
    dsnap = Snapshot(dout, "dout")
    ok, got = rec.call("grad_x", f"{entry}.backward(dout)", layer.backward, dout)
    if dsnap.changed():
        rec.mutated("dout")
    if not ok:
        return
    pair = _pair(rec, f"{entry}.backward(dout)", got, dout.shape)
    if pair is None:
        return
    rec.obs.grads["x"] = np.stack(pair, axis=1)
    if case.spec.dtype == "float64":  # (Python floats are float64: a float32 Case would differ by rounding)
        _scalars(cls, case, entry, rec, a, b, dout)


def _scalars(cls, case: Case, entry: str, rec: Recorder, a, b, dout) -> None:
    """The book's own use, on Python floats: one element of the Case, checked against the array call's answer
    (which the oracle judges); a layer right on arrays and wrong on floats is wrong on a valid input."""
    i = (0,) * a.ndim
    xs, ys, ds = float(a[i]), float(b[i]), float(dout[i])
    want_out = float(rec.obs.out[i])
    want = (float(rec.obs.grads["x"][(i[0], 0, *i[1:])]), float(rec.obs.grads["x"][(i[0], 1, *i[1:])]))
    what = f"{entry}.forward({xs!r}, {ys!r}) on Python floats, as the book calls it"
    ok, layer = rec.call("output", f"{entry}()", cls)
    if not ok:
        return
    # (a forward that fails on floats is the output's finding; the arrays' dx, dy were judged above)
    ok, out = rec.call("output", what, layer.forward, xs, ys)
    if not ok:
        return
    if not _same(out, want_out):
        rec.error("output", f"{what} gave {out!r}; on the same numbers in an array it gave {want_out!r}")
        return
    what = f"{entry}.backward({ds!r}) after that forward"
    ok, got = rec.call("grad_x", what, layer.backward, ds)
    if ok and not (isinstance(got, (tuple, list)) and len(got) == 2 and all(map(_same, got, want))):
        rec.error("grad_x", f"{what} gave {got!r}; on the same numbers in arrays it gave {want!r}")


def _same(got, want: float) -> bool:
    try:
        return bool(np.ndim(got) == 0 and float(got) == want)
    except (TypeError, ValueError):
        return False


def snippet(style: str, entry: str, case: Case, path: str, oracle) -> str | None:
    """The pasteable smallest failing case: the two operands and dout as literals, the file's own calls, and
    what a correct layer returns (None for any other check: reports/validate_snippets.py writes those)."""
    from pathlib import Path

    from oracles.styles._common import array_literal as lit

    if style != "saito" or entry not in ENTRIES or case.spec.is_mlp or len(case.spec.layers) != 1:
        return None
    exp = oracle.expected(case, estimate=False)
    g = exp.grads["x"]
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    cls = next((n for n in SPELLINGS[entry] if f"class {n}" in text), entry)
    return "\n".join([
        "import numpy as np", f"import {Path(path).stem} as student", "",
        f"# {case.spec.describe()}, batch {case.m}",
        f"x = {lit(case.x[:, 0])}", f"y = {lit(case.x[:, 1])}", f"dout = {lit(case.y)}",
        f"layer = student.{cls}()", "out = layer.forward(x, y)", "dx, dy = layer.backward(dout)",
        "# and as the book calls it, on Python floats (the first element):",
        f"layer = student.{cls}()", "out_float = layer.forward(x.flat[0].item(), y.flat[0].item())",
        "dx_float, dy_float = layer.backward(dout.flat[0].item())", "",
        "# what a correct layer returns (torch float64 autograd):",
        f"expected_out = {lit(exp.out)}", f"expected_dx = {lit(g[:, 0])}", f"expected_dy = {lit(g[:, 1])}"])
