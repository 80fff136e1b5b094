"""The network's own cost for the Nielsen driver: ``total_cost``/``compute_cost`` (bound by parameter
role, lmbda probed at 0 and at reg so the file's own L2 term is what is compared) or ``cost.fn`` per
sample. Split from nielsen.py to keep modules small."""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.styles._common import Recorder, bind_roles, role_of
from oracles.styles.nielsen_build import _FORMS, _columns, _describe_call, _form, _params

__all__ = ["COST_METHODS", "net_loss", "loss_values"]


COST_METHODS = ("total_cost", "compute_cost", "cost_function", "calculate_cost", "get_cost", "calc_cost",
                "evaluate_cost", "loss")


def _l2(case: Case) -> float:
    return 0.5 * case.spec.reg * sum(float(np.sum(case.typed(case.params[f"W{l}"]).astype(np.float64) ** 2))
                                     for l in range(1, case.spec.n_layers + 1))


def loss_values(case: Case, form: str = "matrix") -> dict:
    """What the loss check hands the file's cost method, by role. network2's total_cost charges
    0.5 * (lmbda / len(data)) * sum ||W||^2, so lmbda = reg * m gives the Case's reg (0 without L2)."""
    X, Y = np.ascontiguousarray(case.typed(case.x).T), np.ascontiguousarray(case.typed(case.y).T)
    return {"batch": _columns(case), "x": _form(X, form), "y": _form(Y, form), "lmbda": case.spec.reg * case.m}


def net_loss(net, case: Case, rec: Recorder) -> float | None:
    """The network's own cost on the batch (total_cost / compute_cost, else cost.fn), None if it has none."""
    spec = case.spec
    m = case.m
    data = _columns(case)
    for name in COST_METHODS:
        total_cost = getattr(net, name, None)
        if callable(total_cost) and not isinstance(total_cost, type):
            break
    else:
        total_cost = None
    if total_cost is not None:
        form = _FORMS.get(id(type(net)), "matrix")
        values = loss_values(case, form)
        X, Y = values["x"], values["y"]
        got = bind_roles(total_cost, {**values, "lmbda": 0.0})
        if isinstance(got, str):
            rec.decline(total_cost, f"{name}(data)", got)
            return None
        what = _describe_call(name, total_cost, got)
        with_lmbda = "lmbda" in {role_of(p.name) for p in _params(total_cost)}
        # judged: the cost at lmbda = reg * m (0 without L2), or at 0 plus the L2 term when it takes no lmbda
        rec.bound("loss", name, total_cost, got, form=form, **({"reg": "added"} if spec.reg and not with_lmbda
                                                               else {}))

        def cost(lmbda):
            got = bind_roles(total_cost, {"batch": _columns(case), "x": X.copy(), "y": Y.copy(), "lmbda": lmbda})
            return rec.call("loss", what, total_cost, *got[0], **got[1])

        ok, c0 = cost(0.0)
        c0 = rec.scalar("loss", f"{what} with lmbda = 0" if with_lmbda else what, c0) if ok else None
        if c0 is None:
            return None
        value = c0 * (m if spec.reduction == "sum" else 1)
        if spec.reg:
            if not with_lmbda:
                rec.note(f"{what} takes no lmbda: the driver added 0.5 * reg * sum ||W||^2")
                return value + _l2(case)
            ok, cr = cost(values["lmbda"])
            cr = rec.scalar("loss", what, cr) if ok else None
            if cr is None:
                return None
            value += cr - c0  # the file's own 0.5 * (lmbda / n) * sum ||W||^2 with lmbda / n = reg
        return value
    costobj = getattr(net, "cost", None)
    fn = getattr(costobj, "fn", None)
    feed = getattr(net, "feedforward", None)
    if not (callable(fn) and callable(feed)):
        return None
    # judged: the mean of cost.fn(feedforward(x), y) over the samples, plus the L2 term the driver adds
    rec.obs.calls["loss"] = {"fn": "cost.fn", "args": [], "kwargs": [], **({"reg": "added"} if spec.reg else {})}
    total = 0.0
    for xi, yi in data:
        ok, a = rec.call("loss", "feedforward(x)", feed, xi)
        if not ok:
            return None
        ok, c = rec.call("loss", "cost.fn(a, y)", fn, a, yi)
        c = rec.scalar("loss", "cost.fn(a, y)", c) if ok else None
        if c is None:
            return None
        total += c
    value = total / m if spec.reduction == "mean" else total
    if spec.reg:
        value += _l2(case)
        rec.note("loss = cost.fn per sample plus 0.5 * reg * sum ||W||^2 added by the driver")
    return value
