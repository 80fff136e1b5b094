"""The primary oracle: a Case's network rebuilt in float64 torch, differentiated by autograd.

One forward and one backward give the loss and every gradient (W*, b*, x and the hidden
activations A1..A{L-1}); the first SGD step reuses those gradients, so ``case.steps`` steps cost
``case.steps`` forward+backward passes in all; the error estimate (``Observation.err_est``, see
``_err_est``) repeats them in float32. Measured (best of 200) on the shared 2-core machine for a
[4, 8, 3] net, batch 4, 3 steps: ``expected`` 1.7 ms (0.66 ms with ``estimate=False``),
``loss_and_grads`` 0.22 ms; typical calls take two to three times that while other heavy jobs
share the cores. torch's per-op overhead
dominates (a backward of this graph alone is ~0.15 ms); torch.optim.SGD's bookkeeping, ~0.3 ms per
step, is avoided by applying its update rule directly (``_sgd_step``).

Inputs are ``case.typed(arr)`` upcast to float64: a float32 implementation receives float32 numbers
and the oracle starts from exactly those numbers, so the rounding of the inputs is never counted
as the implementation's error.

Subgradient conventions (torch's, reported by ``subgradient_at_zero()``): relu'(0) = 0,
leaky_relu'(0) = 0.01 (the negative slope) and a hinge margin of exactly 0 counts as inactive.
"""

from __future__ import annotations

import numpy as np
import torch

from oracles.case import Case
from oracles.error_model import rounding_bounds
from oracles.layers import Ctx, MissingAux, kind
from oracles.layers.norm import backward_terms as norm_backward_terms
from oracles.layers.norm import rounding_floor as norm_rounding_floor
from oracles.observation import LazyEstimate, Observation

__all__ = ["expected", "loss_and_grads", "subgradient_at_zero", "LEAKY_SLOPE", "MissingAux"]

# Tiny tensors: one thread is ~60x faster than two fighting over the shared cores.
torch.set_num_threads(1)

LEAKY_SLOPE = 0.01  # the same slope as reference.functions.LEAKY_SLOPE
_KINKED = ("relu", "leaky_relu")


def _act(name: str, z: torch.Tensor) -> torch.Tensor:
    """An activation by name, through the layer table's torch twin (the one definition)."""
    return kind(name).torch(z, {}, {}, None)


def _per_sample_loss(spec, zL: torch.Tensor, aL: torch.Tensor, y: torch.Tensor, onehot) -> torch.Tensor:
    """Per-sample loss (m,), from the output pre-activation zL where that is the stable route."""
    if spec.loss == "dot":
        return (aL * y).reshape(aL.shape[0], -1).sum(dim=1)
    if spec.loss == "quadratic":
        return 0.5 * ((aL - y) ** 2).sum(dim=1)
    if spec.loss == "binary_cross_entropy":
        # From the logits, as y softplus(-z) + (1 - y) softplus(z): exact where sigmoid(z) has rounded to
        # 0 or 1. (F.binary_cross_entropy_with_logits loses ~eps/softplus relative for y = 0, z << 0:
        # 5e-8 at z = -17.6, and returns 0 at z = -33.6; found by tests/test_properties.py.)
        zero = torch.zeros((), dtype=zL.dtype)
        return (y * torch.logaddexp(-zL, zero) + (1 - y) * torch.logaddexp(zL, zero)).sum(dim=1)
    if spec.loss == "softmax_cross_entropy":
        logp = torch.log_softmax(zL, dim=1)
        if spec.target == "labels":
            return -logp.gather(1, y.view(-1, 1)).squeeze(1)
        return -(y * logp).sum(dim=1)
    if spec.loss == "hinge":
        correct = zL.gather(1, y.view(-1, 1))
        # relu (not clamp) so that a margin of exactly 0 has derivative 0, like hinge_delta.
        margins = torch.relu(zL - correct + 1.0) * (1.0 - onehot)
        return margins.sum(dim=1)
    raise ValueError(f"loss {spec.loss!r} is unknown to the torch oracle")


