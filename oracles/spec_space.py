"""SpecSpace: the Specs one entry point of one implementation can run.

Drivers declare a space per entry point (oracles/styles/), the strategies draw Cases from it and the
campaign and the judge keep shrunk Cases inside it (``allows``). Separate from oracles/spec.py: a
space is a set of Specs with its own rules (layer templates, pinned hyper-parameters), not a Spec.

This module imports numpy only (through oracles.spec): the sandbox child imports it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from oracles.spec import ACTIVATION_NAMES, TARGETS, Spec

__all__ = ["SpecSpace"]


@dataclass(frozen=True)
class SpecSpace:
    """The Specs one entry point of one implementation can run (drivers declare it, strategies draw from it).

    ``hidden_activations``: choices for hidden layers; ``uniform_hidden`` forces one choice for all of them.
    ``outputs``: loss -> allowed output activations. ``fixed_sizes``: exact layer count when set.

    Layer sequences beyond the MLP: ``sequences`` lists the templates an entry point runs, as kind strings
    ('affine>batchnorm>relu>affine'); ``fixed`` pins hyper-parameters or conventions per kind
    (('batchnorm', 'running_var', 'biased')); ``modes`` the forward modes (train, test); ``input_shapes``
    the per-sample input shapes to draw from (empty: flat inputs of a drawn width). A space with
    ``sequences`` holds layer Specs only; one without holds MLP Specs only.
    """

    layout: str = "columns"
    min_layers: int = 1
    max_layers: int = 5
    hidden_activations: tuple[str, ...] = ACTIVATION_NAMES
    uniform_hidden: bool = False
    outputs: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("quadratic", ACTIVATION_NAMES),
        ("binary_cross_entropy", ("sigmoid",)),
        ("softmax_cross_entropy", ("identity",)),
    )
    reductions: tuple[str, ...] = ("mean",)
    targets: tuple[str, ...] = TARGETS
    allow_reg: bool = False
    min_outputs: int = 1
    max_outputs: int | None = None  # e.g. 1 for deeplearning.ai's single-output cost functions
    sequences: tuple[str, ...] = ()
    fixed: tuple[tuple[str, str, object], ...] = ()
    modes: tuple[str, ...] = ("train",)
    input_shapes: tuple[tuple[int, ...], ...] = ()

    sizes: tuple[int, ...] | None = None  # a fixed architecture (MyTorch's MLP0 is 2-3, MLP4 2-4-8-8-4-2)

    def fixed_for(self, kind_name: str) -> dict:
        """The hyper-parameters and conventions this space pins for one layer kind."""
        return {k: v for kd, k, v in self.fixed if kd == kind_name}

    def allows(self, spec: Spec) -> str | None:
        """None when spec is inside this space, else the reason it is not."""
        if spec.layout != self.layout:
            return f"layout {spec.layout!r} (this entry point uses {self.layout!r})"
        if self.sequences or not spec.is_mlp:
            return self._allows_layers(spec)
        if not self.min_layers <= spec.n_layers <= self.max_layers:
            return f"{spec.n_layers} layers (supported: {self.min_layers}..{self.max_layers})"
        hidden = spec.activations[:-1]
        bad = [a for a in hidden if a not in self.hidden_activations]
        if bad:
            return f"hidden activation {bad[0]!r} (supported: {', '.join(self.hidden_activations)})"
        if self.uniform_hidden and len(set(hidden)) > 1:
            return "different activations per hidden layer"
        why = self._allows_output(spec)
        if why:
            return why
        if self.sizes is not None and tuple(spec.sizes) != tuple(self.sizes):
            return f"sizes {list(spec.sizes)} (this entry point's architecture is fixed: {list(self.sizes)})"
        return None

    def _allows_output(self, spec: Spec) -> str | None:
        """The loss, output, reduction, target, regularisation and output-width parts of ``allows``."""
        outs = dict(self.outputs)
        if spec.loss not in outs:
            return f"loss {spec.loss!r} (supported: {', '.join(outs)})"
        if spec.output_activation not in outs[spec.loss]:
            return f"output activation {spec.output_activation!r} with loss {spec.loss!r}"
        if spec.reduction not in self.reductions:
            return f"reduction {spec.reduction!r}"
        if spec.target not in self.targets:
            return f"target {spec.target!r}"
        if spec.reg and not self.allow_reg:
            return "regularisation"
        if spec.n_out < self.min_outputs:
            return f"{spec.n_out} outputs (needs >= {self.min_outputs})"
        if self.max_outputs is not None and spec.n_out > self.max_outputs:
            return f"{spec.n_out} outputs (at most {self.max_outputs})"
        return None

    def _allows_layers(self, spec: Spec) -> str | None:
        if spec.is_mlp:
            return "a plain MLP (this entry point runs the layer sequences " + ", ".join(self.sequences) + ")"
        if spec.kinds() not in self.sequences:
            return f"layers {spec.kinds()} (supported: {', '.join(self.sequences) or 'plain MLPs only'})"
        for layer in spec.layers:
            for key, value in self.fixed_for(layer.kind).items():
                if layer.hp.get(key) != value:
                    return f"{layer.kind} {key}={layer.hp.get(key)!r} (this entry point has {key}={value!r})"
        if spec.mode not in self.modes:
            return f"mode {spec.mode!r}"
        if self.input_shapes and spec.input_shape not in self.input_shapes:
            return f"input shape {spec.input_shape}"
        return self._allows_output(spec)
