"""Finite differences for any layer sequence: the generic path behind oracles.finite_diff.

The MLP has its own vectorised path (oracles/finite_diff.py). Every other Spec (batchnorm, dropout, conv,
pooling ...) comes here: the forward is the layer table's numpy twin of each layer, in float64; the input
of every layer is cached, and a perturbation of a layer's parameter (or of the input of numbered layer
l + 1, the hidden activation A_l) re-runs the sequence from that layer only. Batchnorm couples the batch:
a re-run always carries the whole batch, so the coupling is in every difference.

Steps, error estimate and rounding floor follow finite_diff (central differences at eps^(1/3) max(1, |t|),
truncation error from the +2h point, 4 eps S / h for rounding). Kinks: each layer kind's ``kink``
signature (relu's sign pattern, max-pool's argmax, hinge margins) is compared between the points a
difference rests on; where it changes the value is "not differentiable here" (NaN, ``nondiff``).
Implementation-chosen inputs (dropout masks) come in ``given`` (``Observation.aux``) and stay fixed.

numpy only: the sandbox child may run it.
"""

from __future__ import annotations

import math

import numpy as np

from oracles.case import Case
from oracles.finite_diff import _claimed
from oracles.layers import Ctx, kind
from oracles.observation import check_of

__all__ = ["fd_names", "forward", "loss", "full", "screen", "localise"]

EPS = float(np.finfo(np.float64).eps)
STEP = EPS ** (1.0 / 3.0)
_MULTS = (1.0, -1.0, 2.0)


def _per_sample(spec, z: np.ndarray, a: np.ndarray, y, onehot) -> tuple[np.ndarray, list]:
    """Per-sample loss (m,) from the output pre-activation z and output a; and the hinge kink pattern."""
    if spec.loss == "dot":
        return (a * y).reshape(len(a), -1).sum(axis=1), []
    if spec.loss == "quadratic":
        return 0.5 * ((a - y) ** 2).sum(axis=1), []
    if spec.loss == "binary_cross_entropy":
        return (y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)).sum(axis=1), []
    if spec.loss == "softmax_cross_entropy":
        mx = z.max(axis=1, keepdims=True)
        lse = mx[:, 0] + np.log(np.exp(z - mx).sum(axis=1))
        if spec.target == "labels":
            return lse - z[np.arange(len(z)), y], []
        return (y.sum(axis=1) * lse) - (y * z).sum(axis=1), []
    if spec.loss == "hinge":
        margins = z - z[np.arange(len(z)), y][:, None] + 1.0
        active = (margins > 0) & (onehot == 0)
        return np.where(active, margins, 0.0).sum(axis=1), [active]
    raise ValueError(f"loss {spec.loss!r} is unknown to the finite-difference oracle")


class _Seq:
    """A Case's numbers in float64 and its cached forward, re-runnable from any layer."""

    def __init__(self, case: Case, given: dict | None = None) -> None:
        spec = case.spec
        self.spec, self.case = spec, case

        def f64(a):
            return np.asarray(case.typed(np.asarray(a)), dtype=np.float64)

        self.params = {k: f64(v) for k, v in case.params.items()}
        self.state = {k: f64(v) for k, v in case.state.items()}
        self.x = f64(case.x)
        self.y = np.asarray(case.y) if spec.target == "labels" else f64(case.y)
        self.onehot = case.onehot
        self.given = dict(given or {})
        self.scale = 1.0 / case.m if spec.reduction == "mean" else 1.0
        self.slots = spec.slots
        self.last_is_activation = kind(spec.sequence[-1].kind).activation
        # the slot index where numbered layer l starts: A_{l-1} is that slot's input
        self.start_of = {s.number: s.index for s in self.slots if kind(s.layer.kind).numbered}
        self.owner = {full: s.index for s in self.slots for full in s.params.values()}
        self.inputs: list[np.ndarray] = []
        f0, self.per_sample, _, z_last = self.run(0, self.x, cache=True)
        self.f0 = f0
        # what one loss evaluation rounds relative to: the per-sample losses and the logits behind them
        z_last = z_last.reshape(len(z_last), -1)  # a (m, C, H, W) output (loss 'dot') counts per sample too
        width = math.sqrt(z_last.shape[1] + 1)
        self.round_terms = float((np.abs(self.per_sample) + width * np.abs(z_last).max(axis=1)).sum()) * self.scale

    def run(self, start: int, a: np.ndarray, *, params: dict | None = None, cache: bool = False):
        """Data loss (scaled, without regularisation), per-sample losses, kink signatures, output logits."""
        params = self.params if params is None else params
        signature = []
        z_last = a
        for slot in self.slots[start:]:
            if cache:
                self.inputs.append(a)
            k = kind(slot.layer.kind)
            hp = slot.layer.hp
            p = {short: params[full] for short, full in slot.params.items()}
            ctx = Ctx(mode=self.spec.mode, state_in={s: self.state[f] for s, f in slot.state.items()},
                      aux={s: self.given[f] for s, f in slot.aux.items() if f in self.given})
            sig = k.kink(a, p, hp, ctx)
            if sig is not None:
                signature.append(np.asarray(sig))
            if k.activation:
                z_last = a
            a = k.numpy(a, p, hp, ctx)
        if not self.last_is_activation:
            z_last = a
        per_sample, kinks = _per_sample(self.spec, z_last, a, self.y, self.onehot)
        return float(per_sample.sum()) * self.scale, per_sample, signature + kinks, z_last

    def reg(self, params: dict | None = None) -> float:
        params = self.params if params is None else params
        spec = self.spec
        return 0.5 * spec.reg * sum(float(np.sum(params[k] ** 2)) for k in spec.regularised()) if spec.reg else 0.0

    # -- one tensor, perturbed

    def value(self, name: str) -> np.ndarray:
        if name == "x":
            return self.x
        if name in self.params:
            return self.params[name]
        if name.startswith("A") and name[1:].isdigit() and int(name[1:]) + 1 in self.start_of:
            return self.inputs[self.start_of[int(name[1:]) + 1]]
        raise ValueError(f"finite differences: unknown tensor name {name!r}; choose from {fd_names(self.case)}")

    def at(self, name: str, moved: np.ndarray):
        """(data loss, signature) with tensor ``name`` replaced by ``moved``."""
        if name == "x":
            f, _, sig, _ = self.run(0, moved)
        elif name in self.params:
            i = self.owner[name]
            params = dict(self.params)
            params[name] = moved
            f, _, sig, _ = self.run(i, self.inputs[i], params=params)
        else:
            i = self.start_of[int(name[1:]) + 1]
            f, _, sig, _ = self.run(i, moved)
        return f, sig


