"""Table entries: batchnorm (1-d and spatial), layernorm, groupnorm and dropout.

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


# ---- batch and spatial batch normalisation: statistics over the batch (and H, W), per feature / channel
# x (m, D) normalises over axis 0; x (m, C, H, W) over axes (0, 2, 3) with gamma, beta, buffers (C,).


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


def _per_channel(a, ndim):
    """A (C,) vector shaped to broadcast over (m, C, H, W) (or left alone for (m, D))."""
    return a if ndim == 2 else a.reshape(1, -1, 1, 1)


def _bn_axes(ndim):
    return (0,) if ndim == 2 else (0, 2, 3)


def _test_std(rv, eps, hp, sqrt):
    # eps inside the sqrt (the course, torch) or added to it (two real CS231n files, test mode only)
    return sqrt(rv + eps) if hp["eps_at_test"] == "inside" else sqrt(rv) + eps


def _bn_np(x, p, hp, ctx):
    eps, nd = float(hp["eps"]), x.ndim
    g, b = _per_channel(p["gamma"], nd), _per_channel(p["beta"], nd)
    if ctx.mode == "test":
        rm, rv = _per_channel(ctx.state_in["running_mean"], nd), _per_channel(ctx.state_in["running_var"], nd)
        return g * (x - rm) / _test_std(rv, eps, hp, np.sqrt) + b
    axes = _bn_axes(nd)
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    n = x.size // mu.size
    _bn_stats_update(ctx, hp, mu.reshape(-1), var.reshape(-1), n, np.array)
    return g * (x - mu) / np.sqrt(var + eps) + b


def _bn_torch(x, p, hp, ctx):
    torch = _torch()
    eps, nd = float(hp["eps"]), x.dim()
    g, b = _per_channel(p["gamma"], nd), _per_channel(p["beta"], nd)
    if ctx.mode == "test":
        rm, rv = _per_channel(ctx.state_in["running_mean"], nd), _per_channel(ctx.state_in["running_var"], nd)
        return g * (x - rm) / _test_std(rv, eps, hp, torch.sqrt) + b
    axes = _bn_axes(nd)
    mu = x.mean(dim=axes, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=axes, keepdim=True)
    n = x.numel() // mu.numel()
    with torch.no_grad():
        _bn_stats_update(ctx, hp, mu.detach().reshape(-1), var.detach().reshape(-1), n, lambda t: t.clone())
    return g * (x - mu) / torch.sqrt(var + eps) + b


def _draw_momentum(rng, s):
    return float(rng.choice([0.9, 0.5, 0.99]))


def _draw_eps(rng, s):
    return float(rng.choice([1e-5, 1e-3]))


def _features(s, hp):
    if len(s) != 1:
        raise ValueError("batchnorm normalises (m, D) inputs; use spatial_batchnorm for (m, C, H, W)")
    return (s[0],)


def _channels(s, hp):
    if len(s) != 3:
        raise ValueError(f"this layer takes images (m, C, H, W); got per-sample shape {tuple(s)}")
    return (s[0],)


_BN_CONVENTIONS = {"running_var": ("biased", "unbiased"), "momentum_on": ("running", "batch"),
                   "eps_at_test": ("inside", "outside")}

register(LayerKind(
    name="batchnorm",
    out_shape=lambda s, hp: _features(s, hp),
    numpy=_bn_np,
    torch=_bn_torch,
    params=(Param("gamma", _features, init="one"), Param("beta", _features, init="bias")),
    hyper=(Hyper("eps", 1e-5, _draw_eps), Hyper("momentum", 0.9, _draw_momentum)),
    conventions=_BN_CONVENTIONS,
    state={"running_mean": _features, "running_var": _features},
    state_init={"running_mean": 0.0, "running_var": 1.0},
    min_batch=2,
    modes=("train", "test"),
    doc="per-feature batch normalisation of (m, D); train: batch statistics, test: running statistics",
))

register(LayerKind(
    name="spatial_batchnorm",
    out_shape=lambda s, hp: (_channels(s, hp), tuple(s))[1],
    numpy=_bn_np,
    torch=_bn_torch,
    params=(Param("gamma", _channels, init="one"), Param("beta", _channels, init="bias")),
    hyper=(Hyper("eps", 1e-5, _draw_eps), Hyper("momentum", 0.9, _draw_momentum)),
    conventions=_BN_CONVENTIONS,
    state={"running_mean": _channels, "running_var": _channels},
    state_init={"running_mean": 0.0, "running_var": 1.0},
    min_batch=2,  # as the courses test it (and the unbiased running variance needs n >= 2 values)
    modes=("train", "test"),
    doc="per-channel batch normalisation of (m, C, H, W) over m, H and W (torch's BatchNorm2d)",
))


# ---- layer and group normalisation: statistics per sample, no running state
# layernorm: x (m, D) over the D features; groupnorm: x (m, C, H, W) over each of G groups of C / G
# consecutive channels and all H, W (torch's group_norm; layernorm is G = 1 on images). gamma, beta (D,) / (C,).


def _group_view(x, G):
    m, C = x.shape[0], x.shape[1]
    return x.reshape(m, G, C // G, *x.shape[2:])


def _ln_np(x, p, hp, ctx):
    eps = float(hp["eps"])
    mu = x.mean(axis=1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
    return p["gamma"] * (x - mu) / np.sqrt(var + eps) + p["beta"]


def _ln_torch(x, p, hp, ctx):
    torch = _torch()
    eps = float(hp["eps"])
    mu = x.mean(dim=1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=1, keepdim=True)
    return p["gamma"] * (x - mu) / torch.sqrt(var + eps) + p["beta"]


def _gn_np(x, p, hp, ctx):
    eps, G = float(hp["eps"]), int(hp["G"])
    xg = _group_view(x, G)
    mu = xg.mean(axis=(2, 3, 4), keepdims=True)
    var = ((xg - mu) ** 2).mean(axis=(2, 3, 4), keepdims=True)
    xhat = ((xg - mu) / np.sqrt(var + eps)).reshape(x.shape)
    return _per_channel(p["gamma"], 4) * xhat + _per_channel(p["beta"], 4)


def _gn_torch(x, p, hp, ctx):
    torch = _torch()
    eps, G = float(hp["eps"]), int(hp["G"])
    xg = _group_view(x, G)
    mu = xg.mean(dim=(2, 3, 4), keepdim=True)
    var = ((xg - mu) ** 2).mean(dim=(2, 3, 4), keepdim=True)
    xhat = ((xg - mu) / torch.sqrt(var + eps)).reshape(x.shape)
    return _per_channel(p["gamma"], 4) * xhat + _per_channel(p["beta"], 4)


def _ln_shape(s, hp):
    if len(s) != 1:
        raise ValueError("layernorm normalises (m, D) inputs; use groupnorm with G=1 for images")
    return (s[0],)


def _gn_shape(s, hp):
    (C,) = _channels(s, hp)
    G = int(hp["G"])
    if G < 1 or C % G:
        raise ValueError(f"groupnorm: G={G} groups do not divide C={C} channels")
    return (C,)


def _draw_groups(rng, s):
    C = s[0] if s else 1
    return int(rng.choice([g for g in range(1, C + 1) if C % g == 0]))


register(LayerKind(
    name="layernorm",
    out_shape=lambda s, hp: _ln_shape(s, hp),
    numpy=_ln_np,
    torch=_ln_torch,
    params=(Param("gamma", _ln_shape, init="one"), Param("beta", _ln_shape, init="bias")),
    hyper=(Hyper("eps", 1e-5, _draw_eps),),
    doc="per-sample normalisation of (m, D) over its D features (train and test alike, no running state)",
))

register(LayerKind(
    name="groupnorm",
    out_shape=lambda s, hp: (_gn_shape(s, hp), tuple(s))[1],
    numpy=_gn_np,
    torch=_gn_torch,
    params=(Param("gamma", _gn_shape, init="one"), Param("beta", _gn_shape, init="bias")),
    hyper=(Hyper("eps", 1e-5, _draw_eps), Hyper("G", 1, _draw_groups, "groups of C / G consecutive channels")),
    doc="per-sample normalisation of (m, C, H, W) over each group of C / G channels and all H, W",
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


# ---- an a priori rounding floor for dx of a normalisation layer checked on its own
# dx = (dxhat - mean dxhat - xhat mean(dxhat xhat)) / std cancels: on some inputs (D = 2, xhat = +-1) the float32
# re-run that measures the oracle's error happens to cancel exactly and underestimates the error of a correct
# float64 implementation by ~80x (measured: layernorm (2,), seed 13). The floor is eps * ||T||, T the sum of the
# terms' magnitudes, times (1 + |mean| / std) for the rounding of x - mean; measured error / floor <= 0.85 over
# 1600 cases of the four layers (float64).

_GROUP_AXES = {"batchnorm": (0,), "layernorm": (1,), "spatial_batchnorm": (0, 2, 3)}


def rounding_floor(case, out=None, given=None) -> dict[str, float]:
    """{'x': floor} for a Spec that is one normalisation layer in train mode; {'loss': floor} for a sequence
    ending in sigmoid with binary cross-entropy (``out`` its output); else {}."""
    spec = case.spec
    floor = {}
    if out is not None and spec.loss == "binary_cross_entropy" and spec.output_activation == "sigmoid":
        floor["loss"] = _bce_floor(case, out)
    if not spec.is_mlp and spec.loss != "dot" and "batchnorm" in spec.kinds().split(">"):
        floor.update(_bias_before_bn_floor(case, given))
    if floor:
        return floor
    if spec.is_mlp or len(spec.layers) != 1 or spec.mode != "train" or spec.loss != "dot":
        return {}
    layer = spec.layers[0]
    if layer.kind not in (*_GROUP_AXES, "groupnorm"):
        return {}
    hp = layer.hp
    x = np.asarray(case.x, dtype=np.float64)
    gamma = np.asarray(case.params["gamma1"], dtype=np.float64)
    dy = np.asarray(case.y, dtype=np.float64) * _per_channel(gamma, x.ndim)
    if layer.kind == "groupnorm":
        x, dy, axes = _group_view(x, int(hp["G"])), _group_view(dy, int(hp["G"])), (2, 3, 4)
    else:
        axes = _GROUP_AXES[layer.kind]
    return {"x": float(np.finfo(spec.dtype).eps * np.linalg.norm(backward_terms(x, dy, axes, float(hp["eps"]))))}


def backward_terms(x: np.ndarray, dy: np.ndarray, axes, eps: float) -> np.ndarray:
    """Per element of a normalisation layer's input x: the size of the terms its course backward
    (N dxh - sum dxh - xh sum(dxh xh)) / (N std) combines (dy = dout * gamma), times 1 + |mu| / std for the
    centring; eps (the dtype's) times this bounds the cancellation a correct implementation carries."""
    mu = x.mean(axis=axes, keepdims=True)
    xm = x - mu
    std = np.sqrt((xm**2).mean(axis=axes, keepdims=True) + eps)
    xh = xm / std
    ady = np.abs(dy)
    terms = (ady + ady.mean(axis=axes, keepdims=True) + np.abs(xh) * np.abs(dy * xh).mean(axis=axes, keepdims=True))
    return terms / std * (1.0 + np.abs(mu) / std)


def _bce_floor(case, a) -> float:
    """A cost computed from the probabilities a = sigmoid(z) (as deeplearning.ai's compute_cost(A3, Y) is)
    inherits a's relative rounding eps: |d cost / d a| * eps * a per sample, large where a rounds near 1
    (log(1 - a) of a 0.99996: measured 1.5e-13 on a loss of 1.4 in float64; the float32 re-run that estimates
    the oracle's error computes from the logits and does not see it)."""
    a = np.clip(np.asarray(a, dtype=np.float64), 1e-300, 1.0)
    y = np.asarray(case.y, dtype=np.float64)
    one_minus = np.maximum(1.0 - a, np.finfo(case.spec.dtype).eps)
    per = np.abs(y) + np.abs(1.0 - y) * a / one_minus
    total = float(per.sum()) * float(np.finfo(case.spec.dtype).eps)
    return total / case.m if case.spec.reduction == "mean" else total


def _bias_before_bn_floor(case, given) -> dict[str, float]:
    """b{l} of an affine layer right before a batchnorm has gradient sum_i dz_i = 0 exactly; a correct
    implementation leaves eps * sum_i |terms of dz_i| of rounding there (measured 8e-14 against an allowance
    of 4e-14 from the float32 re-run, which sums to ~0 through torch's graph). The terms need dL/d(BN output):
    one torch float64 pass (the oracle's own net) gives it at the following activation's input."""
    import torch

    from oracles.torch_autograd import _Net

    spec = case.spec
    net = _Net(case, torch.float64, given)
    x = net.x.detach().requires_grad_(False)
    loss, hidden, zs, _ = net.forward(x)
    zs_idx, kinds_seen = {}, 0
    for s in spec.slots:
        if kind_is_activation(s.layer.kind):
            zs_idx[s.index] = kinds_seen
            kinds_seen += 1
    wanted = []
    for s in spec.slots:
        nxt = s.index + 1
        if s.layer.kind == "batchnorm" and s.index > 0 and spec.slots[s.index - 1].layer.kind == "affine" \
                and nxt in zs_idx:
            wanted.append((s, spec.slots[s.index - 1], zs[zs_idx[nxt]]))
    if not wanted:
        return {}
    dys = torch.autograd.grad(loss, [z for _, _, z in wanted], allow_unused=True)
    eps = float(np.finfo(spec.dtype).eps)
    out = {}
    for (bn, aff, _), dy in zip(wanted, dys):
        if dy is None:
            continue
        a_in = x if aff.number == 1 else hidden[aff.number - 2]
        z = (a_in.reshape(len(a_in), -1) @ net.params[aff.params["W"]].T + net.params[aff.params["b"]]).detach()
        z = z.numpy().astype(np.float64)
        mu = z.mean(axis=0)
        std = np.sqrt(((z - mu) ** 2).mean(axis=0) + float(bn.layer.hp["eps"]))
        xh = (z - mu) / std
        dxh = np.abs(dy.detach().numpy()) * np.abs(case.params[bn.params["gamma"]])
        terms = (dxh + dxh.mean(axis=0) + np.abs(xh) * (dxh * np.abs(xh)).mean(axis=0)) / std * (1 + np.abs(mu) / std)
        out[aff.params["b"]] = eps * float(np.linalg.norm(terms.sum(axis=0)))
    return out


def kind_is_activation(name: str) -> bool:
    from oracles.layers.table import kind

    return kind(name).activation
