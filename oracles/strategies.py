"""Random Specs and Cases: hypothesis strategies for the property suite, a seeded generator for campaigns.

Two ways in, one construction:

* ``specs(...)`` and ``cases(...)`` are hypothesis strategies (keyword-only ``min_*``/``max_*``
  bounds with small defaults, in the spirit of ``hypothesis.extra.numpy``). The *architecture*
  (spec, batch size, regime, input scale) is drawn by hypothesis so it shrinks; the *numbers*
  (parameters, inputs, targets, lr) come from ``numpy.random.default_rng(seed)`` with a seed
  drawn by hypothesis, so a Case is rebuilt exactly by ``build_case(spec, m, seed, ...)``.
* ``draw_case(space, seed)`` is the campaign generator: everything, architecture included,
  from one integer seed.

Regimes (``case.tags[0]`` records which one built the Case):

* ``"ordinary"`` (regime None): 1/sqrt(fan-in) weights, inputs at a moderate scale.
* ``"saturated"``: large weights, so sigmoid and tanh units sit on their flat tails (|z| up to
  16 and 8.5, see ``_SATURATION_LIMIT``).
* ``"near_kink"``: some pre-activations of ReLU-family hidden layers within ~1e-7 of 0
  (1e-5 in float32, still above float32 rounding) so finite differences must notice the kink.
* ``"exact_zero"``: zero biases and some all-zero input rows, so ReLU-family pre-activations are
  exactly 0 and the subgradient convention relu'(0) shows.
* ``"large_logits"``: output pre-activations around 1e3 (softmax / BCE stability).
* ``"tiny"``: every width and the batch are 1 (outputs 2 where the loss needs classes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from oracles.case import ACTIVATION_NAMES, Case, Spec, SpecSpace
from oracles.layers import kind
from reference.functions import ACTIVATIONS


class _LazyStrategies:
    """hypothesis.strategies, imported on first use: campaigns, validate and grade draw their Cases
    with numpy only (draw_case), and importing hypothesis costs ~0.3 s on validate's start-up path."""

    def __getattr__(self, name: str):
        from hypothesis import strategies

        return getattr(strategies, name)


st = _LazyStrategies()

__all__ = [
    "REGIMES",
    "SCALES",
    "specs",
    "cases",
    "regimes",
    "build_case",
    "draw_case",
    "random_case",
]

REGIMES = (None, "saturated", "near_kink", "exact_zero", "large_logits", "tiny")
# Input scales from tiny to saturating; 1.0 first so hypothesis shrinks towards it.
SCALES = (1.0, 1e-3, 1e-2, 0.1, 3.0, 10.0, 100.0)

_KINKED = ("relu", "leaky_relu")
_SATURATING = ("sigmoid", "tanh")
# Largest |z| the saturated regime produces. Beyond these float32 itself saturates (sigmoid(z)
# rounds to 1 in float32 for z > 16.6, tanh(z) for z > 9.0): the torch oracle's float32-measured
# error estimate then no longer sees the rounding of course formulas such as A - Y or 1 - tanh^2,
# and correct float64 code would be judged against too tight an allowance.
_SATURATION_LIMIT = {"sigmoid": 16.0, "tanh": 8.5}
# Losses whose targets are classes: label targets and >= 2 outputs make them meaningful.
_CLASS_LOSSES = ("softmax_cross_entropy", "hinge")
# Label targets mean classes: only the class losses take them (a quadratic or BCE loss on labels
# would need a one-hot convention every oracle and driver agrees on). Dense is the default.
_TARGETS_OF = {"softmax_cross_entropy": ("dense", "labels"), "hinge": ("labels",)}


# -- one spec-drawing routine, two sources of randomness -------------------------------------


@dataclass
class _Chooser:
    """The two primitive choices spec drawing needs, backed by hypothesis or by numpy."""

    choose: Callable[[Sequence], object]
    integer: Callable[[int, int], int]  # inclusive bounds


def _hypothesis_chooser(draw) -> _Chooser:
    return _Chooser(
        choose=lambda seq: draw(st.sampled_from(list(seq))),
        integer=lambda lo, hi: draw(st.integers(lo, hi)),
    )


def _numpy_chooser(rng: np.random.Generator) -> _Chooser:
    return _Chooser(
        choose=lambda seq: list(seq)[int(rng.integers(len(seq)))],
        integer=lambda lo, hi: int(rng.integers(lo, hi + 1)),
    )


def _intersect(allowed: Sequence, wanted: Sequence | None, what: str) -> list:
    out = [a for a in allowed if wanted is None or a in wanted]
    if not out:
        asked = "any" if wanted is None else list(wanted)
        raise ValueError(f"no {what} left: the space allows {list(allowed)}, the caller asked for {asked}")
    return out


