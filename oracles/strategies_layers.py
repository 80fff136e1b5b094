"""Drawing layer Specs and their Cases (the part of oracles.strategies beyond the MLP).

A layer space (``SpecSpace.sequences``) lists templates ('affine>batchnorm>relu>affine'); drawing one picks
a template, the input shape, every layer's hyper-parameters (the table's ``Hyper.draw``; an affine's width
from the width bounds, the last one's from the output bounds), then applies the space's ``fixed`` values.
The numbers come from ``default_rng(seed)`` like an MLP's: parameters by their ``Param.init``, buffers near
their initial values (so test mode reads statistics that matter), inputs at a drawn scale.

Public entry points stay in oracles.strategies (``draw_case``, ``build_case``, ``specs``, ``cases``).
"""

from __future__ import annotations

import math

import numpy as np

from oracles.case import Case, Spec, SpecSpace
from oracles.layers import Layer, kind
from oracles.layers.conv import fit_window
from oracles.layers.table import fan_in

__all__ = ["layer_spec", "build_layer_case", "min_batch"]

# Regimes that mean something for a layer sequence; the MLP's stress regimes rescale W's by activation.
LAYER_REGIMES = (None, "tiny")


def layer_spec(c, space: SpecSpace, *, min_width: int, max_width: int, dtypes, losses, reductions, targets,
               allow_reg, max_reg, outputs_for, targets_of, class_losses) -> Spec:
    """A Spec from one of ``space.sequences``; ``c`` is strategies' chooser (choose, integer)."""
    template = c.choose(list(space.sequences))
    kinds = template.split(">")
    last = kind(kinds[-1])
    out_act = kinds[-1] if last.activation else "identity"
    target_space = [t for t in space.targets if targets is None or t in targets]
    usable = [l for l, acts in space.outputs
              if out_act in acts and set(targets_of.get(l, ("dense",))) & set(target_space)]
    usable = [l for l in usable if losses is None or l in losses]
    if not usable:
        raise ValueError(f"no loss fits template {template!r} (output {out_act!r}) and targets {target_space}")
    loss = c.choose(usable)
    target = c.choose([t for t in target_space if t in targets_of.get(loss, ("dense",))])
    reduction = c.choose([r for r in space.reductions if reductions is None or r in reductions])
    dtype = c.choose(list(dtypes))
    from oracles.strategies import draw_reg, output_widths

    reg = draw_reg(c, space, allow_reg, max_reg)
    min_out, max_out = output_widths(space, min_width, max_width, target, loss)
    if space.input_shapes:
        shape = tuple(c.choose(list(space.input_shapes)))
    else:
        shape = (c.integer(min_width, max_width),)
    rng = np.random.default_rng(c.integer(0, 2**32 - 1))  # the table's draws take a numpy generator
    numbered = [i for i, k in enumerate(kinds) if kind(k).numbered]
    layers, s = [], shape
    for i, name in enumerate(kinds):
        k = kind(name)
        hp = {}
        for h in k.hyper:
            if name in ("affine", "linear") and h.name == "out":
                last_numbered = bool(numbered) and i == numbered[-1]
                hp["out"] = c.integer(min_out, max_out) if last_numbered else c.integer(min_width, max_width)
            elif h.draw is not None:
                hp[h.name] = h.draw(rng, s)
        hp.update(space.fixed_for(name))
        hp = fit_window(name, hp, s, pinned=space.fixed_for(name))  # fit='exact': windows tile the input (conv.py)
        layer = Layer(name, tuple(hp.items()))
        s = tuple(k.out_shape(s, layer.hp))
        layers.append(layer)
    return Spec(layers=tuple(layers), input_shape=shape, loss=loss, reduction=reduction, layout=space.layout,
                dtype=dtype, target=target, reg=reg, mode=c.choose(list(space.modes)))


def min_batch(spec: Spec) -> int:
    return max((kind(layer.kind).min_batch for layer in spec.sequence), default=1)


def _init(rng: np.random.Generator, how: str, shape: tuple[int, ...]) -> np.ndarray:
    if how == "fan_in":
        return rng.standard_normal(shape) / math.sqrt(fan_in(shape))
    if how == "one":
        return rng.uniform(0.5, 1.5, size=shape)
    return 0.5 * rng.standard_normal(shape)


def _gain(spec: Spec, params: dict, x: np.ndarray) -> float:
    """A rough bound (>= 1) on the loss curvature: input energy times the squared norms of the weights."""
    energy = float(np.mean(np.sum(x.reshape(len(x), -1) ** 2, axis=1))) + 1.0
    g = energy
    for name in spec.param_names():
        p = params[name]
        if p.ndim >= 2:
            g *= max(1.0, float(np.linalg.norm(p.reshape(p.shape[0], -1), 2)) ** 2)
        else:
            g *= max(1.0, float(np.abs(p).max(initial=0.0)) ** 2)
    return g * (x.shape[0] if spec.reduction == "sum" else 1.0)


def build_layer_case(spec: Spec, m: int, seed: int, *, regime, scale, lr, steps, targets) -> Case:
    """The layer Case with this spec and batch size whose numbers all come from ``default_rng(seed)``."""
    if regime not in LAYER_REGIMES and not (regime == "large_logits" and spec.kinds() == "linear"):
        raise ValueError(f"regime {regime!r} rescales an MLP's layers; a layer sequence takes "
                         f"{', '.join(map(repr, LAYER_REGIMES))}")
    rng = np.random.default_rng(seed)
    drawn_scale = float(10 ** rng.uniform(-2, 1))
    base_lr = float(10 ** rng.uniform(-2, math.log10(0.3)))
    drawn_steps = int(rng.integers(1, 5))
    scale = drawn_scale if scale is None else float(scale)
    steps = drawn_steps if steps is None else int(steps)
    x = scale * rng.standard_normal((m, *spec.input_shape))
    params, state = {}, {}
    for slot in spec.slots:
        k = kind(slot.layer.kind)
        for p in k.params:
            shape = tuple(p.shape(slot.in_shape, slot.layer.hp))
            params[slot.params[p.name]] = _init(rng, p.init, shape)
        for short, full in slot.state.items():
            shape = tuple(k.state[short](slot.in_shape, slot.layer.hp))
            base = float(k.state_init.get(short, 0.0))
            state[full] = base * rng.uniform(0.5, 1.5, size=shape) if base else 0.3 * rng.standard_normal(shape)
    y = targets(rng, spec, m)
    first = kind(spec.slots[0].layer.kind)
    if first.encode is not None:
        # integer inputs (word indices, labels, a mask) float-encoded in x (oracles/layers/words.py); a stream
        # of their own, so the other numbers of the Case are the ones every other kind draws
        x = first.encode(np.random.default_rng([int(seed), 0x1D5]), x, spec.slots[0].layer.hp)
    if regime == "large_logits":
        # scores around 1e3 (a linear classifier alone): exp overflows unless the softmax subtracts the max
        spread = float(np.sqrt(np.mean((x.reshape(m, -1) @ params["W1"].T) ** 2))) or 1.0
        params["W1"] = params["W1"] * (1e3 / spread)
    if lr is None:
        room = 30.0 if spec.dtype == "float64" else 3.0
        lr = base_lr * min(1.0, room / _gain(spec, params, x))
    tags = (regime or "ordinary", f"scale={scale:.3g}")
    return Case(spec=spec, params=params, x=x, y=y, lr=lr, seed=int(seed), steps=steps, tags=tags, state=state)
