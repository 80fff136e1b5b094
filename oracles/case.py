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

Beyond the MLP, a Spec is a sequence of typed layers (``layers``, rows of the layer table in
oracles/layers/) on inputs of per-sample shape ``input_shape``: ``x`` is ``(m, *input_shape)``, the
parameters are named by the table (``W{l}``, ``b{l}``, ``gamma{l}``, ...), ``Case.state`` holds the
buffers (running statistics) the forward reads and updates, ``mode`` is train or test. An MLP is the
sequence [affine, act, affine, act, ...]; a Spec given as such a sequence is stored in the MLP form
(``sizes``/``activations``) so that both spellings are the same Spec, and ``spec.sequence`` gives the
layers of either form.

This module imports numpy only: the sandbox child imports it too.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

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
    "Case",
    "param_names",
    "SpecSpace",
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
FORMAT_VERSION = 1


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



def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file, so a reader never sees half a case file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path

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
    state: dict[str, np.ndarray] = field(default_factory=dict)

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
        arch = f"sizes={list(spec.sizes)}" if spec.is_mlp else f"the layers {spec.kinds()} on {spec.input_shape}"
        for name in expected:
            p = np.asarray(self.params[name])
            if p.shape != expected[name]:
                raise ValueError(f"Case.params[{name!r}] has shape {p.shape}, but {arch} needs {expected[name]}")
            _finite(f"Case.params[{name!r}]", p)
            params[name] = p
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "state", _state(spec, self.state))
        x = np.asarray(self.x)
        if x.shape[1:] != spec.x_shape or x.shape[0] < 1:
            raise ValueError(f"Case.x has shape {x.shape}; expected (m, {', '.join(map(str, spec.x_shape))}) "
                             f"with m >= 1")
        _finite("Case.x", x)
        lowest = max((kind(layer.kind).min_batch for layer in spec.sequence), default=1)
        if x.shape[0] < lowest:
            raise ValueError(f"Case.x has {x.shape[0]} sample(s); {spec.kinds()} needs a batch of at least {lowest}")
        y = np.asarray(self.y)
        m = x.shape[0]
        if spec.target == "labels":
            if y.shape != (m,) or not np.issubdtype(y.dtype, np.integer):
                raise ValueError(
                    f"Case.y must be integer labels of shape ({m},) for target='labels'; got {y.dtype} {y.shape}"
                )
            if y.min() < 0 or y.max() >= spec.n_out:
                raise ValueError(f"Case.y labels must lie in [0, {spec.n_out}); got [{y.min()}, {y.max()}]")
        else:
            if y.shape != (m, *spec.out_shape):
                want = ", ".join(map(str, (m, *spec.out_shape)))
                raise ValueError(f"Case.y has shape {y.shape}; expected ({want}) for target='dense'")
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
        out = np.zeros((self.m, self.spec.n_out))
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
        arrays.update({f"state_{k}": v for k, v in self.state.items()})
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
            state = {k[len("state_"):]: z[k] for k in z.files if k.startswith("state_")}
            return cls(
                spec=Spec.from_dict(meta["spec"]),
                params=params,
                x=z["x"],
                y=z["y"],
                lr=meta["lr"],
                seed=meta["seed"],
                steps=meta["steps"],
                tags=tuple(meta["tags"]),
                state=state,
            )

    def save(self, path: str | Path) -> Path:
        return write_atomic(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> Case:
        return cls.from_bytes(Path(path).read_bytes())

    @functools.cached_property
    def case_id(self) -> str:
        """A short content hash: two Cases with the same numbers share it.

        Hashed once (a Case's numbers never change after it is made; the judge names the case in every
        comparison), over the metadata and each array's dtype, shape and raw bytes: the .npz container
        cost the judge 2-4 ms a case."""
        meta = {"format": FORMAT_VERSION, "spec": self.spec.to_dict(), "lr": self.lr, "seed": int(self.seed),
                "steps": int(self.steps), "tags": list(self.tags)}
        h = hashlib.sha1(json.dumps(meta, sort_keys=True).encode())
        arrays = [("x", self.x), ("y", self.y), *((f"param_{k}", v) for k, v in self.params.items()),
                  *((f"state_{k}", v) for k, v in self.state.items())]
        for name, v in arrays:
            a = np.ascontiguousarray(v)
            h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
            h.update(a.tobytes())
        return h.hexdigest()[:10]

    def describe(self) -> str:
        return f"{self.spec.describe()}, batch {self.m}, lr {self.lr:g}, seed {self.seed}"


def _state(spec: Spec, given: dict) -> dict[str, np.ndarray]:
    """The buffers the layers read (running statistics): given ones checked, missing ones at their initial value."""
    shapes = spec.state_shapes()
    extra = sorted(set(given) - set(shapes))
    if extra:
        raise ValueError(f"Case.state: unexpected {extra}; this Spec's buffers are {list(shapes)}")
    out = {}
    for s in spec.slots if shapes else ():
        init = kind(s.layer.kind).state_init
        for short, full in s.state.items():
            if full in given:
                a = np.asarray(given[full], dtype=np.float64)
                if a.shape != shapes[full]:
                    raise ValueError(f"Case.state[{full!r}] has shape {a.shape}; expected {shapes[full]}")
                _finite(f"Case.state[{full!r}]", a)
            else:
                a = np.full(shapes[full], float(init.get(short, 0.0)))
            out[full] = a
    return out


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
