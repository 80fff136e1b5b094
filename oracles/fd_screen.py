"""The directional screen of claimed gradients for MLP Specs (``oracles.finite_diff.screen``).

For each tensor, a few seeded Rademacher directions u; the central difference of the loss along u
against <u, claimed>, judged by oracles.compare (oracle "fd", the Case's dtype, the FD error
estimate). The step rule, the rounding floor and the kink rule are finite_diff's (its docstring);
layer Specs take oracles/fd_layers.py instead.

Speed. A screen of the [784, 30, 10] bench net is a few hundred microseconds of arithmetic at
most, so what it costs is numpy's per-call overhead (microseconds per call) and, when it runs right
after other code (the cold, interleaved runs of ``bpcheck bench``), bringing that code and its
arrays back into cache. Both shrink with the number of numpy calls, so:

* every tensor's copies go through one batched forward: they join the batch at the first layer
  they reach, written into one buffer per layer laid out (copy, sign, unit, sample), so the
  copies already in flight are one broadcast GEMM W_l @ A and nothing is concatenated;
* exponentials (libm's, ~60 instructions each on this machine's numpy: no SIMD float64 exp without
  AVX-512) are most of the arithmetic, so sigmoid layers avoid them where an identity allows:
  W and b copies entering a sigmoid layer move every unit by +-h P[s] (their direction has a +-1
  factor over units), so e^-(z + dz) = e^-z e^-(+-hP) takes 2m exponentials per copy; copies in
  flight move z by Delta = W (A' - a), a few h, and e^-Delta is its Taylor polynomial, exact to
  rounding for |Delta| <= 1e-3 (``_directional_pass``). Same points, same directions: the losses
  differ from the plain pass's by rounding only, which the rounding floor already allows for;
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
import zlib
from collections.abc import Callable

import numpy as np

from oracles.case import Case
from oracles.fd_forward import (
    _KINKED,
    EPS,
    STEP,
    _act,
    _floor,
    _loss_sum,
    _Net,
    _norm,
    _prepare,
    _Work,
)
from oracles.finite_diff import _check_names, _claimed, _tensor_value, fd_names
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


_SIGNS = np.array([-1.0, 1.0])
_MAX, _MIN = np.maximum.reduce, np.minimum.reduce


def _rademacher(rng: np.random.Generator, n: int) -> np.ndarray:
    """n independent +-1 (one random bit each)."""
    bits = np.unpackbits(np.frombuffer(rng.bytes((n + 7) // 8), dtype=np.uint8), count=n)
    return _SIGNS[bits]


@functools.lru_cache(maxsize=128)
def _directions(name: str, shape: tuple[int, ...], d: int, seed: int) -> tuple[np.ndarray, ...]:
    """d seeded random +-1 directions for a tensor, as factors.

    A matrix (W, x, A) gets rank-one directions U = r s^T with r, s Rademacher vectors: every
    element still moves by exactly +-h, <U, E> of a single wrong element is as large as its error,
    and the spread of <U, G> over directions is ||G|| as for a dense Rademacher direction; but the
    perturbed pre-activation (a r s^T)^T is an outer product, so no (d x n_l x n_{l-1}) array and no
    GEMM is needed. A vector (b) gets dense Rademacher directions. Seeded per (seed, tensor name).

    A pure function of its arguments, cached (read-only results): a campaign runs the same Case
    against every implementation."""
    rng = np.random.default_rng((int(seed), zlib.crc32(name.encode())))
    if len(shape) == 2:
        signs = _rademacher(rng, d * (shape[0] + shape[1]))
        out = (signs[: d * shape[0]].reshape(d, shape[0]), signs[d * shape[0] :].reshape(d, shape[1]))
    else:
        out = (_rademacher(rng, d * math.prod(shape)).reshape((d,) + tuple(shape)),)
    for a in out:
        a.flags.writeable = False
    return out


def _dense(factors: tuple[np.ndarray, ...]) -> np.ndarray:
    """The directions as arrays (d, *shape)."""
    if len(factors) == 2:
        return factors[0][:, :, None] * factors[1][:, None, :]
    return factors[0]


def _along(factors: tuple[np.ndarray, ...], T: np.ndarray) -> np.ndarray:
    """<U_d, T> for every direction d: r_d^T T s_d for matrices, u_d . t for vectors."""
    if len(factors) == 2:
        r, s = factors
        # row-wise dots of r T with s: einsum's loop, which the quadratic loss runs anyway
        return np.einsum("ij,ij->i", r @ T, s)
    return factors[0] @ T


def _direction_factors(net: _Net, name: str, factors) -> tuple[int, np.ndarray, np.ndarray]:
    """(k, P (d, m), Q (d, n_k)): the first layer k the tensor reaches and d z_k along direction d,
    which is always the outer product P_d (x) Q_d (rank one), so no (d, m, n_k) array is made."""
    if name == "x" or name[0] == "A":
        # U = r s^T (m x n): d z_k = U W_k^T = r (x) (W_k s)
        k = 1 if name == "x" else int(name[1:]) + 1
        r, s = factors
        return k, r, s @ net.WT[k - 1]
    l = int(name[1:])
    if name[0] == "W":
        # U = r s^T (n_l x n_{l-1}): d z_l = a_{l-1} U^T = (a_{l-1} s) (x) r
        r, s = factors
        return l, s @ net.acts[l - 1].T, r
    (u,) = factors  # d z_l = 1 (x) u
    return l, _ones(u.shape[0], net.m), u


@functools.lru_cache(maxsize=16)
def _zeros(m: int) -> np.ndarray:
    out = np.zeros(m)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=16)
def _ones(d: int, m: int) -> np.ndarray:
    out = np.ones((d, m))
    out.flags.writeable = False
    return out


def _shortcut(net: _Net, l: int) -> bool:
    """Whether copies entering layer l along W_l or b_l take the sigmoid shortcut of ``_directional_pass``:
    layer l is a sigmoid whose activation (not its pre-activation) is what the rest of the pass reads."""
    spec = net.spec
    return spec.activations[l - 1] == "sigmoid" and (l < net.L or spec.loss == "quadratic")


@functools.lru_cache(maxsize=16)
def _select_rows(keys: tuple) -> np.ndarray:
    """Row indices (c, 2, n) into the (2c, m) table of e^-(+-h P_c) (``_directional_pass``) for copies
    whose rank-one direction has a +-1 factor q_c over the units (W: r, b: u): unit j of copy c at
    sign index k (0: +h, 1: -h) reads row 2c + (k XOR q_c[j] < 0). ``keys``: the (name, shape, d, seed)
    of the group's tensors in copy order. A pure function of the directions, cached (read-only) like them."""
    q = np.concatenate([_directions(*key)[0] for key in keys])  # (c, n)
    rows = 2 * np.arange(q.shape[0])[:, None, None] + (np.arange(2)[None, :, None] ^ (q < 0)[:, None, :])
    rows.flags.writeable = False
    return rows


