"""The plain-words line that leads every failing diagnosis: which tensors are right, which are wrong,
and where the backward chain breaks ("dW2, db2 right; dW1, db1 wrong: the step from layer 2 back to
layer 1 is wrong"). It states what the comparison measured, before any hypothesis about why.
"""

from __future__ import annotations

from collections.abc import Iterable

from oracles.case import Case
from oracles.compare import TensorVerdict
from oracles.diagnose._base import _key, _layer_of

__all__ = ["chain_line"]


_FAMILY_WORDS = {"grad_W": "the weight gradients", "grad_b": "the bias gradients", "grad_x": "dx",
                 "grad_hidden": "the hidden-layer gradients"}


def _d(k: str) -> str:
    return _FAMILY_WORDS.get(k, f"d{k}")


def _names(keys: Iterable[str]) -> str:
    # parameters first, from the output layer down (the order backprop computes them), then dA, dx
    keys = sorted(keys, key=lambda k: (k[:1] not in ("W", "b"), -(_layer_of(k) or 0), k[0] != "W", k))
    return ", ".join(_d(k) for k in keys)


def chain_line(case: Case, verdicts: Iterable[TensorVerdict], *, loss_wrong: bool = False,
               local: bool = False) -> str | None:
    """'dW2, db2 right; dW1, db1 wrong: ...' for a case whose gradients were compared, else None.

    Only tensors that were actually compared are named; a gradient that raised or came back unusable
    is 'not usable', never 'right'. ``loss_wrong``: the judge's verdict on the loss (after conventions such
    as Saito's 1e-7 inside the log, which a raw loss verdict does not know about). ``local``: each wrong
    gradient is off by a term of its own parameter (an L2 term), so no break in the chain is named."""
    right: set[str] = set()
    wrong: set[str] = set()
    unusable: set[str] = set()
    for v in verdicts:
        if not v.check.startswith("grad_"):
            continue
        k = _key(v.name) or v.name
        if v.passed:
            right.add(k)
        elif v.status == "error":
            unusable.add(k)
        else:
            wrong.add(k)
    if not (wrong or unusable):
        return None
    parts = []
    if right:
        parts.append(f"{_names(right)} right")
    if wrong:
        parts.append(f"{_names(wrong)} wrong")
    if unusable:
        parts.append(f"{_names(unusable)} not usable (raised, wrong shape or NaN)")
    text = "; ".join(parts)
    where = None if local else _where(case, right, wrong | unusable, loss_wrong)
    return f"{text}: {where}" if where else text


def _where(case: Case, right: set[str], wrong: set[str], loss_wrong: bool) -> str | None:
    if loss_wrong:
        return "the loss differs too, so the forward pass is wrong and every gradient after it"
    spec = case.spec
    if not getattr(spec, "is_mlp", False) or not spec.n_layers:
        return None
    L = spec.n_layers
    layer = {l: ({f"W{l}", f"b{l}"} & wrong, {f"W{l}", f"b{l}"} & right) for l in range(1, L + 1)}
    bad = sorted((l for l, (w, _) in layer.items() if w), reverse=True)
    if not bad:
        return None  # only dx / hidden gradients wrong: the parameter chain itself is right
    top = bad[0]
    if not all(layer[l][1] and not layer[l][0] for l in range(top + 1, L + 1)):
        return None  # wrong layers above right ones: no single break to name
    w_top, r_top = layer[top]
    below = range(1, top)
    below_right = top > 1 and all(layer[l][1] and not layer[l][0] for l in below)
    below_wrong = all(layer[l][0] for l in below)
    if w_top == {f"W{top}"} and f"b{top}" in r_top:
        return (f"db{top} is right, so delta{top} is right: dW{top}'s own formula (delta{top} times layer {top}'s "
                f"input A{top - 1}) is where it goes wrong")
    if w_top == {f"b{top}"} and f"W{top}" in r_top:
        return (f"dW{top} is right, so delta{top} is right: db{top}'s own formula (delta{top} summed over the "
                f"batch) is wrong")
    if below_right:
        return (f"only layer {top} is wrong; the layers below are right, so the delta passed back is right and the "
                f"error is in layer {top}'s own gradient formulas")
    if L == 1:
        return "the network's only layer is wrong (its delta or its gradient formulas)"
    if top == L and below_wrong:
        return (f"wrong from the output layer (layer {L}) on: the output delta (the cost's and the output "
                f"activation's derivative) is the first wrong step")
    if top < L and below_wrong:
        return (f"the chain breaks at the step from layer {top + 1} back to layer {top} "
                f"(delta{top} = W{top + 1}^T delta{top + 1} * act'(z{top}))")
    return f"layer {top} is the first wrong layer counting from the output"
