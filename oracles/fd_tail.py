"""Full per-element FD for W_l / b_l through an interpolated tail (``oracles.finite_diff.full``'s fast path).

When every layer after l and the loss are smooth, the loss of sample s after unit i of layer l moved
by u is an analytic function of one number on a tiny interval: evaluated exactly (real forward
passes) at a few points and interpolated, it costs O(m) per perturbation instead of a pass through
the rest of the network. The method, its checks and its error terms are described in
oracles/finite_diff.py's docstring ("The tail as a function of one number"); split from that module
to keep it readable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oracles.fd_forward import (
    _B,
    _KINKED,
    _MULTS,
    EPS,
    STEP,
    _act,
    _differences,
    _kinked,
    _Net,
    _tail,
    _Work,
    step_size,
)

_SMOOTH_ACTS = ("sigmoid", "tanh", "softplus", "identity")
_SMOOTH_LOSSES = ("quadratic", "binary_cross_entropy", "softmax_cross_entropy")
# Interpolation nodes (fractions of U) and check points. phi(0) = 0 is built into the cubic
# p(tau) = d1 tau + d2 tau^2 + d3 tau^3, fitted to the four nodes by least squares (its residual there
# is part of the check). Its error is of order U^4 |phi^(4)| / 4!: at U ~ 1e-5, far below rounding.
_NODES = np.array([-1.0, -0.5, 0.5, 1.0])
_CHECKS = np.array([-0.3, 0.3])
_DEG = 3
_FIT = np.linalg.pinv(_NODES[:, None] ** np.arange(1, _DEG + 1)[None, :])  # (3, 4)


@dataclass
class _TailModel:
    """The loss change of sample s when unit i of layer l moves by v, p_si(v) = sum_q c[q, i, s] v^q.

    ``pre``: v is the move of the pre-activation z_l[s, i] (layer l's activation is smooth and part
    of the interpolated function); otherwise v is the move of a_l[s, i] (a relu-family layer l, whose
    kinks are watched on the exact pre-activation as in the direct path)."""

    pre: bool
    c: np.ndarray  # (_DEG, n_l, m): coefficients of v itself
    zT: np.ndarray  # z_l.T (n_l, m)
    aT: np.ndarray  # a_l.T (n_l, m)
    prevT: np.ndarray  # a_{l-1}.T (n_{l-1}, m)
    floor: np.ndarray  # (n_l,): the rounding floor of every element of unit i (with the check's discrepancy)


def _tail_model(net: _Net, name: str) -> _TailModel | None:
    """The interpolated tail of W_l / b_l, or None where it does not apply or its check fails."""
    spec = net.spec
    kind, l = name[0], int(name[1:])
    if kind not in "Wb" or spec.loss not in _SMOOTH_LOSSES:
        return None
    if l == net.L and spec.activations[l - 1] not in _SMOOTH_ACTS:
        return None
    if any(a not in _SMOOTH_ACTS for a in spec.activations[l:]):
        return None
    z, a = net.zs[l - 1], net.acts[l]  # (m, n_l)
    if kind == "W":
        hW = step_size(net.W[l - 1])  # (n_l, n_{l-1})
        # max_j |a_{l-1}[s, j]| h_ij <= max_j |a_{l-1}[s, j]| * max_j h_ij: a bound is all U needs
        S = 2.0 * np.abs(net.acts[l - 1]).max(axis=1)[:, None] * hW.max(axis=1)[None, :]
    else:
        S = np.broadcast_to(2.0 * step_size(net.b[l - 1])[None, :], z.shape)
    S = S * (1.0 + 1e-9)  # the largest move of z_l[s, i] any of the +h, -h, +2h steps makes
    act = spec.activations[l - 1]
    pre = act in _SMOOTH_ACTS
    if pre:
        U = S
    else:  # activations are monotone: no step moves a_l further than the ends of [z - S, z + S]
        U = np.maximum(np.abs(_act(act, z + S) - a), np.abs(_act(act, z - S) - a)) * (1.0 + 1e-9)
    # a unit no perturbation moves (a relu at rest): every v is 0 there, any small interval will do
    U = np.where(U > 0, U, np.where(S > 0, S, STEP))
    taus = np.concatenate([_NODES, _CHECKS])
    m, n = z.shape
    Q = len(taus)
    v = taus[:, None, None] * U[None]  # (Q, m, n)
    if l < net.L:
        da = _act(act, z[None] + v) - a[None] if pre else v
        # copies (node, sample, unit), one row each: z_{l+1}[s] + da W_{l+1}[:, i], through the real layers
        Z = net.zs[l][None, :, None, :] + da[..., None] * net.WT[l][None, None, :, :]  # (Q, m, n, n_{l+1})
        start = l + 1
    else:  # the output layer: z_L[s] with its entry i moved, through the output activation and the loss
        Z = z[None, :, None, :] + v[..., None] * np.eye(n)[None, None, :, :]  # (Q, m, n, n_L)
        start = l
    ys = net.y[None, :, None].repeat(n, axis=2) if spec.target == "labels" else net.y[None, :, None, :]
    yy = np.broadcast_to(ys, (Q, m, n) + net.y.shape[1:]).reshape((Q * m * n, 1) + net.y.shape[1:])
    f = _tail(net, Z.reshape(Q * m * n, 1, -1), start, yy, [], _Work()).reshape(Q, m, n)
    phi = f - net.per_sample[None, :, None]
    d = np.einsum("qr,rmn->qmn", _FIT, phi[: len(_NODES)])
    approx = sum(d[q][None] * (taus[:, None, None] ** (q + 1)) for q in range(_DEG))
    disc = np.abs(approx - phi).max(axis=0)  # at the check points and the nodes (the fit's residual)
    # rounding of the exact values is all the discrepancy may show: eps times the loss terms of the sample
    allowed = 64.0 * EPS * (np.abs(net.per_sample) + np.abs(net.zs[-1]).max(axis=1) + 1.0)
    if not np.all(disc <= allowed[:, None]):
        return None
    UT = U.T
    coef = np.ascontiguousarray(d.transpose(0, 2, 1)) / (UT[None] ** np.arange(1, _DEG + 1)[:, None, None])
    floor = net.round_terms + disc.sum(axis=0) * net.scale / (4.0 * EPS)
    return _TailModel(pre, coef, np.ascontiguousarray(z.T), np.ascontiguousarray(a.T),
                      np.ascontiguousarray(net.acts[l - 1].T), floor)


def _column_fd_interp(net: _Net, name: str, idx: np.ndarray, work: _Work, model: _TailModel):
    """Elements idx of W_l or b_l (l < L) with the interpolated tail: O(m) per perturbation."""
    kind, l = name[0], int(name[1:])
    n_prev = net.W[l - 1].shape[1]
    c, m = len(idx), net.m
    shape = (_B, c, m)
    if kind == "W":
        i, j = np.divmod(idx, n_prev)
        theta = net.W[l - 1][i, j]
    else:
        i = idx
        theta = net.b[l - 1][i]
    h = step_size(theta)
    hm = np.multiply(_MULTS[:, None], h[None, :], out=work.get("hcol", (_B, c)))
    if kind == "W":
        v = np.multiply(hm[..., None], model.prevT[j][None], out=work.get("shift", shape))  # z_l[:, i] moves
    else:
        v = np.multiply(hm[..., None], np.ones(m), out=work.get("shift", shape))
    kinks = []
    if not model.pre:  # a relu-family layer l: its exact move, its kinks watched
        zcol = np.add(model.zT[i][None], v, out=work.get("zcol", shape))
        act = net.spec.activations[l - 1]
        if act in _KINKED:
            kinks.append(zcol > 0)
        v = _act(act, zcol, work.get("acol", shape))
        v -= model.aT[i][None]
    cf = model.c[:, i]  # (_DEG, c, m)
    p = np.multiply(v, cf[_DEG - 1][None], out=work.get("p", shape))
    for q in range(_DEG - 2, -1, -1):
        p += cf[q][None]
        p *= v
    f = (p.reshape(-1, m) @ np.full(m, net.scale)).reshape(_B, c)  # the loss change at +h, -h, +2h
    nondiff = _kinked(kinks, c)
    d1, err = _differences(f, 0.0, h, model.floor[i], nondiff)
    if kind == "W" and net.spec.reg:
        d1 = d1 + net.spec.reg * theta
    return d1, err, nondiff, h


def _column_fd_closed(net: _Net, name: str, model: _TailModel):
    """Every element of W_l or b_l at once when the model is in z_l's own move (``pre``).

    z_l = W_l a_{l-1} + b_l is linear in the parameters, so the step h of W_l[i, j] moves z_l[s, i]
    by exactly +-h a_{l-1}[s, j] (or 2h), and the loss by sum_s p_si(that move). The central
    difference and the third difference of a cubic p(v) = c1 v + c2 v^2 + c3 v^3 are exact algebra:
    (f(h) - f(-h)) / 2h = sum_s c1 x + h^2 sum_s c3 x^3 and f(2h) - 3 f(h) + 3 f(0) - f(-h) =
    6 h^3 sum_s c3 x^3 (x = a_{l-1}[s, j], or 1 for b_l): two small GEMMs for the whole tensor."""
    kind, l = name[0], int(name[1:])
    c1, c3 = model.c[0], model.c[_DEG - 1]  # (n_l, m)
    if kind == "W":
        theta = net.W[l - 1]
        x = net.acts[l - 1]  # (m, n_{l-1})
        g1, g3 = c1 @ x, c3 @ (x * x * x)
        floor = model.floor[:, None]
    else:
        theta = net.b[l - 1]
        g1, g3 = c1.sum(axis=1), c3.sum(axis=1)
        floor = model.floor
    h = step_size(theta)
    h2g3 = h * h * g3
    d = (g1 + h2g3) * net.scale
    err = np.abs(h2g3) * net.scale + 4.0 * EPS * floor / h
    if kind == "W" and net.spec.reg:
        d = d + net.spec.reg * theta
    return d, err, np.zeros(theta.shape, dtype=bool), h

