"""The directional screen of MLP Specs in one compiled call (numba): fd_screen.screen_mlp's first stage.

Why compiled, and why one call. A screen of the [784, 30, 10] bench net is ~0.2 ms of arithmetic.
Run warm, numpy does it in ~0.35 ms; run right after other code (the cold, interleaved runs of
``bpcheck bench``, and every screen of a campaign, which follows an implementation's run and the torch
oracle), each distinct numpy function, Python function and compiled kernel first costs 5-35 us to bring
its code back into cache (measured after a gradcheck: np.add 22 us, np.repeat 31 us, np.matmul 25 us, a
numba call 10-17 us). The numpy screen touches dozens of them. This module does the whole first stage
(the forward pass at theta, the claimed projections <U, g>, every perturbed copy through the remaining
layers, the losses, the central differences) in one call.

The numbers are fd_screen's: the same seeded directions, the same points theta +- h U, the same step
rule, the same losses, the same sigmoid shortcuts (e^-(z + dz) = e^-z e^-dz). Only the order of
additions differs, i.e. the results differ by rounding, which the screen's rounding floor already
allows for; ``tests/test_fd_kernel.py`` holds the two to that, and to the same kinks.

numba is a dependency (pyproject); fd_screen imports this module on the screen's first use
(``fd_screen._kernels``), and ``BPCHECK_NO_JIT=1`` or a failed import (a sandbox, an unsupported
platform) selects the numpy functions instead, with the same verdicts. Compiled code is cached on disk
(numba's ``cache=True``): a process loads it instead of compiling it again. Nets of more than
``MAX_LAYERS`` layers take the numpy functions (the kernel's weights are a fixed-length tuple, so that
one compilation serves every depth up to it).
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from oracles.case import Case
from oracles.fd_forward import LEAKY_SLOPE, STEP, _as_float64
from oracles.fd_pass import _TAYLOR_MAX as TAYLOR_MAX  # (|D| up to which e^-D is its degree-4 Taylor polynomial)

__all__ = ["MAX_LAYERS", "ACT_CODES", "LOSS_CODES", "takes", "first_stage"]

MAX_LAYERS = 4
ACT_CODES = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4, "softplus": 5}
LOSS_CODES = {"quadratic": 0, "binary_cross_entropy": 1, "softmax_cross_entropy": 2, "hinge": 3}
_RELU, _LEAKY, _SIGMOID = ACT_CODES["relu"], ACT_CODES["leaky_relu"], ACT_CODES["sigmoid"]
# reassoc: dot products vectorise (their order of additions is rounding); contract: FMA.
# error_model="numpy": x / 0 is inf or nan as in numpy, not a ZeroDivisionError, whose check per
# division also kept the loops from vectorising (measured 5x slower).
_OPTS = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"}, error_model="numpy")
jit = numba.njit(**_OPTS)


@numba.njit(inline="always", **_OPTS)
def _act(code, z):
    if code == 1:
        return 1.0 / (1.0 + math.exp(-z))
    if code == 2:
        return math.tanh(z)
    if code == 3:
        return z if z > 0.0 else 0.0
    if code == 4:
        return z if z > LEAKY_SLOPE * z else LEAKY_SLOPE * z
    if code == 5:  # log(1 + e^z) as np.logaddexp(z, 0)
        return max(z, 0.0) + math.log1p(math.exp(-abs(z)))
    return z


@jit
def _abs_max(a):
    """max |a| (the step rule's scale)."""
    best = 0.0
    flat = a.ravel()
    for i in range(flat.size):
        v = abs(flat[i])
        best = v if v > best else best
    return best


@jit
def _affine(A, W, b, out):
    """out = A W^T + b (A (r, p), W (n, p)), in tiles of 2 rows x 4 units: each loaded element serves
    several products, and the eight sums vectorise along p (measured: 2.6x the one-dot-at-a-time loop
    on the bench net's small layers, and faster than numpy's BLAS call at these sizes)."""
    n, p = W.shape
    r = A.shape[0]
    s = 0
    while s + 2 <= r:
        a0, a1, o0, o1 = A[s], A[s + 1], out[s], out[s + 1]
        i = 0
        while i + 4 <= n:
            w0, w1, w2, w3 = W[i], W[i + 1], W[i + 2], W[i + 3]
            t00 = t01 = t02 = t03 = t10 = t11 = t12 = t13 = 0.0
            for j in range(p):
                x0, x1 = a0[j], a1[j]
                t00 += x0 * w0[j]
                t01 += x0 * w1[j]
                t02 += x0 * w2[j]
                t03 += x0 * w3[j]
                t10 += x1 * w0[j]
                t11 += x1 * w1[j]
                t12 += x1 * w2[j]
                t13 += x1 * w3[j]
            o0[i], o0[i + 1], o0[i + 2], o0[i + 3] = t00 + b[i], t01 + b[i + 1], t02 + b[i + 2], t03 + b[i + 3]
            o1[i], o1[i + 1], o1[i + 2], o1[i + 3] = t10 + b[i], t11 + b[i + 1], t12 + b[i + 2], t13 + b[i + 3]
            i += 4
        while i < n:
            w = W[i]
            t0 = t1 = 0.0
            for j in range(p):
                t0 += a0[j] * w[j]
                t1 += a1[j] * w[j]
            o0[i], o1[i] = t0 + b[i], t1 + b[i]
            i += 1
        s += 2
    if s < r:
        a, o = A[s], out[s]
        for i in range(n):
            w = W[i]
            t = 0.0
            for j in range(p):
                t += a[j] * w[j]
            o[i] = t + b[i]


@jit
def _along(G, r, s, out):
    """out[k] = r_k^T G s_k (a matrix's rank-one directions) or, with r empty ((d, 0)), G . s_k (a vector's,
    G one row)."""
    Gs = np.empty((G.shape[0], s.shape[0]))
    _affine(G, s, np.zeros(s.shape[0]), Gs)  # (G s_k)_i for every k
    for k in range(s.shape[0]):
        if r.shape[1] == 0:
            out[k] = Gs[0, k]
        else:
            t = 0.0
            for i in range(G.shape[0]):
                t += r[k, i] * Gs[i, k]
            out[k] = t


@jit
def _activate(Z, code, kinks):
    """Z (2, m, n) <- act(Z); returns whether a unit's pre-activation has different signs at the two points."""
    kinked = False
    if kinks:
        for s in range(Z.shape[1]):
            for i in range(Z.shape[2]):
                if (Z[0, s, i] > 0.0) != (Z[1, s, i] > 0.0):
                    kinked = True
    if code != 0:
        for k in range(2):
            for s in range(Z.shape[1]):
                o = Z[k, s]
                for i in range(Z.shape[2]):
                    o[i] = _act(code, o[i])
    return kinked


@jit
def _loss_pair(Z, y, labels, code, out):
    """Summed loss at each of the two points (fd_forward._loss_sum's formulas) from Z (2, m, n): the output
    activations (quadratic) or logits (the others). Returns whether a hinge margin changes sign."""
    m, n = Z.shape[1], Z.shape[2]
    kinked = False
    for k in range(2):
        tot = 0.0
        for s in range(m):
            z = Z[k, s]
            if code == 0:
                for i in range(n):
                    q = z[i] - y[s, i]
                    tot += q * q
            elif code == 1:  # from the logits, the bracket first (see _loss_sum)
                for i in range(n):
                    tot += (max(z[i], 0.0) - z[i] * y[s, i]) + math.log1p(math.exp(-abs(z[i])))
            elif code == 2:
                mx = z[0]
                for i in range(1, n):
                    mx = max(mx, z[i])
                se = 0.0
                for i in range(n):
                    se += math.exp(z[i] - mx)
                lse = mx + math.log(se)
                if labels[s] >= 0:
                    tot += lse - z[labels[s]]
                else:
                    ys = 0.0
                    for i in range(n):
                        ys += y[s, i]
                        tot -= z[i] * y[s, i]
                    tot += ys * lse
            else:  # hinge: sum_j max(0, z_j - z_label + 1) - 1 (the label's own term is exactly 1)
                zl = z[labels[s]]
                for i in range(n):
                    t = z[i] - zl + 1.0
                    if k == 1 and (t > 0.0) != (Z[0, s, i] - Z[0, s, labels[s]] + 1.0 > 0.0):
                        kinked = True
                    if t > 0.0:
                        tot += t
                tot -= 1.0
        out[k] = 0.5 * tot if code == 0 else tot
    return kinked


@jit
def _copy_losses(l, P, Q, pm1, h, Ws, bs, codes, L, zs, es, bufs, y, labels, loss, f):
    """f[0], f[1]: the loss at theta +- h U for a direction U entering at layer l (0-based) as
    d z_l = P (x) Q (fd_pass._direction_factors). ``pm1``: Q is +-1 (W and b directions), so a sigmoid
    layer takes e^-(z + dz) = e^-z e^-(+-h P[s]); copies in flight through a later sigmoid layer move z
    by D, a few h, and take e^-z e^-D with e^-D by its Taylor polynomial where exact (fd_screen's
    shortcuts, the same numbers up to rounding). Returns whether a kink lies between the two points."""
    m = P.shape[0]
    Z = bufs[l]
    z, e, code = zs[l], es[l], codes[l]
    kinked = False
    for k in range(2):
        hk = h if k == 0 else -h
        for s in range(m):
            dz = hk * P[s]
            o, zr = Z[k, s], z[s]
            if pm1 and code == _SIGMOID:
                up, down = math.exp(-dz), math.exp(dz)
                if 0.0 < up < math.inf and 0.0 < down < math.inf:
                    er = e[s]
                    for i in range(o.shape[0]):
                        o[i] = 1.0 / (1.0 + er[i] * (up if Q[i] > 0.0 else down))
                else:  # e^-z e^-dz could be inf * 0 (steps of hundreds): the plain way, as fd_screen
                    for i in range(o.shape[0]):
                        o[i] = 1.0 / (1.0 + math.exp(-(zr[i] + dz * Q[i])))
            else:
                for i in range(o.shape[0]):
                    o[i] = zr[i] + dz * Q[i]
    if not (pm1 and code == _SIGMOID):
        kinked |= _activate(Z, code, code == _RELU or code == _LEAKY)
    for j in range(l + 1, L):
        A, Zn = bufs[j - 1], bufs[j]
        W, b, z, e, code = Ws[j], bs[j], zs[j], es[j], codes[j]
        _affine(A.reshape(2 * m, A.shape[2]), W, b, Zn.reshape(2 * m, Zn.shape[2]))  # both points at once
        if code == _SIGMOID:
            for k in range(2):
                for s in range(m):
                    o, zr, er = Zn[k, s], z[s], e[s]
                    # Taylor for every unit (no branch: the loop vectorises), then the plain way for any
                    # unit the polynomial does not serve (rare: a huge step)
                    D_max = 0.0
                    for i in range(o.shape[0]):
                        D = o[i] - zr[i]
                        D_max = max(D_max, abs(D))
                        o[i] = 1.0 / (1.0 + er[i] * (1.0 + D * (-1.0 + D * (0.5 + D * (-1.0 / 6.0 + D / 24.0)))))
                    if D_max > TAYLOR_MAX:
                        A_row = A[k, s]
                        for i in range(o.shape[0]):
                            t = b[i]
                            for j in range(W.shape[1]):
                                t += A_row[j] * W[i, j]
                            if abs(t - zr[i]) > TAYLOR_MAX:
                                o[i] = 1.0 / (1.0 + math.exp(-t))
        else:
            kinked |= _activate(Zn, code, code == _RELU or code == _LEAKY)
    kinked |= _loss_pair(bufs[L - 1], y, labels, loss, f)
    return kinked


@jit
def _judge(fd, claimed, kinked, rtol, atol, margin):
    """fd_screen._family_scale and fd_screen._judge_together (the same formulas): the family scale, and
    which tensors compare_tensor would pass even at FD error estimate 0 (norms to rounding: the margin
    covers the difference from Python's math.hypot; an overflow only leaves a tensor to compare_tensor)."""
    T, d = fd.shape
    family = 0.0
    for t in range(T):
        n_ok, ss = 0, 0.0
        for q in range(d):
            if not kinked[t, q]:
                n_ok += 1
                ss += fd[t, q] * fd[t, q]
        if n_ok:
            family = max(family, math.sqrt(ss / n_ok))
    clear = np.zeros(T, dtype=np.bool_)
    for t in range(T):
        ok = True
        biggest, ss, err = 0.0, 0.0, 0.0
        for q in range(d):
            if kinked[t, q] or not math.isfinite(claimed[t, q]):
                ok = False
            biggest = max(biggest, abs(fd[t, q]))
            ss += fd[t, q] * fd[t, q]
            err += (claimed[t, q] - fd[t, q]) ** 2
        if ok:
            allowed = rtol * math.sqrt(ss) + atol * (max(family, biggest) / math.sqrt(d)) * math.sqrt(d)
            clear[t] = math.isfinite(allowed) and math.sqrt(err) <= allowed * (1.0 - margin)
    return family, clear


@jit
def _first_stage(X, Ws, bs, codes, L, loss, y, labels, scale, reg, present, F, at, G, mult, d, tol):
    """The forward pass at theta, then for every tensor present (layer by layer: W_l, b_l, the layer's
    input x or A_{l-1}; present[l, kind]) its d directions: the claimed <U, g> and the central difference
    of the loss along U at steps +-mult h. The directions' factors (r, s) of a matrix, (empty, u) of a
    vector, packed in F: slot 3l + kind's r is F[at[i, 0]:] as (d, at[i, 1]), its s F[at[i, 2]:] as
    (d, at[i, 3]) (one array, not two tuples of twelve: each array in a tuple argument costs its own type
    check per call); G[3l + kind] the claimed gradient (a vector as one row).
    Returns (fd (NaN where kinked), claimed, steps h) as one (3, T, d) array, (kinked, cleared) as one
    (T, d + 1) array, tensors in that order, and _judge's family scale, with tol = (rtol, atol, margin):
    the judge in the same call, as a second kernel call costs ~30 us after other code ran."""
    m = X.shape[0]
    # per layer (placeholders first: numba types a list by its elements); acts: a_1 .. a_L, since x is X
    # (its own type, read-only or not)
    zs = [np.empty((0, 0)) for _ in range(L)]
    es = [np.empty((0, 0)) for _ in range(L)]
    acts = [np.empty((0, 0)) for _ in range(L)]
    bufs = [np.empty((0, 0, 0)) for _ in range(L)]
    for l in range(L):
        W, b, code = Ws[l], bs[l], codes[l]
        z = np.empty((m, W.shape[0]))
        if l == 0:
            _affine(X, W, b, z)
        else:
            _affine(acts[l - 1], W, b, z)
        a = np.empty_like(z)
        e = np.empty_like(z) if code == _SIGMOID else np.empty((0, 0))
        for s in range(m):
            for i in range(z.shape[1]):
                if code == _SIGMOID:
                    e[s, i] = math.exp(-z[s, i])
                    a[s, i] = 1.0 / (1.0 + e[s, i])
                else:
                    a[s, i] = _act(code, z[s, i])
        zs[l], es[l], acts[l] = z, e, a
        bufs[l] = np.empty((2, m, W.shape[0]))
    T = 0
    for l in range(L):
        for kind in range(3):
            T += present[l, kind]
    # two arrays out, not five: returning each costs a Python-level call (numba looks up ndarray's class)
    values = np.empty((3, T, d))
    fd, claimed, steps = values[0], values[1], values[2]
    flags = np.zeros((T, d + 1), dtype=np.bool_)  # kinked directions, then whether the tensor cleared
    kinked = flags[:, :d]
    f = np.empty(2)
    P = np.empty(m)
    t = 0
    for l in range(L):
        W = Ws[l]
        n = W.shape[0]
        Q = np.empty(n)
        PT, Qs = np.empty((m, d)), np.empty((d, n))  # every direction's P (W_l) or Q (the input)
        for kind in range(3):
            if not present[l, kind]:
                continue
            slot = 3 * l + kind
            r = F[at[slot, 0] : at[slot, 0] + d * at[slot, 1]].reshape(d, at[slot, 1])
            s_ = F[at[slot, 2] : at[slot, 2] + d * at[slot, 3]].reshape(d, at[slot, 3])
            g = G[slot]
            if kind == 0:
                theta_max = _abs_max(W)
            elif kind == 1:
                theta_max = _abs_max(bs[l])
            else:
                theta_max = _abs_max(X) if l == 0 else _abs_max(acts[l - 1])
            h = STEP * max(1.0, theta_max)
            for q in range(d):
                steps[t, q] = h
            _along(g, r, s_, claimed[t])
            if kind == 0:  # W_l: U = r s^T, d z_l = (a_{l-1} s) (x) r
                if l == 0:
                    _affine(X, s_, np.zeros(d), PT)
                else:
                    _affine(acts[l - 1], s_, np.zeros(d), PT)
            elif kind == 2:  # x or A_{l-1}: U = r s^T, d z_l = r (x) (W_l s)
                _affine(s_, W, np.zeros(n), Qs)
            for q in range(d):
                # (element loops, not slice assignments: those compile a shape check with string formatting,
                # a third of the compile time)
                for s in range(m):
                    P[s] = PT[s, q] if kind == 0 else (1.0 if kind == 1 else r[q, s])
                for i in range(n):
                    Q[i] = r[q, i] if kind == 0 else (s_[q, i] if kind == 1 else Qs[q, i])
                kinked[t, q] = _copy_losses(l, P, Q, kind < 2, mult * h, Ws, bs, codes, L, zs, es, bufs,
                                            y, labels, loss, f)
                fd[t, q] = scale * (f[0] - f[1]) / (2.0 * mult * h) if not kinked[t, q] else math.nan
                if kind == 0 and reg != 0.0 and not kinked[t, q]:  # reg/2 ||W||^2: exactly reg <U, W> along U
                    v = 0.0
                    for i in range(n):
                        for j in range(W.shape[1]):
                            v += r[q, i] * W[i, j] * s_[q, j]
                    fd[t, q] += reg * v
            t += 1
    family, clear = _judge(fd, claimed, kinked, tol[0], tol[1], tol[2])
    flags[:, d] = clear
    return values, flags, family


# ---------------------------------------------------------------- what fd_screen calls

def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


_EMPTY1, _EMPTY2 = np.zeros(0), np.zeros((0, 0))
_PAD1 = [(_EMPTY1,) * k for k in range(MAX_LAYERS)]  # the weights' tuples padded to MAX_LAYERS
_PAD2 = [(_EMPTY2,) * k for k in range(MAX_LAYERS)]


def takes(case: Case) -> bool:
    """Whether the compiled first stage serves this Case (an MLP of at most MAX_LAYERS layers)."""
    return case.spec.n_layers <= MAX_LAYERS


_F64 = np.dtype(np.float64)


def _f64(case: Case, a) -> np.ndarray:
    """fd_forward._as_float64, C-contiguous, aligned and writeable as the kernel's tuples take them (one
    element type per tuple: anything else, rare, is copied)."""
    return _kernel_array(_as_float64(case, a))


def _kernel_array(a) -> np.ndarray:
    # (the common case in two attribute reads: after other code ran, each numpy call here cost ~2-5 us)
    if type(a) is np.ndarray and a.dtype is _F64 and a.flags.carray:
        return a
    a = np.ascontiguousarray(a, dtype=np.float64)
    return a if a.flags.carray else a.copy()


def _slot(name: str) -> tuple[int, int]:
    """(layer 0-based, kind) of a tensor: W_l 0, b_l 1, the input of layer l (x or A_{l-1}) 2."""
    if name == "x":
        return 0, 2
    if name[0] == "A":
        return int(name[1:]), 2
    return int(name[1:]) - 1, "Wb".index(name[0])


@functools.lru_cache(maxsize=256)
def _plan(activations: tuple[str, ...], loss: str, keys: tuple[tuple, ...]):
    """What depends on the Spec's shape and the directions only (``keys``: fd_pass._directions's arguments per
    tensor): the activation codes (the last layer's logits for the losses that read them), which slots are
    present, each tensor's slot index, its directions packed (F, at: see _first_stage), and the rows that
    put the kernel's layer order back into the keys' order (None: the same). Read-only, like the directions."""
    from oracles.fd_pass import _directions

    L = len(activations)
    names = [k[0] for k in keys]
    codes = np.array([ACT_CODES[a] for a in activations] + [0] * (MAX_LAYERS - L), dtype=np.int64)
    if loss != "quadratic":
        codes[L - 1] = 0  # the other losses read the logits
    present = np.zeros((MAX_LAYERS, 3), dtype=np.int64)
    at = np.zeros((3 * MAX_LAYERS, 4), dtype=np.int64)
    parts, size, index = [], 0, []
    for key in keys:
        l, kind = _slot(key[0])
        present[l, kind] = 1
        i = 3 * l + kind
        index.append(i)
        factors = _directions(*key)
        r, s = factors if len(factors) == 2 else (np.zeros((len(factors[0]), 0)), factors[0])
        at[i] = size, r.shape[1], size + r.size, s.shape[1]
        parts += [r.ravel(), s.ravel()]
        size += r.size + s.size
    F = np.concatenate(parts)
    order = sorted(names, key=_slot)
    rows = None if order == names else [order.index(n) for n in names]
    return _read_only(codes), _read_only(present), _read_only(F), _read_only(at), tuple(index), rows


@functools.lru_cache(maxsize=16)
def _dense_targets(m: int) -> np.ndarray:
    """The labels argument of a Case with dense targets: -1 for every sample (read-only)."""
    return _read_only(np.full(m, -1, dtype=np.int64))


def first_stage(case: Case, keys: list[tuple], grads: dict, *, mult: float = 1.0,
                tol: tuple[float, float, float] = (0.0, 0.0, 0.0)):
    """(fd, claimed, kinked, steps) for the tensors of ``keys`` (fd_pass._directions's arguments, name first),
    each (T, d), rows in that order: the screen's central differences at +- mult h along those directions,
    with the regulariser's exact term, and the claimed <U, grads[name]> (grads: float64 arrays of the
    tensors' shapes); then the family scale and the names fd_screen._judge_together would clear with
    ``tol`` = (rtol, atol, margin)."""
    spec = case.spec
    L = len(spec.activations)
    params = case.params
    codes, present, F, at, index, rows = _plan(spec.activations, spec.loss, tuple(keys))
    pad = MAX_LAYERS - L
    Ws = tuple([_f64(case, params[f"W{l}"]) for l in range(1, L + 1)]) + _PAD2[pad]
    bs = tuple([_f64(case, params[f"b{l}"]) for l in range(1, L + 1)]) + _PAD1[pad]
    if spec.target == "labels":  # (read-only, as the dense targets' -1s: one compiled signature for both)
        labels, y = _read_only(np.ascontiguousarray(case.y, dtype=np.int64).view()), _EMPTY2
    else:
        labels, y = _dense_targets(len(case.x)), _f64(case, case.y)
    G = [_EMPTY2] * (3 * MAX_LAYERS)
    for key, i in zip(keys, index):
        g = _kernel_array(grads[key[0]])
        G[i] = g if g.ndim == 2 else g.reshape(1, -1)
    x = _f64(case, case.x)
    scale = 1.0 / len(x) if spec.reduction == "mean" else 1.0
    out = _first_stage(x, Ws, bs, codes, L, LOSS_CODES[spec.loss], y, labels, scale, float(spec.reg), present,
                       F, at, tuple(G), float(mult), keys[0][2], tol)
    values, flags, family = out
    if rows is not None:
        values, flags = values[:, rows], flags[rows]
    d = values.shape[2]
    cleared = [key[0] for key, c in zip(keys, flags[:, d].tolist()) if c]
    return values[0], values[1], flags[:, :d], values[2], family, cleared


def judged(fd: np.ndarray, claimed: np.ndarray, kinked: np.ndarray, names: list[str], rtol: float, atol: float,
           margin: float) -> tuple[float, list[str]]:
    """(family scale, the names cleared): fd_screen._family_scale and _judge_together, compiled (the judge
    first_stage applies; for tests and for judging other numbers)."""
    family, clear = _judge(fd, claimed, kinked, rtol, atol, margin)
    return family, [n for n, c in zip(names, clear.tolist()) if c]


def warm() -> None:
    """Compile (or load from numba's on-disk cache) the kernel by screening two small Cases, one with
    dense targets and one with labels (the same compiled signature): ~20 s the first time on a machine,
    ~0.5 s after. scripts/run.sh runs it once after setting up, so the first screen in a test or a
    report does not pay for it (or, in parallel workers, pay for it once each)."""
    from oracles.case import Spec
    from oracles.fd_screen import _shape

    rng = np.random.default_rng(0)
    for spec in (Spec((3, 4, 2), ("sigmoid", "sigmoid"), "quadratic"),
                 Spec((3, 4, 2), ("relu", "identity"), "softmax_cross_entropy", target="labels")):
        params = {f"{k}{l}": rng.standard_normal((spec.sizes[l], spec.sizes[l - 1]) if k == "W" else spec.sizes[l])
                  for l in (1, 2) for k in "Wb"}
        y = rng.integers(0, 2, 3) if spec.target == "labels" else rng.random((3, 2))
        case = Case(spec, params, rng.standard_normal((3, 3)), y)
        keys = [(n, _shape(case, n), 2, 0) for n in ("W1", "b1", "W2", "b2")]
        first_stage(case, keys, {k[0]: np.zeros(k[1]) for k in keys})


if __name__ == "__main__":
    warm()
