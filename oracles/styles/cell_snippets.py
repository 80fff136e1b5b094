"""The pasteable smallest failing case for MyTorch hw3p1's RNNCell / GRUCell (oracles/styles/mytorch_cells.py):
the Case's packed inputs unpacked into the handout's arguments as literals, the driver's own calls (RNNCell:
two backward calls, delta x 1/4 then x 3/4; GRUCell: the first sample, as the autograder runs one), and what
a correct cell leaves (RNNCell: the gradients averaged over the batch, as the handout stores them).

Hooked into reports/validate_snippets.snippet_for; None for any other Case."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from oracles.case import Case
from oracles.layers.mytorch_cells import CELL_KINDS, GRU_PARAMS, RNN_PARAMS
from oracles.layers.recurrent import step_dims
from oracles.styles._common import array_literal as _lit

__all__ = ["cell_snippet"]


def cell_snippet(style: str, entry: str, case: Case, path: str, oracle) -> str | None:
    spec = case.spec
    if style != "mytorch" or spec.is_mlp or len(spec.layers) != 1 or spec.layers[0].kind not in CELL_KINDS:
        return None
    from oracles.styles.mytorch_cells import SPLIT

    slot = spec.slots[0]
    D, H = step_dims(slot.layer.hp)
    rnn = slot.layer.kind == "mytorch_rnn_cell"
    if not rnn:  # the autograder's one sample: the first of the Case
        case = replace(case, x=case.x[:1], y=case.y[:1])
    exp = oracle.expected(case, estimate=False)
    x, dout = case.typed(case.x), case.typed(case.y)
    names = RNN_PARAMS if rnn else GRU_PARAMS
    cls = "RNNCell" if rnn else "GRUCell"
    lines = ["import numpy as np", f"import {Path(path).stem} as student", "",
             f"# {spec.describe()}, batch {case.m}" + ("" if rnn else " (its first sample: GRUCell runs one)")]
    lines += [f"{n} = {_lit(case.typed(case.params[slot.params[n]]))}" for n in names]
    lines += [f"cell = student.{cls}({D}, {H})", f"cell.init_weights({', '.join(names)})"]
    k = case.m if rnn else 1
    if rnn:
        lines += [f"x = {_lit(x[:, :D])}", f"h_prev_t = {_lit(x[:, D:])}", f"delta = {_lit(dout)}",
                  "h_t = cell(x, h_prev_t)",
                  "# the classifier calls a cell once per time step: two calls, the gradients add up (+=)",
                  f"dx1, dh1 = cell.backward(delta * {SPLIT[0]}, h_t, x, h_prev_t)",
                  f"dx2, dh2 = cell.backward(delta * {SPLIT[1]}, h_t, x, h_prev_t)",
                  "dx, dh_prev_t = dx1 + dx2, dh1 + dh2", "",
                  "# what a correct cell gives (torch float64 autograd; dW, db averaged over the batch):"]
    else:
        lines += [f"x = {_lit(x[0, :D])}", f"h_prev_t = {_lit(x[0, D:])}", f"delta = {_lit(dout[0])}",
                  "h_t = cell.forward(x, h_prev_t)", "dx, dh_prev_t = cell.backward(delta)", "",
                  "# what a correct cell gives (torch float64 autograd):"]
    out, g = exp.out if rnn else exp.out[0], exp.grads["x"] if rnn else exp.grads["x"][0]
    lines += [f"expected_h_t = {_lit(out)}", f"expected_dx = {_lit(g[..., :D])}",
              f"expected_dh_prev_t = {_lit(g[..., D:])}"]
    lines += [f"expected_d{n} = {_lit(exp.grads[slot.params[n]] / k)}  # compare with cell.d{n}" for n in names]
    return "\n".join(lines) + "\n"