def _changed(sigs: list[list[np.ndarray]]) -> bool:
    """A kink between the points: some signature differs between -h and +h, or -h and +2h."""
    plus, minus, twice = sigs
    return any(not np.array_equal(a, b) for a, b in zip(plus, minus)) or \
        any(not np.array_equal(a, b) for a, b in zip(twice, minus))


def _reg_grad(seq: _Seq, name: str) -> np.ndarray | float:
    return seq.spec.reg * seq.params[name] if seq.spec.reg and name in seq.spec.regularised() else 0.0


def fd_names(case: Case) -> list[str]:
    """Every tensor finite differences can check: the parameters, x and the hidden activations A*."""
    return case.spec.param_names() + ["x"] + [f"A{l}" for l in range(1, case.spec.n_layers)]


def forward(case: Case, params: dict | None = None, x: np.ndarray | None = None, given: dict | None = None) -> dict:
    """The float64 forward: {'per_sample': (m,), 'loss': data loss + regularisation}."""
    seq = _Seq(case, given)
    if params is not None or x is not None:
        p = {k: np.asarray(case.typed(np.asarray(v)), dtype=np.float64) for k, v in (params or seq.params).items()}
        xx = seq.x if x is None else np.asarray(case.typed(np.asarray(x)), dtype=np.float64)
        f, per_sample, _, _ = seq.run(0, xx, params=p)
        return {"per_sample": per_sample, "loss": f + seq.reg(p)}
    return {"per_sample": seq.per_sample, "loss": seq.f0 + seq.reg()}


def loss(case: Case, params: dict | None = None, x: np.ndarray | None = None, given: dict | None = None) -> float:
    return forward(case, params, x, given)["loss"]


def _elementwise(seq: _Seq, name: str):
    """Per-element central differences of one tensor: (values, error estimates, nondiff, steps)."""
    t = seq.value(name)
    d, err = np.empty(t.shape), np.empty(t.shape)
    nd = np.zeros(t.shape, dtype=bool)
    h_all = STEP * np.maximum(1.0, np.abs(t))
    for idx in np.ndindex(*t.shape):
        h = float(h_all[idx])
        f, sigs = [], []
        for mult in _MULTS:
            moved = t.copy()
            moved[idx] = t[idx] + mult * h
            fv, sig = seq.at(name, moved)
            f.append(fv)
            sigs.append(sig)
        nd[idx] = _changed(sigs)
        d[idx] = np.nan if nd[idx] else (f[0] - f[1]) / (2.0 * h)
        third = (f[2] - 3.0 * f[0] + 3.0 * seq.f0 - f[1]) / h**3
        err[idx] = h * h * abs(third) / 6.0 + 4.0 * EPS * seq.round_terms / h
    return d + _reg_grad(seq, name), err, nd, h_all


def full(case: Case, *, names=None, given: dict | None = None):
    """Per-element central differences for ``names`` (default: every parameter and x)."""
    from oracles.finite_diff import FDResult

    seq = _Seq(case, given)
    names = list(case.spec.param_names() + ["x"] if names is None else names)
    res = FDResult({}, {}, {}, {})
    for name in names:
        d, err, nd, h = _elementwise(seq, name)
        res.grads[name], res.err_est[name], res.nondiff[name], res.steps[name] = d, err, nd, h
    return res


