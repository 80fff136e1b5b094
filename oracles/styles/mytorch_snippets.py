"""The pasteable smallest failing case for a MyTorch layer or loss checked on its own (``layer:<Class>``,
``loss:<Class>``): the inputs as literals (one sample per ROW, the course's layout), the file's own
constructor, forward and backward, and what a correct module returns, in the current handout's scale.

Hooked into reports/validate_snippets.snippet_for: it returns None for any Case it does not know (the
``layers`` net, the MLP models), and the caller writes its own snippet then."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oracles.case import Case
from oracles.styles._common import array_literal

__all__ = ["mytorch_snippet"]


def _lit(a) -> str:
    return array_literal(np.asarray(a))  # the one literal writer: exact, wrapped at 100 columns


# BatchNorm1d / BatchNorm2d (S22 on) and the S20-F21 BatchNorm: gamma, beta, running mean and variance
_BN_ATTRS = {False: ("BW", "Bb", "running_M", "running_V"), True: ("gamma", "beta", "running_mean", "running_var")}


def _per_channel(name: str, C: int) -> tuple[int, ...]:
    """The course's shape of a per-channel array: (1, C, 1, 1) in hw2's BatchNorm2d, (1, C) in hw1's."""
    return (1, C, 1, 1) if name == "BatchNorm2d" else (1, C)


def _ctor(name: str, case: Case) -> tuple[str, list[str]]:
    """The constructor call and the lines that put the Case's parameters in place."""
    from oracles.styles import mytorch_layers

    first, slot = case.spec.slots[0], case.spec.slots[-1]  # ConvTranspose: upsample, then the conv
    hp = slot.layer.hp
    p = {short: case.params[full] for short, full in slot.params.items()}
    if name == "Linear":
        n_out, n_in = p["W"].shape
        return f"student.Linear({n_in}, {n_out})", [
            "# W (out, in), b (out, 1); in the S20-F21 API W is (in, out), b (1, out), given to the init fns",
            f"layer.W = {_lit(p['W'])}", f"layer.b = {_lit(p['b'].reshape(-1, 1))}"]
    if name in ("BatchNorm1d", "BatchNorm", "BatchNorm2d"):
        C, shape = slot.in_shape[0], _per_channel(name, slot.in_shape[0])
        g, b, rm, rv = _BN_ATTRS[name == "BatchNorm"]
        lines = [f"layer.{g} = {_lit(p['gamma'].reshape(shape))}", f"layer.{b} = {_lit(p['beta'].reshape(shape))}"]
        if slot.state["running_mean"] in case.state:
            lines += [f"layer.{rm} = {_lit(case.state[slot.state['running_mean']].reshape(shape))}",
                      f"layer.{rv} = {_lit(case.state[slot.state['running_var']].reshape(shape))}"]
        return f"student.{name}({C}, alpha={hp['momentum']!r})", lines
    if name not in mytorch_layers.SPATIAL:
        return f"student.{name}()", []
    k, stride = int(hp.get("kh", hp.get("k", 1))), int(hp.get("stride", 1))
    if name.startswith(("Downsample", "Upsample")):
        return f"student.{name}({int(hp['factor'])})", []
    if "Pool" in name:
        return f"student.{name}({k})" if name.endswith("_stride1") else f"student.{name}({k}, {stride})", []
    # the handout's order: in, out, kernel[, stride[, padding]] or [, upsampling factor], then the init functions
    args = [str(first.in_shape[0]), str(p["W"].shape[0]), str(k)]
    if name.startswith("ConvTranspose"):
        args.append(str(int(first.layer.hp["factor"])))
    elif not name.endswith("_stride1"):
        args.append(str(stride))
        if int(hp.get("pad", 0)):
            args.append(f"padding={int(hp['pad'])}")
    args += ["weight_init_fn=lambda *shape: W", "bias_init_fn=lambda *shape: b"]
    return f"student.{name}({', '.join(args)})", [f"W = {_lit(p['W'])}", f"b = {_lit(p['b'])}"]


def mytorch_snippet(style: str, entry: str, case: Case, path: str, oracle) -> str | None:
    if style != "mytorch" or case.spec.is_mlp or len(case.spec.layers) > 2 or ":" not in entry:
        return None
    prefix, name = entry.split(":", 1)
    if prefix not in ("layer", "loss"):
        return None
    exp = oracle.expected(case, estimate=False)
    spec = case.spec
    head = ["import numpy as np", f"import {Path(path).stem} as student", "",
            f"# {spec.describe()}, batch {case.m}; one sample per row"]
    if prefix == "loss":
        C = spec.n_out
        mse = spec.loss == "quadratic"
        k = 2.0 / C if mse else 1.0  # the handout's MSE is sum of squares / (N C); canonical is 1/2 ||.||^2 / N
        return "\n".join(head + [
            f"A = {_lit(case.x)}", f"Y = {_lit(case.onehot)}", f"crit = student.{name}()",
            "L = crit.forward(A, Y)", "dLdA = crit.backward()", "",
            "# what a correct loss returns (torch float64 autograd; S24-on scale: the backward carries the 1/N;",
            "# S22-F23's backward leaves it out: N times these):",
            f"expected_L = {float(exp.loss) * k!r}", f"expected_dLdA = {_lit(exp.grads['x'] * k)}"])
    call, setup = _ctor(name, case)
    test = spec.mode == "test"
    before = [ln for ln in setup if ln.startswith(("W = ", "b = "))]  # the init functions read them
    after = [ln for ln in setup if ln not in before]
    lines = head + [f"A = {_lit(case.x)}", f"dLdZ = {_lit(case.y)}  # the upstream gradient", *before,
                    f"layer = {call}", *after, f"Z = layer.forward(A{', eval=True' if test else ''})"]
    if not test:
        lines.append("dLdA = layer.backward(dLdZ)")
    lines += ["", "# what a correct layer returns (torch float64 autograd; parameter gradients summed over the",
              "# batch, as the current handout: S22-F23's Linear divides dLdW, dLdb by N):",
              f"expected_Z = {_lit(exp.out)}"]
    if not test:
        lines.append(f"expected_dLdA = {_lit(exp.grads['x'])}")
        slot = spec.slots[-1]
        if "W" in slot.params and not name.endswith("_stride1") and name.startswith("Conv"):
            lines.append(f"# {name} keeps dLdW and dLdb on the *_stride1 layer inside it")
        old_bn = name == "BatchNorm"  # the S20-F21 names: dgamma, dbeta, running_mean, running_var
        per_c = _per_channel(name, slot.in_shape[0])
        for short, attr in (("W", "dLdW"), ("b", "dLdb"), ("gamma", "dgamma" if old_bn else "dLdBW"),
                            ("beta", "dbeta" if old_bn else "dLdBb")):
            if short in slot.params and slot.params[short] in exp.grads:  # Conv*d: on its *_stride1 inside
                g = exp.grads[slot.params[short]]
                g = g.reshape(-1, 1) if name == "Linear" and short == "b" else g  # the course's (out, 1)
                lines.append(f"expected_{attr} = {_lit(g.reshape(per_c) if short in ('gamma', 'beta') else g)}")
        for short in ("running_mean", "running_var"):
            if short in slot.state and slot.state[short] in exp.state:
                attr = _BN_ATTRS[old_bn][2 if short == "running_mean" else 3]
                lines.append(f"expected_{attr} = {_lit(exp.state[slot.state[short]].reshape(per_c))}  # after forward")
    return "\n".join(lines)
