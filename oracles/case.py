"""Spec (what network, what conventions) and Case (a Spec with concrete numbers and a seed).

Canonical conventions, shared by every oracle, driver and report (drivers convert to and
from the layout of the style they drive):

* ``sizes = (n_0, ..., n_L)``: L layers. Parameters ``W1..WL`` have shape ``(n_l, n_{l-1})``
  (``z = W @ a_prev + b``, Nielsen's and deeplearning.ai's orientation) and ``b1..bL`` have
  shape ``(n_l,)``. Row-layout styles (Saito, CS231n) receive ``W.T``.
* ``x`` is ``(m, n_0)``, one sample per row. ``y`` is ``(m, n_L)`` dense targets, or ``(m,)``
  integer labels when ``spec.target == "labels"``.
* Loss = reduction over samples of the per-sample loss, plus ``0.5 * reg * sum_l ||W_l||^2``.
  Per-sample losses: ``quadratic`` 1/2||a - y||^2 with a = act_L(z_L); ``binary_cross_entropy``
  with a = sigmoid(z_L); ``softmax_cross_entropy`` and ``hinge`` on logits z_L (the last
  activation is ``identity``).
* One SGD step: ``p <- p - lr * dLoss/dp``. Nielsen's ``update_mini_batch(batch, eta)`` is this
  step with reduction ``mean`` and ``lr = eta``.

This module imports numpy only: the sandbox child imports it too.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

__all__ = [
    "ACTIVATION_NAMES",
    "LOSS_NAMES",
    "REDUCTIONS",
    "LAYOUTS",
    "DTYPES",
    "TARGETS",
    "Spec",
    "Case",
    "param_names",
    "SpecSpace",
]

ACTIVATION_NAMES = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus")
LOSS_NAMES = ("quadratic", "binary_cross_entropy", "softmax_cross_entropy", "hinge")
REDUCTIONS = ("mean", "sum")
LAYOUTS = ("columns", "rows")
DTYPES = ("float64", "float32")
TARGETS = ("dense", "labels")
FORMAT_VERSION = 1


def _choice(field_name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"Spec.{field_name}={value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}")


def param_names(n_layers: int) -> list[str]:
    """['W1', 'b1', 'W2', 'b2', ...] in layer order."""
    return [f"{k}{l}" for l in range(1, n_layers + 1) for k in ("W", "b")]


@dataclass(frozen=True)
class Spec:
    """Architecture and conventions. Validated on construction."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str = "quadratic"
    reduction: str = "mean"
    layout: str = "columns"
    dtype: str = "float64"
    target: str = "dense"
    reg: float = 0.0

    def __post_init__(self) -> None:
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
        _choice("loss", self.loss, LOSS_NAMES)
        _choice("reduction", self.reduction, REDUCTIONS)
        _choice("layout", self.layout, LAYOUTS)
        _choice("dtype", self.dtype, DTYPES)
        _choice("target", self.target, TARGETS)
        if not (isinstance(self.reg, (int, float)) and math.isfinite(self.reg) and self.reg >= 0):
            raise ValueError(f"Spec.reg={self.reg!r} must be a finite number >= 0")
        object.__setattr__(self, "reg", float(self.reg))
        last = self.activations[-1]
        if self.loss == "binary_cross_entropy" and last != "sigmoid":
            raise ValueError(f"Spec.activations[-1]={last!r}: loss 'binary_cross_entropy' needs 'sigmoid' output")
        if self.loss in ("softmax_cross_entropy", "hinge") and last != "identity":
            raise ValueError(
                f"Spec.activations[-1]={last!r}: loss {self.loss!r} works on logits; use 'identity' output"
            )
        if self.target == "labels" and self.loss not in ("softmax_cross_entropy", "hinge"):
            raise ValueError(
                f"Spec.target='labels' with loss {self.loss!r}: label targets go with 'softmax_cross_entropy' "
                f"or 'hinge'; use target='dense' (one-hot or real targets)"
            )
        if self.loss == "hinge" and self.target != "labels":
            raise ValueError("Spec.target='dense' with loss 'hinge': the SVM loss takes integer labels")
        if self.loss in ("softmax_cross_entropy", "hinge") and self.sizes[-1] < 2 and self.target == "labels":
            raise ValueError(f"Spec.sizes[-1]={self.sizes[-1]}: label targets need at least 2 classes")

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def n_params(self) -> int:
        return sum(o * i + o for i, o in zip(self.sizes[:-1], self.sizes[1:]))

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for l in range(1, self.n_layers + 1):
            shapes[f"W{l}"] = (self.sizes[l], self.sizes[l - 1])
            shapes[f"b{l}"] = (self.sizes[l],)
        return shapes

    def to_dict(self) -> dict:
        return {
            "sizes": list(self.sizes),
            "activations": list(self.activations),
            "loss": self.loss,
            "reduction": self.reduction,
            "layout": self.layout,
            "dtype": self.dtype,
            "target": self.target,
            "reg": self.reg,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Spec:
        known = {"sizes", "activations", "loss", "reduction", "layout", "dtype", "target", "reg"}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"Spec: unknown field(s) {sorted(unknown)}; allowed {sorted(known)}")
        return cls(**d)

    def describe(self) -> str:
        acts = ",".join(self.activations)
        reg = f", reg={self.reg:g}" if self.reg else ""
        return f"{list(self.sizes)} [{acts}] {self.loss}/{self.reduction} {self.dtype}{reg}"


