"""Mutants of the normalisation and dropout references: one realistic bug each (see
reference.mutants for the conventions: a module copy with one definition replaced, the bug line
marked ``# BUG:``, ``bug_class`` the key the diagnosis should name).

The bugs every batchnorm / dropout assignment sees: a backward pass without the gradient that
flows through the batch mean or through the batch variance, dgamma left per sample, running
statistics never updated or with the momentum backwards, test mode normalising with the batch's
own statistics, dropout without the 1/p at train time or with a scale
at test time, a backward pass that draws a fresh mask, p read as the drop probability, and
normalisation over the wrong axes.

This module imports numpy and reference only (the sandbox child may import it).
"""

from __future__ import annotations

import functools

import numpy as np

from reference import cs231n_fc_net, cs231n_norm, saito_norm
from reference import dlai_regularization as R
from reference.mutants import SOURCES, _add, clone_module

__all__: list[str] = []

_C = "reference/cs231n_norm.py"
_CF = "reference/cs231n_fc_net.py"
_S = "reference/saito_norm.py"
_D = "reference/dlai_regularization.py"
SOURCES.update({_C: cs231n_norm, _CF: cs231n_fc_net, _S: saito_norm, _D: R})


# ==== CS231n batchnorm ======================================================================


def _bn_backward_no_mean_path(dout, cache):
    xhat, xmu, std, gamma = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dxmu = dxhat / std
    dstd = -np.sum(dxhat * xmu, axis=0) / std**2
    dvar = 0.5 * dstd / std
    dxmu += 2.0 * xmu * dvar / N
    dx = dxmu  # BUG: the mean depends on x too; its gradient -sum(dxmu) / N is missing
    return dx, dgamma, dbeta


def _bn_backward_no_var_path(dout, cache):
    xhat, xmu, std, gamma = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dxmu = dxhat / std  # BUG: std is treated as a constant: the path through the variance is missing
    dmu = -np.sum(dxmu, axis=0)
    dx = dxmu + dmu / N
    return dx, dgamma, dbeta


def _bn_backward_alt_no_var_term(dout, cache):
    xhat, xmu, std, gamma = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dx = (N * dxhat - np.sum(dxhat, axis=0)) / (N * std)  # BUG: the - xhat sum(dxhat xhat) term is dropped
    return dx, dgamma, dbeta


def _bn_backward_alt_dgamma_per_sample(dout, cache):
    xhat, xmu, std, gamma = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = dout * xhat  # BUG: gamma was broadcast over the N rows but dgamma is not summed back
    dxhat = dout * gamma
    dx = (N * dxhat - np.sum(dxhat, axis=0) - xhat * np.sum(dxhat * xhat, axis=0)) / (N * std)
    return dx, dgamma, dbeta


def _bn_forward_with(bug: str):
    def batchnorm_forward(x, gamma, beta, bn_param):
        mode = bn_param["mode"]
        eps = bn_param.get("eps", 1e-5)
        momentum = bn_param.get("momentum", 0.9)
        N, D = x.shape
        running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
        running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
        if mode == "train" or bug == "test_batch_stats":
            mu = x.mean(axis=0)
            xmu = x - mu
            var = np.mean(xmu**2, axis=0)
            std = np.sqrt(var) + eps if bug == "eps_outside" else np.sqrt(var + eps)  # BUG (eps_outside)
            xhat = xmu / std
            out = gamma * xhat + beta
            if bug == "running_var_eps":
                running_mean = momentum * running_mean + (1 - momentum) * mu
                running_var = momentum * running_var + (1 - momentum) * std**2  # BUG: std**2 is var + eps
            elif bug == "momentum_swapped":
                running_mean = (1 - momentum) * running_mean + momentum * mu  # BUG: momentum weighs the batch
                running_var = (1 - momentum) * running_var + momentum * var
            elif bug != "frozen":  # BUG (frozen): the running statistics are never updated
                running_mean = momentum * running_mean + (1 - momentum) * mu
                running_var = momentum * running_var + (1 - momentum) * var
            cache = (xhat, xmu, std, gamma)  # BUG (test_batch_stats): test mode normalises by the batch
        else:
            xhat = (x - running_mean) / np.sqrt(running_var + eps)
            out = gamma * xhat + beta
            cache = None
        bn_param["running_mean"] = running_mean
        bn_param["running_var"] = running_var
        return out, cache

    return batchnorm_forward