class _Net:
    """The tensors of one Case (float64, or float32 for the error estimate) and its forward pass.

    The forward walks ``spec.slots``, calling each layer kind's torch twin from the layer table; an MLP is
    the sequence [affine, act, ...], computed with exactly the operations it always was (addmm, then the
    activation), so its results are bit-identical. ``given``: the implementation's own choices
    (``Observation.aux``: dropout masks ``mask2``, and ``mask2@3`` for step 3 of a trajectory)."""

    def __init__(self, case: Case, dtype: torch.dtype = torch.float64, given: dict | None = None) -> None:
        spec = case.spec
        self.spec = spec
        self.names = spec.param_names()
        np_dtype = np.float64 if dtype == torch.float64 else np.float32

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(case.typed(np.asarray(a)).astype(np_dtype))

        self.params = {k: t(case.params[k]).requires_grad_(True) for k in self.names}
        self.state = {k: t(v) for k, v in case.state.items()}
        self.given = dict(given or {})
        self.x = t(case.x)
        if spec.target == "labels":
            self.y = torch.as_tensor(np.asarray(case.y, dtype=np.int64))
        else:
            self.y = t(case.y)
        self.onehot = None
        if spec.loss == "hinge":
            self.onehot = torch.from_numpy(case.onehot.astype(np_dtype))
        self.m = case.m
        self.slots = spec.slots
        self.last_is_activation = kind(spec.sequence[-1].kind).activation
        self.trace: list | None = None  # (slot, input, output) of each layer of a kind in trace_kinds
        self.trace_kinds: tuple[str, ...] = tuple(_NORM_AXIS)  # _norm_net_rounding's; _sum_rounding's: numbered

    def forward(self, x: torch.Tensor, step: int = 1):
        """(loss, hidden activations A1..A{L-1}, activation inputs z, state after this forward).

        Raises MissingAux when a layer needs an implementation-chosen input that ``given`` lacks."""
        spec = self.spec
        a = x
        hidden, zs = [], []
        state_out = dict(self.state)
        for slot in self.slots:
            k = kind(slot.layer.kind)
            if k.numbered and slot.number > 1:
                hidden.append(a)  # A_{l-1}: the input of numbered layer l
            if k.activation:
                zs.append(a)
            p = {short: self.params[full] for short, full in slot.params.items()}
            ctx = None
            if slot.state or slot.aux or k.modes != ("train",):
                ctx = Ctx(mode=spec.mode, state_in={s: state_out[f] for s, f in slot.state.items()},
                          aux=self._aux(slot, step))
            a_in = a
            a = k.torch(a, p, slot.layer.hp, ctx)
            if self.trace is not None and slot.layer.kind in self.trace_kinds:
                a.retain_grad()
                self.trace.append((slot, a_in, a))
            if ctx is not None:
                for short, full in slot.state.items():
                    state_out[full] = ctx.state_out.get(short, state_out[full])
        self.out = a.detach()
        self.scores = a  # attached: _output_rounding propagates a vector at the scores back through the net
        zL = zs[-1] if self.last_is_activation else a
        per_sample = _per_sample_loss(spec, zL, a, self.y, self.onehot)
        loss = per_sample.sum()
        if spec.reduction == "mean":
            loss = loss / self.m
        if spec.reg:
            loss = loss + 0.5 * spec.reg * sum((self.params[k] ** 2).sum() for k in spec.regularised())
        return loss, hidden, zs, state_out

    def _aux(self, slot, step: int) -> dict:
        out = {}
        for short, full in slot.aux.items():
            key = full if step == 1 else f"{full}@{step}"
            if key in self.given:
                out[short] = self.given[key]
        return out


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float64, copy=True)


