"""Any Variant of any rule, computed step by step in numpy: the course-formula oracle.

``simulate(rule, params, grads, hyper, variant)`` returns the parameters and the state after
each of the ``len(grads)`` steps. It is the oracle for the formulas torch.optim cannot express
(Saito's 2016 Nesterov, eps inside the sqrt), the source of the state a course's contract
exposes (CS231n's ``config['velocity']``, deeplearning.ai's ``v`` and ``s``), and the engine of
the diagnosis, which replays the known bugs (state not stored, lr applied twice ...) and keeps
the ones that reproduce what a file did. tests/test_optim_oracles.py checks it against torch.optim
wherever torch can run the same Variant.

The formulas read like the courses' (math names, one line per equation). ``dtype`` float32 runs
the same formula in float32: the measured rounding behind the error estimate. Division by zero
and overflow give inf/NaN, as they would in a student's numpy code (a bias correction at t = 0).

Numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from oracles.optim.rules import RULES, Variant

__all__ = ["Simulation", "simulate", "magnitudes", "state_magnitudes"]


@dataclass
class Simulation:
    trajectory: list[dict[str, np.ndarray]]  # parameters after each step
    states: list[dict[str, dict[str, np.ndarray]]]  # parameter -> state name -> value, after each step


def simulate(
    rule: str,
    params: dict[str, np.ndarray],
    grads: list[dict[str, np.ndarray]] | tuple,
    hyper: dict[str, float],
    variant: Variant | None = None,
    *,
    dtype: str = "float64",
) -> Simulation | None:
    """Run ``len(grads)`` steps; None when the Variant cannot run on these shapes (a shared state
    between parameters of different shapes)."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; rules: {', '.join(RULES)}")
    v = variant or Variant()
    dt = np.dtype(dtype)
    p = {k: np.array(a, dtype=dt) for k, a in params.items()}
    states: dict[str, dict] = {k: {} for k in p}
    shared: dict = {}
    traj, hist = [], []
    with np.errstate(all="ignore"):
        for g in grads:
            if v.stateless:
                states = {k: {} for k in p}
                shared = {}
            for k in p:
                state = shared if v.shared_state else states[k]
                try:
                    new = _step(rule, p[k], np.asarray(g[k]).astype(dt), state, hyper, v, dt)
                except ValueError:  # shapes of a shared state do not broadcast
                    return None
                if new.shape != p[k].shape:  # a shared state broadcast the parameter into another shape
                    return None
                p[k] = new
                if v.shared_state:
                    states[k] = {n: (a.copy() if isinstance(a, np.ndarray) else a) for n, a in shared.items()}
            traj.append({k: a.copy() for k, a in p.items()})
            hist.append({k: {n: (a.copy() if isinstance(a, np.ndarray) else a) for n, a in st.items()}
                         for k, st in states.items()})
    return Simulation(traj, hist)


def _zeros(state: dict, name: str, like: np.ndarray, value: float = 0.0) -> np.ndarray:
    if name not in state:
        state[name] = np.full_like(like, value)
    return state[name]


def _sq(g: np.ndarray, v: Variant) -> np.ndarray:
    return g * g if v.square else g


def _den(acc: np.ndarray, eps: float, v: Variant) -> np.ndarray:
    return np.sqrt(acc + eps) if v.eps_inside else np.sqrt(acc) + eps


def _step(rule: str, p: np.ndarray, g: np.ndarray, st: dict, h: dict, v: Variant, dt) -> np.ndarray:
    lr = float(h["lr"]) ** v.lr_power
    down = v.direction  # -1: descend
    if rule == "sgd":
        return p + down * lr * g
    if rule == "momentum":
        mu = v.mu_sign * float(h["momentum"])
        vel = _zeros(st, "velocity", p)
        if v.momentum_form == "cs231n":  # v = mu v - lr g; p += v
            vel = mu * vel - lr * g
            out = p - down * vel
        elif v.momentum_form == "ema":  # deeplearning.ai: v = beta v + (1 - beta) g; p -= lr v
            vel = mu * vel + (1 - float(h["momentum"])) * g
            out = p + down * lr * vel
        else:  # torch: b = mu b + g; p -= lr b
            vel = mu * vel + g
            out = p + down * lr * vel
        st["velocity"] = vel
        return out
    if rule == "nesterov":
        mu = float(h["momentum"])
        v_old = _zeros(st, "velocity", p)
        v_new = mu * v_old - lr * g
        st["velocity"] = v_new
        used = v_new if v.nesterov_form == "saito2016" else v_old
        return p - down * (mu * mu * used - (1 + mu) * lr * g)
    if rule == "adagrad":
        acc = _zeros(st, "accumulator", p, v.accum_init) + _sq(g, v)
        st["accumulator"] = acc
        return p + down * lr * g / _den(acc, float(h["eps"]), v)
    if rule == "rmsprop":
        a = float(h["decay"])
        c = _zeros(st, "cache", p)
        c = (1 - a) * c + a * _sq(g, v) if v.ema_swapped else a * c + (1 - a) * _sq(g, v)
        st["cache"] = c
        return p + down * lr * g / _den(c, float(h["eps"]), v)
    if rule in ("adam", "adamw"):
        return _adam(rule, p, g, st, h, v, lr, down)
    raise ValueError(f"no formula for rule {rule!r}")