def _layernorm_forward_over_batch(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=0, keepdims=True)  # BUG: statistics over the batch (axis 0), not over the features
    xmu = x - mu
    var = np.mean(xmu**2, axis=0, keepdims=True)
    std = np.sqrt(var + eps)
    xhat = xmu / std
    out = gamma * xhat + beta
    return out, (xhat, std, gamma)


def _layernorm_backward_over_batch(dout, cache):
    xhat, std, gamma = cache
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dx = cs231n_norm._normalised_backward(dout * gamma, xhat, std, axis=0)  # BUG: consistent with the forward
    return dx, dgamma, dbeta


def _spatial_batchnorm_forward_no_transpose(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    rows = x.reshape(-1, C)  # BUG: reshape without moving channels last mixes channels and pixels
    out, cache = cs231n_norm.batchnorm_forward(rows, gamma, beta, bn_param)
    return out.reshape(N, C, H, W), cache


def _spatial_batchnorm_backward_no_transpose(dout, cache):
    N, C, H, W = dout.shape
    dx, dgamma, dbeta = cs231n_norm.batchnorm_backward_alt(dout.reshape(-1, C), cache)
    return dx.reshape(N, C, H, W), dgamma, dbeta


def _groupnorm_forward_interleaved(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, C // G, G, H, W)  # BUG: group g takes channels g, g + G, ... instead of a contiguous run
    mu = xg.mean(axis=(1, 3, 4), keepdims=True)
    xmu = xg - mu
    var = np.mean(xmu**2, axis=(1, 3, 4), keepdims=True)
    std = np.sqrt(var + eps)
    xhat = (xmu / std).reshape(N, C, H, W)
    out = gamma.reshape(1, C, 1, 1) * xhat + beta.reshape(1, C, 1, 1)
    return out, (xhat, std, gamma, G)


def _groupnorm_backward_interleaved(dout, cache):
    xhat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dbeta = np.sum(dout, axis=(0, 2, 3)).reshape(gamma.shape)
    dgamma = np.sum(dout * xhat, axis=(0, 2, 3)).reshape(gamma.shape)
    dxhat = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, C // G, G, H, W)
    dx = cs231n_norm._normalised_backward(dxhat, xhat.reshape(N, C // G, G, H, W), std, axis=(1, 3, 4))
    return dx.reshape(N, C, H, W), dgamma, dbeta


_add("cs231n_bn_backward_no_mean_path", "bn_no_mean_path", "cs231n", "fn:batchnorm",
     "batchnorm_backward ignores the gradient through the batch mean",
     clone_module(cs231n_norm, {"batchnorm_backward": _bn_backward_no_mean_path}), _C)
_add("cs231n_bn_backward_no_var_path", "bn_no_var_path", "cs231n", "fn:batchnorm",
     "batchnorm_backward treats the batch variance as a constant",
     clone_module(cs231n_norm, {"batchnorm_backward": _bn_backward_no_var_path}), _C)
_add("cs231n_bn_alt_no_var_term", "bn_no_var_path", "cs231n", "fn:batchnorm_alt",
     "batchnorm_backward_alt drops the xhat * sum(dxhat * xhat) term",
     clone_module(cs231n_norm, {"batchnorm_backward_alt": _bn_backward_alt_no_var_term}), _C)
_add("cs231n_bn_dgamma_not_summed", "extra_batch_axis", "cs231n", "fn:batchnorm_alt",
     "batchnorm_backward_alt returns dgamma per sample (N, D)",
     clone_module(cs231n_norm, {"batchnorm_backward_alt": _bn_backward_alt_dgamma_per_sample}), _C)
_add("cs231n_bn_running_stats_frozen", "running_stats_frozen", "cs231n", "fn:batchnorm",
     "batchnorm_forward never updates running_mean / running_var",
     clone_module(cs231n_norm, {"batchnorm_forward": _bn_forward_with("frozen")}), _C)
_add("cs231n_bn_momentum_swapped", "running_stats_momentum", "cs231n", "fn:batchnorm",
     "running = (1 - momentum) running + momentum batch",
     clone_module(cs231n_norm, {"batchnorm_forward": _bn_forward_with("momentum_swapped")}), _C)
_add("cs231n_bn_test_uses_batch_stats", "test_uses_batch_stats", "cs231n", "fn:batchnorm",
     "batchnorm_forward in test mode normalises with the batch's own mean and variance",
     clone_module(cs231n_norm, {"batchnorm_forward": _bn_forward_with("test_batch_stats")}), _C)
_add("cs231n_bn_eps_outside_sqrt", "norm_eps_outside", "cs231n", "fn:batchnorm",
     "batchnorm_forward divides by sqrt(var) + eps in training (a real file)",
     clone_module(cs231n_norm, {"batchnorm_forward": _bn_forward_with("eps_outside")}), _C)
_add("cs231n_bn_running_var_eps", "running_var_eps", "cs231n", "fn:batchnorm",
     "batchnorm_forward's running_var takes in std**2 = var + eps (a real file)",
     clone_module(cs231n_norm, {"batchnorm_forward": _bn_forward_with("running_var_eps")}), _C)
_add("cs231n_layernorm_over_batch", "norm_wrong_axes", "cs231n", "fn:layernorm",
     "layernorm normalises each feature over the batch (axis 0)",
     clone_module(cs231n_norm, {"layernorm_forward": _layernorm_forward_over_batch,
                                "layernorm_backward": _layernorm_backward_over_batch}), _C)
_add("cs231n_spatial_bn_no_transpose", "norm_wrong_axes", "cs231n", "fn:spatial_batchnorm",
     "spatial batchnorm reshapes (N, C, H, W) to (-1, C) without moving the channels last",
     clone_module(cs231n_norm, {"spatial_batchnorm_forward": _spatial_batchnorm_forward_no_transpose,
                                "spatial_batchnorm_backward": _spatial_batchnorm_backward_no_transpose}), _C)
_add("cs231n_groupnorm_interleaved_groups", "norm_wrong_axes", "cs231n", "fn:spatial_groupnorm",
     "groupnorm groups channels g, g + G, ... instead of contiguous runs of C / G",
     clone_module(cs231n_norm, {"spatial_groupnorm_forward": _groupnorm_forward_interleaved,
                                "spatial_groupnorm_backward": _groupnorm_backward_interleaved}), _C)


# ==== CS231n dropout ========================================================================


def _dropout_forward_with(bug: str):
    def dropout_forward(x, dropout_param):
        p, mode = dropout_param["p"], dropout_param["mode"]
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = None
        if mode == "train":
            if bug == "unscaled":
                mask = (np.random.rand(*x.shape) < p).astype(x.dtype)  # BUG: no 1/p: not inverted
            elif bug == "randn":
                mask = ((np.random.randn(*x.shape) < p) / p).astype(x.dtype)  # BUG: a normal draw, not uniform
            elif bug == "keep_all":
                mask = (np.random.rand(*x.shape) < p / p).astype(x.dtype)  # BUG: p / p = 1: every unit kept, unscaled
            elif bug == "p_as_drop":
                mask = ((np.random.rand(*x.shape) >= p) / (1 - p)).astype(x.dtype)  # BUG: p read as drop prob
            else:
                mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype)
            out = x * mask
        else:
            out = x * p if bug == "test_scaled" else x  # BUG (test_scaled): inverted dropout scaled again
        return out.astype(x.dtype, copy=False), (dropout_param, mask)

    return dropout_forward


def _dropout_backward_fresh_mask(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        p = dropout_param["p"]
        return dout * (np.random.rand(*dout.shape) < p) / p  # BUG: a new mask, not the forward pass's
    return dout


_add("cs231n_dropout_not_scaled", "dropout_unscaled", "cs231n", "fn:dropout",
     "inverted dropout without the 1/p at train time",
     clone_module(cs231n_norm, {"dropout_forward": _dropout_forward_with("unscaled")}), _C)
_add("cs231n_dropout_scaled_at_test", "dropout_test_scale", "cs231n", "fn:dropout",
     "inverted dropout multiplies by p at test time too",
     clone_module(cs231n_norm, {"dropout_forward": _dropout_forward_with("test_scaled")}), _C)
_add("cs231n_dropout_mask_randn", "dropout_mask_normal", "cs231n", "fn:dropout",
     "dropout_forward draws its mask as randn < p: a unit is kept with probability Phi(p), not p (a real file)",
     clone_module(cs231n_norm, {"dropout_forward": _dropout_forward_with("randn")}), _C)
_add("cs231n_dropout_keeps_all", "dropout_keep_rate_wrong", "cs231n", "fn:dropout",
     "dropout_forward's mask is rand < p / p: every unit kept, nothing dropped (a real file, holdout.tsv)",
     clone_module(cs231n_norm, {"dropout_forward": _dropout_forward_with("keep_all")}), _C)
_add("cs231n_dropout_mask_regenerated", "dropout_backward_mask", "cs231n", "fn:dropout",
     "dropout_backward draws a fresh mask",
     clone_module(cs231n_norm, {"dropout_backward": _dropout_backward_fresh_mask}), _C)
_add("cs231n_fc_net_dropout_p_as_drop", "dropout_p_flipped", "cs231n", "FullyConnectedNet[dropout]",
     "dropout_forward keeps units with probability 1 - p although the net passes dropout_keep_ratio as p",
     clone_module(cs231n_fc_net, {"dropout_forward": _dropout_forward_with("p_as_drop")}), _CF)



class _ModeStuckInTrain(dict):
    def __setitem__(self, key, value):
        super().__setitem__(key, "train" if key == "mode" else value)


class _FCNetBNTestModeIgnored(cs231n_fc_net.FullyConnectedNet):
    @functools.wraps(cs231n_fc_net.FullyConnectedNet.__init__)  # the same signature: normalization= is seen
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # BUG: as a loss() that never sets bn_param["mode"] = mode: test-time scores use the batch statistics
        self.bn_params = [_ModeStuckInTrain(p) for p in self.bn_params]


_add("cs231n_fc_net_bn_test_mode_ignored", "test_uses_batch_stats", "cs231n", "FullyConnectedNet[batchnorm]",
     "FullyConnectedNet.loss(X) never puts its batchnorm layers in test mode",
     clone_module(cs231n_fc_net, {"FullyConnectedNet": _FCNetBNTestModeIgnored}), _CF)

# ==== Saito =================================================================================


class _SaitoBNNoMeanPath(saito_norm.BatchNormalization):
    def backward(self, dout):
        dout = dout.reshape(dout.shape[0], -1)
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = -np.sum(dxn * self.xc / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc = dxc + (2.0 / self.batch_size) * self.xc * dvar
        dx = dxc  # BUG: xc = x - mu, and mu depends on x: the - sum(dxc) / N term is missing
        return dx.reshape(self.input_shape)


class _SaitoBNFrozen(saito_norm.BatchNormalization):
    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1], dtype=x.dtype)
            self.running_var = np.zeros(x.shape[1], dtype=x.dtype)
        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc**2, axis=0)
            std = np.sqrt(var + saito_norm.EPS)
            xn = xc / std
            self.batch_size = x.shape[0]
            self.xc, self.xn, self.std = xc, xn, std
            running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu  # noqa: F841 BUG: a local
            running_var = self.momentum * self.running_var + (1 - self.momentum) * var  # noqa: F841 never stored
        else:
            xn = (x - self.running_mean) / np.sqrt(self.running_var + saito_norm.EPS)
        out = self.gamma * xn + self.beta
        return out.reshape(self.input_shape)


class _SaitoDropoutTestUnscaled(saito_norm.Dropout):
    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        return x  # BUG: not inverted, so test time must scale by 1 - dropout_ratio


class _SaitoDropoutFreshMask(saito_norm.Dropout):
    def backward(self, dout):
        return dout * (np.random.rand(*dout.shape) > self.dropout_ratio)  # BUG: a new mask


class _SaitoBNBatchStatsAlways(saito_norm.BatchNormalization):
    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1], dtype=x.dtype)
            self.running_var = np.zeros(x.shape[1], dtype=x.dtype)
        mu = x.mean(axis=0)  # BUG: batch statistics in test mode too (train_flg only guards the update)
        xc = x - mu
        var = np.mean(xc**2, axis=0)
        std = np.sqrt(var + saito_norm.EPS)
        xn = xc / std
        if train_flg:
            self.batch_size = x.shape[0]
            self.xc, self.xn, self.std = xc, xn, std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        out = self.gamma * xn + self.beta
        return out.reshape(self.input_shape)


