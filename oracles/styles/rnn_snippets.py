"""The pasteable smallest failing case for a CS231n recurrent layer checked on its own (rnn_step, rnn,
lstm_step, lstm, temporal_affine, word_embedding, temporal_softmax_loss): the Case's packed inputs unpacked
into the handout's arguments as literals, the file's own forward/backward calls, and what correct layers
return, unpacked the same way. Word indices, labels and the mask (float-encoded in the Case,
oracles/layers/words.py) are written as the int and bool literals the course passes.

Hooked into reports/validate_snippets.snippet_for beside conv_snippets; None for any other Case."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oracles.case import Case
from oracles.layers.recurrent import seq_dims, step_dims
from oracles.layers.words import split_scores, word_indices
from oracles.styles._common import array_literal as _lit

__all__ = ["rnn_snippet"]

_KINDS = ("rnn_step", "lstm_step", "rnn", "lstm", "temporal_affine", "word_embedding", "temporal_softmax_loss")


def _parts(case: Case, a: np.ndarray, kind: str, hp) -> list[tuple[str, np.ndarray]]:
    """A packed per-sample array split into the handout's named arrays."""
    m = a.shape[0]
    if kind.endswith("_step"):
        D, H = step_dims(hp)
        out = [("x", a[:, :D]), ("prev_h", a[:, D:D + H])]
        return out + ([("prev_c", a[:, D + H:])] if kind == "lstm_step" else [])
    T, D, H = seq_dims(hp)
    return [("x", a[:, :T * D].reshape(m, T, D)), ("h0", a[:, T * D:])]


def rnn_snippet(style: str, entry: str, case: Case, path: str, oracle) -> str | None:
    spec = case.spec
    if style != "cs231n" or spec.is_mlp or len(spec.layers) != 1 or spec.layers[0].kind not in _KINDS:
        return None
    slot = spec.slots[0]
    kind, hp = slot.layer.kind, slot.layer.hp
    exp = oracle.expected(case, estimate=False)
    x, dout = case.typed(case.x), case.typed(case.y)
    lines = ["import numpy as np", f"import {Path(path).stem} as student", "", f"# {spec.describe()}, batch {case.m}"]
    if kind == "temporal_affine":
        lines += [f"x = {_lit(x)}", f"w = {_lit(case.params[slot.params['W']])}",
                  f"b = {_lit(case.params[slot.params['b']])}", f"dout = {_lit(dout)}",
                  "out, cache = student.temporal_affine_forward(x, w, b)",
                  "dx, dw, db = student.temporal_affine_backward(dout, cache)", "",
                  "# what a correct layer returns (torch float64 autograd):",
                  f"expected_out = {_lit(exp.out)}", f"expected_dx = {_lit(exp.grads['x'])}",
                  f"expected_dw = {_lit(exp.grads[slot.params['W']])}",
                  f"expected_db = {_lit(exp.grads[slot.params['b']])}"]
        return "\n".join(lines) + "\n"
    if kind == "word_embedding":
        lines += [f"x = {_lit(word_indices(x))}", f"W = {_lit(case.params[slot.params['W']])}",
                  f"dout = {_lit(dout)}", "out, cache = student.word_embedding_forward(x, W)",
                  "dW = student.word_embedding_backward(dout, cache)", "",
                  "# what a correct layer returns (torch float64 autograd); repeated words add up in dW:",
                  f"expected_out = {_lit(exp.out)}", f"expected_dW = {_lit(exp.grads[slot.params['W']])}"]
        return "\n".join(lines) + "\n"
    if kind == "temporal_softmax_loss":
        scores, y, mask = split_scores(x)
        V = scores.shape[2]
        lines += [f"x = {_lit(scores)}", f"y = {_lit(y)}", f"mask = {_lit(mask)}",
                  "loss, dx = student.temporal_softmax_loss(x, y, mask)", "",
                  "# what a correct loss returns (torch float64 autograd; summed over the steps, divided by N):",
                  f"expected_loss = {exp.loss!r}", f"expected_dx = {_lit(exp.grads['x'][:, :, :V])}"]
        return "\n".join(lines) + "\n"
    parts = _parts(case, x, kind, hp)
    names = [n for n, _ in parts]
    lines += [f"{n} = {_lit(v)}" for n, v in parts]
    lines += [f"{k} = {_lit(case.params[slot.params[k]])}" for k in ("Wx", "Wh", "b")]
    m = case.m
    if kind.endswith("_step"):
        H = step_dims(hp)[1]
        douts = [("dnext_h", dout[:, :H])] + ([("dnext_c", dout[:, H:])] if kind == "lstm_step" else [])
        outs = "next_h, next_c, cache" if kind == "lstm_step" else "next_h, cache"
        want_out = [("expected_next_h", exp.out[:, :H])] + (
            [("expected_next_c", exp.out[:, H:])] if kind == "lstm_step" else [])
    else:
        T, _, H = seq_dims(hp)
        douts = [("dh", dout.reshape(m, T, H))]
        outs = "h, cache"
        want_out = [("expected_h", exp.out.reshape(m, T, H))]
    grads = [f"d{n}" for n in names] + ["dWx", "dWh", "db"]
    lines += [f"{n} = {_lit(v)}" for n, v in douts]
    lines += [f"{outs} = student.{kind}_forward({', '.join(names)}, Wx, Wh, b)",
              f"{', '.join(grads)} = student.{kind}_backward({', '.join(n for n, _ in douts)}, cache)", "",
              "# what a correct layer returns (torch float64 autograd):"]
    lines += [f"{n} = {_lit(v)}" for n, v in want_out]
    lines += [f"expected_{g} = {_lit(v)}" for g, (_, v) in zip(grads, _parts(case, exp.grads["x"], kind, hp))]
    lines += [f"expected_d{k} = {_lit(exp.grads[slot.params[k]])}" for k in ("Wx", "Wh", "b")]
    return "\n".join(lines) + "\n"
