"""The directional screen's fast paths (oracles/fd_screen.py): the batched rank-one pass gives the
central differences a plain loss evaluation gives, and the vectorised judge never passes a tensor
that compare_tensor (whose verdict it attaches) would not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oracles import fd_screen
from oracles import finite_diff as fd
from oracles import torch_autograd as ta
from oracles.case import Case, Spec
from oracles.strategies import draw_case
from tests.test_finite_diff import SPACE


def _case(seed: int, reg: float = 0.0, reduction: str = "sum") -> Case:
    rng = np.random.default_rng(seed)
    sizes = (5, 4, 3)
    spec = Spec(sizes, ("tanh", "sigmoid"), "quadratic", reduction=reduction, reg=reg)
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.standard_normal((sizes[l], sizes[l - 1]))
        params[f"b{l}"] = rng.standard_normal(sizes[l])
    return Case(spec, params, rng.standard_normal((3, sizes[0])), rng.random((3, sizes[-1])))


@pytest.mark.parametrize("reg,reduction", [(0.0, "sum"), (0.3, "mean")])
def test_batched_directions_equal_plain_central_differences(reg, reduction, screen_path):
    case = _case(4, reg, reduction)
    grads = ta.loss_and_grads(case)[1]
    res = fd.screen(case, grads, names=["W1", "b1", "W2", "b2", "x"], directions=3)
    for name, r in res.items():
        theta = case.x if name == "x" else case.params[name]
        U = fd_screen._dense(fd_screen._directions(name, theta.shape, 3, 0))
        h = fd.STEP * max(1.0, float(np.abs(theta).max()))
        for k in range(3):
            def at(t, name=name, k=k, U=U):
                if name == "x":
                    return fd.loss(case, x=case.x + t * U[k])
                return fd.loss(case, params={**case.params, name: case.params[name] + t * U[k]})

            plain = (at(h) - at(-h)) / (2 * h)
            assert r.fd[k] == pytest.approx(plain, rel=1e-6, abs=1e-9), (name, k)
            assert r.claimed[k] == pytest.approx(float(np.sum(U[k] * grads[name])), rel=1e-12, abs=1e-12)


def test_vectorised_judge_never_passes_what_compare_tensor_fails(screen_path):
    """Errors swept across the allowed bound: every tensor the fast judge passed carries a
    compare_tensor verdict that passes too, and the sweep reaches both sides of the bound."""
    fast, statuses = 0, set()
    for seed in range(6):
        case = draw_case(SPACE, seed, max_layers=3, max_width=6, max_batch=5)
        grads = ta.loss_and_grads(case)[1]
        rng = np.random.default_rng(seed)
        for rel in 10.0 ** np.arange(-13, -5, 0.25):
            noisy = {k: g + rel * max(1.0, float(np.abs(g).max())) * rng.standard_normal(g.shape)
                     for k, g in grads.items()}
            for r in fd.screen(case, noisy).values():
                statuses.add(r.status)
                if r.status != "pass":
                    continue
                fast += r._judge is not None
                assert r.verdict is not None and r.verdict.status == "pass", (case.describe(), r.name, rel)
                assert "screen" in r.message
    assert fast > 50 and {"pass", "fail"} <= statuses, (fast, statuses)


def test_judge_margin_sends_near_bound_tensors_to_compare_tensor():
    # a claimed vector exactly on the bound (at est = 0) is not "clearly inside": compare_tensor decides it
    from oracles.compare import compare_tensor, tolerance

    tol = tolerance("float64", "fd")
    f = [1.0, -2.0, 0.5]
    allowed = tol.rtol * math.hypot(*f) + tol.atol * 2.0
    on = [f[0] + allowed, f[1], f[2]]
    assert fd_screen._judge_together(["W1"], [f], [on], [[False] * 3], 0.0, "float64") == []
    inside = [f[0] + 0.5 * allowed, f[1], f[2]]
    assert fd_screen._judge_together(["W1"], [f], [inside], [[False] * 3], 0.0, "float64") == ["W1"]
    assert compare_tensor("W1", inside, f, oracle="fd", scale=2.0 / math.sqrt(3)).status == "pass"
    # a direction across a kink, or a non-finite claim: never decided here
    assert fd_screen._judge_together(["W1"], [f], [inside], [[False, True, False]], 0.0, "float64") == []
    assert fd_screen._judge_together(["W1"], [f], [[math.nan, -2.0, 0.5]], [[False] * 3], 0.0, "float64") == []


def test_the_rounding_floor_is_computed_only_when_needed(monkeypatch, screen_path):
    case = _case(5)
    grads = ta.loss_and_grads(case)[1]
    calls = []
    real = fd_screen._floor
    monkeypatch.setattr(fd_screen, "_floor", lambda net: calls.append(1) or real(net))
    res = fd.screen(case, grads)
    assert all(r.status == "pass" for r in res.values()) and calls == []
    # read: the estimate and the verdict are those of the floor
    r = res["W1"]
    assert r.err_est.shape == r.fd.shape and np.all(r.err_est > 0) and calls
    assert r.verdict.status == "pass" and r.verdict.allowed > 0
    wrong = {**grads, "W1": grads["W1"] * 1.01}
    assert fd.screen(case, wrong)["W1"].status == "fail"


def test_sigmoid_shortcut_equals_plain_pass_and_falls_back_where_it_overflows(monkeypatch):
    """W and b entering a sigmoid layer take e^-z e^-(+-hP) (fd_screen._directional_pass): the same losses as
    the plain pass to rounding; where a step is so large that the product is inf * 0, the plain pass is used.
    (The numpy pass; the compiled one's fallback: tests/test_fd_kernel.py.)"""
    monkeypatch.setattr(fd_screen, "_kernels", lambda: None)
    rng = np.random.default_rng(3)
    spec = Spec((6, 5, 3), ("sigmoid", "sigmoid"), "quadratic")
    params = {"W1": rng.standard_normal((5, 6)), "b1": rng.standard_normal(5),
              "W2": rng.standard_normal((3, 5)), "b2": rng.standard_normal(3)}
    case = Case(spec, params, rng.standard_normal((4, 6)), rng.random((4, 3)))
    net = fd._prepare(case, floor=False)
    keys = {n: (n, case.params[n].shape, 4, 0) for n in ["W1", "b1", "W2", "b2"]}
    dirs = {n: fd_screen._directions(*k) for n, k in keys.items()}
    groups = {}
    at = 0
    for k, pair in ((1, ["W1", "b1"]), (2, ["W2", "b2"])):
        fac = [fd_screen._direction_factors(net, n, dirs[n]) for n in pair]
        P, Q = np.concatenate([f[1] for f in fac]), np.concatenate([f[2] for f in fac])
        groups[k] = [(at, P, Q, fd_screen._select_rows(tuple(keys[n] for n in pair)))]
        at += len(P)
    hs = np.full((at, 1), 1e-3) * np.array([1.0, -1.0])
    short, _ = fd_screen._directional_pass(net, groups, hs, fd._Work())
    plain, _ = fd_screen._directional_pass(net, {k: [g[:3] + (None,) for g in v] for k, v in groups.items()},
                                           hs, fd._Work())
    assert np.allclose(short, plain, rtol=1e-14, atol=0) and not np.array_equal(short, plain)
    # a step of thousands: e^-z underflows to 0 where e^-(+-hP) overflows; the screen falls back to the plain pass
    huge = Case(spec, {**params, "W1": params["W1"] * 1e3}, case.x * 1e8, case.y)
    used = []
    from oracles import fd_pass

    real = fd_pass._directional_pass
    monkeypatch.setattr(fd_pass, "_directional_pass",
                        lambda net, groups, hs, work: used.append(any(g[3] is not None for v in groups.values()
                                                                      for g in v)) or real(net, groups, hs, work))
    res = fd.screen(huge, ta.loss_and_grads(huge)[1], names=["W1", "b1", "W2", "b2"])
    assert used[:2] == [True, False] and all(np.isfinite(r.fd).all() for r in res.values())