@dataclass(frozen=True, eq=False)
class Case:
    """A Spec with parameters, a batch, a learning rate and the seed everything came from."""

    spec: Spec
    params: dict[str, np.ndarray]
    x: np.ndarray
    y: np.ndarray
    lr: float = 0.1
    seed: int = 0
    steps: int = 3
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        spec = self.spec
        if not isinstance(spec, Spec):
            raise ValueError(f"Case.spec must be a Spec, got {type(spec).__name__}")
        expected = spec.param_shapes()
        missing = sorted(set(expected) - set(self.params))
        extra = sorted(set(self.params) - set(expected))
        if missing or extra:
            raise ValueError(f"Case.params: missing {missing}, unexpected {extra}; expected keys {list(expected)}")
        params = {}
        for name in param_names(spec.n_layers):
            p = np.asarray(self.params[name])
            if p.shape != expected[name]:
                raise ValueError(
                    f"Case.params[{name!r}] has shape {p.shape}, but sizes={list(spec.sizes)} needs {expected[name]}"
                )
            _finite(f"Case.params[{name!r}]", p)
            params[name] = p
        object.__setattr__(self, "params", params)
        x = np.asarray(self.x)
        if x.ndim != 2 or x.shape[1] != spec.sizes[0] or x.shape[0] < 1:
            raise ValueError(f"Case.x has shape {x.shape}; expected (m, {spec.sizes[0]}) with m >= 1")
        _finite("Case.x", x)
        y = np.asarray(self.y)
        m = x.shape[0]
        if spec.target == "labels":
            if y.shape != (m,) or not np.issubdtype(y.dtype, np.integer):
                raise ValueError(
                    f"Case.y must be integer labels of shape ({m},) for target='labels'; got {y.dtype} {y.shape}"
                )
            if y.min() < 0 or y.max() >= spec.sizes[-1]:
                raise ValueError(f"Case.y labels must lie in [0, {spec.sizes[-1]}); got [{y.min()}, {y.max()}]")
        else:
            if y.shape != (m, spec.sizes[-1]):
                raise ValueError(f"Case.y has shape {y.shape}; expected ({m}, {spec.sizes[-1]}) for target='dense'")
            _finite("Case.y", y)
            if spec.loss == "softmax_cross_entropy":
                rows = y.sum(axis=1)
                if (y < 0).any() or np.abs(rows - 1).max() > 1e-9:
                    i = int(np.argmax((y < 0).any(axis=1) | (np.abs(rows - 1) > 1e-9)))
                    raise ValueError(
                        f"Case.y row {i} sums to {rows[i]:g}: softmax cross-entropy targets must be "
                        f"distributions (non-negative, each row summing to 1), e.g. one-hot rows"
                    )
            if spec.loss == "binary_cross_entropy" and ((y < 0) | (y > 1)).any():
                raise ValueError("Case.y: binary cross-entropy targets must lie in [0, 1]")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"Case.lr={self.lr!r} must be a finite number > 0")
        if int(self.steps) < 1:
            raise ValueError(f"Case.steps={self.steps!r} must be >= 1")
        object.__setattr__(self, "tags", tuple(self.tags))

    def typed(self, a: np.ndarray) -> np.ndarray:
        """An array as the implementation receives it: cast to spec.dtype (labels stay integers).

        Oracles upcast these same values back to float64, so rounding the inputs to float32 is
        never counted as the implementation's error."""
        if np.issubdtype(a.dtype, np.integer):
            return a.copy()
        return a.astype(self.spec.dtype)

    @property
    def m(self) -> int:
        return int(self.x.shape[0])

    @property
    def labels(self) -> np.ndarray:
        """Integer class labels (argmax of dense targets)."""
        return self.y if self.spec.target == "labels" else self.y.argmax(axis=1)

    @property
    def onehot(self) -> np.ndarray:
        """Dense targets (labels turned one-hot)."""
        if self.spec.target == "dense":
            return self.y
        out = np.zeros((self.m, self.spec.sizes[-1]))
        out[np.arange(self.m), self.y] = 1.0
        return out

    def with_spec(self, **changes) -> Case:
        """The same numbers under a changed spec (e.g. dtype='float32')."""
        return replace(self, spec=replace(self.spec, **changes))

    # -- persistence: one .npz file, arrays bit-exact, metadata as JSON --

    def to_bytes(self) -> bytes:
        meta = {
            "format": FORMAT_VERSION,
            "spec": self.spec.to_dict(),
            "lr": self.lr,
            "seed": int(self.seed),
            "steps": int(self.steps),
            "tags": list(self.tags),
        }
        arrays = {f"param_{k}": v for k, v in self.params.items()}
        buf = io.BytesIO()
        np.savez(buf, x=self.x, y=self.y, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Case:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"case file format {meta.get('format')!r} is not {FORMAT_VERSION}; re-save it")
            params = {k[len("param_"):]: z[k] for k in z.files if k.startswith("param_")}
            return cls(
                spec=Spec.from_dict(meta["spec"]),
                params=params,
                x=z["x"],
                y=z["y"],
                lr=meta["lr"],
                seed=meta["seed"],
                steps=meta["steps"],
                tags=tuple(meta["tags"]),
            )

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(self.to_bytes())
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Case:
        return cls.from_bytes(Path(path).read_bytes())

    @property
    def case_id(self) -> str:
        """A short content hash: two Cases with the same numbers share it."""
        return hashlib.sha1(self.to_bytes()).hexdigest()[:10]

    def describe(self) -> str:
        return f"{self.spec.describe()}, batch {self.m}, lr {self.lr:g}, seed {self.seed}"


