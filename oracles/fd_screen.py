"""The directional screen of claimed gradients for MLP Specs (``oracles.finite_diff.screen``).

For each tensor, a few seeded Rademacher directions u; the central difference of the loss along u
against <u, claimed>, judged by oracles.compare (oracle "fd", the Case's dtype, the FD error
estimate). The step rule, the rounding floor and the kink rule are finite_diff's (its docstring);
layer Specs take oracles/fd_layers.py instead.

Speed. Stage 1 (the central differences at +-h of every tensor's directions, and the vectorised
judge below) runs in one compiled call where numba is available (oracles/fd_kernel.py), else as the
batched numpy pass of oracles/fd_pass.py; both are the same numbers up to rounding. Then:

* the tensors are judged together: compare_tensor's norm-wise criterion (the same tolerance row,
  the same scale) is evaluated for all of them at error estimate 0. The bound only grows with the
  estimate, so a tensor clearly inside it (a 1e-6 relative margin, far above the rounding of a norm)
  passes whatever its estimate: its estimate (the rounding floor, which needs the per-sample losses)
  and its TensorVerdict (compare_tensor, with the estimate) are computed when first read. Every other
  tensor (near the bound, outside it, non-finite, or with directions that cross a kink) is judged by
  compare_tensor itself, as before. No decision can differ from compare_tensor's.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable

import numpy as np

from oracles.case import Case
from oracles.compare import compare_tensor, tolerance  # (numpy-only, as this module)
from oracles.fd_forward import EPS, _floor, _Net, _norm, _prepare
from oracles.fd_pass import (  # noqa: F401 - the numpy first stage; its names are used here and by tests
    _SIGNS,
    _TAYLOR_MAX,
    _along,
    _dense,
    _direction_factors,
    _directional_pass,
    _directions,
    _screen_values,
    _select_rows,
)
from oracles.finite_diff import _check_names, _claimed, fd_names
from oracles.observation import check_of

__all__ = ["ScreenResult", "screen_mlp", "judge_margin"]

# A tensor whose norm-wise error is below (1 - margin) x the allowed bound passes without
# compare_tensor; norms computed two ways differ by ~1e-15 relative, so 1e-6 leaves no doubt.
judge_margin = 1e-6


class ScreenResult:
    """The directional screen of one tensor: FD along seeded random directions vs <direction, claimed>.

    ``verdict`` is the oracles.compare.TensorVerdict behind the decision; for a tensor that passed
    the vectorised judge it is computed (by compare_tensor, with the same arguments) when first read."""

    __slots__ = ("name", "status", "fd", "claimed", "nondiff", "detail", "_err", "_verdict", "_judge")

    def __init__(self, name: str, status: str, fd: np.ndarray, claimed: np.ndarray,
                 err_est: np.ndarray | Callable[[], np.ndarray], nondiff: np.ndarray, verdict: object = None,
                 detail: str = "", *, judge: Callable[[], object] | None = None) -> None:
        self.name = name
        self.status = status  # pass | fail | nondiff | error
        self.fd = fd
        self.claimed = claimed
        self._err = err_est  # (or a function computing it: see screen_mlp)
        self.nondiff = nondiff
        self.detail = detail
        self._verdict = verdict
        self._judge = judge

    @property
    def err_est(self) -> np.ndarray:
        """The FD error estimate of each direction."""
        if callable(self._err):
            self._err = self._err()
        return self._err

    @property
    def verdict(self) -> object:
        if self._verdict is None and self._judge is not None:
            self._verdict, self._judge = self._judge(), None
        return self._verdict

    @verdict.setter
    def verdict(self, v: object) -> None:
        self._verdict, self._judge = v, None

    @property
    def passed(self) -> bool:
        return self.status in ("pass", "nondiff")

    @property
    def message(self) -> str:
        if self.verdict is not None and self.status in ("pass", "fail"):
            return f"screen ({len(self.fd)} directions): " + self.verdict.message
        return f"screen {self.name}: {self.status}: {self.detail}"

    def __repr__(self) -> str:
        return f"ScreenResult({self.name!r}, {self.status!r}, {len(self.fd)} directions, detail={self.detail!r})"


def _err_rows(net: _Net, steps: np.ndarray, trunc: np.ndarray | None = None) -> np.ndarray:
    """The error estimate of every direction: the rounding floor 4 eps S / step (S: net.round_terms,
    computed here on first use) plus the truncation estimate where there is one."""
    err = (4.0 * EPS * _floor(net).round_terms) / steps
    return err if trunc is None else err + trunc


def _family_scale(rows: list) -> float:
    """E <u, g>^2 = ||g||^2 for Rademacher u: the RMS of a tensor's directional derivatives
    estimates its gradient norm without another pass over it. The largest over the tensors is the
    family scale (compare.py's absolute floor), as compare_observation uses max |g|.

    ``rows``: (fd, nondiff) as lists per tensor. Plain Python on a few dozen numbers: after other
    code ran, numpy's small-array paths are cold (measured ~70 us for five calls), the interpreter is not."""
    best = 0.0
    for fd, nd in rows:
        ok = [v for v, bad in zip(fd, nd) if not bad]
        if ok:
            best = max(best, math.hypot(*ok) / math.sqrt(len(ok)))
    return best


def _judge_together(names, fd, cl, nd, family: float, dtype: str) -> list[str]:
    """The names compare_tensor would pass even with no FD error estimate at all (est = 0).

    compare_tensor's criterion (oracles/compare.py): ||cl - fd|| <= rtol ||fd|| + atol * scale * sqrt(n)
    + safety * est, with scale the family scale or the tensor's own max |fd| (passed to compare_tensor as
    scale / sqrt(n), as judge() in screen_mlp does). The bound only grows with est >= 0, so a tensor
    inside it at est = 0 passes whatever its estimate: the rounding floor (``_floor``: a second look
    at the loss) is computed only for the others, or when a verdict is read. ``fd``, ``cl``, ``nd``:
    lists of lists; the tensors with a direction across a kink are left to compare_tensor.
    oracles/fd_kernel.py's _judge is the same, compiled."""
    tol = tolerance(dtype, "fd")
    clear = []
    for t, name in enumerate(names):
        f, c = fd[t], cl[t]
        n = len(f)
        if any(nd[t]) or not all(map(math.isfinite, c)):
            continue
        scale = max(family, max(map(abs, f)))
        allowed = tol.rtol * math.hypot(*f) + tol.atol * (scale / math.sqrt(n)) * math.sqrt(n)
        norm_err = math.hypot(*[a - b for a, b in zip(c, f)])
        if math.isfinite(allowed) and norm_err <= allowed * (1.0 - judge_margin):
            clear.append(name)
    return clear


# as fd_forward's @_quiet, and the sigmoid shortcut's inf * 0 where a step is absurdly large (the numpy
# pass falls back to the plain way there); around the numpy parts only (compiled code raises no warnings)
_QUIET = dict(over="ignore", under="ignore", invalid="ignore")


@functools.cache
def _kernels():
    """oracles.fd_kernel (the compiled first stage), or None: numba missing or failing to load here, or
    BPCHECK_NO_JIT set. Either way the verdicts are the same (tests/test_fd_kernel.py)."""
    if os.environ.get("BPCHECK_NO_JIT"):
        return None
    try:
        from oracles import fd_kernel
    except Exception:  # noqa: BLE001 - numba absent, or its import failing here (a sandbox, a platform)
        return None
    return fd_kernel


def _shape(case: Case, name: str) -> tuple[int, ...]:
    """The shape of a tensor the screen can check: W_l, b_l (the Case's), x, A_l (m, n_l)."""
    if name == "x":
        return case.x.shape
    if name[0] == "A":
        return (case.m, case.spec.sizes[int(name[1:])])
    return case.params[name].shape


def screen_mlp(case: Case, grads: dict, *, directions: int = 8, seed: int = 0, names=None) -> dict[str, ScreenResult]:
    """finite_diff.screen for MLP Specs (see there).

    Stage 1 runs compiled (oracles/fd_kernel.py) where numba is available and the net not too deep,
    else in numpy (``_screen_values``); the float64 forward pass (``_prepare``) is made only when a
    decision or a verdict read needs it (stage 2, the rounding floor)."""
    if directions < 1:
        raise ValueError(f"directions={directions} must be >= 1")
    if names is None:
        names = [n for n in fd_names(case) if n in grads]
    names = _check_names(case, names)
    compiled = _kernels()
    if compiled is not None and not compiled.takes(case):
        compiled = None
    nets: list[_Net] = []

    def net() -> _Net:
        if not nets:
            with np.errstate(**_QUIET):
                nets.append(_prepare(case, floor=False))
        return nets[0]

    results: dict[str, ScreenResult] = {}
    given: dict[str, np.ndarray] = {}
    keys: dict[str, tuple] = {}
    for name in names:
        shape = _shape(case, name)
        g, problem = _claimed(grads, name, shape)
        if g is None:
            empty = np.zeros(0)
            results[name] = ScreenResult(name, "error", empty, empty, empty, np.zeros(0, bool), detail=problem)
            continue
        keys[name] = (name, shape, int(directions), int(seed))
        given[name] = g
    if not keys:
        return results
    todo = list(keys)
    # (the numpy pass's directions; the compiled one packs them itself, cached by their keys)
    dirs = {name: _directions(*key) for name, key in keys.items()} if compiled is None else {}
    dtype = case.spec.dtype
    if compiled is not None:
        tol = tolerance(dtype, "fd")
        fd, cl, nd, steps, scale0, clear = compiled.first_stage(case, [keys[n] for n in todo], given,
                                                               tol=(tol.rtol, tol.atol, judge_margin))
        claimed = dict(zip(todo, cl))
    else:
        with np.errstate(**_QUIET):
            claimed = {name: _along(dirs[name], given[name]) for name in todo}
            fd, steps, _, nd = _screen_values(net(), todo, dirs, keys, two_steps=False)

    def values(again: list[str]):
        """Stage 2: (fd, steps, trunc, nondiff) with the +-2h evaluations (``_screen_values``, two_steps)."""
        if compiled is None:
            return _screen_values(net(), again, dirs, keys, two_steps=True)
        fd1, _, nd1, steps2, _, _ = compiled.first_stage(case, [keys[n] for n in again], given)
        fd2, _, nd2, _, _, _ = compiled.first_stage(case, [keys[n] for n in again], given, mult=2.0)
        kink = nd1 | nd2
        return np.where(kink, np.nan, fd1), steps2, np.abs(fd1 - fd2) / 3.0, kink

    impl_err: dict[str, float] = {}
    family: list[float] = []

    def judge(values: dict, final: bool) -> list[str]:
        """compare_tensor on each tensor; return the names that did not pass (to re-judge with the 2h estimate)."""
        again = []
        for name, (fd, err, nd) in values.items():
            cl = claimed[name]
            n_ok = len(fd) - int(nd.sum()) if nd.any() else len(fd)
            ok = ~nd
            if n_ok == 0:
                if final:
                    results[name] = ScreenResult(
                        name, "nondiff", fd, cl, err, nd,
                        detail=f"every one of {len(fd)} directions crosses a kink within the step")
                else:
                    again.append(name)
                continue
            if n_ok < len(fd):
                cl, fd_ok, err_ok = cl[ok], fd[ok], err[ok]
            else:
                fd_ok, err_ok = fd, err
            scale = max(family[0], float(np.abs(fd_ok).max()))
            # the FD error, plus (final stage) the rounding a correct implementation in this dtype may
            # carry (oracles.error_model: saturated units make it large); <u, dg> ~ ||dg|| per direction
            est = math.hypot(_norm(err_ok), math.sqrt(n_ok) * impl_err.get(name, 0.0))
            v = compare_tensor(f"screen['{name}']", cl, fd_ok, dtype=dtype, oracle="fd",
                               scale=scale / math.sqrt(n_ok), err_est=est, check=check_of(name))
            if v.status != "pass" and not final:
                again.append(name)
                continue
            note = f"{len(fd) - n_ok} of {len(fd)} directions crossed a kink" if n_ok < len(fd) else ""
            results[name] = ScreenResult(name, v.status, fd, cl, err, nd, verdict=v, detail=note)
        return again

    # Stage 1: +-h only, judged with the rounding floor as the estimate. The error estimates only
    # ever widen what is allowed, so a pass here is a pass; anything else is judged again (stage 2)
    # with the two-step estimate and the implementation's rounding bound (error_model, ~0.3 ms, so
    # only computed here), and with the kink check widened to +-2h.
    if compiled is not None:
        family.append(scale0)
    else:
        fd_l, nd_l = fd.tolist(), nd.tolist()
        family.append(_family_scale(list(zip(fd_l, nd_l))))
        clear = _judge_together(todo, fd_l, [claimed[name].tolist() for name in todo], nd_l, family[0], dtype)
    errs: list = []

    def err_rows() -> np.ndarray:
        if not errs:
            with np.errstate(**_QUIET):
                errs.append(_err_rows(net(), steps))
        return errs[0]

    rest = []
    fd_rows, nd_rows = list(fd), list(nd)  # (one call each, not an indexing per tensor)
    for t, name in enumerate(todo):
        if name not in clear:
            rest.append(name)
            continue
        def verdict(t=t, name=name):
            # what judge() below would have said: compare_tensor with the FD error estimate
            n = len(fd[t])
            scale = max(family[0], float(np.abs(fd[t]).max()))
            return compare_tensor(f"screen['{name}']", claimed[name], fd[t], dtype=dtype, oracle="fd",
                                  scale=scale / math.sqrt(n), err_est=_norm(err_rows()[t]), check=check_of(name))

        results[name] = ScreenResult(name, "pass", fd_rows[t], claimed[name], lambda t=t: err_rows()[t], nd_rows[t],
                                     judge=verdict)
    if rest:
        with np.errstate(**_QUIET):
            at = {name: t for t, name in enumerate(todo)}
            err = err_rows()
            again = judge({name: (fd[at[name]], err[at[name]], nd[at[name]]) for name in rest}, final=False)
            if again:
                from oracles.error_model import rounding_bounds  # numpy-only, like this module

                impl_err.update(rounding_bounds(case))
                fd2, steps2, trunc2, nd2 = values(again)
                err2 = _err_rows(net(), steps2, trunc2)
                judge({name: (fd2[t], err2[t], nd2[t]) for t, name in enumerate(again)}, final=True)
    return {name: results[name] for name in names}
