"""The layer table's contract: what one layer kind declares, once, for every oracle, driver and strategy.

In the spirit of torch's OpInfo: a ``LayerKind`` is one row of one table (``KINDS``). Everything that
needs to know about a kind of layer asks its row:

* ``params``: the parameters with their canonical shapes (a function of the input shape and the
  hyper-parameters), the check family each gradient belongs to and whether L2 regularisation covers it;
* ``hyper``: the hyper-parameters, each with how to draw it for fuzzing (``draw``);
* ``conventions``: the points courses disagree on (biased or unbiased running variance, p as keep or
  drop probability), each a named option; the first option is the one the oracle uses by default, and a
  Spec may fix another (the layer's hyper-parameter of the same name);
* ``out_shape``: shape propagation (per sample, without the batch axis); raises ValueError with a reason;
* ``numpy``: the forward in float64 numpy: the finite-difference oracle and the case generator use it
  (the sandbox child can run it: this module and the kind modules import numpy only at import time);
* ``torch``: the float64 torch twin: the autograd oracle;
* ``kink``: a discrete signature of the forward (relu's sign pattern, max-pool's argmax); where it differs
  between the points a finite difference rests on, the value is "not differentiable here";
* ``state``: buffers a forward reads and updates (running mean/var), with their initial values;
* ``aux``: inputs the implementation chooses and the oracle must be told (a dropout mask): read back from
  the implementation (``Observation.aux``) and handed to the oracles;
* ``encode``: for inputs that are integers in the course's API (word indices, labels, a mask): the Case's x
  carries them as exact float-encoded integers, and ``encode(rng, x, hp)`` writes them into the drawn x
  (m, *in_shape) when the Case is built; the course driver casts them back (oracles/layers/words.py);
* ``loss_layer``: the layer computes a loss itself (its output is the per-sample loss): under loss 'dot' its
  upstream gradient dout is 1, not a random tensor, so the Case's loss is the course's own loss;
* ``numbered``: whether the layer starts a new layer number l (affine, conv): parameters are named
  ``W{l}``, ``b{l}`` after it and ``gamma{l}``, ``beta{l}``, ``running_mean{l}``, ``mask{l}`` after the
  numbered layer they follow, as CS231n, Saito and deeplearning.ai number them.

The forward functions take ``(x, p, hp, ctx)``: the batch (m, *in_shape), this layer's parameters by short
name (``p["W"]``), its hyper-parameters (``hp["stride"]``) and a ``Ctx`` (mode, state in/out, aux).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Param",
    "Hyper",
    "LayerKind",
    "Layer",
    "Ctx",
    "KINDS",
    "register",
    "kind",
    "Slot",
    "slots",
    "out_shapes",
    "MissingAux",
]


@dataclass(frozen=True)
class Param:
    """One parameter of a layer kind. ``shape(in_shape, hp)`` is its canonical shape."""

    name: str  # short name: "W", "b", "gamma", "beta"
    shape: Callable[[tuple[int, ...], Mapping[str, Any]], tuple[int, ...]]
    family: str = "grad_param"  # the check family of its gradient (oracles.observation.CHECKS)
    regularised: bool = False  # part of 0.5 * reg * sum ||p||^2
    init: str = "fan_in"  # "fan_in" (normal / sqrt(fan-in)), "bias" (0.5 * normal), "one" (1 + 0.1 * normal)


@dataclass(frozen=True)
class Hyper:
    """One hyper-parameter: its default and how to draw it (``draw(rng, in_shape) -> value``)."""

    name: str
    default: Any
    draw: Callable[[np.random.Generator, tuple[int, ...]], Any] | None = None
    doc: str = ""


@dataclass
class Ctx:
    """What a forward needs besides x and the parameters.

    ``state_in``/``state_out``: this layer's buffers by short name (running_mean ...), read in test mode and
    updated in train mode; ``aux``: implementation-chosen inputs by short name (mask); ``mode``: train | test."""

    mode: str = "train"
    state_in: dict[str, Any] = field(default_factory=dict)
    state_out: dict[str, Any] = field(default_factory=dict)
    aux: dict[str, Any] = field(default_factory=dict)


class MissingAux(ValueError):
    """A forward needs an input the implementation chooses (a dropout mask) and nobody supplied it."""


def _no_kink(x, p, hp, ctx):
    return None


@dataclass(frozen=True)
class LayerKind:
    name: str
    out_shape: Callable[[tuple[int, ...], Mapping[str, Any]], tuple[int, ...]]
    numpy: Callable
    torch: Callable
    params: tuple[Param, ...] = ()
    hyper: tuple[Hyper, ...] = ()
    conventions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    kink: Callable = _no_kink
    state: Mapping[str, Callable[[tuple[int, ...], Mapping[str, Any]], tuple[int, ...]]] = field(default_factory=dict)
    state_init: Mapping[str, float] = field(default_factory=dict)
    aux: tuple[str, ...] = ()
    numbered: bool = False
    encode: Callable | None = None  # (rng, x, hp) -> x with the integer parts written: see words.py
    loss_layer: bool = False  # the output is a per-sample loss: dout = 1
    activation: bool = False  # elementwise, no parameters: an MLP's activations
    min_batch: int = 1  # batchnorm needs 2: one sample has no variance
    modes: tuple[str, ...] = ("train",)  # modes the forward distinguishes (train, test)
    doc: str = ""

    def hyper_defaults(self) -> dict[str, Any]:
        out = {h.name: h.default for h in self.hyper}
        for conv, options in self.conventions.items():
            out.setdefault(conv, options[0])
        return out

    def check_hyper(self, hp: Mapping[str, Any]) -> None:
        known = {h.name for h in self.hyper} | set(self.conventions)
        unknown = sorted(set(hp) - known)
        if unknown:
            raise ValueError(f"layer {self.name!r}: unknown hyper-parameter(s) {unknown}; it takes {sorted(known)}")
        for conv, options in self.conventions.items():
            if conv in hp and hp[conv] not in options:
                raise ValueError(f"layer {self.name!r}: {conv}={hp[conv]!r} is not a known convention; "
                                 f"choose one of {', '.join(map(repr, options))}")


KINDS: dict[str, LayerKind] = {}


def register(k: LayerKind) -> LayerKind:
    if k.name in KINDS:
        raise ValueError(f"layer kind {k.name!r} is registered twice")
    KINDS[k.name] = k
    return k


def kind(name: str) -> LayerKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown layer kind {name!r}; known kinds: {', '.join(sorted(KINDS))}") from None


def _freeze(v):
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, np.generic):
        return v.item()
    return v


@dataclass(frozen=True)
class Layer:
    """One layer of a Spec: a kind and its hyper-parameters (sorted (key, value) pairs: hashable)."""

    kind: str
    hyper: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        hp = self.hyper.items() if isinstance(self.hyper, Mapping) else self.hyper
        object.__setattr__(self, "hyper", tuple(sorted((str(k), _freeze(v)) for k, v in hp)))

    @classmethod
    def of(cls, kind_name: str, **hyper) -> Layer:
        return cls(kind_name, tuple(hyper.items()))

    @property
    def spec(self) -> LayerKind:
        return kind(self.kind)

    @property
    def hp(self) -> dict[str, Any]:
        """Hyper-parameters with the kind's defaults filled in."""
        out = self.spec.hyper_defaults()
        out.update(self.hyper)
        return out

    def get(self, key: str, default=None):
        return dict(self.hyper).get(key, default)

    def to_dict(self) -> dict:
        return {"kind": self.kind, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in self.hyper}}

    @classmethod
    def from_any(cls, v) -> Layer:
        if isinstance(v, Layer):
            return v
        if isinstance(v, str):
            return cls(v)
        if isinstance(v, Mapping):
            d = dict(v)
            if "kind" not in d:
                raise ValueError(f"a layer needs a 'kind': got {d!r}")
            k = d.pop("kind")
            return cls(k, tuple(d.items()))
        if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str):
            return cls(v[0], v[1])
        raise ValueError(f"cannot read a layer from {v!r}; use Layer.of('affine', out=3) or {{'kind': 'affine', ...}}")

    def describe(self) -> str:
        if not self.hyper:
            return self.kind
        return f"{self.kind}(" + ",".join(f"{k}={v}" for k, v in self.hyper) + ")"