def _spec(
    c: _Chooser,
    space: SpecSpace,
    *,
    min_layers: int,
    max_layers: int,
    min_width: int,
    max_width: int,
    dtypes: Sequence[str],
    losses: Sequence[str] | None,
    activations: Sequence[str] | None,
    reductions: Sequence[str] | None,
    targets: Sequence[str] | None,
    allow_reg: bool | None,
    max_reg: float,
) -> Spec:
    if space.sequences:
        from oracles.strategies_layers import layer_spec

        return layer_spec(c, space, min_width=min_width, max_width=max_width, dtypes=dtypes, losses=losses,
                          reductions=reductions, targets=targets, allow_reg=allow_reg, max_reg=max_reg,
                          outputs_for=dict(space.outputs), targets_of=_TARGETS_OF, class_losses=_CLASS_LOSSES)
    if space.sizes is not None:  # a fixed architecture: only the layer count and widths are given
        min_layers = max_layers = len(space.sizes) - 1
    lo, hi = max(min_layers, space.min_layers), min(max_layers, space.max_layers)
    if lo > hi or min_width > max_width or min_width < 1:
        raise ValueError(
            f"empty architecture range: layers {lo}..{hi} (space {space.min_layers}..{space.max_layers}), "
            f"widths {min_width}..{max_width}; widen min_*/max_*"
        )
    n_layers = c.integer(lo, hi)
    outs = dict(space.outputs)
    target_space = _intersect(space.targets, targets, "targets")
    # Only losses some allowed target fits: hinge takes labels, softmax either, the others dense.
    usable = [l for l in outs if set(_TARGETS_OF.get(l, ("dense",))) & set(target_space)]
    loss = c.choose(_intersect(usable, losses, f"losses for targets {target_space}"))
    out_act = c.choose(list(outs[loss]))
    if n_layers > 1:
        hidden_choices = _intersect(space.hidden_activations, activations, "hidden activations")
        if space.uniform_hidden:
            hidden = [c.choose(hidden_choices)] * (n_layers - 1)
        else:
            hidden = [c.choose(hidden_choices) for _ in range(n_layers - 1)]
    else:
        hidden = []
    target = c.choose(_intersect(target_space, _TARGETS_OF.get(loss, ("dense",)), f"targets for {loss}"))
    reduction = c.choose(_intersect(space.reductions, reductions, "reductions"))
    dtype = c.choose(list(dtypes))
    reg = draw_reg(c, space, allow_reg, max_reg)
    min_out, max_out = output_widths(space, min_width, max_width, target, loss)
    sizes = [c.integer(min_width, max_width) for _ in range(n_layers)] + [c.integer(min_out, max_out)]
    if space.sizes is not None:
        sizes = list(space.sizes)
    return Spec(
        sizes=tuple(sizes),
        activations=tuple(hidden) + (out_act,),
        loss=loss,
        reduction=reduction,
        layout=space.layout,
        dtype=dtype,
        target=target,
        reg=reg,
    )


# -- numbers from a seed ---------------------------------------------------------------------


def _forward_z(spec: Spec, params: dict[str, np.ndarray], x: np.ndarray, upto: int) -> tuple[np.ndarray, np.ndarray]:
    """(a_{upto-1}, z_upto) in float64, canonical orientation."""
    a = x
    for l in range(1, upto):
        a = ACTIVATIONS[spec.activations[l - 1]][0](a @ params[f"W{l}"].T + params[f"b{l}"])
    return a, a @ params[f"W{upto}"].T + params[f"b{upto}"]


# Upper bounds of |act'(z)|: how much a layer can amplify a gradient passing through it.
_SLOPE_BOUND = {"sigmoid": 0.25}


def _curvature(spec: Spec, params: dict[str, np.ndarray], x: np.ndarray) -> float:
    """A rough upper bound (>= 1) on the loss curvature along any one weight matrix.

    Layer l's curvature scales with the energy of its input and the squared gains (spectral
    norm times the activation's slope bound) of the layers above it; a summed loss multiplies
    it by the batch size. The learning rate is divided by it (see ``build_case``)."""
    L = spec.n_layers
    a, worst = x, 1.0
    for l in range(1, L + 1):
        energy = float(np.mean(np.sum(a**2, axis=1))) + 1.0
        gain = 1.0
        for k in range(l + 1, L + 1):
            slope = _SLOPE_BOUND.get(spec.activations[k - 2], 1.0)
            gain *= (float(np.linalg.norm(params[f"W{k}"], 2)) * slope) ** 2
        worst = max(worst, energy * gain)
        a = ACTIVATIONS[spec.activations[l - 1]][0](a @ params[f"W{l}"].T + params[f"b{l}"])
    if spec.reduction == "sum":
        worst *= x.shape[0]
    return worst


