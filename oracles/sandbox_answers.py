"""The sandbox's answers, checked strictly: what comes back up the child's pipe, turned into results.

The child (oracles/child.py) runs untrusted code, so everything it sends is plain data to be checked
before use: ``LoadInfo`` (did the file load), ``SandboxResult`` (one case's Observation, own loss or
fault, one of ``FAULT_KINDS``) and ``validate_observation`` (an Observation rebuilt from a dict, plain
types and numeric arrays only). Separate from oracles/sandbox.py, which runs the child (process,
pipes, limits, restarts): this module only parses, and is tested on its own with hand-made answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from oracles.child import Opaque

if TYPE_CHECKING:  # numpy, the Case module and the Observation are imported when an answer needs them: the
    # import of oracles.sandbox stays light so that `bpcheck validate` starts the child before anything heavy
    import numpy as np

    from oracles.case import SpecSpace
    from oracles.observation import Observation

__all__ = ["LoadInfo", "SandboxResult", "FAULT_KINDS", "validate_observation"]

# Fault kinds a result can carry (the report maps each to a readable verdict).
FAULT_KINDS = ("exception", "exit", "killed", "timeout", "cpu", "memory", "protocol", "patched",
               "not_run", "budget")


@dataclass
class LoadInfo:
    ok: bool
    names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: str | None = None
    message: str | None = None
    line: int | None = None
    compat: list[dict] = field(default_factory=list)  # numpy 1.x APIs the file uses (oracles/numpy_compat.py)


@dataclass
class SandboxResult:
    """One case's answer: an Observation (validated), the student's own loss, or a fault."""

    obs: Observation | None = None
    own_loss: float | None = None
    fault: str | None = None  # one of FAULT_KINDS
    message: str | None = None
    patched: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)  # system calls / writes the sandbox refused
    output_bytes: int = 0
    seconds: float = 0.0
    compat: list[dict] = field(default_factory=list)  # numpy 1.x conversions seen while this case ran

# ---------------------------------------------------------------- strict checks of answers


def _load_info(ans) -> LoadInfo:
    if not isinstance(ans, dict) or not isinstance(ans.get("ok"), bool):
        return LoadInfo(False, kind="protocol", message="malformed load answer")
    if not ans["ok"]:
        line = ans.get("line")
        return LoadInfo(False, kind=str(ans.get("kind")), message=str(ans.get("message")),
                        line=line if isinstance(line, int) else None)
    names = [n for n in ans.get("names", []) if isinstance(n, str)]
    notes = [str(n) for n in ans.get("notes", [])]
    denied = ans.get("denied") or []
    if isinstance(denied, list) and denied:
        notes.append("refused while loading: " + ", ".join(str(d)[:200] for d in denied[:10]))
    patched = ans.get("patched") or []
    if patched:
        notes.append("monkey-patched while loading (restored): " + ", ".join(map(str, patched)))
    return LoadInfo(True, names=names, notes=notes, compat=_compat(ans.get("compat")))


def _compat(v) -> list[dict]:
    """numpy 1.x uses from the child: plain short strings only (the child is untrusted)."""
    out = []
    if isinstance(v, list):
        for u in v[:100]:
            if isinstance(u, dict) and all(isinstance(u.get(k), str) for k in ("what", "where", "removed_in", "fix")):
                out.append({k: u[k][:200] for k in ("what", "where", "removed_in", "fix")})
    return out


def _spec_space(d) -> SpecSpace:
    from oracles.case import SpecSpace

    if not isinstance(d, dict):
        raise TypeError("spec space is not a dict")

    def tup(v):
        if isinstance(v, list):
            return tuple(tup(x) for x in v)
        if v is None or isinstance(v, (str, int, float, bool)):
            return v
        raise TypeError(f"unexpected {type(v).__name__} in spec space")

    return SpecSpace(**{str(k): tup(v) for k, v in d.items()})


def _result(ans, index: int) -> SandboxResult:
    if not isinstance(ans, dict):
        return SandboxResult(fault="protocol", message="malformed answer")
    r = _result_body(ans, index)
    r.compat = _compat(ans.get("compat"))
    r.denied = [str(d)[:200] for d in (ans.get("denied") or [])][:50] if isinstance(ans.get("denied"), list) else []
    return r


def _result_body(ans: dict, index: int) -> SandboxResult:
    import numpy as np

    patched = [str(p) for p in ans.get("patched") or []]
    if ans.get("i") not in (None, index):
        return SandboxResult(fault="protocol", message="answers arrived out of order")
    err = ans.get("error")
    if err:
        kind = err.get("kind") if isinstance(err, dict) else "exception"
        msg = err.get("message") if isinstance(err, dict) else str(err)
        if kind not in FAULT_KINDS:
            kind = "exception"
        return SandboxResult(fault=kind, message=str(msg), patched=patched)
    res = SandboxResult(patched=patched)
    if "own_loss" in ans:
        v = ans["own_loss"]
        if v is None:
            res.own_loss = None
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            res.own_loss = float(v)
        elif isinstance(v, np.ndarray) and v.size == 1 and v.dtype.kind in "fiu":
            res.own_loss = float(v.reshape(()))
        else:
            return SandboxResult(fault="protocol", message=f"own loss is not a number: {v!r}", patched=patched)
    if "obs" in ans:
        try:
            res.obs = validate_observation(ans["obs"])
        except ValueError as e:
            return SandboxResult(fault="protocol", message=str(e), patched=patched)
    if "optim_obs" in ans:  # the "optim" op: an OptimObservation, as strictly checked
        from oracles.optim.observation import validate_optim_observation

        try:
            res.obs = validate_optim_observation(ans["optim_obs"])
        except ValueError as e:
            return SandboxResult(fault="protocol", message=str(e), patched=patched)
    if patched:
        res.fault, res.message = "patched", "the submission replaced " + ", ".join(patched) + " (monkey-patching)"
    return res


def _array(name: str, v) -> np.ndarray:
    import numpy as np

    if isinstance(v, Opaque):
        raise ValueError(f"{name} is not an array: {v.what}")
    if not isinstance(v, np.ndarray) or v.dtype.kind not in "fiub":
        raise ValueError(f"{name} is not a numeric array")
    return v


def _arrays(name: str, d) -> dict[str, np.ndarray]:
    if not isinstance(d, dict) or not all(isinstance(k, str) for k in d):
        raise ValueError(f"{name} is not a dict of arrays")
    return {k: _array(f"{name}[{k!r}]", v) for k, v in d.items()}


def validate_observation(d) -> Observation:
    """Rebuild an Observation from an untrusted dict: plain types only, arrays numeric.

    Non-finite values and wrong shapes are kept (compare reports them as verdicts); only
    structurally impossible answers raise ValueError."""
    import numpy as np

    from oracles.observation import Observation, checked_calls

    if not isinstance(d, dict):
        raise ValueError("observation is not a dict")
    loss = d.get("loss")
    if isinstance(loss, np.ndarray) and loss.size == 1:
        loss = float(loss.reshape(()))
    if loss is not None and not (isinstance(loss, (int, float)) and not isinstance(loss, bool)):
        raise ValueError(f"observation loss is not a number: {loss!r}")
    updated = d.get("updated")
    traj = d.get("trajectory")
    if traj is not None and not isinstance(traj, list):
        raise ValueError("observation trajectory is not a list")

    def strs(name, v):
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise ValueError(f"observation {name} is not a list of strings")
        return list(v)

    def strdict(name, v):
        if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(s, str) for k, s in v.items()):
            raise ValueError(f"observation {name} is not a dict of strings")
        return dict(v)

    extra = set(d) - {"loss", "grads", "updated", "trajectory", "mutated", "shape_changes", "errors", "notes",
                      "err_est", "state", "aux", "called", "not_checked", "out", "calls"}
    if extra:
        raise ValueError(f"observation has unexpected fields {sorted(extra)}")
    kwargs = dict(
        loss=None if loss is None else float(loss),
        grads=_arrays("grads", d.get("grads") or {}),
        updated=None if updated is None else _arrays("updated", updated),
        trajectory=None if traj is None else [_arrays(f"trajectory[{i}]", t) for i, t in enumerate(traj)],
        mutated=strs("mutated", d.get("mutated") or []),
        shape_changes=strdict("shape_changes", d.get("shape_changes") or {}),
        errors=strdict("errors", d.get("errors") or {}),
        notes=strs("notes", d.get("notes") or []),
        state=_arrays("state", d.get("state") or {}),
        aux=_arrays("aux", d.get("aux") or {}),
        out=None if d.get("out") is None else _arrays("out", {"out": d["out"]})["out"],
        called=strs("called", d.get("called") or []),
        not_checked=strdict("not_checked", d.get("not_checked") or {}),
        calls=checked_calls(d.get("calls") or {}),
    )
    # err_est is the oracle's own error estimate: never taken from a submission.
    try:
        return Observation(**kwargs)
    except TypeError as e:
        raise ValueError(f"observation rejected: {e}") from None
