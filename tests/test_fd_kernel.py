"""The compiled first stage of the MLP screen (oracles/fd_kernel.py) against the numpy one it replaces
(oracles/fd_screen.py): the same steps, the same kinks, central differences equal up to a fraction of
the rounding floor both are judged with, the same claimed projections, and the same vectorised judge.
Both run on cases drawn from the finite-difference test space (every activation, loss, target kind,
reduction, the L2 term, float32 Cases) and on every tensor the screen checks, x and the A_l included."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracles import fd_screen
from oracles import finite_diff as fd
from oracles import torch_autograd as ta
from oracles.case import Case, Spec
from oracles.fd_forward import _prepare
from oracles.strategies import draw_case
from tests.test_finite_diff import SPACE

kernel = fd_screen._kernels()
pytestmark = pytest.mark.skipif(kernel is None, reason="numba is not available: the compiled screen cannot run")


def _inputs(case: Case, d: int, seed: int):
    names = fd.fd_names(case)
    keys = {n: (n, fd_screen._shape(case, n), d, 0) for n in names}
    dirs = {n: fd_screen._directions(*k) for n, k in keys.items()}
    rng = np.random.default_rng(seed)
    grads = {n: rng.standard_normal(k[1]) for n, k in keys.items()}
    return names, keys, dirs, grads


@given(seed=st.integers(0, 10**6), dtype=st.sampled_from(["float64", "float32"]), shuffled=st.booleans())
def test_compiled_first_stage_equals_the_numpy_one(seed, dtype, shuffled):
    case = draw_case(SPACE, seed, dtype=dtype, max_layers=kernel.MAX_LAYERS, max_width=6, max_batch=5)
    names, keys, dirs, grads = _inputs(case, 3, seed)
    if shuffled:  # any order of names: rows come back in that order
        names = list(np.random.default_rng(seed).permutation(names))
    net = _prepare(case, floor=False)
    fd_np, steps_np, _, kink_np = fd_screen._screen_values(net, names, dirs, keys, two_steps=False)
    fd_k, claimed_k, kink_k, steps_k, _, _ = kernel.first_stage(case, [keys[n] for n in names], grads)
    # (equal for W, b, x; an A_l's step scales with max |a_l|, which the two forward passes round apart)
    assert np.allclose(steps_np, steps_k, rtol=1e-13, atol=0)
    assert np.array_equal(kink_np, kink_k), case.describe()
    # the two differ by rounding only: inside the floor 4 eps S / h the screen allows one evaluation for it
    # (measured over 2,000 drawn cases: at most 0.75 of it)
    floor = fd_screen._err_rows(net, steps_np)
    ok = ~kink_np
    assert np.array_equal(np.isnan(fd_np), np.isnan(fd_k))
    assert np.all(np.abs(fd_np - fd_k)[ok] <= floor[ok]), (case.describe(), np.abs(fd_np - fd_k)[ok] / floor[ok])
    claimed_np = np.array([fd_screen._along(dirs[n], grads[n]) for n in names])
    assert np.allclose(claimed_k, claimed_np, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(claimed_np).max())))
    # stage 2's +-2h points: the same kinks there too
    fd2_np, _, trunc_np, kink2_np = fd_screen._screen_values(net, names, dirs, keys, two_steps=True)
    _, _, kink2_k, _, _, _ = kernel.first_stage(case, [keys[n] for n in names], grads, mult=2.0)
    assert np.array_equal(kink2_np, kink_k | kink2_k)


@given(seed=st.integers(0, 10**6), log_rel=st.floats(-13, -5))
def test_compiled_judge_clears_what_the_python_judge_clears(seed, log_rel):
    """fd_kernel._judge is fd_screen._family_scale and _judge_together, compiled: the same family scale
    and the same tensors cleared, on claimed gradients swept across the allowed bound."""
    from oracles.compare import tolerance

    case = draw_case(SPACE, seed, max_layers=3, max_width=6, max_batch=5)
    names, keys, dirs, _ = _inputs(case, 4, seed)
    grads = ta.loss_and_grads(case)[1]
    rng = np.random.default_rng(seed)
    noisy = {n: g + 10.0**log_rel * max(1.0, float(np.abs(g).max())) * rng.standard_normal(g.shape)
             for n, g in grads.items() if n in names}
    names = [n for n in names if n in noisy]
    tol = tolerance(case.spec.dtype, "fd")
    fd_k, claimed, kink, _, family, cleared = kernel.first_stage(
        case, [keys[n] for n in names], noisy, tol=(tol.rtol, tol.atol, fd_screen.judge_margin))
    fd_l, kink_l = fd_k.tolist(), kink.tolist()
    assert family == pytest.approx(fd_screen._family_scale(list(zip(fd_l, kink_l))), rel=1e-12, abs=0)
    assert cleared == fd_screen._judge_together(names, fd_l, claimed.tolist(), kink_l, family, case.spec.dtype)


def test_compiled_screen_gives_the_numpy_screens_verdicts(monkeypatch):
    """Whole screens, both ways, on correct and 1%-wrong gradients: the same statuses, tensor by tensor."""
    seen = set()
    for seed in range(12):
        case = draw_case(SPACE, seed, max_layers=kernel.MAX_LAYERS, max_width=6, max_batch=5)
        good = ta.loss_and_grads(case)[1]
        for grads in (good, {**good, "b1": good["b1"] * np.where(np.arange(good["b1"].size) == 0, 1.01, 1.0)}):
            compiled = fd.screen(case, grads)
            monkeypatch.setattr(fd_screen, "_kernels", lambda: None)
            plain = fd.screen(case, grads)
            monkeypatch.undo()
            statuses = {n: r.status for n, r in compiled.items()}
            assert statuses == {n: r.status for n, r in plain.items()}, case.describe()
            seen |= {r.status for r in compiled.values()}
    assert {"pass", "fail"} <= seen


def test_the_shortcut_falls_back_where_it_overflows():
    """A step of thousands: e^-z underflows to 0 where e^-(+-hP) overflows (inf * 0); the compiled pass
    takes the plain way for those units, as the numpy one does, and every difference stays finite."""
    rng = np.random.default_rng(3)
    spec = Spec((6, 5, 3), ("sigmoid", "sigmoid"), "quadratic")
    params = {"W1": rng.standard_normal((5, 6)) * 1e3, "b1": rng.standard_normal(5),
              "W2": rng.standard_normal((3, 5)), "b2": rng.standard_normal(3)}
    huge = Case(spec, params, rng.standard_normal((4, 6)) * 1e8, rng.random((4, 3)))
    names, keys, dirs, grads = _inputs(huge, 4, 0)
    names = ["W1", "b1", "W2", "b2"]
    fd_k = kernel.first_stage(huge, [keys[n] for n in names], grads)[0]
    with np.errstate(over="ignore", invalid="ignore"):  # (as screen_mlp runs the numpy pass)
        fd_np = fd_screen._screen_values(_prepare(huge, floor=False), names, dirs, keys, two_steps=False)[0]
    assert np.isfinite(fd_k).all() and np.allclose(fd_k, fd_np, rtol=1e-6, atol=1e-9)


def test_deep_nets_and_switched_off_take_numpy(monkeypatch):
    """More than MAX_LAYERS layers, or BPCHECK_NO_JIT: the numpy first stage, with the same verdicts."""
    deep = draw_case(SPACE, 7, min_layers=kernel.MAX_LAYERS + 1, max_layers=kernel.MAX_LAYERS + 1, max_width=4)
    assert not kernel.takes(deep)
    called = []
    monkeypatch.setattr(kernel, "first_stage", lambda *a, **k: called.append(1))
    res = fd.screen(deep, ta.loss_and_grads(deep)[1])
    assert called == [] and all(r.status in ("pass", "nondiff") for r in res.values())
    monkeypatch.undo()
    fd_screen._kernels.cache_clear()
    monkeypatch.setenv("BPCHECK_NO_JIT", "1")
    try:
        assert fd_screen._kernels() is None
    finally:
        monkeypatch.delenv("BPCHECK_NO_JIT")
        fd_screen._kernels.cache_clear()
    assert fd_screen._kernels() is kernel


def test_read_only_and_non_contiguous_gradients_are_taken():
    """A submission's gradient may be a transposed view or read-only: the kernel's tuples get a copy."""
    case = draw_case(SPACE, 11, min_layers=2, max_layers=2, max_width=5)
    grads = ta.loss_and_grads(case)[1]
    odd = {n: np.asfortranarray(g) for n, g in grads.items()}
    for g in odd.values():
        g.flags.writeable = False
    a, b = fd.screen(case, grads), fd.screen(case, odd)
    assert {n: r.status for n, r in a.items()} == {n: r.status for n, r in b.items()}
    assert all(np.array_equal(a[n].fd, b[n].fd) and math.isfinite(float(a[n].fd.sum())) or a[n].status == "nondiff"
               for n in a)


def test_compiled_judge_leaves_near_bound_tensors_to_compare_tensor():
    """The judge margin: a claim exactly on the allowed bound (at est = 0) is not cleared, half-way is;
    a direction across a kink or a non-finite claim is never cleared (as fd_screen._judge_together)."""
    from oracles.compare import tolerance

    tol = tolerance("float64", "fd")
    f = np.array([[1.0, -2.0, 0.5]])
    allowed = tol.rtol * math.hypot(*f[0]) + tol.atol * 2.0
    no_kink = np.zeros((1, 3), dtype=bool)

    def cleared(claimed, kink=no_kink):
        return kernel.judged(f, np.array([claimed]), kink, ["W1"], tol.rtol, tol.atol, fd_screen.judge_margin)[1]

    assert cleared([1.0 + allowed, -2.0, 0.5]) == []
    assert cleared([1.0 + 0.5 * allowed, -2.0, 0.5]) == ["W1"]
    assert cleared([1.0 + 0.5 * allowed, -2.0, 0.5], np.array([[False, True, False]])) == []
    assert cleared([math.nan, -2.0, 0.5]) == []


def test_a_bias_step_across_a_relu_kink_is_marked():
    """A relu unit at exactly z = 0 (a zero input row and a zero bias): every b1 direction moves it across
    the kink, so every one is marked (and the screen calls b1 nondiff); W1's directions move z by h (x s) = 0."""
    spec = Spec((3, 4, 2), ("relu", "identity"), "quadratic")
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((4, 3)), "b1": np.array([0.0, 1.0, 2.0, 3.0]),
              "W2": rng.standard_normal((2, 4)), "b2": rng.standard_normal(2)}
    x = np.vstack([np.zeros(3), rng.standard_normal((2, 3)) + 5.0])
    case = Case(spec, params, x, rng.random((3, 2)))
    names, keys, dirs, grads = _inputs(case, 4, 0)
    names = ["W1", "b1", "W2", "b2"]
    _, _, kink, _, _, _ = kernel.first_stage(case, [keys[n] for n in names], grads)
    _, _, _, kink_np = fd_screen._screen_values(_prepare(case, floor=False), names, dirs, keys, two_steps=False)
    assert kink[1].all() and np.array_equal(kink, kink_np)
    assert fd.screen(case, ta.loss_and_grads(case)[1])["b1"].status == "nondiff"
