"""Spec: what network, with what conventions (the canonical conventions are in oracles/case.py's docstring).

The vocabulary (activation, loss, reduction, layout, dtype, target and mode names), ``param_names`` and
the frozen ``Spec``, either an MLP (``sizes``/``activations``) or a sequence of typed layers from the
layer table. Separate from oracles/case.py, which holds the Case (a Spec with concrete numbers, its
checks and its file format): a Spec is compared, hashed and described without any arrays.

This module imports numpy only: the sandbox child imports it too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from oracles.layers import Layer, Slot, kind, slots

__all__ = [
    "ACTIVATION_NAMES",
    "LOSS_NAMES",
    "REDUCTIONS",
    "LAYOUTS",
    "DTYPES",
    "TARGETS",
    "MODES",
    "Layer",
    "Spec",
    "param_names",
]

ACTIVATION_NAMES = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus")
# "dot": L = sum(out * y), y a given upstream gradient dout of the output's shape: how a single layer
# (batchnorm_backward(dout, cache), conv_backward(dout, cache)) is checked, as the courses' own
# gradient checks do; only for layer sequences.
LOSS_NAMES = ("quadratic", "binary_cross_entropy", "softmax_cross_entropy", "hinge", "dot")
REDUCTIONS = ("mean", "sum")
LAYOUTS = ("columns", "rows")
DTYPES = ("float64", "float32")
TARGETS = ("dense", "labels")
MODES = ("train", "test")


def _choice(field_name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"Spec.{field_name}={value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}")


def param_names(n_layers: int) -> list[str]:
    """['W1', 'b1', 'W2', 'b2', ...] in layer order."""
    return [f"{k}{l}" for l in range(1, n_layers + 1) for k in ("W", "b")]


def _mlp_form(layers: tuple[Layer, ...], input_shape: tuple[int, ...]) -> tuple[tuple, tuple] | None:
    """(sizes, activations) when the sequence is an MLP [affine, act, affine, act, ...] on flat inputs."""
    if len(input_shape) != 1 or not layers or len(layers) % 2:
        return None
    sizes, acts = [input_shape[0]], []
    for aff, act in zip(layers[::2], layers[1::2]):
        if aff.kind != "affine" or set(dict(aff.hyper)) != {"out"} or act.hyper or act.kind not in ACTIVATION_NAMES:
            return None
        sizes.append(int(dict(aff.hyper)["out"]))
        acts.append(act.kind)
    return tuple(sizes), tuple(acts)



@dataclass(frozen=True)
class Spec:
    """Architecture and conventions. Validated on construction.

    An MLP: ``Spec(sizes=(4, 8, 3), activations=("relu", "identity"), ...)``. Any other sequence:
    ``Spec(layers=(Layer.of("affine", out=8), Layer("batchnorm"), Layer("relu"), Layer.of("affine", out=3)),
    input_shape=(4,), ...)``."""

    sizes: tuple[int, ...] = ()
    activations: tuple[str, ...] = ()
    loss: str = "quadratic"
    reduction: str = "mean"
    layout: str = "columns"
    dtype: str = "float64"
    target: str = "dense"
    reg: float = 0.0
    layers: tuple[Layer, ...] = ()
    input_shape: tuple[int, ...] = ()
    mode: str = "train"

    def __post_init__(self) -> None:
        layers = tuple(Layer.from_any(v) for v in self.layers)
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))
        _choice("mode", self.mode, MODES)
        if layers:
            if self.sizes or self.activations:
                raise ValueError("Spec: give either sizes/activations (an MLP) or layers + input_shape, not both")
            if not self.input_shape or any(s < 1 for s in self.input_shape):
                raise ValueError(f"Spec.input_shape={self.input_shape!r}: a layer sequence needs the per-sample "
                                 f"input shape, e.g. (4,) or (3, 8, 8), every entry >= 1")
            slots(layers, self.input_shape)  # validates kinds, hyper-parameters, shapes and names
            mlp = _mlp_form(layers, self.input_shape) if self.loss != "dot" else None
            if mlp is not None:  # one Spec, two spellings: store the MLP form
                object.__setattr__(self, "sizes", mlp[0])
                object.__setattr__(self, "activations", mlp[1])
                object.__setattr__(self, "layers", ())
                object.__setattr__(self, "input_shape", ())
                object.__setattr__(self, "mode", "train")
        if not self.layers:
            self._check_mlp()
            if self.loss == "dot":
                raise ValueError("Spec.loss='dot' (a given upstream gradient) is for layer sequences: give "
                                 "Spec.layers and Spec.input_shape")
        elif len(self.slots[-1].out_shape) != 1 and self.loss != "dot":
            raise ValueError(f"Spec.layers: the last layer gives per-sample shape {self.slots[-1].out_shape}; the "
                             f"loss needs a vector per sample: end with an affine layer (or add a flatten)")
        _choice("loss", self.loss, LOSS_NAMES)
        _choice("reduction", self.reduction, REDUCTIONS)
        _choice("layout", self.layout, LAYOUTS)
        _choice("dtype", self.dtype, DTYPES)
        _choice("target", self.target, TARGETS)
        if not (isinstance(self.reg, (int, float)) and math.isfinite(self.reg) and self.reg >= 0):
            raise ValueError(f"Spec.reg={self.reg!r} must be a finite number >= 0")
        object.__setattr__(self, "reg", float(self.reg))
        last = self.output_activation
        where = "Spec.activations[-1]" if self.is_mlp else "the last layer"
        if self.loss == "binary_cross_entropy" and last != "sigmoid":
            raise ValueError(f"{where}={last!r}: loss 'binary_cross_entropy' needs 'sigmoid' output")
        if self.loss in ("softmax_cross_entropy", "hinge") and last != "identity":
            raise ValueError(f"{where}={last!r}: loss {self.loss!r} works on logits; use 'identity' output")
        if self.target == "labels" and self.loss not in ("softmax_cross_entropy", "hinge"):
            raise ValueError(
                f"Spec.target='labels' with loss {self.loss!r}: label targets go with 'softmax_cross_entropy' "
                f"or 'hinge'; use target='dense' (one-hot or real targets)"
            )
        if self.loss == "dot" and self.target != "dense":
            raise ValueError("Spec.target='labels' with loss 'dot': the upstream gradient is a dense tensor")
        if self.loss == "hinge" and self.target != "labels":
            raise ValueError("Spec.target='dense' with loss 'hinge': the SVM loss takes integer labels")
        if self.loss in ("softmax_cross_entropy", "hinge") and self.n_out < 2 and self.target == "labels":
            raise ValueError(f"Spec: {self.n_out} output(s): label targets need at least 2 classes")

    def _check_mlp(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        object.__setattr__(self, "activations", tuple(self.activations))
        if len(self.sizes) < 2:
            raise ValueError(f"Spec.sizes={self.sizes!r} needs at least an input and an output size, e.g. (3, 2)")
        for i, s in enumerate(self.sizes):
            if s < 1:
                raise ValueError(
                    f"Spec.sizes[{i}]={s}: every layer needs width >= 1 (a zero-width layer has no units); "
                    f"remove the layer or give it a positive width"
                )
        if len(self.activations) != self.n_layers:
            raise ValueError(
                f"Spec.activations has {len(self.activations)} entries but sizes={self.sizes} has "
                f"{self.n_layers} layers; give one activation per layer"
            )
        for i, a in enumerate(self.activations):
            if a not in ACTIVATION_NAMES:
                raise ValueError(
                    f"Spec.activations[{i}]={a!r} is unknown; choose one of {', '.join(ACTIVATION_NAMES)}"
                )

    # -- the sequence view, for every form

    @property
    def is_mlp(self) -> bool:
        """True for [affine, act, ...] on flat inputs: the MLP code paths (vectorised FD, error model) apply."""
        return not self.layers

    @cached_property
    def sequence(self) -> tuple[Layer, ...]:
        """The layers, for an MLP too: (affine(out=n_1), act_1, affine(out=n_2), act_2, ...)."""
        if self.layers:
            return self.layers
        out: list[Layer] = []
        for n, a in zip(self.sizes[1:], self.activations):
            out += [Layer.of("affine", out=n), Layer(a)]
        return tuple(out)

    @property
    def x_shape(self) -> tuple[int, ...]:
        """The per-sample input shape: x is (m, *x_shape)."""
        return (self.sizes[0],) if self.is_mlp else self.input_shape

    @cached_property
    def slots(self) -> tuple[Slot, ...]:
        """Every layer with its number, shapes and tensor names (oracles.layers.Slot)."""
        return tuple(slots(self.sequence, self.x_shape))

    @property
    def n_layers(self) -> int:
        """Numbered layers (affine, conv): L, the number of W's."""
        if self.is_mlp:
            return len(self.sizes) - 1
        return max((s.number for s in self.slots), default=0)

    @property
    def n_out(self) -> int:
        """Output units (classes) per sample."""
        return self.sizes[-1] if self.is_mlp else int(self.slots[-1].out_shape[0])

    @property
    def out_shape(self) -> tuple[int, ...]:
        """The network output's per-sample shape: (n_out,), or any shape under loss 'dot'."""
        return (self.sizes[-1],) if self.is_mlp else tuple(self.slots[-1].out_shape)

    @property
    def output_activation(self) -> str:
        if self.is_mlp:
            return self.activations[-1]
        last = self.layers[-1]
        return last.kind if kind(last.kind).activation else "identity"

    @property
    def n_params(self) -> int:
        return sum(int(np.prod(s)) for s in self.param_shapes().values())

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Parameter name -> canonical shape, in layer order (W1, b1, gamma1, beta1, W2, ...)."""
        if self.is_mlp:
            shapes = {}
            for l in range(1, self.n_layers + 1):
                shapes[f"W{l}"] = (self.sizes[l], self.sizes[l - 1])
                shapes[f"b{l}"] = (self.sizes[l],)
            return shapes
        out = {}
        for s in self.slots:
            hp = s.layer.hp
            for p in kind(s.layer.kind).params:
                out[s.params[p.name]] = tuple(int(v) for v in p.shape(s.in_shape, hp))
        return out

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """Buffer name -> shape (running_mean1, running_var1, ...); empty for an MLP."""
        out = {}
        for s in self.slots if not self.is_mlp else ():
            hp = s.layer.hp
            for short, shape in kind(s.layer.kind).state.items():
                out[s.state[short]] = tuple(int(v) for v in shape(s.in_shape, hp))
        return out

    def aux_names(self) -> list[str]:
        """Inputs the implementation chooses (mask2, ...): read back from it, handed to the oracles."""
        return [full for s in (self.slots if not self.is_mlp else ()) for full in s.aux.values()]

    def regularised(self) -> list[str]:
        """The parameters 0.5 * reg * sum ||p||^2 covers (every W)."""
        if self.is_mlp:
            return [f"W{l}" for l in range(1, self.n_layers + 1)]
        return [s.params[p.name] for s in self.slots for p in kind(s.layer.kind).params if p.regularised]

    def param_names(self) -> list[str]:
        return list(self.param_shapes())

    def kinds(self) -> str:
        """The sequence as a template string: 'affine>batchnorm>relu>affine'."""
        return ">".join(layer.kind for layer in self.sequence)

    def to_dict(self) -> dict:
        d = {
            "sizes": list(self.sizes),
            "activations": list(self.activations),
            "loss": self.loss,
            "reduction": self.reduction,
            "layout": self.layout,
            "dtype": self.dtype,
            "target": self.target,
            "reg": self.reg,
        }
        if not self.is_mlp:  # an MLP's dict is exactly what it was before the layer table
            del d["sizes"], d["activations"]
            d.update(layers=[layer.to_dict() for layer in self.layers], input_shape=list(self.input_shape),
                     mode=self.mode)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Spec:
        known = {"sizes", "activations", "loss", "reduction", "layout", "dtype", "target", "reg", "layers",
                 "input_shape", "mode"}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"Spec: unknown field(s) {sorted(unknown)}; allowed {sorted(known)}")
        d = dict(d)
        if "layers" in d:
            d["layers"] = tuple(Layer.from_any(v) for v in d["layers"])
        return cls(**d)

    def describe(self) -> str:
        reg = f", reg={self.reg:g}" if self.reg else ""
        if self.is_mlp:
            acts = ",".join(self.activations)
            return f"{list(self.sizes)} [{acts}] {self.loss}/{self.reduction} {self.dtype}{reg}"
        seq = " > ".join(layer.describe() for layer in self.layers)
        mode = " test mode" if self.mode == "test" else ""
        return f"{self.input_shape} {seq} {self.loss}/{self.reduction} {self.dtype}{reg}{mode}"