class _SaitoBNTestEpsOutside(saito_norm.BatchNormalization):
    def forward(self, x, train_flg=True):
        if train_flg:
            return super().forward(x, train_flg)
        xn = (x - self.running_mean) / (np.sqrt(self.running_var) + saito_norm.EPS)  # BUG: eps outside the sqrt
        return self.gamma * xn + self.beta


_add("saito_bn_no_mean_path", "bn_no_mean_path", "saito", "BatchNormalization",
     "BatchNormalization.backward without the gradient through the batch mean",
     clone_module(saito_norm, {"BatchNormalization": _SaitoBNNoMeanPath}), _S)
_add("saito_bn_running_stats_frozen", "running_stats_frozen", "saito", "BatchNormalization",
     "BatchNormalization never keeps its running statistics",
     clone_module(saito_norm, {"BatchNormalization": _SaitoBNFrozen}), _S)
_add("saito_bn_test_eps_outside", "bn_test_eps", "saito", "BatchNormalization",
     "BatchNormalization divides by sqrt(running_var) + eps in test mode (the book: inside the sqrt)",
     clone_module(saito_norm, {"BatchNormalization": _SaitoBNTestEpsOutside}), _S)
_add("saito_dropout_test_unscaled", "dropout_test_scale", "saito", "Dropout",
     "non-inverted Dropout returns x unscaled at test time",
     clone_module(saito_norm, {"Dropout": _SaitoDropoutTestUnscaled}), _S)