def screen(case: Case, grads: dict, *, directions: int = 8, seed: int = 0, names=None, given: dict | None = None,
           impl_err: dict | None = None):
    """Directional screen of claimed ``grads`` (canonical shapes): for each tensor, ``directions`` seeded
    Rademacher directions u; the central difference of the loss along u against <u, claimed>, judged by
    oracles.compare with the FD error estimate plus, from ``impl_err`` (tensor -> norm), the rounding a
    correct implementation in the Case's dtype carries (<u, dg> ~ ||dg|| per direction: batchnorm's float32
    dx cancels far beyond the dtype's epsilon). Directions crossing a kink are left out."""
    from oracles.compare import compare_tensor
    from oracles.finite_diff import ScreenResult, _rademacher

    if directions < 1:
        raise ValueError(f"directions={directions} must be >= 1")
    seq = _Seq(case, given)
    allowed = fd_names(case)
    names = [n for n in allowed if n in grads] if names is None else list(names)
    bad = [n for n in names if n not in allowed]
    if bad:
        raise ValueError(f"finite differences: unknown tensor name(s) {bad}; choose from {allowed}")
    values: dict[str, tuple] = {}
    results = {}
    for name in names:
        t = seq.value(name)
        g, problem = _claimed(grads, name, t.shape)
        if g is None:
            empty = np.zeros(0)
            results[name] = ScreenResult(name, "error", empty, empty, empty, np.zeros(0, bool), detail=problem)
            continue
        rng = np.random.default_rng([int(seed), *name.encode()])
        fd, cl, err, nd = (np.empty(directions) for _ in range(4))
        nd = np.zeros(directions, dtype=bool)
        h = STEP * max(1.0, float(np.abs(t).max(initial=0.0)))
        for j in range(directions):
            u = _rademacher(rng, t.size).reshape(t.shape)
            f, sigs = [], []
            for mult in (1.0, -1.0, 2.0, -2.0):
                fv, sig = seq.at(name, t + mult * h * u)
                f.append(fv)
                sigs.append(sig)
            nd[j] = _changed(sigs[:3]) or any(not np.array_equal(a, b) for a, b in zip(sigs[3], sigs[1]))
            d1 = (f[0] - f[1]) / (2 * h)
            d2 = (f[2] - f[3]) / (4 * h)
            fd[j] = d1 + float(np.sum(u * _reg_grad(seq, name)))
            cl[j] = float(np.sum(u * g))
            err[j] = abs(d1 - d2) / 3.0 + 4.0 * EPS * seq.round_terms / h
        values[name] = (fd, cl, err, nd)
    # the family scale: the largest RMS directional derivative (E <u, g>^2 = ||g||^2), as in finite_diff
    rms = [float(np.sqrt(np.mean(fd[~nd] ** 2))) for fd, _, _, nd in values.values() if (~nd).any()]
    family = max(rms, default=0.0)
    for name, (fd, cl, err, nd) in values.items():
        ok = ~nd
        n_ok = int(ok.sum())
        if n_ok == 0:
            results[name] = ScreenResult(name, "nondiff", fd, cl, err, nd,
                                         detail=f"every one of {len(fd)} directions crosses a kink within the step")
            continue
        scale = max(family, float(np.abs(fd[ok]).max()))
        est = math.hypot(float(np.linalg.norm(err[ok])), math.sqrt(n_ok) * float((impl_err or {}).get(name, 0.0)))
        v = compare_tensor(f"screen['{name}']", cl[ok], fd[ok], dtype=case.spec.dtype, oracle="fd",
                           scale=scale / math.sqrt(n_ok), err_est=est, check=check_of(name))
        note = f"{len(fd) - n_ok} of {len(fd)} directions crossed a kink" if n_ok < len(fd) else ""
        results[name] = ScreenResult(name, v.status, fd, cl, err, nd, verdict=v, detail=note)
    return results


def localise(case: Case, grads: dict, names, *, given: dict | None = None):
    """Per-element FD on ``names`` only (the tensors the screen failed) and the worst element of each."""
    from oracles.compare import compare_tensor
    from oracles.finite_diff import Localisation

    seq = _Seq(case, given)
    out = {}
    for name in names:
        t = seq.value(name)
        g, problem = _claimed(grads, name, t.shape)
        if g is None:
            out[name] = Localisation(name, "error", (), math.nan, math.nan, math.nan, math.nan, 0, 0, detail=problem)
            continue
        d, err, nd, _ = _elementwise(seq, name)
        ok = ~nd
        if not ok.any():
            out[name] = Localisation(name, "nondiff", (), math.nan, math.nan, math.nan, math.nan, 0, int(nd.sum()),
                                     detail="every element crosses a kink within the step")
            continue
        diff = np.where(ok, np.abs(g - np.where(ok, d, 0.0)), -1.0)
        v = compare_tensor(name, g[ok], d[ok], dtype=case.spec.dtype, oracle="fd",
                           err_est=float(np.linalg.norm(err[ok])), check=check_of(name))
        flat = int(diff.argmax())
        index = tuple(int(i) for i in np.unravel_index(flat, t.shape)) if t.shape else ()
        out[name] = Localisation(name, v.status, index, float(d.flat[flat]), float(g.flat[flat]),
                                 float(diff.flat[flat]), float(err.flat[flat]), v.n_mismatched, int(nd.sum()),
                                 verdict=v)
    return out
