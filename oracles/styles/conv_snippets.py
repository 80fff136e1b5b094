"""The pasteable smallest failing case for a convolution or pooling layer checked on its own: the inputs as
literals in the course's own layout, the file's own forward/backward call, and what a correct layer returns
(in the same layout).

Hooked into reports/validate_snippets.snippet_for beside norm_snippets.layer_snippet: it returns None for
any Case it does not know (an MLP, a whole conv net), and the caller writes its own snippet then."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oracles.case import Case
from oracles.layers.conv import kernel
from oracles.styles._common import array_literal as _lit

__all__ = ["conv_snippet"]

# CS231n single-layer entries: (forward, backward, what the backward returns)
_CS231N = {
    "fn:conv": ("conv_forward_naive", "conv_backward_naive", "dx, dw, db"),
    "fn:conv_fast": ("conv_forward_fast", "conv_backward_fast", "dx, dw, db"),
    "fn:max_pool": ("max_pool_forward_naive", "max_pool_backward_naive", "dx"),
    "fn:max_pool_fast": ("max_pool_forward_fast", "max_pool_backward_fast", "dx"),
    "fn:conv_relu": ("conv_relu_forward", "conv_relu_backward", "dx, dw, db"),
    "fn:conv_relu_pool": ("conv_relu_pool_forward", "conv_relu_pool_backward", "dx, dw, db"),
}




def _nhwc(a: np.ndarray) -> np.ndarray:
    return np.transpose(a, (0, 2, 3, 1))


def conv_snippet(style: str, entry: str, case: Case, path: str, oracle) -> str | None:
    spec = case.spec
    if spec.is_mlp or not spec.layers or spec.layers[0].kind not in ("conv", "max_pool", "avg_pool"):
        return None
    if style == "cs231n" and entry in _CS231N:
        body = _cs231n(entry, case)
    elif style == "dlai" and entry in ("fn:conv", "fn:pool"):
        body = _dlai(entry, case)
    elif style == "saito" and entry in ("Convolution", "Pooling"):
        body = _saito(entry, case)
    else:
        return None
    exp = oracle.expected(case, estimate=False)
    nhwc = style == "dlai"
    conv = spec.layers[0].kind == "conv"
    lines = ["import numpy as np", f"import {Path(path).stem} as student", "", f"# {spec.describe()}, batch {case.m}",
             *body, "", "# what a correct layer returns (torch float64 autograd, the layout of your call):",
             f"expected_out = {_lit(_nhwc(exp.out) if nhwc else exp.out)}",
             f"expected_dx = {_lit(_nhwc(exp.grads['x']) if nhwc else exp.grads['x'])}"]
    if conv:
        slot = spec.slots[0]
        dw, db = exp.grads[slot.params["W"]], exp.grads[slot.params["b"]]
        lines += [f"expected_dw = {_lit(np.transpose(dw, (2, 3, 1, 0)) if nhwc else dw)}",
                  f"expected_db = {_lit(db.reshape(1, 1, 1, -1) if nhwc else db)}"]
    return "\n".join(lines)


def _weights(case: Case) -> tuple[np.ndarray, np.ndarray]:
    slot = case.spec.slots[0]
    return case.params[slot.params["W"]], case.params[slot.params["b"]]


def _cs231n(entry: str, case: Case) -> list[str]:
    fwd, bwd, back = _CS231N[entry]
    layers = case.spec.layers
    lines = [f"x = {_lit(case.x)}", f"dout = {_lit(case.y)}"]
    args = ["x"]
    if layers[0].kind == "conv":
        W, b = _weights(case)
        hp = layers[0].hp
        lines += [f"w = {_lit(W)}", f"b = {_lit(b)}",
                  f"conv_param = {{'stride': {int(hp['stride'])}, 'pad': {int(hp['pad'])}}}"]
        args += ["w", "b", "conv_param"]
    pool = next((layer for layer in layers if layer.kind == "max_pool"), None)
    if pool is not None:
        kh, kw = kernel(pool.hp)
        lines.append(f"pool_param = {{'pool_height': {kh}, 'pool_width': {kw}, 'stride': {int(pool.hp['stride'])}}}")
        args.append("pool_param")
    return lines + [f"out, cache = student.{fwd}({', '.join(args)})", f"{back} = student.{bwd}(dout, cache)"]


def _dlai(entry: str, case: Case) -> list[str]:
    layer = case.spec.layers[0]
    hp = layer.hp
    lines = [f"A_prev = {_lit(_nhwc(case.x))}  # (m, n_H_prev, n_W_prev, n_C_prev)",
             f"dZ = {_lit(_nhwc(case.y))}"]
    if entry == "fn:conv":
        W, b = _weights(case)
        return lines + [f"W = {_lit(np.transpose(W, (2, 3, 1, 0)))}  # (f, f, n_C_prev, n_C)",
                        f"b = {_lit(b.reshape(1, 1, 1, -1))}",
                        f"hparameters = {{'stride': {int(hp['stride'])}, 'pad': {int(hp['pad'])}}}",
                        "Z, cache = student.conv_forward(A_prev, W, b, hparameters)",
                        "dA_prev, dW, db = student.conv_backward(dZ, cache)"]
    mode = "max" if layer.kind == "max_pool" else "average"
    return lines + [f"hparameters = {{'f': {kernel(hp)[0]}, 'stride': {int(hp['stride'])}}}",
                    f"A, cache = student.pool_forward(A_prev, hparameters, mode={mode!r})",
                    f"dA_prev = student.pool_backward(dZ, cache, mode={mode!r})"]


def _saito(entry: str, case: Case) -> list[str]:
    hp = case.spec.layers[0].hp
    lines = [f"x = {_lit(case.x)}", f"dout = {_lit(case.y)}"]
    if entry == "Convolution":
        W, b = _weights(case)
        lines += [f"W = {_lit(W)}", f"b = {_lit(b)}",
                  f"layer = student.Convolution(W, b, stride={int(hp['stride'])}, pad={int(hp['pad'])})"]
    else:
        kh, kw = kernel(hp)
        lines.append(f"layer = student.Pooling({kh}, {kw}, stride={int(hp['stride'])})")
    return lines + ["out = layer.forward(x)", "dx = layer.backward(dout)" + ("  # layer.dW, layer.db: the parameter "
                                                                              "gradients" if entry == "Convolution"
                                                                              else "")]
