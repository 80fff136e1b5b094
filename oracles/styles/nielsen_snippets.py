"""The pasteable smallest failing case for a Nielsen-style network: the Case's numbers as literals, then the
very calls the driver made to judge the file, replayed from ``Observation.calls`` (its constructor, its
``backprop``/``update_mini_batch``/``backprop_matrix``/``SGD``/``total_cost`` with the file's own parameter
order, and the values the driver handed each role: ``lmbda`` and ``n`` for network2's L2, a mini-batch list
for ``backprop(mini_batch)``, a counter's 0), then what a correct network gives.

The scalar values come from the driver's own functions (``step_values``, ``sgd_values``, ``loss_values``),
the ones it called for this Case. A call with an argument no snippet can spell (a stand-in bpcheck passed for a
helper the file lacks) gives no snippet but the reason: a snippet that does not run as pasted is worse than
none. Hooked into reports/validate_snippets.snippet_for."""

from __future__ import annotations

from oracles.case import Case
from oracles.styles._common import array_literal as _lit

__all__ = ["nielsen_snippet", "purpose_of"]

# roles whose value is a scalar: the variable the snippet defines for it (the file's parameter may be called
# lr, lmbd, mini_batch_size ...: the call passes it in the file's own position or by the file's own name)
_SCALARS = ("eta", "lmbda", "n", "mu", "m", "epochs")


def purpose_of(family: str, calls: dict) -> str:
    """Which recorded call a check family was judged through."""
    if family in ("update", "trajectory", "training_loop", "loss"):
        return "update" if family == "trajectory" else family
    if family == "side_effects" and "grads" not in calls:
        return "update"
    return "grads"


def nielsen_snippet(case: Case, family: str, calls: dict, exp, module: str) -> tuple[str | None, str]:
    """(snippet, "") or (None, why no faithful snippet can be written)."""
    purpose = purpose_of(family, calls)
    net = calls.get("network")
    call = calls.get(purpose)
    if net is None or call is None:
        what = "its constructor" if net is None else f"the {purpose} call"
        return None, f"bpcheck has no record of {what} for this case (the run stopped before it)"
    spec, L = case.spec, case.spec.n_layers
    column = net.get("bias", "column") == "column"
    lines = ["import numpy as np", f"import {module} as student", "", f"# {spec.describe()}, batch {case.m}"]
    for l in range(1, L + 1):
        b = case.params[f"b{l}"]
        lines += [f"W{l} = {_lit(case.params[f'W{l}'])}", f"b{l} = {_lit(b.reshape(-1, 1) if column else b)}"]
    lines += [f"x = {_lit(case.x.T)}  # one sample per column", f"y = {_lit(case.y.T)}"]
    ctor, why = _call_text(net, lambda role: None, case)
    if ctor is None:
        return None, why
    ws, bs = ", ".join(f"W{l}" for l in range(1, L + 1)), ", ".join(f"b{l}" for l in range(1, L + 1))
    lines += [f"net = student.{ctor}", f"net.weights, net.biases = [{ws}], [{bs}]"]
    made = _BODIES[purpose](case, call, exp, column, family)
    if made[0] is None:
        return None, made[1]
    body, expected = made
    if family == "self_consistency" and "loss" in calls:  # your loss and your gradient: both calls
        more = _loss(case, calls["loss"], exp, column, family)
        body += more[0] if more[0] is not None else []
    return "\n".join(lines + body + [""] + expected), ""


def _form(expr: str, call: dict) -> str:
    """An (n, m) column block as the file takes it: itself, or np.array of its (n, 1) columns (m, n, 1)."""
    return expr if call.get("form", "matrix") == "matrix" else f"np.ascontiguousarray({expr}.T[:, :, None])"


