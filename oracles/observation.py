"""Observation: what an implementation (or an oracle) said about one Case, in canonical form.

Canonical keys (see oracles/case.py for shapes and layout):

* ``loss``: the batch loss as the Spec defines it, or None when the style exposes no loss.
* ``grads``: ``W1..WL``, ``b1..bL`` (parameter gradients), ``x`` (dLoss/dx, shape (m, n_0)) and
  ``A1..A{L-1}`` (dLoss/d hidden activation, shape (m, n_l)) where the style exposes them.
* ``updated``: parameters after one SGD step (canonical shapes), None when the style has no update.
* ``trajectory``: parameters after each of ``case.steps`` steps on the same batch, or None.
* ``mutated``: names of arguments the implementation changed in place (``x``, ``y``, ``dout``,
  ``params:W1``, ...); ``shape_changes``: stored parameters whose shape changed (broadcasting).
* ``errors``: check name -> readable cause, for checks the implementation could not answer
  (exception, wrong type or shape, NaN, time limit ...). Other checks still run.
* ``notes``: things a reader should know (return order recognised, convention detected, stubs).
* ``out``: the forward output (m, *out_shape), before the loss: the ``output`` check (a single layer's
  ``out`` from ``batchnorm_forward``; under loss 'dot' the loss only sees it through a projection).
* ``state`` (layer Specs): buffers after one train-mode forward (``running_mean1`` ...), judged as the
  ``state`` check; ``aux``: inputs the implementation chose (``mask2``: the dropout mask it drew), which the
  oracles are then handed (never judged themselves; a driver reads them from caches or attributes).
* ``called``: the file's own functions and methods ("backprop", "Network.backprop") that ran while
  this Observation was made (recorded by ``oracles.styles.run``): what the report's coverage counts.
* ``not_checked``: function -> why a driver did not call it (a signature no known variant fits,
  shown in full); never an error of the submission's.
* ``calls`` (drivers that bind a file's own signatures: Nielsen): purpose -> the bound call the driver
  made (``network`` for the constructor, ``grads``, ``update``, ``training_loop``, ``loss``), as plain data
  (``oracles.styles._common.bound_call``): the file's parameter names in order and what each was handed. The
  snippet a student pastes replays exactly this call.
* ``err_est`` (oracles only): the oracle's error estimate per tensor, keyed ``loss``, ``W1``, ``x``,
  ``updated.W1``, ``trajectory.2.W1``; oracles/compare.py turns it into the allowed error.

Numpy only: the sandbox child builds these and sends them to the parent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Observation", "CHECKS", "CALL_KINDS", "call_literal", "checked_calls"]

# The check families every report row is keyed by.
CHECKS = ("loss", "output", "grad_W", "grad_b", "grad_param", "grad_x", "grad_hidden", "update", "trajectory",
          "state",
          "side_effects",
          "training_loop")  # the file's own epoch loop (Nielsen's SGD) runs on a valid training set


# What a bound call handed each parameter: a role's value (``role``: eta, lmbda, n, x, batch, ...), the Case's
# own ``spec`` (sizes, activations), a name of the ``file`` (a cost class), a ``literal`` (a selector string, a
# counter's 0), or a ``standin`` of bpcheck's (a helper the file lacks: no faithful snippet replays that).
CALL_KINDS = ("role", "spec", "file", "literal", "standin")
_CALL_EXTRAS = {"form": ("matrix", "stack"), "over": ("sample", "batch"), "order": ("bw", "wb"),
                "bias": ("column", "vector"), "reg": ("lmbda", "added")}


def checked_calls(d) -> dict[str, dict]:
    """``Observation.calls`` rebuilt from an untrusted dict (the sandbox child's answer), or ValueError: names
    are identifiers and literals plain scalars, so a snippet made from them is the call and nothing else."""
    if not isinstance(d, dict):
        raise ValueError("observation calls is not a dict")
    out: dict[str, dict] = {}
    for purpose, call in d.items():
        if not (isinstance(purpose, str) and purpose.isidentifier() and isinstance(call, dict)):
            raise ValueError("observation calls: not purpose -> dict")
        fn = call.get("fn")
        if not (isinstance(fn, str) and fn and all(part.isidentifier() for part in fn.split("."))):
            raise ValueError(f"observation calls[{purpose!r}]: fn is not a name")
        new: dict = {"fn": fn}
        for part in ("args", "kwargs"):
            items = call.get(part, [])
            if not isinstance(items, list):
                raise ValueError(f"observation calls[{purpose!r}].{part} is not a list")
            new[part] = [_call_item(purpose, item) for item in items]
        for key, value in call.items():
            if key in ("fn", "args", "kwargs"):
                continue
            if key not in _CALL_EXTRAS or value not in _CALL_EXTRAS[key]:
                raise ValueError(f"observation calls[{purpose!r}]: unexpected {key}={value!r}")
            new[key] = value
        out[purpose] = new
    return out


def call_literal(value) -> bool:
    """A value a snippet spells with repr and gets back: None, a bool, an int, a finite float, a short string."""
    return value is None or isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value)) \
        or (isinstance(value, str) and len(value) <= 100)


def _call_item(purpose: str, item) -> list:
    ok = isinstance(item, (list, tuple)) and len(item) == 3 and isinstance(item[0], str) and item[0].isidentifier()
    kind, value = (item[1], item[2]) if ok else (None, None)
    if kind in ("role", "spec", "file"):
        ok = isinstance(value, str) and value.isidentifier()
    elif kind == "literal":
        ok = call_literal(value)
    elif kind == "standin":
        ok = isinstance(value, str) and len(value) <= 200
    else:
        ok = False
    if not ok:
        raise ValueError(f"observation calls[{purpose!r}]: malformed argument {item!r}")
    return [item[0], kind, value]


class LazyEstimate(Mapping):
    """An oracle's error estimates, computed on first read.

    The estimate only widens a tolerance (oracles.compare), so a tensor that matches the oracle within the
    bound at estimate 0 passes whatever it is: the comparison asks for it only for the rest. A correct
    submission then never pays for it (a float32 re-run of the oracle: 60% of its time)."""

    def __init__(self, compute: Callable[[], dict[str, float]]) -> None:
        self._compute: Callable[[], dict[str, float]] | None = compute
        self._values: dict[str, float] | None = None

    @property
    def values_(self) -> dict[str, float]:
        if self._values is None:
            self._values, self._compute = self._compute(), None
        return self._values

    def __getitem__(self, key: str) -> float:
        return self.values_[key]

    def __iter__(self):
        return iter(self.values_)

    def __len__(self) -> int:
        return len(self.values_)

    def __reduce__(self):  # pickled as the plain dict (the computation holds torch tensors)
        return dict, (self.values_,)

    def __repr__(self) -> str:
        return "LazyEstimate(" + ("not computed" if self._values is None else repr(self._values)) + ")"


@dataclass
class Observation:
    loss: float | None = None
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    updated: dict[str, np.ndarray] | None = None
    trajectory: list[dict[str, np.ndarray]] | None = None
    mutated: list[str] = field(default_factory=list)
    shape_changes: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    err_est: Mapping[str, float] = field(default_factory=dict)
    state: dict[str, np.ndarray] = field(default_factory=dict)
    aux: dict[str, np.ndarray] = field(default_factory=dict)
    out: np.ndarray | None = None
    called: list[str] = field(default_factory=list)
    not_checked: dict[str, str] = field(default_factory=dict)
    calls: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain dict of Python/numpy objects (picklable, no custom classes)."""
        return {
            "loss": self.loss,
            "grads": dict(self.grads),
            "updated": None if self.updated is None else dict(self.updated),
            "trajectory": None if self.trajectory is None else [dict(t) for t in self.trajectory],
            "mutated": list(self.mutated),
            "shape_changes": dict(self.shape_changes),
            "errors": dict(self.errors),
            "notes": list(self.notes),
            "err_est": dict(self.err_est),
            "state": dict(self.state),
            "aux": dict(self.aux),
            "out": self.out,
            "called": list(self.called),
            "not_checked": dict(self.not_checked),
            "calls": {k: dict(v) for k, v in self.calls.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> Observation:
        return cls(**d)


def check_of(key: str) -> str:
    """The check family a tensor key belongs to: 'W2' -> 'grad_W', 'x' -> 'grad_x', 'A1' -> 'grad_hidden',
    'gamma1' -> 'grad_param', 'running_mean1' -> 'state'. KeyError for names that are none of these."""
    if key == "x":
        return "grad_x"
    stem = key.rstrip("0123456789")
    if stem == key:
        raise KeyError(key)
    if stem in ("W", "b", "A"):
        return {"W": "grad_W", "b": "grad_b", "A": "grad_hidden"}[stem]
    if stem.startswith("running_"):
        return "state"
    return "grad_param"
