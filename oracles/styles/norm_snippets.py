"""The pasteable smallest failing case for a normalisation or dropout layer checked on its own (CS231n fn:
entries): the inputs as literals, the file's own forward/backward call, and what a correct layer returns.

Hooked into reports/validate_snippets.snippet_for: it returns None for any Case it does not know (an MLP,
a conv layer), and the caller writes its own snippet then."""

from __future__ import annotations

from pathlib import Path

from oracles.case import Case
from oracles.styles._common import array_literal as _lit

__all__ = ["layer_snippet"]




def layer_snippet(style: str, entry: str, case: Case, path: str, oracle) -> str | None:
    from oracles.styles.cs231n_layers_norm import FNS

    name = entry[3:] if entry.startswith("fn:") else ""
    if style != "cs231n" or name not in FNS or case.spec.is_mlp or len(case.spec.layers) != 1:
        return None
    fwd, bwd = FNS[name][0], FNS[name][1]
    spec, slot = case.spec, case.spec.slots[0]
    hp, mode = spec.layers[0].hp, spec.mode
    lines = ["import numpy as np", f"import {Path(path).stem} as student", "",
             f"# {spec.describe()}, batch {case.m}", f"x = {_lit(case.x)}", f"dout = {_lit(case.y)}"]
    if name == "dropout":
        lines.append(f"out, cache = student.{fwd}(x, {{'p': {hp['p']!r}, 'mode': {mode!r}}})")
        lines.append(f"dx = student.{bwd}(dout, cache)")
        if mode == "train":
            keep = hp["p"] if hp["p_means"] == "keep" else 1 - hp["p"]
            scale = f" / {keep!r}" if hp["scaling"] == "inverted" else ""
            lines += ["", "# the mask is random: with the mask m your forward drew (m != 0 where out != 0),",
                      f"# a correct layer gives out = x * m{scale} and dx = dout * m{scale}"]
            return "\n".join(lines)
    else:
        lines += [f"gamma = {_lit(case.params[slot.params['gamma']])}",
                  f"beta = {_lit(case.params[slot.params['beta']])}"]
        if name == "layernorm":
            lines.append(f"out, cache = student.{fwd}(x, gamma, beta, {{'eps': {hp['eps']!r}}})")
        elif name == "spatial_groupnorm":
            c = spec.input_shape[0]
            lines.append(f"out, cache = student.{fwd}(x, gamma.reshape(1, {c}, 1, 1), beta.reshape(1, {c}, 1, 1), "
                         f"{hp['G']!r}, {{'eps': {hp['eps']!r}}})")
        else:
            rm, rv = (case.state[slot.state[k]] for k in ("running_mean", "running_var"))
            lines.append(f"bn_param = {{'mode': {mode!r}, 'eps': {hp['eps']!r}, 'momentum': {hp['momentum']!r}, "
                         f"'running_mean': {_lit(rm)}, 'running_var': {_lit(rv)}}}")
            lines.append(f"out, cache = student.{fwd}(x, gamma, beta, bn_param)")
        if mode == "train":
            lines.append(f"dx, dgamma, dbeta = student.{bwd}(dout, cache)")
    exp = oracle.expected(case, estimate=False)
    lines += ["", "# what a correct layer returns (torch float64 autograd):", f"expected_out = {_lit(exp.out)}"]
    if mode == "train" or name == "dropout":
        lines.append(f"expected_dx = {_lit(exp.grads['x'])}")
    if mode == "train" and name != "dropout":
        lines += [f"expected_dgamma = {_lit(exp.grads[slot.params['gamma']])}",
                  f"expected_dbeta = {_lit(exp.grads[slot.params['beta']])}"]
    for short, full in slot.state.items():
        if mode == "train" and full in exp.state:
            lines.append(f"expected_bn_param_{short} = {_lit(exp.state[full])}")
    return "\n".join(lines)
