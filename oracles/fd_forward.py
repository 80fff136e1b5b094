"""The finite-difference oracle's numpy pieces: the step rule, the float64 forward pass and the batched tail.

Everything the per-element path (oracles/finite_diff.py), the interpolated tail (oracles/fd_tail.py)
and the directional screen (oracles/fd_screen.py) evaluate the loss with: constants (EPS, STEP, the
+h/-h/+2h multipliers), scratch arrays (``_Work``), activations and losses on stacked copies, the cached
forward (``_Net``, ``_prepare``, ``_floor``), the remaining layers (``_tail``), the kink rule and the
central difference with its error estimate. The method is described in oracles/finite_diff.py's
docstring. Separate from that module so the three consumers share one bottom layer that imports none
of them (numpy, oracles.case only: it also runs inside the sandbox child).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from oracles.case import Case

__all__ = ["EPS", "STEP", "LEAKY_SLOPE", "step_size"]

EPS = float(np.finfo(np.float64).eps)
STEP = EPS ** (1.0 / 3.0)
LEAKY_SLOPE = 0.01
_KINKED = ("relu", "leaky_relu")
# +h, -h, +2h: with the cached f(theta), the four points behind each central difference and its
# error estimate (see the module docstring).
_MULTS = np.array([1.0, -1.0, 2.0])
_B = len(_MULTS)
# Working arrays live in cache-sized pieces even when chunk_bytes allows more (measured faster).
_WORK_BYTES = 4 << 20


def _quiet(f):
    """Run f with overflow/underflow silenced: e^-z overflows to inf for z < -709, which is how
    1 / (1 + e^-z) correctly gives 0; one errstate per public call, not per operation."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore", under="ignore"):
            return f(*args, **kwargs)

    return wrapper


def _norm(a) -> float:
    """2-norm without BLAS (a threaded ddot waits for a busy second core: measured up to 0.7 ms) and,
    for the short vectors of the screen, without numpy's per-call overhead."""
    a = np.ravel(np.asarray(a, dtype=np.float64))
    if a.size <= 4096:  # (OpenBLAS runs a dot this short on one thread)
        return math.sqrt(float(a.dot(a)))
    return math.sqrt(float(np.add.reduce(a * a)))


def step_size(theta) -> np.ndarray:
    """The step rule: eps^(1/3) * max(1, |theta|), elementwise."""
    return STEP * np.maximum(1.0, np.abs(np.asarray(theta, dtype=np.float64)))


# ---------------------------------------------------------------- forward pieces (numpy, float64)