def draw_reg(c, space: SpecSpace, allow_reg: bool | None, max_reg: float) -> float:
    """Half the time none (the unregularised path is the common one), else a spread of strengths."""
    if space.allow_reg and allow_reg is not False and max_reg > 0:
        return c.choose([0.0, 0.0, max_reg / 100, max_reg / 10, max_reg])
    return 0.0


def output_widths(space: SpecSpace, min_width: int, max_width: int, target: str, loss: str) -> tuple[int, int]:
    """The output layer needs classes for labels and class losses, and whatever the space demands
    (a space may cap the output width: deeplearning.ai's single unit)."""
    min_out = max(min_width, space.min_outputs, 2 if (target == "labels" or loss in _CLASS_LOSSES) else 1)
    max_out = max(max_width, min_out)
    if space.max_outputs is not None:
        max_out = min(max_out, max(space.max_outputs, 1))
        min_out = min(min_out, max_out)
    return min_out, max_out


def _targets(rng: np.random.Generator, spec: Spec, m: int) -> np.ndarray:
    if spec.loss == "dot":  # the upstream gradient dout: any real tensor of the output's shape
        if kind(spec.sequence[-1].kind).loss_layer:  # a layer that is a loss (temporal_softmax_loss): dL/dL = 1
            return np.ones((m, *spec.out_shape))
        return rng.standard_normal((m, *spec.out_shape))
    n_out = spec.n_out
    if spec.target == "labels":
        return rng.integers(0, n_out, size=m).astype(np.int64)
    if spec.loss == "softmax_cross_entropy" or (spec.loss == "quadratic" and rng.random() < 0.5):
        y = np.zeros((m, n_out))
        y[np.arange(m), rng.integers(0, n_out, size=m)] = 1.0
        return y
    if spec.loss == "binary_cross_entropy":
        # Mostly hard 0/1 labels; sometimes soft targets (BCE is defined for y in [0, 1]).
        if rng.random() < 0.75:
            return rng.integers(0, 2, size=(m, n_out)).astype(np.float64)
        return rng.random((m, n_out))
    # quadratic regression targets in the range a sigmoid can reach (and beyond, for identity outputs)
    if spec.output_activation in ("sigmoid",):
        return rng.random((m, n_out))
    return rng.standard_normal((m, n_out))