def loss_and_grads(
    case: Case, *, with_x: bool = True, with_hidden: bool = True, given: dict | None = None
) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradients only (no SGD steps, no error estimate): the cheapest call."""
    loss, grads, _, _, _ = _first_pass(_Net(case, given=given), with_x, with_hidden)
    return loss, grads


def _first_pass(net: _Net, with_x: bool, with_hidden: bool):
    x = net.x.requires_grad_(True) if with_x else net.x
    loss, hidden, zs, state = net.forward(x)
    inputs = [net.params[k] for k in net.names]
    keys = list(net.names)
    if with_x:
        inputs.append(x)
        keys.append("x")
    if with_hidden:
        inputs += hidden
        keys += [f"A{l}" for l in range(1, len(hidden) + 1)]
    # allow_unused: word indices reach the loss only through an integer cast (oracles/layers/words.py); their
    # gradient is 0, not an error
    g = torch.autograd.grad(loss, inputs, allow_unused=True)
    g = tuple(torch.zeros_like(i) if v is None else v for i, v in zip(inputs, g))
    grads = {k: _np(v) for k, v in zip(keys, g)}
    return float(loss.detach()), grads, g[: len(net.names)], zs, {k: _np(v) for k, v in state.items()}


def _run(case: Case, dtype: torch.dtype, given: dict | None = None):
    """Loss, gradients, trajectory, state after the first forward (and the activation inputs, for the
    kink notes) in one dtype. A trajectory step whose implementation-chosen inputs (a fresh dropout mask)
    were not given ends the trajectory there."""
    net = _Net(case, dtype, given)
    loss, grads, param_grads, zs, state = _first_pass(net, True, True)
    out = net.out
    params = [net.params[k] for k in net.names]
    x = net.x.detach()
    trajectory = []
    for step in range(int(case.steps)):
        if step > 0:
            try:
                loss_t, _, _, net.state = net.forward(x, step=step + 1)
            except MissingAux:
                break
            param_grads = torch.autograd.grad(loss_t, params) if params else ()  # flatten: no parameters
        elif state:
            net.state = {k: torch.from_numpy(v).to(net.x.dtype) for k, v in state.items()}
        _sgd_step(params, param_grads, case.lr)
        trajectory.append({k: _np(p) for k, p in zip(net.names, params)})
    net.first_out = _np(out)
    return net, loss, grads, trajectory, zs, state


def _err_est(case: Case, loss, grads, trajectory, state=None, given=None, out=None) -> dict[str, float]:
    """Rounding error of this very computation, measured: run it again in float32, take the norm of the
    difference, and scale by eps(implementation dtype) / eps(float32). Ill-conditioned Cases (saturated
    units, large logits, long trajectories) get a wider allowance; well-conditioned ones stay tight."""
    net32, loss32, grads32, traj32, _, state32 = _run(case, torch.float32, given)
    ratio = float(np.finfo(case.spec.dtype).eps / np.finfo(np.float32).eps)
    est = {"loss": abs(loss32 - loss) * ratio}
    if out is not None:
        est["out"] = float(np.linalg.norm(net32.first_out - out)) * ratio
    for k, v in grads.items():
        est[k] = float(np.linalg.norm(grads32[k] - v)) * ratio
    for step, (p64, p32) in enumerate(zip(trajectory, traj32), start=1):
        for k, v in p64.items():
            e = float(np.linalg.norm(p32[k] - v)) * ratio
            est[f"trajectory.{step}.{k}"] = e
            if step == 1:
                est[f"updated.{k}"] = e
    for k, v in (state or {}).items():
        est[f"state.{k}"] = float(np.linalg.norm(state32[k] - v)) * ratio
    return est


def expected(case: Case, *, estimate: bool = True, given: dict | None = None) -> Observation:
    """Loss, gradients (W*, b*, other parameters, x, A*), one SGD step, the ``case.steps``-step trajectory
    and, for layers with buffers, the state after the first forward.

    ``given``: what the implementation chose and the oracle must use (``Observation.aux``: dropout masks);
    a Spec with such layers (``case.spec.aux_names()``) raises MissingAux without it.
    ``estimate`` fills ``Observation.err_est``: per tensor, the larger of the rounding error measured
    by a float32 re-run (``_err_est``) and, for an MLP, the a priori bound of ``oracles.error_model``,
    which sees the cancellation that float32 saturates on (a float32 tanh of 8 is exactly 1).
    """
    net, loss, grads, trajectory, zs, state = _run(case, torch.float64, given)
    notes = ["torch float64 autograd"]
    acts = [s.layer.kind for s in net.slots if kind(s.layer.kind).activation]
    for l, (name, z) in enumerate(zip(acts, zs), start=1):
        if name in _KINKED:
            n0 = int((z.detach() == 0).sum())
            if n0:
                slope = subgradient_at_zero()[name]
                notes.append(f"layer {l}: {n0} pre-activation(s) exactly 0; torch uses {name}'(0) = {slope:g}")
    return Observation(
        loss=loss,
        grads=grads,
        updated=dict(trajectory[0]),
        trajectory=trajectory,
        notes=notes,
        err_est=LazyEstimate(lambda: _merged_estimate(case, loss, grads, trajectory, state, given, net.first_out))
        if estimate else {},
        state=state,
        out=net.first_out,
    )


def _merged_estimate(case: Case, loss, grads, trajectory, state, given, out=None) -> dict[str, float]:
    measured = _err_est(case, loss, grads, trajectory, state, given, out)
    if not case.spec.is_mlp:  # layers: a priori floors where the float32 re-run can undershoot
        floor = dict(norm_rounding_floor(case, out, given))
        extra = [_output_rounding(case, given), _activation_rounding(case), _norm_net_rounding(case, given),
                 _sum_rounding(case, given)]
        for k, v in ((k, v) for d in extra for k, v in d.items()):
            floor[k] = max(floor.get(k, 0.0), v)
        return {k: max(v, floor.get(k, 0.0)) for k, v in measured.items()}
    model = rounding_bounds(case)
    return {k: max(v, model.get(k, 0.0)) for k, v in measured.items()}


def _output_rounding(case: Case, given: dict | None) -> dict[str, float]:
    """A layer net ending in softmax cross-entropy, or in a sigmoid with binary cross-entropy: the course's
    dscores = p - onehot (dZ = A - Y) cancels where p (A) rounds to its target, so a correct implementation's
    gradients carry up to eps (p + |y|) / m at the scores (at the sigmoid's input), passed back through the
    net. One backward of that vector with seeded random signs gives its size per tensor: an estimate, as the
    float32 re-run is (a saturated net's 1e-21 gradients are then 'rounding level', never a mismatch)."""
    spec = case.spec
    softmax = spec.loss == "softmax_cross_entropy" and spec.target == "labels"
    sigmoid = spec.loss == "binary_cross_entropy" and spec.sequence[-1].kind == "sigmoid"
    if spec.is_mlp or not (softmax or sigmoid):
        return {}
    try:
        net = _Net(case, torch.float64, given)
        x = net.x.requires_grad_(True)
        _, _, zs, _ = net.forward(x)
    except MissingAux:
        return {}
    if softmax:
        at = net.scores
        p = torch.softmax(at.detach(), dim=1)
        target = torch.zeros_like(p)
        target[torch.arange(p.shape[0]), torch.as_tensor(np.asarray(case.y, dtype=np.int64))] = 1.0
    else:
        at = zs[-1]
        p, target = net.out, net.y.detach().abs().to(net.out.dtype)
    signs = np.random.default_rng([int(case.seed), 0x5C0]).choice([-1.0, 1.0], size=tuple(p.shape))
    v = float(np.finfo(spec.dtype).eps) * (p + target) * torch.from_numpy(signs)
    if spec.reduction == "mean":
        v = v / case.m
    inputs = [net.params[k] for k in net.names] + [x]
    g = torch.autograd.grad(at, inputs, grad_outputs=v, allow_unused=True)
    return {k: float(torch.linalg.vector_norm(d)) for k, d in zip([*net.names, "x"], g) if d is not None}


_NORM_AXIS = {"batchnorm": 0, "layernorm": 1}  # the axis each normalises over, in a flat (m, D) net


def _norm_net_rounding(case: Case, given: dict | None) -> dict[str, float]:
    """A layer net with batchnorm (train mode) or layernorm: the course's backward (N dxh - sum dxh - xh sum(dxh xh))
    / (N std) cancels when few values are normalised together (at 2 the exact dx is ~0), leaving eps-level terms of
    its inputs' size; that floor at each norm layer's input, with seeded random signs, passed back through the
    layers below it."""
    spec = case.spec
    kinds = set(spec.kinds().split(">")) if not spec.is_mlp else set()
    if spec.is_mlp or spec.loss == "dot" or not (("batchnorm" in kinds and spec.mode == "train")
                                                 or "layernorm" in kinds):
        return {}
    try:
        net = _Net(case, torch.float64, given)
        net.trace = []
        x = net.x.requires_grad_(True)
        loss, _, _, _ = net.forward(x)
    except MissingAux:
        return {}
    loss.backward(retain_graph=True)
    eps = float(np.finfo(spec.dtype).eps)
    inputs = [net.params[k] for k in net.names] + [x]
    names = [*net.names, "x"]
    out: dict[str, float] = {}
    rng = np.random.default_rng([int(case.seed), 0xB7])
    for slot, a_in, a_out in net.trace:
        if a_out.grad is None or (slot.layer.kind == "batchnorm" and spec.mode != "train"):
            continue
        z = _np(a_in.detach().double())
        dy = _np(a_out.grad.detach().double() * net.params[slot.params["gamma"]].detach().double())
        terms = eps * norm_backward_terms(z, dy, (_NORM_AXIS[slot.layer.kind],), float(slot.layer.hp["eps"]))
        v = torch.from_numpy(terms * rng.choice([-1.0, 1.0], size=terms.shape))
        g = torch.autograd.grad(a_in, inputs, grad_outputs=v, retain_graph=True, allow_unused=True)
        for k, d in zip(names, g):
            if d is not None:
                out[k] = max(out.get(k, 0.0), float(torch.linalg.vector_norm(d)))
    return out


_SUMMED = ("affine", "conv", "conv1d")  # numbered layers whose W, b gradients sum over samples and positions
_NORMS = ("batchnorm", "spatial_batchnorm", "layernorm", "groupnorm")  # gamma, beta: sums over samples (and H, W)


def _summation(n: np.ndarray, s: np.ndarray, q: np.ndarray, eps: float) -> np.ndarray:
    """RMS rounding of summing n terms one at a time in a dtype of epsilon eps, given their sum s and the sum of
    their squares q. Each partial sum s_k rounds by up to u |s_k| (u = eps / 2, RMS u |s_k| / sqrt 3), and
    E sum_k s_k^2 = mu^2 n^3 / 3 + sigma^2 n^2 / 2 for terms of mean mu = s / n and variance sigma^2 = q / n - mu^2:
    eps^2 n (s^2 (1/36 - 1/(24 n)) + q / 24). A random walk (s ~ 0) gives eps sqrt(n / 24) ||terms||, a sum of
    like terms (a mean of values far from 0) eps sqrt(n) |s| / 6. Measured on float32 sums of 16 to 5000 terms
    (tests/test_sum_rounding.py): 0.55-0.8 of this (a random walk s^2 ~ q also counts in both terms)."""
    n = np.asarray(n, dtype=np.float64)
    safe = np.maximum(n, 1.0)
    var = np.maximum(s**2 * (1.0 / 36.0 - 1.0 / (24.0 * safe)) + q / 24.0, 0.0)
    return np.where(n > 0, eps * np.sqrt(safe * var), 0.0)


def _per_channel_sums(t: np.ndarray):
    """(nonzero count, sum, sum of squares) of t over every axis but axis 1 (the channel / feature axis)."""
    c = np.moveaxis(t, 1, 0).reshape(t.shape[1], -1)
    return (c != 0).sum(axis=1), c.sum(axis=1), (c**2).sum(axis=1)


def _sum_rounding(case: Case, given: dict | None) -> dict[str, float]:
    """The parameter gradients that are sums over samples and positions, as a course computes them one term at a
    time in the Case's dtype (dlai's ``db += dZ[i, h, w, c]``, numpy's sum over axis 0 or several axes): torch's
    float32 kernels sum pairwise or blocked, and the float32 re-run showed ~1/30 of a correct course
    implementation's rounding (a cancelling conv bias sum of 0.14 from 490 terms of size ~1: 1.1x the allowance).
    Per element, ``_summation`` of its terms:

    * W{l}, b{l} of affine and conv layers: terms x * dout and dout over the samples and positions of output
      channel f; their sums and sums of squares from vector-Jacobian products of the layer on (x, dout) and
      (x^2, dout^2) (the layer is linear in W and b with coefficients x and 1);
    * gamma, beta of normalisation layers: terms dout * xhat and dout; and gamma also inherits the course's mean
      (a sum of the batch's values, one at a time): it shifts every xhat of a group by delta_mu / std, far beyond
      eps where |mu| >> std (|mu| / std = 128: 2.6e-6 in one dgamma of 0.05, 1.2x the allowance), so
      dgamma_j moves by sum_i dout_ij * shift (seeded random signs across groups, as in _norm_net_rounding)."""
    spec = case.spec
    kinds = (*_SUMMED, *_NORMS)
    if spec.is_mlp or not any(lay.kind in kinds for lay in spec.layers):
        return {}
    try:
        net = _Net(case, torch.float64, given)
        net.trace, net.trace_kinds = [], kinds
        loss, _, _, _ = net.forward(net.x)
    except MissingAux:
        return {}
    if not loss.requires_grad:
        return {}
    loss.backward()
    eps = float(np.finfo(spec.dtype).eps)
    rng = np.random.default_rng([int(case.seed), 0x5A])
    out: dict[str, float] = {}
    for slot, a_in, a_out in net.trace:
        if a_out.grad is None or not slot.params:
            continue
        if slot.layer.kind in _SUMMED:
            out.update(_affine_sums(slot, a_in.detach(), a_out.grad.detach(), net, eps))
        else:
            out.update(_norm_sums(slot, _np(a_in), _np(a_out.grad), net, spec.mode, eps, rng))
    return out


def _affine_sums(slot, x: torch.Tensor, g: torch.Tensor, net: _Net, eps: float) -> dict[str, float]:
    p = {short: net.params[full].detach().clone().requires_grad_(True) for short, full in slot.params.items()}
    layer = kind(slot.layer.kind)
    with torch.enable_grad():
        sums = torch.autograd.grad((layer.torch(x, p, slot.layer.hp, None) * g).sum(), list(p.values()),
                                   allow_unused=True)
        squares = torch.autograd.grad((layer.torch(x**2, p, slot.layer.hp, None) * g**2).sum(), list(p.values()),
                                      allow_unused=True)
    n = _per_channel_sums(_np(g))[0]  # (F,): terms per output channel (W (F, ...), b (F,): axis 0 is the channel)
    out = {}
    for full, s, q in zip(slot.params.values(), sums, squares):
        if s is not None and q is not None:
            per = n.reshape((-1,) + (1,) * (s.dim() - 1))
            out[full] = float(np.linalg.norm(_summation(per, _np(s), _np(q), eps)))
    return out


def _norm_sums(slot, x: np.ndarray, g: np.ndarray, net: _Net, mode: str, eps: float, rng) -> dict[str, float]:
    from oracles.layers.norm import _GROUP_AXES, _group_view, _per_channel

    k, hp = slot.layer.kind, slot.layer.hp
    view, axes = (_group_view(x, int(hp["G"])), (2, 3, 4)) if k == "groupnorm" else (x, _GROUP_AXES[k])
    if k in ("batchnorm", "spatial_batchnorm") and mode != "train":  # running statistics: no batch mean
        rm = _per_channel(_np(net.state[slot.state["running_mean"]]), x.ndim)
        rv = _per_channel(_np(net.state[slot.state["running_var"]]), x.ndim)
        xhat, shift = (x - rm) / np.sqrt(rv + float(hp["eps"])), np.zeros_like(x)
    else:
        mu = view.mean(axis=axes, keepdims=True)
        std = np.sqrt(((view - mu) ** 2).mean(axis=axes, keepdims=True) + float(hp["eps"]))
        n = (view != 0).sum(axis=axes, keepdims=True)
        delta_mu = _summation(n, view.sum(axis=axes, keepdims=True), (view**2).sum(axis=axes, keepdims=True), eps)
        signs = rng.choice([-1.0, 1.0], size=mu.shape)
        xhat = ((view - mu) / std).reshape(x.shape)
        shift = np.broadcast_to(signs * delta_mu / np.maximum(n, 1) / std, view.shape).reshape(x.shape)
    out = {}
    if "gamma" in slot.params:
        summed = _summation(*_per_channel_sums(g * xhat), eps)
        shifted = np.abs(_per_channel_sums(g * shift)[1])
        out[slot.params["gamma"]] = float(np.linalg.norm(np.hypot(summed, shifted)))
    if "beta" in slot.params:
        out[slot.params["beta"]] = float(np.linalg.norm(_summation(*_per_channel_sums(g), eps)))
    return out


def _activation_rounding(case: Case) -> dict[str, float]:
    """One GELU or softmax layer alone (loss 'dot'): the course formulas compute Phi(z) as 0.5 (1 + erf) and dx as
    a (dout - <dout, a>), both cancelling to an absolute error of eps |dout| per element (GELU at z = -10: Phi
    ~ 1e-23 is computed as 0), far below the float32 re-run's measure of torch's own, stabler, kernels."""
    spec = case.spec
    if spec.is_mlp or spec.loss != "dot" or len(spec.layers) != 1 or spec.layers[0].kind not in ("gelu", "softmax"):
        return {}
    dout = np.asarray(case.y, dtype=np.float64)
    return {"x": 2.0 * float(np.finfo(spec.dtype).eps) * float(np.linalg.norm(dout))}


def _sgd_step(params: list[torch.Tensor], grads, lr: float) -> None:
    """torch.optim.SGD's update without momentum, dampening or weight decay: ``p.add_(g, alpha=-lr)``.

    The same operation on the same numbers as ``torch.optim.SGD(params, lr).step()`` (its
    single-tensor path; tests/test_oracles_torch.py checks bit equality), without the ~300 us
    per step of optimizer bookkeeping that dominated the oracle's time on small nets.
    """
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.add_(g, alpha=-lr)


_SUBGRADIENTS: dict[str, float] | None = None


def subgradient_at_zero() -> dict[str, float]:
    """The derivative torch's autograd uses at the kink, measured (not assumed) once.

    Keys: 'relu', 'leaky_relu' (d act / dz at z = 0) and 'hinge' (d margin-term / d margin at 0).
    """
    global _SUBGRADIENTS
    if _SUBGRADIENTS is None:
        out = {}
        for name in _KINKED:
            z = torch.zeros(1, dtype=torch.float64, requires_grad=True)
            (g,) = torch.autograd.grad(_act(name, z).sum(), z)
            out[name] = float(g)
        margin = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(torch.relu(margin).sum(), margin)
        out["hinge"] = float(g)
        _SUBGRADIENTS = out
    return dict(_SUBGRADIENTS)
