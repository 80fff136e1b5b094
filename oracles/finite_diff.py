"""The finite-difference oracle: central differences in float64, numpy only.

It breaks ties with the torch oracle and checks a student's own loss against the student's own
gradient; it also runs inside the sandbox child, so it imports numpy and numpy-only oracles modules
(case, observation, compare) only.

Step rule. For a parameter value theta the step is

    h = eps^(1/3) * max(1, |theta|)          (eps = 2.2e-16, eps^(1/3) = 6.1e-6)

The central difference D(h) = (f(theta + h) - f(theta - h)) / 2h has truncation error
h^2 |f'''| / 6 and rounding error about eps |f| / h; with f, f''' of the same order the sum is
smallest at h ~ eps^(1/3), where both are ~ eps^(2/3) ~ 4e-11 relative. The max(1, |theta|)
keeps the step relative for large parameters and absolute (never vanishing) near zero.

Error estimate. The truncation error of D(h) is h^2 |f'''| / 6 + O(h^4), which Richardson's
|D(2h) - D(h)| / 3 estimates from a second step size. ``full`` gets the same quantity with one
evaluation fewer: f''' ~ (f(theta + 2h) - 3 f(theta + h) + 3 f(theta) - f(theta - h)) / h^3, where
f(theta) is the cached forward, so each element costs three perturbed evaluations (+h, -h, +2h),
not four. The screen (and ``directional``) use the symmetric +-2h pair. A rounding floor
4 eps S / h (S the magnitude of the loss terms involved) keeps the estimate from being 0 where the
function is locally polynomial.

Kinks. relu and leaky_relu pre-activations and hinge margins are watched: when any of them has a
different sign pattern at theta - h than at theta + h (or at theta + 2h), a kink lies inside the
region the value and its estimate rest on, and the element (or screen direction) is reported as
not differentiable here (``nondiff``; the value is NaN) instead of as a number.

Speed (the layer-aware vectorised form). Perturbing W_l[i, j] or b_l[i] changes only column i of
z_l (by h * a_{l-1}[:, j], or by h), and so only column i of a_l; the change reaches z_{l+1} as a
rank-one update da (x) W_{l+1}[:, i]. Perturbing x[s, j] (or a hidden activation A_l[s, j])
changes only row s of the next pre-activation, so only sample s's loss. All 3K perturbed copies
of a tensor (+h, -h, +2h for K elements) start from the cached forward activations and go
through the remaining layers as one batched computation, in chunks of at most ``chunk_bytes``:
no per-element Python loop, memory bounded whatever the number of parameters.

The tail as a function of one number (smooth tails). When every layer after l and the loss are
smooth (sigmoid, tanh, softplus, identity; quadratic, cross-entropy), the loss of sample s after
unit i of layer l moved by u, phi_si(u) = loss_s(a_l[s, i] + u) - loss_s(a_l), is an analytic
function of one number on a tiny interval |u| <= U_si (U_si: the largest move any perturbation of
W_l or b_l gives that unit, known exactly because activations are monotone). It is evaluated
exactly, through the real remaining layers, at four points of that interval and interpolated by a
degree-4 polynomial through them and phi(0) = 0; the interpolation error is of order
U^5 |phi^(5)| / 5!, tens of orders below rounding here. Two more exact evaluations (at +-0.3 U)
check every interpolant, and their discrepancy is added to the error estimate; a tensor whose check
fails, or whose tail has a kink (relu, hinge), takes the direct path above. No derivative formula is
used anywhere: only forward evaluations. Each perturbation then costs O(m) instead of
O(m n_{l+1}) + the rest of the network, which is what puts the [784, 30, 10] net's full FD at a
few hundred times faster than gradcheck's slow mode.

Where the code lives: this module (forward and loss, the direct per-element path, full, screen,
localise, directional); oracles/fd_forward.py (the step rule, the forward pieces and the batched tail
they share); oracles/fd_tail.py (the interpolated tail); oracles/fd_screen.py (the directional screen);
oracles/fd_layers.py (layer Specs).

Regularisation 0.5 * reg * sum ||W||^2 is a quadratic, whose central difference is exactly
reg * W (in exact arithmetic) for every step; it is added in that closed form.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from oracles.case import Case, param_names
from oracles.fd_forward import (
    _B,
    _KINKED,
    _MULTS,
    _WORK_BYTES,
    EPS,
    LEAKY_SLOPE,
    STEP,
    _act,
    _differences,
    _floor,  # noqa: F401 - re-exported
    _kinked,
    _loss_sum,  # noqa: F401 - re-exported
    _Net,
    _norm,
    _prepare,
    _quiet,
    _reg,
    _tail,
    _take,  # noqa: F401 - re-exported
    _Work,
    step_size,
)
from oracles.observation import check_of

__all__ = [
    "EPS",
    "STEP",
    "LEAKY_SLOPE",
    "step_size",
    "FDResult",
    "Localisation",
    "forward",
    "loss",
    "full",
    "screen",
    "localise",
    "directional",
    "directional_points",
    "directional_value",
    "fd_names",
]


@_quiet
def forward(case: Case, params: dict | None = None, x: np.ndarray | None = None, given: dict | None = None) -> dict:
    """The cached float64 forward: {'z': [z_1..z_L], 'a': [x, a_1..a_L], 'per_sample': (m,), 'loss'}
    (layer Specs: {'per_sample', 'loss'}; ``given``: the implementation's dropout masks)."""
    if not case.spec.is_mlp:
        return _layers().forward(case, params, x, given)
    net = _prepare(case, params, x)
    total = float(net.per_sample.sum()) * net.scale + _reg(case.spec, net.W)
    return {"z": net.zs, "a": net.acts, "per_sample": net.per_sample, "loss": total}


def loss(case: Case, params: dict | None = None, x: np.ndarray | None = None, given: dict | None = None) -> float:
    """The Case's loss (spec's reduction and regularisation) in float64 at ``params`` and ``x``."""
    return forward(case, params, x, given)["loss"]


def _layers():
    """The generic path for layer Specs (oracles/fd_layers.py): every public function here dispatches to it."""
    from oracles import fd_layers

    return fd_layers


# ---------------------------------------------------------------- per-element differences


@dataclass
class FDResult:
    """Per-element central differences. ``grads[name][nondiff[name]]`` is NaN (a kink within the step)."""

    grads: dict[str, np.ndarray]
    err_est: dict[str, np.ndarray]
    nondiff: dict[str, np.ndarray]
    steps: dict[str, np.ndarray] = field(default_factory=dict)

    def norm_err_est(self, name: str) -> float:
        """The error estimate of the whole tensor (norm over its differentiable elements)."""
        e = self.err_est[name][~self.nondiff[name]]
        return _norm(e)


def fd_names(case: Case) -> list[str]:
    """Every tensor finite differences can check: W*, b*, x and the hidden activations A*."""
    if not case.spec.is_mlp:
        return _layers().fd_names(case)
    return list(_mlp_names(case.spec.n_layers))


@functools.lru_cache(maxsize=32)
def _mlp_names(L: int) -> tuple[str, ...]:
    return tuple(param_names(L) + ["x"] + [f"A{l}" for l in range(1, L)])


def _check_names(case: Case, names) -> list[str]:
    allowed = fd_names(case)
    names = list(allowed[: 2 * case.spec.n_layers + 1] if names is None else names)
    bad = [n for n in names if n not in allowed]
    if bad:
        raise ValueError(f"finite differences: unknown tensor name(s) {bad}; choose from {allowed}")
    return names


def _tensor_value(net: _Net, name: str) -> np.ndarray:
    if name == "x":
        return net.x
    kind, l = name[0], int(name[1:])
    return {"W": net.W, "b": net.b, "A": net.acts}[kind][l - 1 if kind != "A" else l]


def _column_fd(net: _Net, name: str, idx: np.ndarray, work: _Work):
    """Elements idx of W_l or b_l: perturb column i of z_l only."""
    spec = net.spec
    kind, l = name[0], int(name[1:])
    n_prev = net.W[l - 1].shape[1]
    m, c = net.m, len(idx)
    if kind == "W":
        i, j = np.divmod(idx, n_prev)
        theta = net.W[l - 1][i, j]
        v = net.acts[l - 1].T[j]  # (c, m): d z_l[:, i] / d W_l[i, j]
    else:
        i = idx
        theta = net.b[l - 1][i]
        v = np.ones((c, m))
    h = step_size(theta)
    shift = np.multiply((_MULTS[:, None] * h[None, :])[..., None], v[None], out=work.get("shift", (_B, c, m)))
    kinks: list = []
    if l < net.L:
        zcol = np.add(net.zs[l - 1].T[i][None], shift, out=work.get("zcol", (_B, c, m)))
        name_l = spec.activations[l - 1]
        if name_l in _KINKED:
            kinks.append(zcol > 0)
        acol = _act(name_l, zcol, work.get("acol", (_B, c, m)))
        da = np.subtract(acol, net.acts[l].T[i][None], out=work.get("da", (_B, c, m)))
        w = net.WT[l][i]  # (c, n_{l+1}): column i of W_{l+1}
        n_next = w.shape[1]
        # the rank-one update of z_{l+1}: z_{l+1} + da (x) W_{l+1}[:, i]
        Z = np.multiply(da[..., None], w[None, :, None, :], out=work.get("Zin", (_B, c, m, n_next)))
        Z += net.zs[l]
        f = _tail(net, Z.reshape(_B * c, m, n_next), l + 1, net.y, kinks, work)
    else:
        n = net.zs[l - 1].shape[1]
        Z = work.get("Zin", (_B, c, m, n))
        Z[...] = net.zs[l - 1]
        # (the two index arrays are split by a slice, so numpy puts their axis first: (c, 4, m))
        Z[:, np.arange(c), :, i] += shift.transpose(1, 0, 2)
        f = _tail(net, Z.reshape(_B * c, m, n), l, net.y, kinks, work)
    f = f.reshape(_B, c) * net.scale
    nondiff = _kinked(kinks, c)
    d, err = _differences(f, net.f0, h, net.round_terms, nondiff)
    if kind == "W" and spec.reg:
        d = d + spec.reg * theta
    return d, err, nondiff, h


def _row_fd(net: _Net, name: str, idx: np.ndarray, work: _Work):
    """Elements idx of x (or A_l): perturb row s of the next pre-activation; only sample s's loss moves."""
    k = 1 if name == "x" else int(name[1:]) + 1  # the layer whose pre-activation the tensor feeds
    src = net.acts[k - 1]
    s, j = np.divmod(idx, src.shape[1])
    theta = src[s, j]
    h = step_size(theta)
    c = len(idx)
    w = net.W[k - 1].T[j]  # (c, n_k): d z_k[s, :] / d src[s, j]
    Z = np.multiply((_MULTS[:, None] * h[None, :])[..., None], w[None], out=work.get("Zin", (_B, c, w.shape[1])))
    Z += net.zs[k - 1][s][None]
    ys = net.y[s]
    y4 = np.broadcast_to(ys[None], (_B,) + ys.shape).reshape((_B * c, 1) + ys.shape[1:])
    kinks: list = []
    f = _tail(net, Z.reshape(_B * c, 1, -1), k, y4, kinks, work).reshape(_B, c) * net.scale
    nondiff = _kinked(kinks, c)
    f0 = net.per_sample[s] * net.scale  # only sample s moves: its own loss is f(theta)
    d, err = _differences(f, f0, h, np.abs(f0), nondiff)
    return d, err, nondiff, h


def _bytes_per_element(net: _Net, name: str) -> int:
    """Working memory of the copies of one element through the remaining layers (all scratch arrays)."""
    if name == "x" or name[0] == "A":
        k = 1 if name == "x" else int(name[1:]) + 1
        rows = 1
    else:
        # a hidden layer's column goes straight to a rank-one update of the next layer
        k = min(int(name[1:]) + 1, net.L)
        rows = net.m
    widths = [net.W[l - 1].shape[0] for l in range(k, net.L + 1)]
    # Zin, then A and Z per layer, then T, U for the loss; plus the kink masks (1 byte each)
    return _B * rows * 8 * (2 * sum(widths) + 3 * widths[-1]) + _B * rows * sum(widths)


def _full_one(net: _Net, name: str, chunk_bytes: int, work: _Work | None = None):
    value = _tensor_value(net, name)
    n = value.size
    work = work or _Work()
    from oracles import fd_tail  # (late: imported on the first full FD, as before the forward pieces moved)

    model = None if name == "x" or name[0] == "A" else fd_tail._tail_model(net, name)
    if model is not None and model.pre:
        return list(fd_tail._column_fd_closed(net, name, model))
    per_element = _B * net.m * 8 * 6 if model is not None else _bytes_per_element(net, name)
    c = max(1, min(chunk_bytes, _WORK_BYTES) // per_element)
    if model is not None:
        fn = functools.partial(fd_tail._column_fd_interp, model=model)
    else:
        fn = _row_fd if name == "x" or name[0] == "A" else _column_fd
    out = [np.empty(n), np.empty(n), np.empty(n, dtype=bool), np.empty(n)]
    for start in range(0, n, c):
        idx = np.arange(start, min(n, start + c))
        for buf, part in zip(out, fn(net, name, idx, work)):
            buf[start : start + len(idx)] = part
    return [o.reshape(value.shape) for o in out]


@_quiet
def full(case: Case, *, names=None, chunk_bytes: int = 64 << 20, given: dict | None = None) -> FDResult:
    """Per-element central differences of the loss for ``names`` (default: every W*, b* and x).

    Memory is bounded by ``chunk_bytes`` (the scratch arrays of one chunk of perturbed copies; one
    element's four copies are the smallest chunk)."""
    if not case.spec.is_mlp:
        return _layers().full(case, names=names, given=given)
    names = _check_names(case, names)
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes={chunk_bytes} must be positive (e.g. 64 << 20)")
    net = _prepare(case)
    work = _Work()
    res = FDResult({}, {}, {}, {})
    for name in names:
        d, err, nd, h = _full_one(net, name, chunk_bytes, work)
        res.grads[name], res.err_est[name], res.nondiff[name], res.steps[name] = d, err, nd, h
    return res


# ---------------------------------------------------------------- directional screen


def _claimed(grads: dict, name: str, shape: tuple[int, ...]) -> tuple[np.ndarray | None, str]:
    if name not in grads:
        return None, f"no gradient for {name!r} was given"
    g = grads[name]
    if type(g) is np.ndarray and g.dtype == np.float64 and g.shape == shape:
        return g, ""  # (the common case, without asarray's cost after other code ran)
    try:
        g = np.asarray(g, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"gradient {name!r} is not an array of numbers ({type(grads[name]).__name__})"
    if g.shape != shape:
        return None, f"gradient {name!r} has shape {g.shape}, expected {shape}"
    return g, ""


def screen(case: Case, grads: dict, *, directions: int = 8, seed: int = 0, names=None,
           given: dict | None = None, impl_err: dict | None = None) -> dict:
    """Directional screen of the claimed ``grads`` (canonical shapes) against central differences:
    {name: oracles.fd_screen.ScreenResult}.

    For each tensor, ``directions`` seeded Rademacher directions u; FD of the loss along u vs
    <u, claimed>, judged by oracles.compare (oracle "fd", the Case's dtype, the FD error estimate).
    Directions whose step crosses a kink are left out; a tensor with no usable direction is
    "nondiff". Default names: the W*, b*, x and A* present in ``grads``.

    Cost: one batched forward of 2 x directions copies per tensor, all tensors together; a tensor
    that does not pass on that is re-judged with the +-2h evaluations (error estimate). MLP Specs:
    oracles/fd_screen.py; layer Specs: oracles/fd_layers.py. ``impl_err`` (layer Specs): tensor -> the
    rounding a correct implementation in the Case's dtype may carry (the torch oracle's measured err_est);
    MLP Specs bound it a priori (oracles.error_model)."""
    if not case.spec.is_mlp:
        with np.errstate(over="ignore", under="ignore"):  # (as @_quiet)
            return _layers().screen(case, grads, directions=directions, seed=seed, names=names, given=given,
                                    impl_err=impl_err)
    return _screen_mlp()(case, grads, directions=directions, seed=seed, names=names)  # (quiet where it uses numpy)


@functools.cache
def _screen_mlp():
    from oracles.fd_screen import screen_mlp  # (it imports this module: a late import breaks the cycle)

    return screen_mlp


def __getattr__(name: str):
    """ScreenResult moved to oracles.fd_screen, the direction helpers to oracles.fd_pass; their old names work."""
    if name == "ScreenResult":
        from oracles import fd_screen

        return fd_screen.ScreenResult
    if name in ("_rademacher", "_directions", "_dense", "_along"):
        from oracles import fd_pass

        return getattr(fd_pass, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- localisation


@dataclass
class Localisation:
    """Where a tensor's claimed gradient departs from per-element finite differences."""

    name: str
    status: str  # pass | fail | nondiff | error
    index: tuple[int, ...]
    fd_value: float
    claimed_value: float
    abs_err: float
    err_est: float
    n_mismatched: int
    n_nondiff: int
    verdict: object = None
    detail: str = ""

    @property
    def message(self) -> str:
        if self.status == "error":
            return f"localise {self.name}: {self.detail}"
        return (
            f"{self.name}{list(self.index)}: claimed {self.claimed_value:.10g}, finite differences "
            f"{self.fd_value:.10g} (+- {self.err_est:.1e}); {self.n_mismatched} element(s) mismatched, "
            f"{self.n_nondiff} not differentiable here"
        )


@_quiet
def localise(case: Case, grads: dict, names, *, chunk_bytes: int = 64 << 20,
             given: dict | None = None) -> dict[str, Localisation]:
    """Per-element FD on ``names`` only (the tensors the screen failed) and the worst element of each."""
    from oracles.compare import compare_tensor

    if not case.spec.is_mlp:
        return _layers().localise(case, grads, names, given=given)

    names = _check_names(case, names)
    net = _prepare(case)
    out: dict[str, Localisation] = {}
    shapes = {name: _tensor_value(net, name).shape for name in names}
    for name in names:
        shape = shapes[name]
        g, problem = _claimed(grads, name, shape)
        if g is None:
            out[name] = Localisation(name, "error", (), math.nan, math.nan, math.nan, math.nan, 0, 0, detail=problem)
            continue
        d, err, nd, _h = _full_one(net, name, chunk_bytes)
        ok = ~nd
        diff = np.where(ok, np.abs(g - np.where(ok, d, 0.0)), -1.0)
        if not ok.any():
            out[name] = Localisation(name, "nondiff", (), math.nan, math.nan, math.nan, math.nan, 0, int(nd.sum()),
                                     detail="every element crosses a kink within the step")
            continue
        v = compare_tensor(name, g[ok], d[ok], dtype=case.spec.dtype, oracle="fd",
                           err_est=_norm(err[ok]), check=check_of(name))
        flat = int(diff.argmax())
        index = tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()
        out[name] = Localisation(
            name, v.status, index, float(d.flat[flat]), float(g.flat[flat]), float(diff.flat[flat]),
            float(err.flat[flat]), v.n_mismatched, int(nd.sum()), verdict=v,
        )
    return out


# ---------------------------------------------------------------- black-box directional derivative


def directional(
    f: Callable[[dict], float],
    params: dict,
    direction: dict,
    *,
    h: float | None = None,
    dtype: str = "float64",
) -> tuple[float, float]:
    """Central difference of a black-box loss ``f(params) -> float`` along ``direction``.

    Used to check a student's own loss against the student's own gradient. The default step is the
    step rule for ``dtype`` (the precision f computes in: eps^(1/3) * max(1, max|theta|), divided by
    max|direction| so that no element moves further than that). Returns (D(h), error estimate), the
    estimate from D(2h) as in ``full``. ``f`` gets fresh arrays in the dtype of ``params``.

    The same in two halves, for a loss evaluated elsewhere in one batch (the sandbox child):
    ``directional_points`` gives the step and the four parameter sets, ``directional_value`` the result
    from the four losses."""
    step, points = directional_points(params, direction, h=h, dtype=dtype)
    if not points:
        return 0.0, 0.0
    return directional_value(step, [float(f(p)) for p in points], dtype=dtype)


def directional_points(params: dict, direction: dict, *, h: float | None = None,
                       dtype: str = "float64") -> tuple[float, list[dict]]:
    """(h, the parameters at +h, -h, +2h, -2h along ``direction``), in the order ``directional`` evaluates
    them; (0.0, []) when the direction is zero (the derivative is 0)."""
    keys = list(direction)
    missing = [k for k in keys if k not in params]
    if missing:
        raise ValueError(f"directional: direction has {missing} which params lacks; params has {list(params)}")
    eps = float(np.finfo(dtype).eps)
    if h is None:
        top = max((float(np.abs(np.asarray(params[k], dtype=np.float64)).max(initial=0.0)) for k in keys), default=0.0)
        umax = max((float(np.abs(np.asarray(direction[k], dtype=np.float64)).max(initial=0.0)) for k in keys),
                   default=0.0)
        if umax == 0:
            return 0.0, []
        h = eps ** (1.0 / 3.0) * max(1.0, top) / umax

    def at(t: float) -> dict:
        moved = dict(params)
        for k in keys:
            p = np.asarray(params[k])
            moved[k] = (p.astype(np.float64) + t * np.asarray(direction[k], dtype=np.float64)).astype(p.dtype)
        return moved

    return h, [at(h), at(-h), at(2 * h), at(-2 * h)]


def directional_value(h: float, values: list[float], *, dtype: str = "float64") -> tuple[float, float]:
    """(D(h), error estimate) from the losses at the four points of ``directional_points``."""
    eps = float(np.finfo(dtype).eps)
    fp, fm, f2p, f2m = values
    d1 = (fp - fm) / (2 * h)
    d2 = (f2p - f2m) / (4 * h)
    size = max(abs(fp), abs(fm), abs(f2p), abs(f2m))
    return d1, abs(d1 - d2) / 3.0 + 4.0 * eps * size / h
