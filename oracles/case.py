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

Where the code lives: this module (Case: the numbers, their checks, the .npz file format, case_id);
oracles/spec.py (Spec and the names above); oracles/spec_space.py (SpecSpace). All three are importable
from here, as before.

This module imports numpy only: the sandbox child imports it too.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from oracles.layers import Layer, kind
from oracles.spec import (
    ACTIVATION_NAMES,
    DTYPES,
    LAYOUTS,
    LOSS_NAMES,
    MODES,
    REDUCTIONS,
    TARGETS,
    Spec,
    param_names,
)
from oracles.spec_space import SpecSpace

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

FORMAT_VERSION = 1  # of the .npz case file (Case.to_bytes)


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file, so a reader never sees half a case file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path

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
