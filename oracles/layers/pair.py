"""Table entries with two inputs: Saito's MulLayer and AddLayer ("Deep Learning from Scratch", 5.4).

``forward(x, y)`` takes two arrays of one shape and ``backward(dout)`` returns (dx, dy), with no
reduction. The table's layers take one input, so the pair travels as one: x (m, 2, *s) is the two
operands stacked on axis 1, the output is (m, *s), and the gradient of x stacks dx and dy the same
way; the driver (oracles/styles/saito_naive.py) unstacks it for the call and stacks the answer.
"""

from __future__ import annotations

from oracles.layers.table import LayerKind, register

__all__ = ["PAIR_KINDS"]


def _pair_shape(s, hp):
    if len(s) < 2 or s[0] != 2:
        raise ValueError(f"a pair layer takes its two operands stacked as (2, ...) per sample; got {s}")
    return tuple(s[1:])


register(LayerKind(
    name="mul_pair",
    out_shape=_pair_shape,
    numpy=lambda x, p, hp, ctx: x[:, 0] * x[:, 1],
    torch=lambda x, p, hp, ctx: x[:, 0] * x[:, 1],
    doc="elementwise product of the two operands x[:, 0] * x[:, 1] (Saito's MulLayer)",
))

register(LayerKind(
    name="add_pair",
    out_shape=_pair_shape,
    numpy=lambda x, p, hp, ctx: x[:, 0] + x[:, 1],
    torch=lambda x, p, hp, ctx: x[:, 0] + x[:, 1],
    doc="elementwise sum of the two operands x[:, 0] + x[:, 1] (Saito's AddLayer)",
))

PAIR_KINDS = ("mul_pair", "add_pair")