@dataclass(frozen=True)
class Slot:
    """Where one layer sits in a sequence: its index, number l, shapes, and the names of its tensors."""

    index: int
    layer: Layer
    number: int  # the layer number l its names carry (0 before the first numbered layer)
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: dict[str, str]  # short name -> full name ("W" -> "W2")
    state: dict[str, str]  # short name -> full name ("running_mean" -> "running_mean1")
    aux: dict[str, str]  # short name -> full name ("mask" -> "mask2")


def out_shapes(layers: tuple[Layer, ...], input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The per-sample output shape of every layer (ValueError naming the layer that cannot take its input)."""
    shapes = []
    s = tuple(input_shape)
    for i, lay in enumerate(layers):
        k = kind(lay.kind)
        k.check_hyper(dict(lay.hyper))
        try:
            s = tuple(int(v) for v in k.out_shape(s, lay.hp))
        except ValueError as e:
            raise ValueError(f"layer {i} ({lay.describe()}) cannot take an input of shape {s}: {e}") from None
        if any(v < 1 for v in s):
            raise ValueError(f"layer {i} ({lay.describe()}) on input {tuple(input_shape)} gives an empty output {s}")
        shapes.append(s)
    return shapes


def slots(layers: tuple[Layer, ...], input_shape: tuple[int, ...]) -> list[Slot]:
    """Every layer with its number, shapes and tensor names; ValueError on a name collision."""
    shapes = out_shapes(layers, input_shape)
    out, number, seen = [], 0, {}
    s_in = tuple(input_shape)
    for i, (lay, s_out) in enumerate(zip(layers, shapes)):
        k = kind(lay.kind)
        if k.numbered:
            number += 1
        tag = max(number, 1)
        names = {
            "params": {p.name: f"{p.name}{tag}" for p in k.params},
            "state": {s: f"{s}{tag}" for s in k.state},
            "aux": {a: f"{a}{tag}" for a in k.aux},
        }
        for group in names.values():
            for full in group.values():
                if full in seen:
                    raise ValueError(f"layers {seen[full]} and {i} both name a tensor {full!r}: put a numbered layer "
                                     f"(affine, conv) between two layers of the same kind")
                seen[full] = i
        out.append(Slot(i, lay, number, s_in, s_out, names["params"], names["state"], names["aux"]))
        s_in = s_out
    return out


def fan_in(shape: tuple[int, ...]) -> int:
    """Inputs per output unit of a weight of this canonical shape ((out, in) or (F, C, kh, kw))."""
    return int(math.prod(shape[1:])) if len(shape) > 1 else 1
