"""The primary optimizer oracle: the rule's torch.optim class, stepped in float64 on the Case's gradients.

Course formulas that equal a torch rule up to a change of variables run through torch too:

* CS231n's / Saito's velocity ``v = mu v - lr g; p += v`` is ``SGD(momentum=mu)`` with v = -lr b;
* deeplearning.ai's ``v = beta v + (1 - beta) g; p -= lr v`` is ``SGD(momentum=beta,
  dampening=beta)`` whose first buffer is zero (torch starts it at g: the state is seeded);
* Saito's Adam (``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``, eps on the raw ``sqrt(v)``) is
  ``Adam`` with eps set to ``eps / sqrt(1 - b2^t)`` before step t;
* an Adam whose t starts one ahead (CS231n's 2018 starter) is ``Adam`` with its step count seeded.

``Variant.torch_expressible`` says which Variants these are; the others (Saito's 2016 Nesterov,
eps inside the sqrt, every bug) are judged against ``oracles.optim.formula`` instead, and the
report says so.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.optim import adagrad as tadagrad
from torch.optim import adam as tadam
from torch.optim import adamw as tadamw
from torch.optim import rmsprop as trmsprop
from torch.optim import sgd as tsgd

from oracles.optim.case import OptimCase
from oracles.optim.rules import Variant

__all__ = ["trajectory", "torch_optimizer"]

torch.set_num_threads(1)


class _Twin:
    """One torch.optim rule over a list of tensors, through torch.optim's functional API.

    ``torch.optim.sgd.sgd``, ``adam.adam`` ... are the single-tensor kernels the optimizer classes call
    (``foreach=False``); calling them directly skips the classes' bookkeeping, whose first construction
    imports torch._dynamo (8-15 s on this machine). tests/test_optim_oracles.py checks bit equality with
    the classes."""

    def __init__(self, rule: str, params: list[torch.Tensor], h: dict, v: Variant) -> None:
        self.rule, self.params, self.h, self.v = rule, params, h, v
        zeros = [torch.zeros_like(p) for p in params]
        self.buffers: list = [None] * len(params)
        if rule == "momentum" and v.momentum_form == "ema":
            self.buffers = [z.clone() for z in zeros]  # torch starts the buffer at g; the average starts at 0
        self.first = [z.clone() for z in zeros]
        self.second = [z.clone() for z in zeros]
        self.steps = [torch.tensor(float(v.t_offset)) for _ in params]  # Adam's step count, t_offset ahead

    def step(self, grads: list[torch.Tensor], eps: float | None = None) -> None:
        h, v = self.h, self.v
        lr = float(h["lr"])
        if self.rule in ("sgd", "momentum", "nesterov"):
            mu = 0.0 if self.rule == "sgd" else float(h["momentum"])
            # deeplearning.ai's average: buf = mu buf + (1 - dampening) g with dampening = mu
            damp = mu if (self.rule == "momentum" and v.momentum_form == "ema") else 0.0
            tsgd.sgd(self.params, grads, self.buffers, weight_decay=0.0, momentum=mu, lr=lr, dampening=damp,
                     nesterov=self.rule == "nesterov", maximize=False, foreach=False)
        elif self.rule == "adagrad":
            if not hasattr(self, "_sums"):
                self._sums = [torch.full_like(p, v.accum_init) for p in self.params]
                self._steps0 = [torch.tensor(0.0) for _ in self.params]
            tadagrad.adagrad(self.params, grads, self._sums, self._steps0, lr=lr, weight_decay=0.0, lr_decay=0.0,
                             eps=float(h["eps"]), maximize=False, foreach=False)
        elif self.rule == "rmsprop":
            if not hasattr(self, "_steps0"):
                self._steps0 = [torch.tensor(0.0) for _ in self.params]
            trmsprop.rmsprop(self.params, grads, self.second, [], [], self._steps0, lr=lr, alpha=float(h["decay"]),
                             eps=float(h["eps"]), weight_decay=0.0, momentum=0.0, centered=False, foreach=False)
        elif self.rule in ("adam", "adamw"):
            kw = dict(amsgrad=False, beta1=float(h["beta1"]), beta2=float(h["beta2"]), lr=lr,
                      eps=float(h["eps"]) if eps is None else eps, maximize=False, foreach=False)
            if self.rule == "adamw":
                tadamw.adamw(self.params, grads, self.first, self.second, [], self.steps,
                             weight_decay=float(h["weight_decay"]), **kw)
            else:
                tadam.adam(self.params, grads, self.first, self.second, [], self.steps, weight_decay=0.0, **kw)
        else:
            raise ValueError(f"no torch twin for rule {self.rule!r}")


def trajectory(case: OptimCase, variant: Variant | None = None, *, dtype=torch.float64) -> list[dict[str, np.ndarray]]:
    """Parameters after each step, from torch.optim on ``case.typed`` numbers upcast to ``dtype``."""
    v = variant or Variant()
    if not v.torch_expressible(case.rule):
        raise ValueError(f"torch.optim cannot express {v} for rule {case.rule!r}; use oracles.optim.formula")
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    names = list(case.params)
    params = [torch.from_numpy(case.typed(case.params[k]).astype(np_dtype)) for k in names]
    twin = _Twin(case.rule, params, case.hyper, v)
    out = []
    for s, g in enumerate(case.grads, start=1):
        eps = None
        if case.rule == "adam" and v.bias_correction == "folded":
            t = s + v.t_offset
            # Saito's eps sits on sqrt(v), torch's on sqrt(v / (1 - b2^t)): the same step with eps rescaled
            eps = float(case.hyper["eps"]) / math.sqrt(1 - float(case.hyper["beta2"]) ** t)
        twin.step([torch.from_numpy(case.typed(g[k]).astype(np_dtype)) for k in names], eps)
        out.append({k: p.detach().numpy().astype(np.float64, copy=True) for k, p in zip(names, params)})
    return out


def torch_optimizer(rule: str, params: list[torch.Tensor], h: dict):
    """The torch.optim *class* for a rule with the course-free defaults (for the tests that pin the twin to it)."""
    lr = float(h["lr"])
    if rule == "sgd":
        return torch.optim.SGD(params, lr=lr, foreach=False)
    if rule in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=float(h["momentum"]), nesterov=rule == "nesterov",
                               foreach=False)
    if rule == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=float(h["eps"]), foreach=False)
    if rule == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=float(h["decay"]), eps=float(h["eps"]), foreach=False)
    kw = dict(lr=lr, betas=(float(h["beta1"]), float(h["beta2"])), eps=float(h["eps"]), foreach=False)
    if rule == "adamw":
        return torch.optim.AdamW(params, weight_decay=float(h["weight_decay"]), **kw)
    return torch.optim.Adam(params, **kw)