_add("saito_dropout_mask_regenerated", "dropout_backward_mask", "saito", "Dropout",
     "Dropout.backward draws a fresh mask",
     clone_module(saito_norm, {"Dropout": _SaitoDropoutFreshMask}), _S)
_add("saito_net_extend_dropout_test_unscaled", "dropout_test_scale", "saito", "MultiLayerNetExtend[dropout]",
     "MultiLayerNetExtend(use_dropout=True) whose non-inverted Dropout returns x unscaled at test time",
     clone_module(saito_norm, {"Dropout": _SaitoDropoutTestUnscaled}), _S)
_add("saito_net_extend_test_uses_batch_stats", "test_uses_batch_stats", "saito", "MultiLayerNetExtend",
     "BatchNormalization normalises with the batch statistics in predict(train_flg=False) too",
     clone_module(saito_norm, {"BatchNormalization": _SaitoBNBatchStatsAlways}), _S)


# ==== deeplearning.ai course 2 ==============================================================


def _dlai_backward_dropout_no_rescale(X, Y, cache, keep_prob):
    Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3 = cache
    return R._backward(X, Y, Z1, A1, W2, Z2, A2, W3, A3, D1, D2, 1.0)  # BUG: dA * D without / keep_prob


def _dlai_backward_dropout_no_mask(X, Y, cache, keep_prob):
    Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3 = cache
    ones1, ones2 = np.ones_like(D1), np.ones_like(D2)
    return R._backward(X, Y, Z1, A1, W2, Z2, A2, W3, A3, ones1, ones2, keep_prob)  # BUG: / keep_prob, no mask


