"""OptimCase: one optimizer check with concrete numbers and the seed they came from.

A rule, the parameters (canonical names ``W1``, ``b1``, ... and shapes: ``W`` (n_out, n_in),
``b`` (n_out,); drivers convert to their course's layout), a k-step sequence of gradients, the
hyper-parameters (fuzzed: a file that hard-codes the defaults shows), the dtype the
implementation receives. Persisted like ``oracles.case.Case`` (one .npz, arrays bit-exact,
metadata as JSON), so every failure replays.

The ``mini_batches`` pseudo-rule (deeplearning.ai's ``random_mini_batches``) uses ``X`` (n_x, m)
and ``Y`` (1, m) as its "params", no gradients, and the hyper-parameters ``mini_batch_size`` and
``seed``.

``draw_optim_case(rule, seed, regime=...)`` draws one; regimes: ordinary, ``tiny`` gradients (eps
dominates the denominator), ``large`` gradients, ``alternating`` signs (momentum bugs), ``constant``
gradients, ``zeros`` (some gradients exactly 0), ``square`` (every parameter the same shape: a
state shared between parameters computes instead of raising).

Numpy only.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from oracles.case import write_atomic
from oracles.optim.rules import RULES

__all__ = ["OptimCase", "REGIMES", "draw_optim_case", "MINI_BATCHES", "is_optim_bytes"]

FORMAT = "bpcheck-optim-1"
MINI_BATCHES = "mini_batches"
REGIMES = (None, "tiny", "large", "alternating", "constant", "zeros", "square")


@dataclass(frozen=True, eq=False)
class OptimCase:
    rule: str
    params: dict[str, np.ndarray]
    grads: tuple[dict[str, np.ndarray], ...]
    hyper: dict[str, float]
    dtype: str = "float64"
    seed: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.rule not in RULES and self.rule != MINI_BATCHES:
            raise ValueError(f"OptimCase.rule={self.rule!r} is unknown; choose one of {', '.join(RULES)}, "
                             f"{MINI_BATCHES}")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"OptimCase.dtype={self.dtype!r}; choose float64 or float32")
        params = {str(k): np.asarray(v) for k, v in self.params.items()}
        if not params:
            raise ValueError("OptimCase.params is empty; give at least one parameter")
        for k, a in params.items():
            if not np.issubdtype(a.dtype, np.number) or not np.all(np.isfinite(a)):
                raise ValueError(f"OptimCase.params[{k!r}] must be finite numbers")
        grads = tuple({str(k): np.asarray(v) for k, v in g.items()} for g in self.grads)
        for s, g in enumerate(grads, start=1):
            if set(g) != set(params):
                raise ValueError(f"OptimCase.grads[{s - 1}] has keys {sorted(g)}; expected {sorted(params)}")
            for k, a in g.items():
                if a.shape != params[k].shape or not np.all(np.isfinite(a)):
                    raise ValueError(f"OptimCase.grads[{s - 1}][{k!r}] must be finite with shape {params[k].shape}")
        if self.rule != MINI_BATCHES:
            if not grads:
                raise ValueError("OptimCase.grads is empty; give at least one step's gradients")
            missing = [h.name for h in RULES[self.rule].hypers if h.name not in self.hyper]
            if missing:
                raise ValueError(f"OptimCase.hyper lacks {missing} for rule {self.rule!r}")
        hyper = {str(k): float(v) for k, v in self.hyper.items()}
        for k, val in hyper.items():
            if not math.isfinite(val):
                raise ValueError(f"OptimCase.hyper[{k!r}]={val} must be finite")
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "grads", grads)
        object.__setattr__(self, "hyper", hyper)
        object.__setattr__(self, "tags", tuple(self.tags))

    @property
    def steps(self) -> int:
        return len(self.grads)

    def typed(self, a: np.ndarray) -> np.ndarray:
        """An array as the implementation receives it (cast to the case's dtype)."""
        return np.asarray(a).astype(self.dtype)

    def typed_params(self) -> dict[str, np.ndarray]:
        return {k: self.typed(v) for k, v in self.params.items()}

    def typed_grads(self) -> list[dict[str, np.ndarray]]:
        return [{k: self.typed(v) for k, v in g.items()} for g in self.grads]

    def with_(self, **changes) -> OptimCase:
        return replace(self, **changes)

    # -- persistence (the same shape as oracles.case.Case: one .npz, meta as JSON bytes) --

    def to_bytes(self) -> bytes:
        meta = {"format": FORMAT, "rule": self.rule, "hyper": self.hyper, "dtype": self.dtype,
                "seed": int(self.seed), "tags": list(self.tags), "params": list(self.params),
                "steps": self.steps}
        arrays = {f"param_{k}": v for k, v in self.params.items()}
        for s, g in enumerate(self.grads):
            arrays.update({f"grad{s}_{k}": v for k, v in g.items()})
        buf = io.BytesIO()
        np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> OptimCase:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            if meta.get("format") != FORMAT:
                raise ValueError(f"not an optimizer case file (format {meta.get('format')!r}, expected {FORMAT!r})")
            names = meta["params"]
            params = {k: z[f"param_{k}"] for k in names}
            grads = tuple({k: z[f"grad{s}_{k}"] for k in names} for s in range(meta["steps"]))
            return cls(rule=meta["rule"], params=params, grads=grads, hyper=meta["hyper"], dtype=meta["dtype"],
                       seed=meta["seed"], tags=tuple(meta["tags"]))

    def save(self, path: str | Path) -> Path:
        return write_atomic(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> OptimCase:
        return cls.from_bytes(Path(path).read_bytes())

    @cached_property
    def case_id(self) -> str:
        """A short content hash (cached: the arrays of a frozen case do not change).

        Hashes the meta and the raw array bytes directly: the .npz container cost a campaign 11 ms a case."""
        h = hashlib.sha1(json.dumps({"format": FORMAT, "rule": self.rule, "hyper": self.hyper, "dtype": self.dtype,
                                     "seed": int(self.seed), "tags": list(self.tags), "params": list(self.params),
                                     "steps": self.steps}, sort_keys=True).encode())
        for step in (self.params, *self.grads):
            for k, v in step.items():
                a = np.ascontiguousarray(v)
                h.update(f"{k}:{a.dtype.str}:{a.shape}".encode())
                h.update(a.tobytes())
        return h.hexdigest()[:10]

    def describe(self) -> str:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.params.items())
        hyp = ", ".join(f"{k}={v:.3g}" for k, v in self.hyper.items())
        regime = next((t for t in self.tags if t in REGIMES), None)
        what = f"{self.steps} steps" if self.rule != MINI_BATCHES else "batches"
        return f"{self.rule}: {shapes}; {hyp}; {what}, {self.dtype}, seed {self.seed}" + (
            f" [{regime}]" if regime else "")


def is_optim_bytes(data: bytes) -> bool:
    """Does this .npz hold an OptimCase (rather than an MLP Case)?"""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return json.loads(z["meta"].tobytes().decode()).get("format") == FORMAT
    except Exception:  # noqa: BLE001 - anything unreadable is not ours
        return False


def _shapes(rng: np.random.Generator, square: bool) -> dict[str, tuple[int, ...]]:
    layers = int(rng.integers(1, 3))
    if square:
        n = int(rng.integers(2, 4))
        return {k: (n, n) for l in range(1, layers + 1) for k in (f"W{l}", f"b{l}")}
    sizes = [int(s) for s in rng.integers(1, 5, size=layers + 1)]
    out = {}
    for l in range(1, layers + 1):
        out[f"W{l}"] = (sizes[l], sizes[l - 1])
        out[f"b{l}"] = (sizes[l],)
    return out


def draw_optim_case(
    rule: str,
    seed: int,
    *,
    regime: str | None = None,
    dtype: str = "float64",
    min_steps: int = 2,
    max_steps: int = 5,
    hyper: dict[str, float] | None = None,
    fixed: dict[str, float] | None = None,
) -> OptimCase:
    """One OptimCase for ``rule`` from ``seed`` (deterministic). ``hyper`` pins some values; ``fixed``
    (a course's hard-coded constants, e.g. Saito's eps) overrides the draw and is recorded too."""
    if regime not in REGIMES:
        raise ValueError(f"regime={regime!r}; choose one of {REGIMES}")
    rng = np.random.default_rng([int(seed) % (2**63), 7])
    if rule == MINI_BATCHES:
        return _draw_batches(rng, seed, dtype)
    r = RULES[rule]
    hyp = {h.name: h.sample(rng) for h in r.hypers}
    hyp.update(hyper or {})
    hyp.update(fixed or {})
    shapes = _shapes(rng, regime == "square")
    p_scale = float(math.exp(rng.uniform(math.log(0.1), math.log(3.0))))
    params = {k: rng.normal(0, p_scale, size=s) for k, s in shapes.items()}
    steps = int(rng.integers(min_steps, max_steps + 1))
    g_scale = {"tiny": 1e-4, "large": 1e2}.get(regime or "", float(math.exp(rng.uniform(math.log(1e-2), math.log(3)))))
    if regime == "tiny" and dtype == "float32":
        g_scale = 1e-3  # float32 still squares it exactly enough; eps still dominates
    first = {k: rng.normal(0, g_scale, size=s) for k, s in shapes.items()}
    grads = []
    for s in range(steps):
        if regime == "constant":
            g = {k: a.copy() for k, a in first.items()}
        elif regime == "alternating":
            g = {k: a * (-1) ** s * rng.uniform(0.5, 1.5, size=a.shape) for k, a in first.items()}
        else:
            g = {k: rng.normal(0, g_scale, size=a.shape) for k, a in first.items()} if s else first
        if regime == "zeros":
            g = {k: np.where(rng.random(a.shape) < 0.3, 0.0, a) for k, a in g.items()}
        grads.append(g)
    tags = (regime or "ordinary",)
    return OptimCase(rule, params, tuple(grads), hyp, dtype=dtype, seed=int(seed), tags=tags)


def _draw_batches(rng: np.random.Generator, seed: int, dtype: str) -> OptimCase:
    size = int(rng.choice([1, 2, 3, 4, 5, 8, 16, 64]))
    m = int(rng.integers(1, 4 * min(size, 16) + 3))
    n_x = int(rng.integers(1, 5))
    X = rng.normal(size=(n_x, m))
    Y = rng.normal(size=(1, m))  # distinct values: a column of Y separated from its X shows
    return OptimCase(MINI_BATCHES, {"X": X, "Y": Y}, (), {"mini_batch_size": float(size),
                                                         "seed": float(rng.integers(0, 100))},
                     dtype=dtype, seed=int(seed), tags=("ordinary",))
