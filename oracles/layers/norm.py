"""Table entries: batchnorm (1-d) and dropout: the exemplars of state, aux inputs and conventions.

Batchnorm's running statistics are state (read in test mode, updated in train mode); the courses
disagree with torch on two points, declared as conventions: the running variance from the biased
(CS231n, Saito: np.var) or the unbiased (torch) batch variance, and which side momentum weighs
(CS231n/Saito: ``running = momentum * running + (1 - momentum) * batch``; torch: the other way round).
Dropout's mask is chosen by the implementation: the oracles take it from ``Ctx.aux`` (read back from the
implementation by its driver); p is the keep probability (CS231n since 2017, deeplearning.ai's keep_prob)
or the drop probability (Saito's dropout_ratio, CS231n 2016); the scaling is inverted (train divides by
the keep probability, test is the identity) or at test time (train keeps x, test multiplies by keep).
"""

from __future__ import annotations

import numpy as np

from oracles.layers.table import Hyper, LayerKind, MissingAux, Param, register

__all__ = ["keep_probability"]


def _torch():
    import torch

    return torch


# ---- batchnorm over the batch axis, per feature: x (m, D)


def _bn_stats_update(ctx, hp, mu, var_biased, n, xp_copy):
    mom = float(hp["momentum"])
    var_r = var_biased * (n / (n - 1)) if hp["running_var"] == "unbiased" and n > 1 else var_biased
    rm, rv = ctx.state_in["running_mean"], ctx.state_in["running_var"]
    if hp["momentum_on"] == "running":
        ctx.state_out["running_mean"] = xp_copy(mom * rm + (1 - mom) * mu)
        ctx.state_out["running_var"] = xp_copy(mom * rv + (1 - mom) * var_r)
    else:
        ctx.state_out["running_mean"] = xp_copy((1 - mom) * rm + mom * mu)
        ctx.state_out["running_var"] = xp_copy((1 - mom) * rv + mom * var_r)


def _bn_np(x, p, hp, ctx):
    eps = float(hp["eps"])
    if ctx.mode == "test":
        return p["gamma"] * (x - ctx.state_in["running_mean"]) / np.sqrt(ctx.state_in["running_var"] + eps) + p["beta"]
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    _bn_stats_update(ctx, hp, mu, var, x.shape[0], np.array)
    return p["gamma"] * (x - mu) / np.sqrt(var + eps) + p["beta"]


def _bn_torch(x, p, hp, ctx):
    torch = _torch()
    eps = float(hp["eps"])
    if ctx.mode == "test":
        rm, rv = ctx.state_in["running_mean"], ctx.state_in["running_var"]
        return p["gamma"] * (x - rm) / torch.sqrt(rv + eps) + p["beta"]
    mu = x.mean(dim=0)
    var = ((x - mu) ** 2).mean(dim=0)
    with torch.no_grad():
        _bn_stats_update(ctx, hp, mu.detach(), var.detach(), x.shape[0], lambda t: t.clone())
    return p["gamma"] * (x - mu) / torch.sqrt(var + eps) + p["beta"]


def _draw_momentum(rng, s):
    return float(rng.choice([0.9, 0.5, 0.99]))


def _draw_eps(rng, s):
    return float(rng.choice([1e-5, 1e-3]))


def _features(s, hp):
    if len(s) != 1:
        raise ValueError("batchnorm normalises (m, D) inputs; use spatial_batchnorm for (m, C, H, W)")
    return (s[0],)


register(LayerKind(
    name="batchnorm",
    out_shape=lambda s, hp: _features(s, hp),
    numpy=_bn_np,
    torch=_bn_torch,
    params=(Param("gamma", _features, init="one"), Param("beta", _features, init="bias")),
    hyper=(Hyper("eps", 1e-5, _draw_eps), Hyper("momentum", 0.9, _draw_momentum)),
    conventions={"running_var": ("biased", "unbiased"), "momentum_on": ("running", "batch")},
    state={"running_mean": _features, "running_var": _features},
    state_init={"running_mean": 0.0, "running_var": 1.0},
    min_batch=2,
    modes=("train", "test"),
    doc="per-feature batch normalisation of (m, D); train: batch statistics, test: running statistics",
))


# ---- dropout


def keep_probability(hp) -> float:
    return float(hp["p"]) if hp["p_means"] == "keep" else 1.0 - float(hp["p"])


def _dropout(x, hp, ctx, mask_of):
    keep = keep_probability(hp)
    if ctx.mode == "test":
        return x if hp["scaling"] == "inverted" else x * keep
    if "mask" not in ctx.aux:
        raise MissingAux("dropout in train mode needs the mask the implementation used (Observation.aux)")
    mask = mask_of(ctx.aux["mask"])
    return x * mask / keep if hp["scaling"] == "inverted" else x * mask


def _dropout_torch(x, p, hp, ctx):
    torch = _torch()
    return _dropout(x, hp, ctx, lambda m: torch.as_tensor(np.asarray(m, dtype=np.float64), dtype=x.dtype))


def _dropout_np(x, p, hp, ctx):
    return _dropout(x, hp, ctx, lambda m: np.asarray(m, dtype=np.float64))


register(LayerKind(
    name="dropout",
    out_shape=lambda s, hp: tuple(s),
    numpy=_dropout_np,
    torch=_dropout_torch,
    hyper=(Hyper("p", 0.5, lambda rng, s: float(rng.choice([0.3, 0.5, 0.75, 0.9]))),),
    conventions={"p_means": ("keep", "drop"), "scaling": ("inverted", "at_test")},
    aux=("mask",),
    modes=("train", "test"),
    doc="elementwise dropout with a mask the implementation draws (read back through Observation.aux)",
))
