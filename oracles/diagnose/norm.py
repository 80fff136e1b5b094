"""Hypotheses for normalisation and dropout layers checked on their own (one-layer Specs, loss 'dot'): the
classic bugs, each recomputed here in numpy from the Case and compared with what the implementation gave.

* batchnorm backward without the path through the batch mean / through the batch variance;
* running statistics never updated, or updated with the momentum on the wrong side;
* test mode normalising with the batch's own statistics;
* normalisation over the wrong axes (layernorm over the batch, spatial batchnorm without moving the channels
  last, groupnorm with interleaved groups);
* dropout not scaled at train time (inverted dropout without 1 / keep), scaled at test time when it should not
  be (or not scaled when it should), a backward that does not reuse the forward's mask, a keep rate that
  reads p the wrong way (the driver's binomial test);
* an L2 cost term scaled differently from its gradient (the data term right);
* seen in real files: eps outside the sqrt in training, running_var taking in var + eps, a dropout mask drawn
  with randn (a keep rate of Phi(p): the keep-rate text says so).

Hooked into oracles.diagnose.core.diagnose (``norm_patterns``); every comparison goes through
oracles.diagnose._base._close (the tolerance of an independent implementation, with the oracle's estimate).
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import BUG_CLASSES, Diagnosis, _close
from oracles.observation import Observation

__all__ = ["NORM_BUG_CLASSES", "norm_patterns"]

NORM_BUG_CLASSES = {
    "bn_no_mean_path": "batchnorm backward misses the gradient through the batch mean",
    "bn_no_var_path": "batchnorm backward treats the batch variance as a constant",
    "running_stats_frozen": "the running mean / variance are never updated",
    "running_stats_momentum": "the running statistics weigh momentum on the wrong side",
    "test_uses_batch_stats": "test mode normalises with the batch's statistics, not the running ones",
    "test_not_normalised": "test mode skips the normalisation (gamma * x + beta)",
    "running_stats_no_memory": "the running statistics never take in their old value (they are the batch's)",
    "bn_test_eps": "batchnorm's test mode puts eps outside the sqrt of the running variance",
    "bn_eps_sign": "batchnorm backward uses (var - eps) where var + eps belongs",
    "bn_var_count": "spatial batchnorm's backward divides the variance term by a count other than N H W",
    "norm_wrong_axes": "the normalisation statistics are taken over the wrong axes",
    "dropout_unscaled": "inverted dropout without the 1 / keep-probability scale at train time",
    "dropout_test_scale": "dropout's test-mode scale is wrong (scaled when inverted, or unscaled when not)",
    "dropout_backward_mask": "the dropout backward does not reuse the forward pass's mask",
    "dropout_backward_unscaled": "inverted dropout's backward leaves out the 1 / keep-probability its forward applies",
    "dropout_p_flipped": "the dropout keep rate reads p the wrong way (keep vs drop probability)",
    "dropout_keep_rate_wrong": "the dropout mask keeps units at a rate that is neither p nor 1 - p",
    "dropout_mask_normal": "the dropout mask compares a standard normal draw (randn) with p, not a uniform one",
    "norm_eps_outside": "the normalisation divides by sqrt(var) + eps: eps belongs inside the sqrt",
    "running_var_eps": "the running variance takes in var + eps, not the batch variance",
    "reg_cost_scale": "the L2 term of the cost is scaled differently from its gradient",
}
BUG_CLASSES.update(NORM_BUG_CLASSES)

_NORMS = ("batchnorm", "spatial_batchnorm", "layernorm", "groupnorm")


def _axes(kind: str, ndim: int) -> tuple[int, ...]:
    return {"batchnorm": (0,), "spatial_batchnorm": (0, 2, 3), "layernorm": (1,)}[kind] if kind != "groupnorm" \
        else (2, 3, 4)


def _per_c(a, ndim):
    return a if ndim == 2 else a.reshape(1, -1, 1, 1)


def _normalise(x, axes, eps):
    mu = x.mean(axis=axes, keepdims=True)
    xm = x - mu
    var = (xm**2).mean(axis=axes, keepdims=True)
    std = np.sqrt(var + eps)
    return xm / std, xm, std, mu, var


def _dx_variants(case: Case, kind: str, hp) -> dict[str, np.ndarray]:
    """dx of batchnorm-type layers without the mean path / without the variance path (train mode)."""
    x = np.asarray(case.x, dtype=np.float64)
    gamma = _per_c(np.asarray(case.params["gamma1"], dtype=np.float64), x.ndim)
    axes = _axes(kind, x.ndim)
    eps = float(hp["eps"])
    xh, xm, std, _, var = _normalise(x, axes, eps)
    n = x.size // std.size
    dxh = np.asarray(case.y, dtype=np.float64) * gamma
    dvar = -0.5 * np.sum(dxh * xm, axis=axes, keepdims=True) / std**3
    dxmu = dxh / std + 2.0 * xm * dvar / n
    no_var = dxh / std - np.mean(dxh / std, axis=axes, keepdims=True)
    out = {"bn_no_mean_path": dxmu, "bn_no_var_path": no_var}
    if np.all(var > eps):  # dvar through (var - eps)^(-3/2): a sign slip on eps in one term
        dvar_m = -0.5 * np.sum(dxh * xm, axis=axes, keepdims=True) / (var - eps)**1.5
        out["bn_eps_sign"] = no_var + 2.0 * xm * dvar_m / n
    if x.ndim == 4 and x.shape[2] * x.shape[3] > 1:
        # the variance term over N H W values, written 2 / N * H * W (it parses as 2 H W / N: a real MyTorch
        # BatchNorm2d), or over the batch only (2 / N)
        hw, m = x.shape[2] * x.shape[3], x.shape[0]
        out["bn_var_count:2 / N * H * W, which parses as (2 / N) H W"] = no_var + 2.0 * xm * dvar * hw / m
        out["bn_var_count:2 / N, the batch size alone"] = no_var + 2.0 * xm * dvar / m
    return out


def _state_variants(case: Case, hp) -> dict[str, dict[str, np.ndarray]]:
    x = np.asarray(case.x, dtype=np.float64)
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    mu, var = x.mean(axis=axes), x.var(axis=axes, ddof=1 if hp["running_var"] == "unbiased" else 0)
    rm, rv = case.state["running_mean1"], case.state["running_var1"]
    m = float(hp["momentum"])
    on_running = hp["momentum_on"] == "running"

    def blend(run, batch, momentum_on_running: bool = on_running):
        """The running update, momentum on the running side (the course's) or on the batch side."""
        return m * run + (1 - m) * batch if momentum_on_running else (1 - m) * run + m * batch

    # the momentum bug is the other side's blend; the old running value never taken in: alpha M + (1 - alpha) M
    # is the batch's own statistics
    other = {"running_mean1": blend(rm, mu, not on_running), "running_var1": blend(rv, var, not on_running)}
    return {"running_stats_frozen": {"running_mean1": rm, "running_var1": rv}, "running_stats_momentum": other,
            "running_stats_no_memory": {"running_mean1": mu, "running_var1": var},
            # var + eps kept from the normalisation (std ** 2 with std = sqrt(var + eps)): a real CS231n file
            "running_var_eps": {"running_mean1": blend(rm, mu), "running_var1": blend(rv, var + float(hp["eps"]))}}


def _wrong_axes_out(case: Case, kind: str, hp) -> np.ndarray | None:
    x = np.asarray(case.x, dtype=np.float64)
    gamma, beta = (np.asarray(case.params[k], dtype=np.float64) for k in ("gamma1", "beta1"))
    eps = float(hp["eps"])
    if kind == "layernorm":
        return gamma * _normalise(x, (0,), eps)[0] + beta
    if kind == "spatial_batchnorm":
        c = x.shape[1]
        rows = x.reshape(-1, c)  # NCHW reshaped to (-1, C) without moving the channels last
        return (gamma * _normalise(rows, (0,), eps)[0] + beta).reshape(x.shape)
    if kind == "groupnorm":
        m, c = x.shape[:2]
        g = int(hp["G"])
        xg = x.reshape(m, c // g, g, *x.shape[2:])  # channel k in group k % G
        xh = _normalise(xg, (1, 3, 4), eps)[0].reshape(x.shape)
        return _per_c(gamma, 4) * xh + _per_c(beta, 4)
    return None


def _bad_names(bad) -> set[str]:
    return {v.name for v in bad}


def norm_patterns(case: Case, bad, observed: Observation, expected: Observation) -> list[Diagnosis]:
    """Diagnoses for a one-layer norm/dropout Case (empty for anything else; never raises)."""
    spec = case.spec
    out: list[Diagnosis] = []
    try:
        out += _reg_cost(case, bad, observed, expected)
        for v in bad:  # the drivers' binomial test of the keep rate, in any sequence
            text = observed.errors.get(v.check) or ""
            if v.status == "error" and "keep rate" in text:
                cls = ("dropout_mask_normal" if "np.random.randn" in text else
                       "dropout_keep_rate_wrong" if "fits neither" in text else "dropout_p_flipped")
                out.append(Diagnosis(cls, text, (v.check,)))
        if not spec.is_mlp and spec.loss != "dot" and "dropout" in spec.kinds().split(">"):
            out += _dropout_net(case, bad, observed, expected)
        if not spec.is_mlp and len(spec.layers) > 1 and spec.mode == "test":
            out += _test_batch_stats_net(case, bad, observed, expected)
        if not spec.is_mlp and spec.mode == "test" and not out:
            out += _test_mode_replays(case, bad, observed, expected)
        if spec.is_mlp or len(spec.layers) != 1 or spec.loss != "dot":
            return out
        kind, hp = spec.layers[0].kind, spec.layers[0].hp
        if kind in _NORMS:
            out += _norm(case, kind, hp, bad, observed, expected)
        elif kind == "dropout":
            out += _dropout(case, hp, bad, observed, expected)
    except Exception:  # noqa: BLE001 - a hypothesis that cannot be tested is skipped
        return out
    return out


def _norm(case, kind, hp, bad, observed, expected) -> list[Diagnosis]:
    dtype, names, out = case.spec.dtype, _bad_names(bad), []
    if "out" in names and observed.out is not None:
        if case.spec.mode == "test" and kind in ("batchnorm", "spatial_batchnorm"):
            x = np.asarray(case.x, dtype=np.float64)
            axes = _axes(kind, x.ndim)
            g, b = (_per_c(np.asarray(case.params[k], dtype=np.float64), x.ndim) for k in ("gamma1", "beta1"))
            train = g * _normalise(x, axes, float(hp["eps"]))[0] + b
            if _close(observed.out, train, dtype, expected.err_est.get("out")):
                out.append(Diagnosis("test_uses_batch_stats", "test mode normalised with the batch's own mean and "
                                     "variance: the running statistics were ignored", ("out",)))
            elif _close(observed.out, g * x + b, dtype, expected.err_est.get("out")):
                out.append(Diagnosis("test_not_normalised", "test mode returned gamma * x + beta: x is never "
                                     "normalised with the running mean and variance", ("out",)))
        if case.spec.mode == "train" and kind != "groupnorm":
            out += _eps_outside(case, kind, hp, names, observed, expected)
        wrong = _wrong_axes_out(case, kind, hp)
        if wrong is not None and _close(observed.out, wrong, dtype, expected.err_est.get("out")):
            where = {"layernorm": "over the batch (axis 0) instead of each sample's features",
                     "spatial_batchnorm": "after reshaping (N, C, H, W) to (-1, C) without moving C last",
                     "groupnorm": "over interleaved channels (k % G) instead of consecutive runs of C / G"}[kind]
            out.append(Diagnosis("norm_wrong_axes", f"the output matches normalisation {where}", ("out",)))
    if "grads['x']" in names and "x" in observed.grads and kind in ("batchnorm", "spatial_batchnorm"):
        for cls, dx in _dx_variants(case, kind, hp).items():
            if _close(observed.grads["x"], dx, dtype, expected.err_est.get("x")):
                if cls.startswith("bn_var_count:"):
                    out.append(Diagnosis("bn_var_count", "dx matches spatial batchnorm's backward with the variance "
                                         f"term's 2 / (N H W) written {cls.split(':', 1)[1]}: the variance is a mean "
                                         "over N H W values per channel", ("x",)))
                    continue
                if cls == "bn_eps_sign":
                    out.append(Diagnosis(cls, "dx matches batchnorm's backward with (var - eps)^(-3/2) in the "
                                         "variance term: eps belongs with a plus sign, (var + eps)^(-3/2), as in "
                                         "the forward (it is NaN once var < eps)", ("x",)))
                    continue
                what = ("the mean depends on x too: the -sum(dxmu) / N term is missing" if cls == "bn_no_mean_path"
                        else "the variance depends on x too: its path through std is missing")
                out.append(Diagnosis(cls, f"dx matches batchnorm's backward without that path: {what}", ("x",)))
    state_bad = [n for n in names if n.startswith("state[")]
    if state_bad and observed.state:
        for cls, want in _state_variants(case, hp).items():
            if all(k in observed.state and _close(observed.state[k], v, dtype) for k, v in want.items()):
                msg = {"running_stats_frozen": "running_mean / running_var come back unchanged: never updated (or "
                                               "updated into a local)",
                       "running_stats_momentum": "running = (1 - momentum) running + momentum batch: momentum weighs "
                                                 "the wrong side (the course: momentum * running + (1 - momentum) * "
                                                 "batch)",
                       "running_stats_no_memory": "running_mean / running_var come back as this batch's own mean and "
                                                  "variance: the old running value is never taken in (e.g. alpha * M "
                                                  "+ (1 - alpha) * M with M the batch mean both times)",
                       "running_var_eps": "running_var takes in var + eps (e.g. std ** 2 with std = sqrt(var + eps)) "
                                          "where the batch variance belongs; test mode then adds eps a second "
                                          "time"}[cls]
                out.append(Diagnosis(cls, msg, tuple(sorted(want))))
                break
    return out


def _eps_outside(case, kind, hp, names, observed, expected) -> list[Diagnosis]:
    """Train-mode output (and dgamma) of normalising by sqrt(var) + eps (a real CS231n file did; the
    difference is eps / (2 sqrt(var)) relative: only a float64 check sees it)."""
    x = np.asarray(case.x, dtype=np.float64)
    axes = _axes(kind, x.ndim)
    eps = float(hp["eps"])
    _, xm, _, _, var = _normalise(x, axes, eps)
    xh = xm / (np.sqrt(var) + eps)
    g, b = (_per_c(np.asarray(case.params[k], dtype=np.float64), x.ndim) for k in ("gamma1", "beta1"))
    dtype = case.spec.dtype
    if not _close(observed.out, g * xh + b, dtype, expected.err_est.get("out")):
        return []
    seen = ["out"]
    dgamma = np.sum(np.asarray(case.y, dtype=np.float64) * xh, axis=(0,) if x.ndim == 2 else (0, 2, 3))
    if "grads['gamma1']" in names and "gamma1" in observed.grads and _close(
            observed.grads["gamma1"], dgamma, dtype, expected.err_est.get("gamma1")):
        seen.append("gamma1")
    return [Diagnosis("norm_eps_outside", "the output matches dividing by sqrt(var) + eps: eps belongs inside the "
                      "sqrt, sqrt(var + eps) (the difference is eps / (2 sqrt(var)) relative)", tuple(seen))]


def _dropout(case, hp, bad, observed, expected) -> list[Diagnosis]:
    dtype, names, out = case.spec.dtype, _bad_names(bad), []
    keep = float(hp["p"]) if hp["p_means"] == "keep" else 1.0 - float(hp["p"])
    x = np.asarray(case.x, dtype=np.float64)
    if "out" in names and observed.out is not None:
        if case.spec.mode == "train":
            mask = np.asarray(observed.aux.get("mask1", observed.out != 0), dtype=np.float64)
            if hp["scaling"] == "inverted" and _close(observed.out, x * mask, dtype):
                out.append(Diagnosis("dropout_unscaled", f"out = x * mask: the kept units are not divided by the "
                                     f"keep probability {keep:g} (inverted dropout scales at train time so that "
                                     f"test mode is the identity)", ("out",)))
        else:
            if hp["scaling"] == "inverted" and not _close(observed.out, x, dtype):
                out.append(Diagnosis("dropout_test_scale", "inverted dropout must return x unchanged in test mode; "
                                     f"it returned {_ratio(observed.out, x):.4g} x", ("out",)))
            elif hp["scaling"] == "at_test" and _close(observed.out, x, dtype):
                out.append(Diagnosis("dropout_test_scale", f"test mode returned x unscaled: non-inverted dropout "
                                     f"must multiply by the keep probability {keep:g} at test time", ("out",)))
    if "grads['x']" in names and "out" not in names and "x" in observed.grads and case.spec.mode == "train":
        mask = np.asarray(observed.aux.get("mask1", np.ones_like(x))) != 0
        dx = np.asarray(observed.grads["x"])
        if not np.array_equal(dx != 0, mask & (np.asarray(case.y) != 0)):
            out.append(Diagnosis("dropout_backward_mask", "dx is nonzero where the forward dropped units (or zero "
                                 "where it kept them): the backward does not use the forward's mask (a fresh draw, "
                                 "or none)", ("x",)))
        elif hp["scaling"] == "inverted" and keep != 1.0 and _close(dx, np.asarray(case.y) * mask, dtype):
            # the forward (right, since "out" is not bad) divides by keep: its derivative does too (a real MyTorch
            # S20 file returned delta * mask: exactly p times the gradient of its own forward)
            out.append(Diagnosis("dropout_backward_unscaled", f"dx = dout * mask: the backward leaves out the 1 / "
                                 f"{keep:g} (1 / keep probability) its forward applies to the kept units; the "
                                 f"derivative of x * mask / keep is dout * mask / keep", ("x",)))
    return out


def _ratio(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    bb = float(b @ b)
    return float(a @ b) / bb if bb else float("nan")


def _reg_cost(case, bad, observed, expected) -> list[Diagnosis]:
    """Only the loss is off, by a multiple of the L2 term, while every gradient matches."""
    spec = case.spec
    if not spec.reg or observed.loss is None or expected.loss is None:
        return []
    if any(v.check != "loss" for v in bad) or not any(v.check == "loss" for v in bad):
        return []
    names = spec.regularised() if not spec.is_mlp else [f"W{l}" for l in range(1, spec.n_layers + 1)]
    l2 = 0.5 * spec.reg * sum(float(np.sum(np.asarray(case.params[k], dtype=np.float64) ** 2)) for k in names)
    if l2 <= 0:
        return []
    f = (float(observed.loss) - (float(expected.loss) - l2)) / l2
    for factor in (2.0, 0.5, 0.0, float(case.m), 1.0 / case.m):
        if _close(observed.loss, float(expected.loss) - l2 + factor * l2, spec.dtype, expected.err_est.get("loss")):
            return [Diagnosis("reg_cost_scale", f"the cost's L2 term is {f:.4g} times 0.5 * reg * sum ||W||^2 while "
                              f"the gradients carry it once: cost and gradient disagree on the L2 scale",
                              ("loss",), {"factor": f})]
    return []


# ---- dropout inside a network (deeplearning.ai's three-layer model): the backward with the mask's scale or
# the mask itself left out, recomputed in numpy from the Case and the masks the implementation drew


def _dropout_net_grads(case: Case, given: dict, *, scale: bool, mask: bool) -> dict[str, np.ndarray] | None:
    spec = case.spec
    kinds = [s.layer.kind for s in spec.slots]
    if not set(kinds) <= {"affine", "relu", "dropout", "sigmoid"} or kinds[-1] != "sigmoid" or \
            spec.loss != "binary_cross_entropy":
        return None
    a = np.asarray(case.x, dtype=np.float64)
    tape = []
    for s in spec.slots:
        k = s.layer.kind
        if k == "affine":
            W, b = case.params[s.params["W"]], case.params[s.params["b"]]
            tape.append((k, a, W))
            a = a @ W.T + b
        elif k == "relu":
            tape.append((k, a, None))
            a = np.maximum(a, 0)
        elif k == "dropout":
            keep = float(s.layer.hp["p"]) if s.layer.hp["p_means"] == "keep" else 1 - float(s.layer.hp["p"])
            d = np.asarray(given[s.aux["mask"]], dtype=np.float64)
            tape.append((k, d, keep))
            a = a * d / keep
        else:
            a = 1 / (1 + np.exp(-a))
    y = np.asarray(case.y, dtype=np.float64)
    g = (a - y) / (case.m if spec.reduction == "mean" else 1)  # sigmoid + cross-entropy
    grads = {}
    number = sum(s.layer.kind == "affine" for s in spec.slots)
    for k, saved, extra in reversed(tape):
        if k == "affine":
            grads[f"W{number}"], grads[f"b{number}"] = g.T @ saved, g.sum(axis=0)
            g = g @ extra
            number -= 1
        elif k == "relu":
            g = g * (saved > 0)
        else:
            g = (g * saved if mask else g) / (extra if scale else 1.0)
    for name in spec.regularised():
        grads[name] = grads[name] + spec.reg * case.params[name]
    return grads


def _dropout_net(case, bad, observed, expected) -> list[Diagnosis]:
    keys = [k for k in observed.grads if k in expected.grads and k[0] in "Wb"]
    if not keys or not any(v.check in ("grad_W", "grad_b") for v in bad):
        return []
    # only deeplearning.ai's three-layer dropout model reaches here (_dropout_net_grads): name its line
    for cls, kw, msg in (("dropout_unscaled", {"scale": False, "mask": True},
                          "the backward never divides by keep_prob (the masks D are applied, or come in through "
                          "relu' of the dropped A): backward_propagation_with_dropout needs dA = dA * D / keep_prob"),
                         ("dropout_backward_mask", {"scale": True, "mask": False},
                          "the backward divides by keep_prob but never applies the forward's masks D: "
                          "backward_propagation_with_dropout needs dA = dA * D / keep_prob")):
        want = _dropout_net_grads(case, observed.aux, **kw)
        if want is not None and all(_close(observed.grads[k], want[k], case.spec.dtype, expected.err_est.get(k))
                                    for k in keys):
            return [Diagnosis(cls, f"the gradients match a backward pass in which {msg}", tuple(keys))]
    return []


def _replay_out(case: Case, kind: str, key: str, flip: dict):
    """The oracle's test-mode output with ``key`` of every ``kind`` layer flipped (None: nothing to flip)."""
    from oracles import torch_autograd
    from oracles.layers.table import Layer

    spec = case.spec
    if not any(layer.kind == kind and layer.hp.get(key) in flip for layer in spec.layers):
        return None
    layers = tuple(Layer.of(kind, **{**dict(layer.hyper), key: flip[layer.hp[key]]})
                   if layer.kind == kind and layer.hp.get(key) in flip else layer for layer in spec.layers)
    return torch_autograd.expected(case.with_spec(layers=layers), estimate=False).out


def _test_mode_replays(case, bad, observed, expected) -> list[Diagnosis]:
    """A test-mode output equal to the one with a test-time detail flipped, replayed by the oracle: dropout's
    test-time scaling (the book's x * (1 - ratio) left out, or an inverted dropout scaling again), batchnorm's
    eps outside the sqrt of the running variance."""
    spec = case.spec
    if spec.mode != "test" or observed.out is None or "out" not in _bad_names(bad):
        return []
    est = expected.err_est.get("out")
    flips = (("dropout", "scaling", {"at_test": "inverted", "inverted": "at_test"}),
             ("batchnorm", "eps_at_test", {"inside": "outside"}),
             ("spatial_batchnorm", "eps_at_test", {"inside": "outside"}))
    for kind, key, flip in flips:
        want = _replay_out(case, kind, key, flip)
        if want is None or not _close(observed.out, want, spec.dtype, est):
            continue
        if kind == "dropout":
            said = "returns x unscaled at test time (the non-inverted dropout scales by keep = 1 - ratio there)" \
                if any(layer.kind == "dropout" and layer.hp["scaling"] == "at_test" for layer in spec.layers) else \
                "scales by keep at test time although training already divided by it (inverted dropout)"
            return [Diagnosis("dropout_test_scale", f"the test-mode output matches a network whose dropout {said}",
                              ("out",))]
        return [Diagnosis("bn_test_eps", "the test-mode output matches batchnorm dividing by sqrt(running_var) + "
                          "eps: eps belongs inside the sqrt, sqrt(running_var + eps), as in training (the difference "
                          "is small but systematic)", ("out",))]
    return []


# ---- batchnorm inside a network in test mode (Saito's MultiLayerNetExtend.predict(x, train_flg=False),
# CS231n's FullyConnectedNet.loss(X)): the output of a forward pass that normalised with each batch's own
# statistics, i.e. the train-mode forward of the same Case (recomputed by the layer table's numpy forwards)


def _test_batch_stats_net(case: Case, bad, observed, expected) -> list[Diagnosis]:
    from dataclasses import replace

    from oracles.fd_layers import _Seq

    spec = case.spec
    kinds = spec.kinds().split(">")
    if observed.out is None or "out" not in _bad_names(bad) or not {"batchnorm", "spatial_batchnorm"} & set(kinds):
        return []
    if "dropout" in kinds:  # train mode would drop units: not the same forward apart from the statistics
        return []
    train = replace(case, spec=replace(spec, mode="train"))
    seq = _Seq(train)
    z = seq.run(0, seq.x)[3]
    if not _close(observed.out, z, spec.dtype, expected.err_est.get("out")):
        return []
    return [Diagnosis("test_uses_batch_stats", "in test mode the net's output matches a forward pass that "
                      "normalises with the batch's own mean and variance: the running statistics were ignored",
                      ("out",))]
