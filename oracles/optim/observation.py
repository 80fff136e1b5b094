"""OptimObservation: what an optimizer implementation did on one OptimCase, in canonical form.

* ``trajectory``: the parameters after each step (canonical names and shapes), None when no step ran.
* ``state``: after each step, the state the course's contract exposes, keyed ``"<state>.<param>"``
  (``velocity.W1``, ``m.b1``, ``t.W1``; CS231n's config entries, deeplearning.ai's ``v`` and ``s``).
* ``init``: what the course's initializer returned (``velocity.W1`` ...), deeplearning.ai only.
* ``batches``: ``random_mini_batches``' (X_batch, Y_batch) pairs.
* ``mutated``: inputs changed that the contract leaves alone (``dw``, ``grads``, ``w``); ``hygiene``
  marks those the course's own code changes too (CS231n's ``sgd`` updates ``w`` in place).
* ``not_in_place``: parameters a style that requires in-place updates (Saito) rebound instead.
* ``errors``: check family -> readable cause; ``notes``: what a reader should know.
* ``called``: the file's units that ran (coverage: an optimizer that was checked counts as checked).

Check families: ``OPTIM_CHECKS``. Numpy only: the sandbox child builds these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from oracles.sandbox_answers import _array, _arrays  # the child's answers are checked one way

__all__ = ["OptimObservation", "OPTIM_CHECKS", "validate_optim_observation"]

OPTIM_CHECKS = ("step", "trajectory", "state", "init", "hyperparams", "in_place", "side_effects", "mini_batches")


@dataclass
class OptimObservation:
    trajectory: list[dict[str, np.ndarray]] | None = None
    state: list[dict[str, np.ndarray]] | None = None
    init: dict[str, np.ndarray] | None = None
    batches: list[tuple[np.ndarray, np.ndarray]] | None = None
    mutated: list[str] = field(default_factory=list)
    hygiene: list[str] = field(default_factory=list)
    not_in_place: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    called: list[str] = field(default_factory=list)
    not_checked: dict[str, str] = field(default_factory=dict)  # unit -> why the driver did not call it

    def to_dict(self) -> dict:
        return {
            "trajectory": None if self.trajectory is None else [dict(t) for t in self.trajectory],
            "state": None if self.state is None else [dict(t) for t in self.state],
            "init": None if self.init is None else dict(self.init),
            "batches": None if self.batches is None else [[x, y] for x, y in self.batches],
            "mutated": list(self.mutated),
            "hygiene": list(self.hygiene),
            "not_in_place": list(self.not_in_place),
            "errors": dict(self.errors),
            "notes": list(self.notes),
            "called": list(self.called),
            "not_checked": dict(self.not_checked),
        }


def _strs(name: str, v) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise ValueError(f"observation {name} is not a list of strings")
    return list(v)


def validate_optim_observation(d) -> OptimObservation:
    """Rebuild an OptimObservation from an untrusted dict (the child's answer): plain types, numeric arrays.

    Wrong shapes and NaN are kept (the judge reports them); structurally impossible answers raise ValueError."""
    if not isinstance(d, dict):
        raise ValueError("optimizer observation is not a dict")
    extra = set(d) - {"trajectory", "state", "init", "batches", "mutated", "hygiene", "not_in_place", "errors",
                      "notes", "called", "not_checked"}
    if extra:
        raise ValueError(f"optimizer observation has unexpected fields {sorted(extra)}")

    def steps(name):
        v = d.get(name)
        if v is None:
            return None
        if not isinstance(v, list):
            raise ValueError(f"observation {name} is not a list")
        return [_arrays(f"{name}[{i}]", t) for i, t in enumerate(v)]

    batches = d.get("batches")
    if batches is not None:
        if not isinstance(batches, list) or not all(isinstance(b, list) and len(b) == 2 for b in batches):
            raise ValueError("observation batches is not a list of (X, Y) pairs")
        batches = [(_array(f"batches[{i}][0]", b[0]), _array(f"batches[{i}][1]", b[1])) for i, b in enumerate(batches)]
    errors = d.get("errors") or {}
    if not isinstance(errors, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in errors.items()):
        raise ValueError("observation errors is not a dict of strings")
    not_checked = d.get("not_checked") or {}
    if not isinstance(not_checked, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in not_checked.items()):
        raise ValueError("observation not_checked is not a dict of strings")
    init = d.get("init")
    return OptimObservation(
        trajectory=steps("trajectory"),
        state=steps("state"),
        init=None if init is None else _arrays("init", init),
        batches=batches,
        mutated=_strs("mutated", d.get("mutated") or []),
        hygiene=_strs("hygiene", d.get("hygiene") or []),
        not_in_place=_strs("not_in_place", d.get("not_in_place") or []),
        errors=dict(errors),
        notes=_strs("notes", d.get("notes") or []),
        called=_strs("called", d.get("called") or []),
        not_checked=dict(not_checked),
    )