def _adam(rule: str, p, g, st: dict, h: dict, v: Variant, lr: float, down: int):
    b1, b2, eps = float(h["beta1"]), float(h["beta2"]), float(h["eps"])
    wd = float(h.get("weight_decay", 0.0)) if rule == "adamw" else 0.0
    if rule == "adamw" and v.wd_mode == "coupled":
        g = g + wd * p
    st["t"] = st.get("t", 0) + (0 if v.t_frozen and "t" in st else 1)
    t = st["t"] + v.t_offset  # the t the bias correction uses
    m = b1 * _zeros(st, "m", p) + (1 - b1) * g
    sq = _sq(g, v)
    s = (1 - b2) * _zeros(st, "v", p) + b2 * sq if v.ema_swapped else b2 * _zeros(st, "v", p) + (1 - b2) * sq
    st["m"], st["v"] = m, s
    c1, c2 = 1 - b1**t, 1 - b2**t
    if v.bias_correction == "folded":  # Saito: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
        lr_t = lr * math.sqrt(c2) / c1 if c1 != 0 else math.inf
        step = lr_t * m / _den(s, eps, v)
    else:
        m_hat = m / c1 if v.bias_correction in ("both", "m_only") else m
        v_hat = s / c2 if v.bias_correction in ("both", "v_only") else s
        step = lr * m_hat / _den(v_hat, eps, v)
    if rule == "adamw" and v.wd_mode == "decoupled":
        p = p * (1 - lr * wd)
    out = p + down * step
    if rule == "adamw" and v.wd_mode == "after":
        out = out * (1 - lr * wd)
    return out


def magnitudes(rule: str, params, grads, hyper: dict, variant: Variant | None = None) -> list[dict[str, np.ndarray]]:
    """Per step and element, an upper bound of |p| plus the magnitude of every term of the step so far.

    The same formula run on |g| and |p| (every sum becomes a sum of magnitudes: |m| <= m(|g|)), so
    rounding error, which is relative to the magnitude of the terms, can be bounded by eps times
    this (oracles.optim.judge's a priori error estimate)."""
    v = (variant or Variant()).with_(direction=1, mu_sign=1)
    absg = [{k: np.abs(np.asarray(a, dtype=np.float64)) for k, a in g.items()} for g in grads]
    absp = {k: np.abs(np.asarray(a, dtype=np.float64)) for k, a in params.items()}
    if rule == "momentum" and v.momentum_form == "cs231n":
        v = v.with_(momentum_form="torch")  # the same magnitudes, without the cs231n form's minus sign
    sim = simulate(rule, absp, absg, hyper, v)
    if sim is None:
        return [dict(absp) for _ in grads]
    if rule == "nesterov":  # mu^2 v_old - (1 + mu) lr g mixes signs: bound both terms
        sim = simulate("momentum", absp, absg, hyper, v.with_(momentum_form="torch", lr_power=1))
        extra = float(hyper["momentum"]) ** 2 + 1 + float(hyper["momentum"])
        return [{k: absp[k] + extra * (a - absp[k]) for k, a in step.items()} for step in sim.trajectory]
    return sim.trajectory


def state_magnitudes(rule: str, params, grads, hyper: dict, variant: Variant | None = None) -> list[dict]:
    """Per step: parameter -> state name -> the magnitude of every term that state summed (as ``magnitudes``)."""
    v = (variant or Variant()).with_(direction=1, mu_sign=1)
    absg = [{k: np.abs(np.asarray(a, dtype=np.float64)) for k, a in g.items()} for g in grads]
    absp = {k: np.abs(np.asarray(a, dtype=np.float64)) for k, a in params.items()}
    scale = 1.0
    if rule == "nesterov" or (rule == "momentum" and v.momentum_form == "cs231n"):
        # v = mu v - lr g has the magnitude of lr times torch's b = mu b + |g|
        rule, v, scale = "momentum", v.with_(momentum_form="torch", nesterov_form="sutskever"), float(hyper["lr"])
    sim = simulate(rule, absp, absg, hyper, v)
    if sim is None:
        return [{} for _ in grads]
    return [{k: {n: (a * scale if isinstance(a, np.ndarray) else a) for n, a in st.items()} for k, st in step.items()}
            for step in sim.states]