def _dlai_forward_dropout_threshold_flipped(X, parameters, keep_prob=0.5):
    np.random.seed(1)
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    Z1 = W1 @ X + b1
    A1 = R.relu(Z1)
    D1 = (np.random.rand(A1.shape[0], A1.shape[1]) > keep_prob).astype(int)  # BUG: keeps with 1 - keep_prob
    A1 = A1 * D1 / keep_prob
    Z2 = W2 @ A1 + b2
    A2 = R.relu(Z2)
    D2 = (np.random.rand(A2.shape[0], A2.shape[1]) > keep_prob).astype(int)
    A2 = A2 * D2 / keep_prob
    Z3 = W3 @ A2 + b3
    A3 = R.sigmoid(Z3)
    return A3, (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)


def _dlai_backward_reg_no_over_m(X, Y, cache, lambd):
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3 = cache
    gradients = R._backward(X, Y, Z1, A1, W2, Z2, A2, W3, A3)
    for l, W in ((1, W1), (2, W2), (3, W3)):
        gradients[f"dW{l}"] = gradients[f"dW{l}"] + lambd * W  # BUG: the cost's lambd / (2 m) gives lambd / m W
    return gradients


def _dlai_cost_reg_no_half(A3, Y, parameters, lambd):
    m = Y.shape[1]
    W1, W2, W3 = parameters["W1"], parameters["W2"], parameters["W3"]
    L2 = lambd / m * (np.sum(W1**2) + np.sum(W2**2) + np.sum(W3**2))  # BUG: lambd / m, not lambd / (2 m)
    return R.compute_cost(A3, Y) + float(L2)