def _directional_pass(net: _Net, groups: dict, hs: np.ndarray, work: _Work) -> tuple[np.ndarray, np.ndarray]:
    """Loss at theta + hs[i, 0] U_i and theta + hs[i, 1] U_i for every copy i, in ONE pass through the layers.

    ``groups``: first layer k -> [(first copy, P (c, m), Q (c, n_k), rows)], copies numbered by
    increasing k; d z_k of copy i at sign hs[i, j] is hs[i, j] P_i (x) Q_i. A group's copies join the
    batch at layer k after the copies already in flight. The buffer of layer l is (copies, 2 signs,
    n_l, m): those in flight are its contiguous head (one broadcast GEMM W_l @ A_{l-1}), the new
    ones its tail.

    Two ways in. ``rows`` None: z_k + d z_k is written as an outer product plus z_k, then the
    activation is applied. ``rows`` given (W_k and b_k entering a sigmoid layer whose activation is
    what the pass reads, ``_shortcut``): Q is +-1, so unit j of sample s moves by +-h P_i[s] and
    e^-(z + d z) = e^-z e^-(+-h P_i[s]): the 2 m exponentials of a copy are computed once and each
    unit's row of them is looked up (``rows``), so sigmoid = 1 / (1 + e^-z e^-(+-h P)) costs a product
    where it cost an exponential per element. It differs from 1 / (1 + e^-(z + d z)) by rounding only
    (a few ulp either way; what the rounding floor 4 eps S / h allows for).
    Returns f (c, 2) (scaled summed loss) and kinked (c,)."""
    spec = net.spec
    m = net.m
    kinked = np.zeros(hs.shape[0], dtype=bool)
    c = 0  # copies in flight
    Z = A = None
    for l in range(1, net.L + 1):
        n_l = net.W[l - 1].shape[0]
        new = groups.get(l, ())
        c_new = c + sum(len(g[1]) for g in new)
        if c_new == 0:
            continue
        Z = work.get(f"Z{l}", (c_new, 2, n_l, m))
        name = spec.activations[l - 1]
        lo, hi = 0, c  # the copies whose pre-activation is in Z, still to be activated
        if c and _shortcut(net, l):
            # the copies in flight move z_l by Delta = W_l (A' - a_{l-1}), a few h: e^-(z + Delta) = e^-z e^-Delta,
            # e^-Delta by its Taylor polynomial where that is exact to rounding (see the docstring)
            A -= np.ascontiguousarray(net.acts[l - 1].T)  # (exact: A' and a_{l-1} are within a few h)
            np.matmul(net.W[l - 1], A, out=Z[:c])
            if max(float(_MAX(Z[:c], axis=None)), -float(_MIN(Z[:c], axis=None))) <= _TAYLOR_MAX:
                _sigmoid_moved(Z[:c], _neg_exp_t(net, l), work)
                lo = c
            else:
                Z[:c] += np.ascontiguousarray(net.zs[l - 1].T)
        elif c:
            np.matmul(net.W[l - 1], A, out=Z[:c])
            # b_l as (n_l, m), so the add runs over whole copies (broadcast along m it runs in steps of m)
            Z[:c] += np.add.outer(net.b[l - 1], _zeros(m))
        for first, P, Q, rows in new:
            if rows is None:
                tail = Z[first : first + len(P)]
                Ph = P[:, None, :] * hs[first : first + len(P), :, None]  # (c_k, 2, m): small
                np.multiply(Q[:, None, :, None], Ph[:, :, None, :], out=tail)
                tail += net.zs[l - 1].T
                hi = first + len(P)
        if name in _KINKED:  # (lo is 0: the Delta way is for sigmoids only)
            K = Z[:hi] > 0
            kinked[:hi] |= (K[:, 0] != K[:, 1]).reshape(hi, -1).any(axis=1)
        if l == net.L and spec.loss != "quadratic":
            c = c_new
            break  # (the other losses read the logits only)
        # the activation overwrites its pre-activation (not needed after it); not leaky_relu's,
        # whose two steps read z twice
        A = work.get(f"A{l}", Z.shape) if name == "leaky_relu" else Z
        if hi > lo:
            _act(name, Z[lo:hi], A[lo:hi])
        for first, P, _, rows in new:
            if rows is not None:
                c_k = len(P)
                tab = P[:, None, :] * -hs[first : first + c_k, :, None]  # -(+-h) P: (c_k, 2, m)
                g = A[first : first + c_k]
                np.exp(tab, out=tab).reshape(-1, m).take(rows, axis=0, out=g, mode="wrap")  # (in range: unbuffered)
                g *= _neg_exp_t(net, l)
                g += 1.0
                np.reciprocal(g, out=g)
        c = c_new
    if spec.loss == "quadratic":
        np.subtract(A, np.ascontiguousarray(net.y.T), out=A)  # (A is not read again; y^T contiguous, as b_l)
        T = A.reshape(2 * c, -1)
        f = 0.5 * np.einsum("ij,ij->i", T, T)
        return f.reshape(c, 2), kinked
    # the logits in the (copy, sample, unit) layout the losses are written for
    Zc = np.ascontiguousarray(Z.reshape(2 * c, -1, m).transpose(0, 2, 1))
    kinks: list = []
    f = _loss_sum(spec, Zc, Zc, net.y, kinks, work)
    for K in kinks:  # hinge margins
        kinked |= (K.reshape(c, 2, -1)[:, 0] != K.reshape(c, 2, -1)[:, 1]).any(axis=1)
    return f.reshape(c, 2), kinked