def build_case(
    spec: Spec,
    m: int,
    seed: int,
    *,
    regime: str | None = None,
    scale: float | None = None,
    lr: float | None = None,
    steps: int | None = None,
) -> Case:
    """The Case with this spec and batch size whose numbers all come from ``default_rng(seed)``.

    ``scale`` is the input standard deviation (drawn log-uniformly in [0.01, 10] when None);
    ``lr`` and ``steps`` are drawn when None. Deterministic: same arguments, same bits.
    """
    if regime not in REGIMES:
        raise ValueError(f"regime={regime!r} is unknown; choose one of {', '.join(map(repr, REGIMES))}")
    if m < 1:
        raise ValueError(f"batch size m={m} must be >= 1")
    if not spec.is_mlp:
        from oracles.strategies_layers import build_layer_case

        return build_layer_case(spec, m, seed, regime=regime, scale=scale, lr=lr, steps=steps, targets=_targets)
    rng = np.random.default_rng(seed)
    # Always consume the same draws, so passing scale/steps explicitly leaves the rest unchanged.
    drawn_scale = float(10 ** rng.uniform(-2, 1))
    base_lr = float(10 ** rng.uniform(-2, math.log10(0.3)))
    drawn_steps = int(rng.integers(1, 5))
    scale = drawn_scale if scale is None else float(scale)
    steps = drawn_steps if steps is None else int(steps)
    L = spec.n_layers
    x = scale * rng.standard_normal((m, spec.sizes[0]))
    params: dict[str, np.ndarray] = {}
    for l in range(1, L + 1):
        n_in, n_out = spec.sizes[l - 1], spec.sizes[l]
        W = rng.standard_normal((n_out, n_in)) / math.sqrt(n_in)
        b = 0.5 * rng.standard_normal(n_out)
        params[f"W{l}"], params[f"b{l}"] = W, b
    y = _targets(rng, spec, m)
    saturation = [float(rng.uniform(0.6, 1.0)) for _ in range(L)]

    if regime == "saturated":
        # Pre-activations of sigmoid/tanh layers rescaled so the largest |z| is 60-100% of the layer's
        # limit: sigma'/tanh' fall to ~1e-4..1e-7 on the flat tails. Only the saturating layers:
        # blowing up relu/identity layers would only make the numbers huge.
        for l in range(1, L + 1):
            name = spec.activations[l - 1]
            if name in _SATURATING:
                _, z = _forward_z(spec, params, x, l)
                gain = saturation[l - 1] * _SATURATION_LIMIT[name] / (float(np.abs(z).max()) or 1.0)
                params[f"W{l}"] = params[f"W{l}"] * gain
                params[f"b{l}"] = params[f"b{l}"] * gain
    elif regime == "exact_zero":
        for l in range(1, L + 1):
            params[f"b{l}"] = np.zeros(spec.sizes[l])
        rows = rng.choice(m, size=max(1, m // 2), replace=False)
        x[rows] = 0.0
        # A few zero weight rows too: the unit's pre-activation is then 0 for every sample.
        for l in range(1, L):
            if rng.random() < 0.5:
                params[f"W{l}"][int(rng.integers(spec.sizes[l]))] = 0.0
    elif regime == "near_kink":
        # Move biases so one sample per unit lands just beside 0 (either side). Layer by layer,
        # since moving layer l changes every later pre-activation.
        eps = 1e-7 if spec.dtype == "float64" else 1e-5
        for l in range(1, L):
            if spec.activations[l - 1] not in _KINKED:
                continue
            _, z = _forward_z(spec, params, x, l)
            chosen = rng.random(spec.sizes[l]) < 0.6
            chosen[int(rng.integers(spec.sizes[l]))] = True  # at least one unit per layer
            units = np.flatnonzero(chosen)
            for j in units:
                i = int(rng.integers(m))
                offset = eps * rng.uniform(0.1, 1.0) * rng.choice([-1.0, 1.0]) * max(1.0, abs(z[i, j]))
                params[f"b{l}"][j] -= z[i, j] - offset
    elif regime == "large_logits":
        _, z = _forward_z(spec, params, x, L)
        spread = float(np.sqrt(np.mean(z**2))) or 1.0
        gain = 1e3 / spread
        params[f"W{L}"] = params[f"W{L}"] * gain
        params[f"b{L}"] = params[f"b{L}"] * gain

    if lr is None:
        # Keep lr * curvature below ~10 (float64) or ~1 (float32): on a divergent run the
        # trajectories of two correct implementations drift apart by rounding alone, by a factor
        # (lr * curvature) per step, and that is not a bug.
        room = 30.0 if spec.dtype == "float64" else 3.0
        lr = base_lr * min(1.0, room / _curvature(spec, params, x))
    tags = (regime or "ordinary", f"scale={scale:.3g}")
    return Case(spec=spec, params=params, x=x, y=y, lr=lr, seed=int(seed), steps=steps, tags=tags)


# -- the campaign generator ------------------------------------------------------------------


def draw_case(
    space: SpecSpace,
    seed: int,
    *,
    dtype: str = "float64",
    regime: str | None = None,
    min_layers: int = 1,
    max_layers: int = 5,
    min_width: int = 1,
    max_width: int = 16,
    min_batch: int = 1,
    max_batch: int = 16,
) -> Case:
    """A Case inside ``space``, everything (architecture included) from ``seed``.

    The same (space, seed, dtype, regime, bounds) always gives the same Case, bit for bit."""
    if regime not in REGIMES:
        raise ValueError(f"regime={regime!r} is unknown; choose one of {', '.join(map(repr, REGIMES))}")
    rng = np.random.default_rng([int(seed), 0x5BEC])  # architecture stream, separate from the numbers
    if regime == "tiny":
        min_width = max_width = 1
        min_batch = max_batch = 1
    spec = _spec(
        _numpy_chooser(rng),
        space,
        min_layers=min_layers,
        max_layers=max_layers,
        min_width=min_width,
        max_width=max_width,
        dtypes=(dtype,),
        losses=None,
        activations=None,
        reductions=None,
        targets=None,
        allow_reg=None,
        max_reg=0.1,
    )
    if not spec.is_mlp:
        from oracles.strategies_layers import min_batch as lowest

        min_batch, max_batch = max(min_batch, lowest(spec)), max(max_batch, lowest(spec))
    m = int(rng.integers(min_batch, max_batch + 1))
    return build_case(spec, m, seed, regime=regime)


def random_case(rng: np.random.Generator, space: SpecSpace, **kwargs) -> Case:
    """``draw_case`` with the seed taken from ``rng`` (the name ARCHITECTURE.md uses)."""
    return draw_case(space, int(rng.integers(2**63)), **kwargs)


# -- hypothesis strategies -------------------------------------------------------------------


def specs(
    *,
    space: SpecSpace | None = None,
    min_layers: int = 1,
    max_layers: int = 5,
    min_width: int = 1,
    max_width: int = 16,
    dtypes: Sequence[str] = ("float64",),
    losses: Sequence[str] | None = None,
    activations: Sequence[str] | None = None,
    reductions: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    allow_reg: bool | None = None,
    max_reg: float = 0.1,
) -> st.SearchStrategy[Spec]:
    """Specs inside ``space`` (default: ``SpecSpace()``, the column layout and the three smooth losses).

    ``losses``/``activations`` (hidden layers)/``reductions``/``targets`` narrow the space further
    (None: no narrowing); the output activation follows the loss as the space says.
    ``allow_reg=False`` turns regularisation off even where the space allows it.
    """
    space = space or SpecSpace()
    for d in dtypes:
        if d not in ("float64", "float32"):
            raise ValueError(f"dtypes contains {d!r}; choose from 'float64', 'float32'")
    for a in activations or ():
        if a not in ACTIVATION_NAMES:
            raise ValueError(f"activations contains {a!r}; choose from {', '.join(ACTIVATION_NAMES)}")

    @st.composite
    def _draw(draw) -> Spec:
        return _spec(
            _hypothesis_chooser(draw),
            space,
            min_layers=min_layers,
            max_layers=max_layers,
            min_width=min_width,
            max_width=max_width,
            dtypes=dtypes,
            losses=losses,
            activations=activations,
            reductions=reductions,
            targets=targets,
            allow_reg=allow_reg,
            max_reg=max_reg,
        )

    return _draw()


def regimes(*, allowed: Sequence[str | None] = REGIMES) -> st.SearchStrategy[str | None]:
    """One of the regimes; None (ordinary) first so failures shrink towards it."""
    bad = [r for r in allowed if r not in REGIMES]
    if bad:
        raise ValueError(f"unknown regime(s) {bad}; choose from {', '.join(map(repr, REGIMES))}")
    ordered = sorted(allowed, key=lambda r: r is not None)
    return st.sampled_from(ordered)


def cases(
    *,
    space: SpecSpace | None = None,
    min_layers: int = 1,
    max_layers: int = 5,
    min_width: int = 1,
    max_width: int = 16,
    min_batch: int = 1,
    max_batch: int = 16,
    dtypes: Sequence[str] = ("float64",),
    losses: Sequence[str] | None = None,
    activations: Sequence[str] | None = None,
    reductions: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    allow_reg: bool | None = None,
    max_reg: float = 0.1,
    regimes: Sequence[str | None] = REGIMES,
    scales: Sequence[float] = SCALES,
    steps: int | None = None,
) -> st.SearchStrategy[Case]:
    """Cases inside ``space``: the architecture from hypothesis, the numbers from a drawn seed.

    ``scales`` are the input standard deviations to choose from in the ordinary regime (the
    other regimes pick their own); ``steps`` fixes the trajectory length (drawn 1..4 when None).
    """
    regime_strategy = _regimes_strategy(regimes)
    if min_batch < 1 or min_batch > max_batch:
        raise ValueError(f"batch range {min_batch}..{max_batch} is empty or below 1")
    if not scales or any(not (s > 0 and math.isfinite(s)) for s in scales):
        raise ValueError(f"scales={list(scales)} must be finite positive numbers")

    def shape_of(regime):
        tiny = regime == "tiny"
        return specs(
            space=space,
            min_layers=min_layers,
            max_layers=max_layers,
            min_width=1 if tiny else min_width,
            max_width=1 if tiny else max_width,
            dtypes=dtypes,
            losses=losses,
            activations=activations,
            reductions=reductions,
            targets=targets,
            allow_reg=allow_reg,
            max_reg=max_reg,
        )

    @st.composite
    def _draw(draw) -> Case:
        regime = draw(regime_strategy)
        spec = draw(shape_of(regime))
        lo = min_batch
        if not spec.is_mlp:
            from oracles.strategies_layers import min_batch as lowest

            lo = max(lo, lowest(spec))
        m = max(lo, 1 if regime == "tiny" else draw(st.integers(min_batch, max_batch)))
        scale = draw(st.sampled_from(list(scales))) if regime is None else 1.0
        seed = draw(st.integers(0, 2**32 - 1))
        return build_case(spec, m, seed, regime=regime, scale=scale, steps=steps)

    return _draw()


def _regimes_strategy(allowed: Sequence[str | None]) -> st.SearchStrategy[str | None]:
    return regimes(allowed=allowed)
