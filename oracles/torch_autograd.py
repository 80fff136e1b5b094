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
import torch.nn.functional as F

from oracles.case import Case, param_names
from oracles.error_model import rounding_bounds
from oracles.observation import Observation

__all__ = ["expected", "loss_and_grads", "subgradient_at_zero", "LEAKY_SLOPE"]

# Tiny tensors: one thread is ~60x faster than two fighting over the shared cores.
torch.set_num_threads(1)

LEAKY_SLOPE = 0.01  # the same slope as reference.functions.LEAKY_SLOPE
_KINKED = ("relu", "leaky_relu")


def _act(name: str, z: torch.Tensor) -> torch.Tensor:
    if name == "identity":
        return z
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.relu(z)
    if name == "leaky_relu":
        return F.leaky_relu(z, LEAKY_SLOPE)
    if name == "softplus":
        # logaddexp(z, 0) = log(1 + e^z) without F.softplus's threshold (which returns z exactly for
        # z > 20, an absolute error of 2e-9) and without overflow; its derivative is sigmoid(z).
        return torch.logaddexp(z, torch.zeros((), dtype=z.dtype))
    raise ValueError(f"activation {name!r} is unknown to the torch oracle")


def _per_sample_loss(spec, zL: torch.Tensor, aL: torch.Tensor, y: torch.Tensor, onehot) -> torch.Tensor:
    """Per-sample loss (m,), from the output pre-activation zL where that is the stable route."""
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
    """The tensors of one Case (float64, or float32 for the error estimate) and its forward pass."""

    def __init__(self, case: Case, dtype: torch.dtype = torch.float64) -> None:
        spec = case.spec
        self.spec = spec
        self.names = param_names(spec.n_layers)
        np_dtype = np.float64 if dtype == torch.float64 else np.float32

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(case.typed(a).astype(np_dtype))

        self.params = {k: t(case.params[k]).requires_grad_(True) for k in self.names}
        self.x = t(case.x)
        if spec.target == "labels":
            self.y = torch.as_tensor(np.asarray(case.y, dtype=np.int64))
        else:
            self.y = t(case.y)
        self.onehot = None
        if spec.loss == "hinge":
            self.onehot = torch.from_numpy(case.onehot.astype(np_dtype))
        self.m = case.m

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        spec = self.spec
        a = x
        hidden, zs = [], []
        for l in range(1, spec.n_layers + 1):
            z = torch.addmm(self.params[f"b{l}"], a, self.params[f"W{l}"].t())
            zs.append(z)
            a = _act(spec.activations[l - 1], z)
            if l < spec.n_layers:
                hidden.append(a)
        per_sample = _per_sample_loss(spec, zs[-1], a, self.y, self.onehot)
        loss = per_sample.sum()
        if spec.reduction == "mean":
            loss = loss / self.m
        if spec.reg:
            loss = loss + 0.5 * spec.reg * sum((self.params[f"W{l}"] ** 2).sum() for l in range(1, spec.n_layers + 1))
        return loss, hidden, zs


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float64, copy=True)


def loss_and_grads(
    case: Case, *, with_x: bool = True, with_hidden: bool = True
) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradients only (no SGD steps, no error estimate): the cheapest call."""
    loss, grads, _, _ = _first_pass(_Net(case), with_x, with_hidden)
    return loss, grads


def _first_pass(net: _Net, with_x: bool, with_hidden: bool):
    x = net.x.requires_grad_(True) if with_x else net.x
    loss, hidden, zs = net.forward(x)
    inputs = [net.params[k] for k in net.names]
    keys = list(net.names)
    if with_x:
        inputs.append(x)
        keys.append("x")
    if with_hidden:
        inputs += hidden
        keys += [f"A{l}" for l in range(1, len(hidden) + 1)]
    g = torch.autograd.grad(loss, inputs)
    grads = {k: _np(v) for k, v in zip(keys, g)}
    return float(loss.detach()), grads, g[: len(net.names)], zs


def _run(case: Case, dtype: torch.dtype):
    """Loss, gradients, trajectory (and the pre-activations, for the kink notes) in one dtype."""
    net = _Net(case, dtype)
    loss, grads, param_grads, zs = _first_pass(net, True, True)
    params = [net.params[k] for k in net.names]
    x = net.x.detach()
    trajectory = []
    for step in range(int(case.steps)):
        if step > 0:
            loss_t, _, _ = net.forward(x)
            param_grads = torch.autograd.grad(loss_t, params)
        _sgd_step(params, param_grads, case.lr)
        trajectory.append({k: _np(p) for k, p in zip(net.names, params)})
    return net, loss, grads, trajectory, zs


def _err_est(case: Case, loss, grads, trajectory) -> dict[str, float]:
    """Rounding error of this very computation, measured: run it again in float32, take the norm of the
    difference, and scale by eps(implementation dtype) / eps(float32). Ill-conditioned Cases (saturated
    units, large logits, long trajectories) get a wider allowance; well-conditioned ones stay tight."""
    _, loss32, grads32, traj32, _ = _run(case, torch.float32)
    ratio = float(np.finfo(case.spec.dtype).eps / np.finfo(np.float32).eps)
    est = {"loss": abs(loss32 - loss) * ratio}
    for k, v in grads.items():
        est[k] = float(np.linalg.norm(grads32[k] - v)) * ratio
    for step, (p64, p32) in enumerate(zip(trajectory, traj32), start=1):
        for k, v in p64.items():
            e = float(np.linalg.norm(p32[k] - v)) * ratio
            est[f"trajectory.{step}.{k}"] = e
            if step == 1:
                est[f"updated.{k}"] = e
    return est


def expected(case: Case, *, estimate: bool = True) -> Observation:
    """Loss, gradients (W*, b*, x, A*), one SGD step and the ``case.steps``-step trajectory.

    ``estimate`` fills ``Observation.err_est``: per tensor, the larger of the rounding error measured
    by a float32 re-run (``_err_est``) and the a priori bound of ``oracles.error_model``, which sees
    the cancellation that float32 saturates on (a float32 tanh of 8 is exactly 1).
    """
    net, loss, grads, trajectory, zs = _run(case, torch.float64)
    notes = ["torch float64 autograd"]
    for l, (name, z) in enumerate(zip(net.spec.activations, zs), start=1):
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
        err_est=_merged_estimate(case, loss, grads, trajectory) if estimate else {},
    )


def _merged_estimate(case: Case, loss, grads, trajectory) -> dict[str, float]:
    measured = _err_est(case, loss, grads, trajectory)
    model = rounding_bounds(case)
    return {k: max(v, model.get(k, 0.0)) for k, v in measured.items()}


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