# |Delta| up to which e^-Delta is its degree-4 Taylor polynomial to rounding: the remainder
# Delta^5 / 120 <= 8e-18 < eps / 16
_TAYLOR_MAX = 1e-3


def _sigmoid_moved(D: np.ndarray, neg_exp_t: np.ndarray, work: _Work) -> None:
    """D <- 1 / (1 + e^-z e^-D) for |D| <= _TAYLOR_MAX, e^-D = 1 - D + D^2/2 - D^3/6 + D^4/24 (Horner)."""
    T = work.get("taylor", D.shape)
    np.multiply(D, 1.0 / 24.0, out=T)
    T -= 1.0 / 6.0
    T *= D
    T += 0.5
    T *= D
    T -= 1.0
    T *= D
    T += 1.0
    T *= neg_exp_t
    T += 1.0
    np.reciprocal(T, out=D)


def _neg_exp_t(net: _Net, l: int) -> np.ndarray:
    """e^-z_l as (n_l, m), from the forward pass (sigmoid layers)."""
    return np.ascontiguousarray(net.neg_exp[l - 1].T)


def _screen_values(net: _Net, names: list[str], dirs: dict, keys: dict, *, two_steps: bool = True):
    """FD directional derivatives of ``names``, rows in that order: (fd, steps, trunc, nondiff), each (T, d).

    Every tensor has the same number d of directions. The error estimate of a direction is the
    rounding floor 4 eps S / step (``_err_rows``) plus ``trunc``: with ``two_steps`` the evaluations at
    +-2h give |D(h) - D(2h)| / 3 and a kink within 2h marks the direction nondiff; without, only +-h
    is evaluated and ``trunc`` is None. ``dirs``: name -> direction factors; ``keys``: name -> the
    arguments of ``_directions`` that made them."""
    by_layer: dict[int, tuple[list, list]] = {}
    for name in names:
        k, P, Q = _direction_factors(net, name, dirs[name])
        theta = _tensor_value(net, name)
        # (the ufuncs' own reductions: ndarray.max and min go through a Python wrapper each)
        h = STEP * max(1.0, float(_MAX(theta, axis=None)), -float(_MIN(theta, axis=None)))
        shortcut = name[0] in "Wb" and _shortcut(net, k)
        by_layer.setdefault(k, ([], []))[shortcut].append((name, P, Q, h))
    groups: dict = {}
    order, hlist = [], []
    at = 0
    for k in sorted(by_layer):
        for shortcut, items in enumerate(by_layer[k]):  # (the plain entries first: see _directional_pass)
            if not items:
                continue
            if len(items) == 1:
                P, Q = items[0][1], items[0][2]
            else:
                P, Q = np.concatenate([it[1] for it in items]), np.concatenate([it[2] for it in items])
            rows = _select_rows(tuple(keys[it[0]] for it in items)) if shortcut else None
            groups.setdefault(k, []).append((at, P, Q, rows))
            at += len(P)
            for name, Pn, _, h in items:
                order.append(name)
                hlist += [h] * len(Pn)
    steps = np.array(hlist)
    work = _Work()

    def losses(hs):
        f, kink = _directional_pass(net, groups, hs, work)
        if shortcuts and not math.isfinite(float(np.add.reduce(f, axis=None))):
            # e^-z e^-(+-hP) can be inf * 0 where e^-(z + hP) is not (steps of hundreds): the plain way
            f, kink = _directional_pass(net, {k: [g[:3] + (None,) for g in v] for k, v in groups.items()}, hs, work)
        return f, kink

    shortcuts = any(g[3] is not None for v in groups.values() for g in v)
    # (+h, -h) per copy, and (+2h, -2h) for the error estimate
    f1, kink = losses(steps[:, None] * _SIGNS[::-1])
    scale2 = 2.0 * steps if net.scale == 1.0 else 2.0 * steps / net.scale
    d = (f1[:, 0] - f1[:, 1]) / scale2
    trunc = None
    if two_steps:
        f2, kink2 = losses(steps[:, None] * (2.0 * _SIGNS[::-1]))
        trunc = np.abs(d - (f2[:, 0] - f2[:, 1]) / (2.0 * scale2)) / 3.0
        kink = kink | kink2
    if net.kinked and kink.any():
        d = np.where(kink, np.nan, d)
    T = len(order)
    d, steps, kink = d.reshape(T, -1), steps.reshape(T, -1), kink.reshape(T, -1)
    trunc = trunc.reshape(T, -1) if trunc is not None else None
    if order != names:
        rows = [order.index(n) for n in names]
        d, steps, kink = d[rows], steps[rows], kink[rows]
        trunc = trunc[rows] if trunc is not None else None
    if net.spec.reg:
        for t, name in enumerate(names):
            if name[0] == "W":
                d[t] += net.spec.reg * _along(dirs[name], net.W[int(name[1:]) - 1])
    return d, steps, trunc, kink


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
    from oracles.compare import tolerance

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
    from oracles.compare import compare_tensor  # numpy-only module; imported late to keep this light

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
    dirs: dict[str, tuple] = {}
    keys: dict[str, tuple] = {}
    for name in names:
        shape = _shape(case, name)
        g, problem = _claimed(grads, name, shape)
        if g is None:
            empty = np.zeros(0)
            results[name] = ScreenResult(name, "error", empty, empty, empty, np.zeros(0, bool), detail=problem)
            continue
        keys[name] = (name, shape, int(directions), int(seed))
        dirs[name] = _directions(*keys[name])
        given[name] = g
    if not dirs:
        return results
    todo = list(dirs)
    dtype = case.spec.dtype
    if compiled is not None:
        from oracles.compare import tolerance

        tol = tolerance(dtype, "fd")
        fd, cl, nd, steps, scale0, clear = compiled.first_stage(case, todo, dirs, given,
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
        fd1, _, nd1, steps2, _, _ = compiled.first_stage(case, again, dirs, given)
        fd2, _, nd2, _, _, _ = compiled.first_stage(case, again, dirs, given, mult=2.0)
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