_add("dlai_dropout_backward_no_rescale", "dropout_unscaled", "dlai", "dropout",
     "backward_propagation_with_dropout masks dA but does not divide by keep_prob",
     clone_module(R, {"backward_propagation_with_dropout": _dlai_backward_dropout_no_rescale}), _D)
_add("dlai_dropout_backward_no_mask", "dropout_backward_mask", "dlai", "dropout",
     "backward_propagation_with_dropout divides by keep_prob but never applies D1, D2",
     clone_module(R, {"backward_propagation_with_dropout": _dlai_backward_dropout_no_mask}), _D)
_add("dlai_dropout_threshold_flipped", "dropout_p_flipped", "dlai", "dropout",
     "forward_propagation_with_dropout keeps a unit when rand > keep_prob",
     clone_module(R, {"forward_propagation_with_dropout": _dlai_forward_dropout_threshold_flipped}),
     _D)
_add("dlai_reg_gradient_not_over_m", "reg_scale", "dlai", "regularization",
     "backward_propagation_with_regularization adds lambd W instead of lambd / m W",
     clone_module(R, {"backward_propagation_with_regularization": _dlai_backward_reg_no_over_m}),
     _D, ("reg",))
_add("dlai_reg_cost_no_half", "reg_cost_scale", "dlai", "regularization",
     "compute_cost_with_regularization uses lambd / m instead of lambd / (2 m)",
     clone_module(R, {"compute_cost_with_regularization": _dlai_cost_reg_no_half}), _D, ("reg",))


# ==== what the zoo runs ======================================================================
# A mutant joins reference.mutants.MUTANTS once a style driver runs its entry point; the others wait in
# PENDING (still real bugs: tests/test_mutants_norm.py checks each differs from its reference).

DRIVEN = {"cs231n": {"fn:batchnorm", "fn:batchnorm_alt", "fn:layernorm", "fn:spatial_batchnorm",
                     "fn:spatial_groupnorm", "fn:dropout", "FullyConnectedNet[dropout]",
                     "FullyConnectedNet[batchnorm]"},
          "saito": {"BatchNormalization", "Dropout", "MultiLayerNetExtend", "MultiLayerNetExtend[dropout]"},
          "dlai": {"dropout", "regularization"}}
PENDING: dict[str, object] = {}


def _settle() -> None:
    from reference.mutants import MUTANTS

    for name, m in list(MUTANTS.items()):
        if m.source in (_C, _CF, _S, _D) and m.entry not in DRIVEN.get(m.style, ()):
            PENDING[name] = MUTANTS.pop(name)


_settle()
