"""The pasteable smallest failing case for deeplearning.ai course 5's recurrent cells and sequences (fn:rnn_cell,
fn:lstm_cell, fn:rnn, fn:lstm): the Case in the notebook's layout (one example per column, time last, the
parameters dict the driver builds), the file's own forward/backward calls, each gradient read from the returned
dict, and what a correct implementation returns in the same layout (the oracle's canonical arrays converted the
way oracles/styles/dlai_layers_rnn.py converts the file's).

Hooked into reports/validate_snippets.snippet_for beside rnn_snippets; None for any other Case."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oracles.case import Case
from oracles.layers.recurrent import seq_dims, step_dims
from oracles.styles._common import array_literal as _lit
from oracles.styles.dlai_layers_rnn import course_params, out_weights

__all__ = ["dlai_rnn_snippet"]

_ENTRY = {"rnn_step": "rnn_cell", "lstm_step": "lstm_cell", "rnn": "rnn", "lstm": "lstm"}


def _dict(name: str, d: dict[str, np.ndarray]) -> list[str]:
    return [f"{name} = {{"] + [f"    {k!r}: {_lit(v)}," for k, v in d.items()] + ["}"]


def _grad_dict(exp_grads: dict, D: int, H: int, lstm: bool) -> dict[str, np.ndarray]:
    """The oracle's dWx, dWh, db in the course's keys and shapes: the same linear map as the parameters'."""
    p = course_params({"Wx": exp_grads["Wx1"], "Wh": exp_grads["Wh1"], "b": exp_grads["b1"]}, lstm)
    if not lstm:
        return {"dWax": p["Wax"], "dWaa": p["Waa"], "dba": p["ba"]}
    return {f"d{w}{g}": p[f"{w}{g}"] for g in "fico" for w in "Wb"}  # the notebook's key order


def dlai_rnn_snippet(style: str, entry: str, case: Case, path: str, oracle) -> str | None:
    spec = case.spec
    if style != "dlai" or spec.is_mlp or len(spec.layers) != 1 or spec.layers[0].kind not in _ENTRY:
        return None
    slot = spec.slots[0]
    kind, hp = slot.layer.kind, slot.layer.hp
    name, lstm, step = _ENTRY[kind], kind.startswith("lstm"), kind.endswith("_step")
    exp = oracle.expected(case, estimate=False)
    x, dout, m = case.typed(case.x), case.typed(case.y), case.m
    p = {k: case.typed(case.params[slot.params[k]]) for k in ("Wx", "Wh", "b")}
    H = p["Wh"].shape[0]
    params = {**course_params(p, lstm), **out_weights(case, H, lstm)}
    lines = ["import numpy as np", f"import {Path(path).stem} as student", "",
             f"# {spec.describe()}, batch {case.m}; one example per column (the notebook's layout)"]
    if step:
        D, H = step_dims(hp)
        ins = [("xt", x[:, :D].T), ("a_prev", x[:, D:D + H].T)] + ([("c_prev", x[:, D + H:].T)] if lstm else [])
        douts = [("da_next", dout[:, :H].T)] + ([("dc_next", dout[:, H:].T)] if lstm else [])
        gin = exp.grads["x"]
        want_in = [("dxt", gin[:, :D].T), ("da_prev", gin[:, D:D + H].T)] + (
            [("dc_prev", gin[:, D + H:].T)] if lstm else [])
        outs = ["a_next"] + (["c_next"] if lstm else [])
        want_out = [("a_next", exp.out[:, :H].T)] + ([("c_next", exp.out[:, H:].T)] if lstm else [])
        ret = ", ".join(outs + ["yt_pred", "cache"])
    else:
        T, D, H = seq_dims(hp)
        ins = [("x", x[:, :T * D].reshape(m, T, D).transpose(2, 0, 1)), ("a0", x[:, T * D:].T)]
        douts = [("da", dout.reshape(m, T, H).transpose(2, 0, 1))]
        gin = exp.grads["x"]
        want_in = [("dx", gin[:, :T * D].reshape(m, T, D).transpose(2, 0, 1)), ("da0", gin[:, T * D:].T)]
        want_out = [("a", exp.out.reshape(m, T, H).transpose(2, 0, 1))]
        ret = "a, y, c, caches" if lstm else "a, y_pred, caches"
    lines += [f"{n} = {_lit(v)}" for n, v in ins]
    lines += _dict("parameters", params)
    lines += [f"{n} = {_lit(v)}" for n, v in douts]
    cache = "cache" if step else "caches"
    lines += [f"{ret} = student.{name}_forward({', '.join(n for n, _ in ins)}, parameters)",
              f"gradients = student.{name}_backward({', '.join(n for n, _ in douts)}, {cache})"]
    want = dict(want_in, **_grad_dict(exp.grads, D, H, lstm))
    lines += [f"{k} = gradients[{k!r}]" for k in want]
    lines += ["", "# what a correct implementation returns (torch float64 autograd), in the same layout:"]
    lines += [f"expected_{n} = {_lit(v)}" for n, v in want_out]
    lines += [f"expected_{k} = {_lit(v)}" for k, v in want.items()]
    return "\n".join(lines) + "\n"