class _Work:
    """Scratch arrays reused from chunk to chunk.

    A fresh multi-megabyte array costs a page fault per 4 KiB page: measured here, the same
    elementwise operation runs about 6x slower into a new array than into a reused one."""

    def __init__(self) -> None:
        self._bufs: dict = {}

    def get(self, key: str, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
        n = math.prod(shape)
        buf = self._bufs.get((key, dtype))
        if buf is None or buf.size < n:
            buf = np.empty(n, dtype=dtype)
            self._bufs[(key, dtype)] = buf
        return buf[:n].reshape(shape)

    def alias(self, key: str, a: np.ndarray) -> None:
        """Let get(key) hand out ``a``'s memory (a contiguous array no longer needed)."""
        self._bufs[(key, a.dtype)] = a.reshape(-1)


def _act(name: str, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """act(z) written into ``out`` (a new array when None); identity returns z itself."""
    if name == "identity":
        return z
    if out is None:
        out = np.empty_like(z)
    if name == "sigmoid":
        # 1 / (1 + e^-z) is accurate to a few ulp for every z (overflow gives the right 0).
        np.negative(z, out=out)
        np.exp(out, out=out)  # (overflow warnings are silenced by @_quiet on the public functions)
        out += 1.0
        return np.reciprocal(out, out=out)
    if name == "tanh":
        return np.tanh(z, out=out)
    if name == "relu":
        return np.maximum(z, 0.0, out=out)
    if name == "leaky_relu":
        # max(z, 0.01 z) is z for z > 0 and 0.01 z below: the same numbers as np.where
        np.multiply(z, LEAKY_SLOPE, out=out)
        return np.maximum(z, out, out=out)
    if name == "softplus":
        return np.logaddexp(z, 0.0, out=out)
    raise ValueError(f"activation {name!r} is unknown to the finite-difference oracle")


def _take(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    lab = np.broadcast_to(labels, z.shape[:-1])
    return np.take_along_axis(z, lab[..., None], axis=-1)


def _loss_sum(spec, Z: np.ndarray, A: np.ndarray, y, kinks: list, work: _Work) -> np.ndarray:
    """Summed loss of each copy: Z, A (C, r, n) output pre-activation and activation, y broadcastable
    (dense targets) or labels broadcastable to (C, r). Returns (C,)."""
    C = Z.shape[0]
    T = work.get("T", Z.shape)
    if spec.loss == "quadratic":
        np.subtract(A, y, out=T)
        T2 = T.reshape(C, -1)
        return 0.5 * np.einsum("ij,ij->i", T2, T2)
    if spec.loss == "binary_cross_entropy":
        # from the logits: (max(z, 0) - z y) + log(1 + e^-|z|), the bracket first: for y = 1, z >> 0 it
        # is exactly 0 and the small log term keeps all its digits (adding it to z first lost them)
        U = work.get("U", Z.shape)
        np.abs(Z, out=U)
        np.negative(U, out=U)
        np.exp(U, out=U)
        np.log1p(U, out=U)
        np.maximum(Z, 0.0, out=T)
        T -= np.multiply(Z, y, out=work.get("V", Z.shape))
        T += U
        return T.reshape(C, -1).sum(axis=1)
    if spec.loss == "softmax_cross_entropy":
        mx = Z.max(axis=-1, keepdims=True)
        np.subtract(Z, mx, out=T)
        np.exp(T, out=T)
        lse = mx[..., 0] + np.log(T.sum(axis=-1))  # (C, r)
        if spec.target == "labels":
            return (lse - _take(Z, y)[..., 0]).sum(axis=1)
        np.multiply(Z, y, out=T)
        return (np.asarray(y).sum(axis=-1) * lse).sum(axis=1) - T.reshape(C, -1).sum(axis=1)
    if spec.loss == "hinge":
        np.subtract(Z, _take(Z, y), out=T)
        T += 1.0
        kinks.append(T > 0)
        np.maximum(T, 0.0, out=T)
        # the correct class has margin exactly 1 in every row: subtract it instead of masking it
        return T.reshape(C, -1).sum(axis=1) - Z.shape[1]
    raise ValueError(f"loss {spec.loss!r} is unknown to the finite-difference oracle")


@dataclass
class _Net:
    """A Case's numbers in float64 (``case.typed`` upcast) with its cached forward pass."""

    spec: object
    W: list[np.ndarray]
    b: list[np.ndarray]
    x: np.ndarray
    y: np.ndarray
    WT: list[np.ndarray] = field(default_factory=list)  # W_l.T (views) for the batched matmuls
    zs: list[np.ndarray] = field(default_factory=list)  # z_1..z_L, (m, n_l)
    acts: list[np.ndarray] = field(default_factory=list)  # a_0 = x .. a_L
    neg_exp: list = field(default_factory=list)  # e^-z_l for sigmoid layers (the screen's shortcut), else None
    per_sample: np.ndarray | None = None
    kinked: bool = False  # any relu-family layer or hinge margins: sign patterns to watch
    f0_: float | None = None  # see f0
    scale: float = 1.0
    round_terms: float = 0.0  # the size of what one loss evaluation rounds relative to (see _prepare)

    @property
    def L(self) -> int:
        return len(self.W)

    @property
    def f0(self) -> float:
        """The scaled summed data loss at theta, computed the way the perturbed copies are (``full`` only)."""
        if self.f0_ is None:
            self.f0_ = float(_loss_sum(self.spec, self.zs[-1][None], self.acts[-1][None], self.y, [], _Work())[0])
            self.f0_ *= self.scale
        return self.f0_

    @property
    def m(self) -> int:
        return self.x.shape[0]


def _as_float64(case: Case, a) -> np.ndarray:
    """A Case's array in float64, as the implementation received it (``case.typed``: float32 Cases keep
    their rounding); a float64 array of a float64 Case is returned as it is (never written to)."""
    a = np.asarray(a)
    if case.spec.dtype == "float64" and a.dtype == np.float64:
        return a
    return np.asarray(case.typed(a), dtype=np.float64)


def _prepare(case: Case, params: dict | None = None, x: np.ndarray | None = None, *, floor: bool = True) -> _Net:
    """The Case in float64 with its forward pass; with ``floor`` also the per-sample losses and the
    rounding floor (``_floor``; the screen asks for them only when a decision needs them)."""
    spec = case.spec
    params = case.params if params is None else params
    f64 = functools.partial(_as_float64, case)
    L = spec.n_layers
    W = [f64(params[f"W{l}"]) for l in range(1, L + 1)]
    b = [f64(params[f"b{l}"]) for l in range(1, L + 1)]
    xx = f64(case.x if x is None else x)
    y = np.asarray(case.y) if spec.target == "labels" else f64(case.y)
    net = _Net(spec, W, b, xx, y, WT=[w.T for w in W])  # views: BLAS takes transposed operands as they are
    net.scale = 1.0 / net.m if spec.reduction == "mean" else 1.0
    net.kinked = spec.loss == "hinge" or any(a in _KINKED for a in spec.activations)
    a = xx
    net.acts = [a]
    for l in range(L):
        z = a @ net.WT[l] + b[l]
        e = None
        if spec.activations[l] == "sigmoid":
            # _act's sigmoid, step by step, keeping e^-z (the same numbers: the same four operations)
            e = np.negative(z)
            np.exp(e, out=e)
            a = np.add(e, 1.0)
            np.reciprocal(a, out=a)
        else:
            a = _act(spec.activations[l], z)
        net.zs.append(z)
        net.acts.append(a)
        net.neg_exp.append(e)
    if floor:
        _floor(net)
    return net


def _floor(net: _Net) -> _Net:
    """net.per_sample and net.round_terms (once)."""
    if net.per_sample is not None:
        return net
    spec, y, W, b = net.spec, net.y, net.W, net.b
    # one copy per sample: the per-sample losses (m,)
    yy = y[:, None] if spec.target == "labels" else y[:, None, :]
    net.per_sample = _loss_sum(spec, net.zs[-1][:, None, :], net.acts[-1][:, None, :], yy, [], _Work())
    # A loss of 1e-5 from a confident softmax is log-sum-exp minus z_t, terms of size |z| ~ 10: its
    # rounding is eps * |z|, not eps * |loss|. So the floor counts the logits and the accumulation
    # W_L a_{L-1} + b_L that produced them, as well as the loss itself.
    acc = np.abs(net.acts[-2]) @ np.abs(net.WT[-1]) + np.abs(b[-1])
    k = math.sqrt(W[-1].shape[1] + 1)
    terms = np.abs(net.per_sample) + np.abs(net.zs[-1]).max(axis=1) + k * acc.max(axis=1)
    net.round_terms = float(terms.sum()) * net.scale
    return net


def _reg(spec, W: list[np.ndarray]) -> float:
    return 0.5 * spec.reg * sum(float(np.sum(w * w)) for w in W) if spec.reg else 0.0



def _tail(net: _Net, Z: np.ndarray, k: int, y, kinks: list, work: _Work) -> np.ndarray:
    """Push copies of z_k (C, r, n_k) through layers k..L; per-copy summed loss (C,).

    Sign patterns of relu-family pre-activations and hinge margins are appended to ``kinks``."""
    spec = net.spec
    C, r = Z.shape[:2]
    for l in range(k, net.L + 1):
        name = spec.activations[l - 1]
        if name in _KINKED:
            kinks.append(Z > 0)
        A = _act(name, Z, work.get(f"A{l}", Z.shape))
        if l < net.L:
            Zn = work.get(f"Z{l + 1}", (C, r, net.W[l].shape[0]))
            np.matmul(A.reshape(C * r, -1), net.WT[l], out=Zn.reshape(C * r, -1))
            Zn += net.b[l]
            Z = Zn
    return _loss_sum(spec, Z, A, y, kinks, work)


def _kinked(kinks: list, c: int) -> np.ndarray:
    """(c,) True where a sign pattern differs between -h and +h, or between -h and +2h."""
    out = np.zeros(c, dtype=bool)
    for K in kinks:
        K = K.reshape(_B, c, -1)
        out |= (K[0] != K[1]).any(axis=1) | (K[2] != K[1]).any(axis=1)
    return out


def _differences(f: np.ndarray, f0, h: np.ndarray, floor_terms, nondiff: np.ndarray):
    """From f at +h, -h, +2h (3, c), f(theta) and the steps (c,): D(h) and its error estimate.

    h^2 |f3| / 6 is the truncation error of D(h), the quantity Richardson's |D(2h) - D(h)| / 3
    estimates, with the third derivative f3 ~ (f(2h) - 3 f(h) + 3 f(0) - f(-h)) / h^3; plus the
    rounding floor. NaN where nondiff."""
    d1 = (f[0] - f[1]) / (2.0 * h)
    third = (f[2] - 3.0 * f[0] + 3.0 * f0 - f[1]) / h**3
    err = h * h * np.abs(third) / 6.0 + 4.0 * EPS * floor_terms / h
    d1 = np.where(nondiff, np.nan, d1)
    return d1, err