def _call_text(call: dict, array_expr, case: Case, scalar=None) -> tuple[str | None, str]:
    """'fn(a, b, name=c)' for a recorded call, or (None, why): array_expr(role) spells an array role's value,
    scalar(role) a scalar role's variable."""
    parts = []
    for i, (param, kind, value) in enumerate(call["args"] + call["kwargs"]):
        if kind == "role":
            text = array_expr(value) if value not in _SCALARS else (scalar(value) if scalar else None)
            if text is None:
                return None, f"{call['fn']}'s parameter {param!r} took {value}, which this snippet cannot spell"
        elif kind == "spec":
            text = repr(list(case.spec.sizes) if value == "sizes" else list(case.spec.activations))
        elif kind == "file":
            text = f"student.{value}"
        elif kind == "literal":
            text = repr(value)
        else:
            return None, f"{call['fn']}'s {param!r} got bpcheck's stand-in ({value}), not a function of your file"
        parts.append(text if i < len(call["args"]) else f"{param}={text}")
    return f"{call['fn']}({', '.join(parts)})", ""


def _scalar_lines(call: dict, values: dict, case: Case, purpose: str) -> list[str]:
    """The scalar roles the call uses, defined with the driver's values for this Case."""
    used = [v for _, kind, v in call["args"] + call["kwargs"] if kind == "role" and v in _SCALARS]
    out = []
    for role in dict.fromkeys(used):
        line = f"{_var(role, purpose)} = {values[role]!r}"
        if role == "lmbda" and purpose == "loss":
            line += f"  # total_cost charges 0.5 * (lmbda / len(data)) * sum ||W||^2: reg = {case.spec.reg:g}"
        elif role == "lmbda":
            line += f"  # network2's L2: lmbda / n = reg = {case.spec.reg:g}"
        elif role == "n" and purpose != "training_loop":
            line += "  # the training-set size network2's L2 divides lmbda by"
        elif role == "mu":
            line += "  # momentum 0: plain SGD"
        out.append(line)
    return out


def _var(role: str, purpose: str) -> str:
    return "mini_batch_size" if role == "m" and purpose == "training_loop" else role


def _expected_grads(exp) -> list[str]:
    out = ["# what a correct implementation returns (torch float64 autograd, canonical layout W (n_out, n_in)):"]
    if exp.loss is not None:
        out.append(f"expected_loss = {float(exp.loss)!r}")
    return out + [f"expected_d{k} = {_lit(exp.grads[k])}" for k in sorted(exp.grads) if k[0] in "Wb"]


def _grads(case: Case, call: dict, exp, column: bool, family: str) -> tuple:
    names = "nabla_w, nabla_b" if call.get("order") == "wb" else "nabla_b, nabla_w"
    if call.get("over") == "batch":
        text, why = _call_text(call, lambda r: {"x": _form("x", call), "y": _form("y", call)}.get(
            r, "mini_batch" if r == "batch" else None), case)
        if text is None:
            return None, why
        out = ["mini_batch = [(x[:, [i]], y[:, [i]]) for i in range(x.shape[1])]"] if "mini_batch" in text else []
        out.append(f"{names} = net.{text}  # your batch {call['fn']}: batch-MEAN gradients")
    else:
        x, y = ("x", "y") if case.m == 1 else ("x[:, [i]]", "y[:, [i]]")
        one = {"x": _form(x, call), "y": _form(y, call), "batch": f"[({x}, {y})]"}
        text, why = _call_text(call, one.get, case)
        if text is None:
            return None, why
        if case.m == 1:
            out = [f"{names} = net.{text}  # one sample"]
        else:
            k = "(1, 0)" if call.get("order") == "wb" else "(0, 1)"
            out = [f"per_sample = [net.{text} for i in range(x.shape[1])]",
                   f"nabla_b, nabla_w = ([sum(g) / len(per_sample) for g in zip(*(out[k] for out in per_sample))] "
                   f"for k in {k})  # the batch mean, as bpcheck compares it"]
    if case.spec.reg:
        ws = ", ".join(f"W{l}" for l in range(1, case.spec.n_layers + 1))
        out.append(f"nabla_w = [nw + {case.spec.reg!r} * W for nw, W in zip(nabla_w, [{ws}])]  # network2 applies L2 "
                   f"in the update: bpcheck adds reg * W to your backprop's gradient")
    return out, _expected_grads(exp)