def _finite(name: str, a: np.ndarray) -> None:
    if not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{name} has dtype {a.dtype}; expected numbers")
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(f"{name} contains NaN or inf (first at index {where}); data must be finite")


@dataclass(frozen=True)
class SpecSpace:
    """The Specs one entry point of one implementation can run (drivers declare it, strategies draw from it).

    ``hidden_activations``: choices for hidden layers; ``uniform_hidden`` forces one choice for all of them.
    ``outputs``: loss -> allowed output activations. ``fixed_sizes``: exact layer count when set.
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
    sizes: tuple[int, ...] | None = None  # a fixed architecture (MyTorch's MLP0 is 2-3, MLP4 2-4-8-8-4-2)

    def allows(self, spec: Spec) -> str | None:
        """None when spec is inside this space, else the reason it is not."""
        if spec.layout != self.layout:
            return f"layout {spec.layout!r} (this entry point uses {self.layout!r})"
        if not self.min_layers <= spec.n_layers <= self.max_layers:
            return f"{spec.n_layers} layers (supported: {self.min_layers}..{self.max_layers})"
        hidden = spec.activations[:-1]
        bad = [a for a in hidden if a not in self.hidden_activations]
        if bad:
            return f"hidden activation {bad[0]!r} (supported: {', '.join(self.hidden_activations)})"
        if self.uniform_hidden and len(set(hidden)) > 1:
            return "different activations per hidden layer"
        outs = dict(self.outputs)
        if spec.loss not in outs:
            return f"loss {spec.loss!r} (supported: {', '.join(outs)})"
        if spec.activations[-1] not in outs[spec.loss]:
            return f"output activation {spec.activations[-1]!r} with loss {spec.loss!r}"
        if spec.reduction not in self.reductions:
            return f"reduction {spec.reduction!r}"
        if spec.target not in self.targets:
            return f"target {spec.target!r}"
        if spec.reg and not self.allow_reg:
            return "regularisation"
        if spec.sizes[-1] < self.min_outputs:
            return f"{spec.sizes[-1]} outputs (needs >= {self.min_outputs})"
        if self.max_outputs is not None and spec.sizes[-1] > self.max_outputs:
            return f"{spec.sizes[-1]} outputs (at most {self.max_outputs})"
        if self.sizes is not None and tuple(spec.sizes) != tuple(self.sizes):
            return f"sizes {list(spec.sizes)} (this entry point's architecture is fixed: {list(self.sizes)})"
        return None
