"""The directional screen's first stage in numpy (oracles/fd_screen.py; oracles/fd_kernel.py is the same
stage compiled, used where numba is available): the seeded directions and one batched pass of every
perturbed copy.

A screen of the [784, 30, 10] bench net is a few hundred microseconds of arithmetic at
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
  differ from the plain pass's by rounding only, which the rounding floor already allows for.
"""

from __future__ import annotations

import functools
import math
import zlib

import numpy as np

from oracles.fd_forward import _KINKED, STEP, _act, _loss_sum, _Net, _Work
from oracles.finite_diff import _tensor_value

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