def _update(case: Case, call: dict, exp, column: bool, family: str) -> tuple:
    from oracles.styles.nielsen import step_values

    arrays = {"x": _form("x", call), "y": _form("y", call), "batch": "mini_batch"}
    text, why = _call_text(call, arrays.get, case, lambda r: r)
    if text is None:
        return None, why
    values = step_values(case)
    out = _scalar_lines(call, values, case, "update")
    batch = ["mini_batch = [(x[:, [i]], y[:, [i]]) for i in range(x.shape[1])]"] if "mini_batch" in text else []
    steps = int(case.steps)
    if family == "trajectory" and exp.trajectory and steps > 1:
        out += [f"for step in range({steps}):  # {steps} steps on the same mini-batch"]
        out += ["    " + b for b in batch] + [f"    net.{text}"]
        after, when = exp.trajectory[-1], f"{steps} correct steps leave"
    else:
        out += batch + [f"net.{text}"]
        after, when = exp.updated or {}, "a correct step leaves"
    expected = [f"# the parameters {when} (torch float64, W (n_out, n_in)):"]
    for k in sorted(after):  # biases in the layout the snippet loaded them
        a, where = after[k], "weights" if k[0] == "W" else "biases"
        expected.append(f"expected_{k} = {_lit(a if k[0] == 'W' or not column else a.reshape(-1, 1))}  "
                        f"# net.{where}[{int(k[1:]) - 1}]")
    return out, expected


def _training_loop(case: Case, call: dict, exp, column: bool, family: str) -> tuple:
    from oracles.styles.nielsen import sgd_values

    values = sgd_values(case)
    text, why = _call_text(call, {"batch": "training_data"}.get, case, lambda r: _var(r, "training_loop"))
    if text is None:
        return None, why
    n, mbs = values["n"], values["m"]
    return ([f"training_data = [(x[:, [i % {case.m}]], y[:, [i % {case.m}]]) for i in range({n})]"]
            + _scalar_lines(call, values, case, "training_loop")
            + [f"net.{text}  # {n} samples, mini-batches of {mbs}: the last one is shorter; it must run",
               "print([w.shape for w in net.weights], [b.shape for b in net.biases])"]), [
        "# a correct SGD leaves finite weights and biases of the shapes they started with"]


def _loss(case: Case, call: dict, exp, column: bool, family: str) -> tuple:
    from oracles.styles.nielsen_loss import loss_values

    spec = case.spec
    l2 = " + ".join(f"np.sum(W{l} ** 2)" for l in range(1, spec.n_layers + 1))
    added = f" + 0.5 * {spec.reg!r} * ({l2})" if call.get("reg") == "added" else ""
    if call["fn"] == "cost.fn":
        out = [f"loss = sum(net.cost.fn(net.feedforward(x[:, [i]]), y[:, [i]]) for i in range(x.shape[1])) "
               f"/ x.shape[1]{added}"]
    else:
        arrays = {"x": _form("x", call), "y": _form("y", call), "batch": "mini_batch"}
        text, why = _call_text(call, arrays.get, case, lambda r: r)
        if text is None:
            return None, why
        out = ["mini_batch = [(x[:, [i]], y[:, [i]]) for i in range(x.shape[1])]"] if "mini_batch" in text else []
        out += _scalar_lines(call, loss_values(case), case, "loss") + [f"loss = net.{text}{added}"]
    if added:
        out[-1] += "  # bpcheck adds the L2 term your cost leaves out"
    return out, ["# what a correct implementation gives (torch float64 autograd):",
                 f"expected_loss = {float(exp.loss)!r}"]


_BODIES = {"grads": _grads, "update": _update, "training_loop": _training_loop, "loss": _loss}
