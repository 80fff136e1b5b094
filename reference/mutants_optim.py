"""Optimizer mutants: the course-style update rules, each broken by ONE realistic bug.

Registered in ``reference.mutants.MUTANTS`` (this module is imported at the bottom of
reference/mutants.py) with entry ``optim:<rule>``: ``reports.mutation_run`` sends those to the
optimizer kill run (reports/optim_run.py), which drives them exactly as it drives a student's
optim.py. ``bug_class`` is a key of ``oracles.optim.judge.OPTIM_BUG_CLASSES``; the bug line is
marked ``# BUG:``.
"""

from __future__ import annotations

import math

import numpy as np

from reference import cs231n_optim, dlai_optim, saito_optim
from reference.mutants import SOURCES as _REGISTRY
from reference.mutants import _add, clone_module

__all__: list[str] = []

_C = "reference/cs231n_optim.py"
_D = "reference/dlai_optim.py"
_S = "reference/saito_optim.py"
SOURCES = {_C: cs231n_optim, _D: dlai_optim, _S: saito_optim}
_REGISTRY.update(SOURCES)


# ==== CS231n optim.py ======================================================================


def _cs_momentum_velocity_not_stored(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    return next_w, config  # BUG: config['velocity'] = v is missing


def _cs_momentum_sign_flipped(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w - v  # BUG: v already points downhill; subtracting it climbs
    config["velocity"] = v
    return next_w, config


def _cs_rmsprop_eps_inside(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    decay, eps = config["decay_rate"], config["epsilon"]
    config["cache"] = decay * config["cache"] + (1 - decay) * dw**2
    next_w = w - config["learning_rate"] * dw / np.sqrt(config["cache"] + eps)  # BUG: eps inside the sqrt
    return next_w, config


def _cs_rmsprop_not_squared(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    decay, eps = config["decay_rate"], config["epsilon"]
    config["cache"] = decay * config["cache"] + (1 - decay) * dw  # BUG: dw, not dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + eps)
    return next_w, config


def _cs_adam(bug: str):
    def adam(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-3)
        config.setdefault("beta1", 0.9)
        config.setdefault("beta2", 0.999)
        config.setdefault("epsilon", 1e-8)
        config.setdefault("m", np.zeros_like(w))
        config.setdefault("v", np.zeros_like(w))
        config.setdefault("t", 0)
        beta1, beta2, eps = config["beta1"], config["beta2"], config["epsilon"]
        if bug == "t_frozen":
            t = config["t"] + 1  # BUG: t is never stored back: every step uses t = 1
        elif bug == "t_minus_1":
            t = config["t"]  # BUG: t used before it is incremented (1 - beta^0 = 0 at the first step)
            config["t"] += 1
        else:
            config["t"] += 1
            t = config["t"]
        config["m"] = beta1 * config["m"] + (1 - beta1) * dw
        config["v"] = beta2 * config["v"] + (1 - beta2) * dw**2
        if bug == "no_bias_correction":
            m_hat, v_hat = config["m"], config["v"]  # BUG: no bias correction
        else:
            m_hat = config["m"] / (1 - beta1**t)
            v_hat = config["v"] / (1 - beta2**t)
        next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + eps)
        return next_w, config

    return adam


_add("cs231n_momentum_velocity_not_stored", "state_not_stored", "cs231n", "optim:momentum",
     "sgd_momentum never writes config['velocity']: every step starts from zero velocity",
     clone_module(cs231n_optim, {"sgd_momentum": _cs_momentum_velocity_not_stored}), _C)
_add("cs231n_momentum_sign_flipped", "update_sign", "cs231n", "optim:momentum",
     "sgd_momentum does next_w = w - v with v = mu v - lr dw: it climbs",
     clone_module(cs231n_optim, {"sgd_momentum": _cs_momentum_sign_flipped}), _C)
_add("cs231n_rmsprop_eps_inside", "eps_inside", "cs231n", "optim:rmsprop",
     "rmsprop divides by sqrt(cache + eps) where the course has sqrt(cache) + eps",
     clone_module(cs231n_optim, {"rmsprop": _cs_rmsprop_eps_inside}), _C)
_add("cs231n_rmsprop_not_squared", "not_squared", "cs231n", "optim:rmsprop",
     "rmsprop averages dw instead of dw**2",
     clone_module(cs231n_optim, {"rmsprop": _cs_rmsprop_not_squared}), _C)
_add("cs231n_adam_no_bias_correction", "no_bias_correction", "cs231n", "optim:adam",
     "adam without the bias correction", clone_module(cs231n_optim, {"adam": _cs_adam("no_bias_correction")}), _C)
_add("cs231n_adam_t_not_incremented", "t_not_incremented", "cs231n", "optim:adam",
     "adam computes t = config['t'] + 1 but never stores it",
     clone_module(cs231n_optim, {"adam": _cs_adam("t_frozen")}), _C)
_add("cs231n_adam_bias_correction_t_minus_1", "bias_correction_t_minus_1", "cs231n", "optim:adam",
     "adam's bias correction uses t before the increment", clone_module(cs231n_optim, {"adam": _cs_adam("t_minus_1")}),
     _C)


# ==== deeplearning.ai course 2 ==============================================================


def _dl_momentum_lr_twice(parameters, grads, v, beta, learning_rate):
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for p in ("W", "b"):
            key = p + str(l)
            v["d" + key] = beta * v["d" + key] + (1 - beta) * learning_rate * grads["d" + key]  # BUG: lr here too
            parameters[key] = parameters[key] - learning_rate * v["d" + key]
    return parameters, v


def _dl_momentum_velocity_not_stored(parameters, grads, v, beta, learning_rate):
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for p in ("W", "b"):
            key = p + str(l)
            v_new = beta * v["d" + key] + (1 - beta) * grads["d" + key]  # BUG: v_new never written into v
            parameters[key] = parameters[key] - learning_rate * v_new
    return parameters, v


def _dl_adam_eps_inside(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    L = len(parameters) // 2
    v_corrected, s_corrected = {}, {}
    for l in range(1, L + 1):
        for p in ("W", "b"):
            d = "d" + p + str(l)
            v[d] = beta1 * v[d] + (1 - beta1) * grads[d]
            v_corrected[d] = v[d] / (1 - beta1**t)
            s[d] = beta2 * s[d] + (1 - beta2) * np.square(grads[d])
            s_corrected[d] = s[d] / (1 - beta2**t)
            parameters[p + str(l)] = parameters[p + str(l)] - learning_rate * v_corrected[d] / np.sqrt(
                s_corrected[d] + epsilon)  # BUG: eps inside the sqrt
    return parameters, v, s, v_corrected, s_corrected


def _dl_mini_batches_last_dropped(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation].reshape((Y.shape[0], m))
    mini_batches = []
    for k in range(math.floor(m / mini_batch_size)):  # BUG: the last, partial mini-batch is never added
        sl = slice(k * mini_batch_size, (k + 1) * mini_batch_size)
        mini_batches.append((shuffled_X[:, sl], shuffled_Y[:, sl]))
    return mini_batches


def _dl_mini_batches_y_unshuffled(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y.reshape((Y.shape[0], m))  # BUG: Y keeps its order
    mini_batches = []
    n = math.floor(m / mini_batch_size)
    for k in range(n):
        sl = slice(k * mini_batch_size, (k + 1) * mini_batch_size)
        mini_batches.append((shuffled_X[:, sl], shuffled_Y[:, sl]))
    if m % mini_batch_size:
        mini_batches.append((shuffled_X[:, n * mini_batch_size:], shuffled_Y[:, n * mini_batch_size:]))
    return mini_batches


_add("dlai_momentum_lr_twice", "lr_twice", "dlai", "optim:momentum",
     "the velocity average multiplies the gradient by learning_rate, and the step again",
     clone_module(dlai_optim, {"update_parameters_with_momentum": _dl_momentum_lr_twice}), _D)
_add("dlai_momentum_velocity_not_stored", "state_not_stored", "dlai", "optim:momentum",
     "the new velocity is a local variable; the returned v keeps zeros",
     clone_module(dlai_optim, {"update_parameters_with_momentum": _dl_momentum_velocity_not_stored}), _D)
_add("dlai_adam_eps_inside", "eps_inside", "dlai", "optim:adam", "Adam divides by sqrt(s_corrected + epsilon)",
     clone_module(dlai_optim, {"update_parameters_with_adam": _dl_adam_eps_inside}), _D)
_add("dlai_mini_batches_last_dropped", "last_batch_dropped", "dlai", "optim:mini_batches",
     "random_mini_batches drops the last, partial mini-batch",
     clone_module(dlai_optim, {"random_mini_batches": _dl_mini_batches_last_dropped}), _D)
_add("dlai_mini_batches_y_unshuffled", "x_y_unpaired", "dlai", "optim:mini_batches",
     "random_mini_batches shuffles X but not Y",
     clone_module(dlai_optim, {"random_mini_batches": _dl_mini_batches_y_unshuffled}), _D)


# ==== Saito ch. 6 ===========================================================================


class _SaitoSGDNotInPlace(saito_optim.SGD):
    def update(self, params, grads):
        for key in params.keys():
            params[key] = params[key] - self.lr * grads[key]  # BUG: a new array; the layers keep the old one


class _SaitoMomentumSharedState(saito_optim.Momentum):
    def update(self, params, grads):
        if self.v is None:
            self.v = np.zeros_like(next(iter(params.values())))  # BUG: one velocity for every parameter
        for key in params.keys():
            self.v = self.momentum * self.v - self.lr * grads[key]
            params[key] += self.v


class _SaitoNesterovVelocityFirst(saito_optim.Nesterov):
    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.v[key] *= self.momentum  # BUG: v updated before the parameter step
            self.v[key] -= self.lr * grads[key]
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]


class _SaitoAdaGradStateNotStored(saito_optim.AdaGrad):
    def update(self, params, grads):
        self.h = {key: np.zeros_like(val) for key, val in params.items()}  # BUG: re-created at every call
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class _SaitoRMSpropDecayIgnored(saito_optim.RMSprop):
    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] *= 0.99  # BUG: the constructor's decay_rate is ignored
            self.h[key] += (1 - 0.99) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class _SaitoAdamMOnly(saito_optim.Adam):
    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            m_hat = self.m[key] / (1 - self.beta1**self.iter)  # BUG: v is not corrected
            params[key] -= self.lr * m_hat / (np.sqrt(self.v[key]) + 1e-7)


_add("saito_sgd_not_in_place", "not_in_place", "saito", "optim:sgd",
     "SGD.update rebinds params[key] instead of updating the array in place",
     clone_module(saito_optim, {"SGD": _SaitoSGDNotInPlace}), _S)
_add("saito_momentum_state_shared", "state_shared", "saito", "optim:momentum",
     "Momentum keeps one velocity array for every parameter",
     clone_module(saito_optim, {"Momentum": _SaitoMomentumSharedState}), _S, ("square",))
_add("saito_nesterov_velocity_first", "nesterov_order", "saito", "optim:nesterov",
     "Nesterov updates v before the parameter step (the book's pre-2021 code)",
     clone_module(saito_optim, {"Nesterov": _SaitoNesterovVelocityFirst}), _S)
_add("saito_adagrad_state_not_stored", "state_not_stored", "saito", "optim:adagrad",
     "AdaGrad re-creates h at every update", clone_module(saito_optim, {"AdaGrad": _SaitoAdaGradStateNotStored}), _S)
_add("saito_rmsprop_decay_ignored", "hyper_ignored", "saito", "optim:rmsprop",
     "RMSprop hard-codes 0.99 instead of self.decay_rate",
     clone_module(saito_optim, {"RMSprop": _SaitoRMSpropDecayIgnored}), _S)
_add("saito_adam_bias_correction_m_only", "bias_correction_m_only", "saito", "optim:adam",
     "Adam corrects m but not v", clone_module(saito_optim, {"Adam": _SaitoAdamMOnly}), _S)
