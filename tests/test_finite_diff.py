"""The finite-difference oracle: agrees with autograd, chunking changes nothing, the screen and the
localisation find planted one-element bugs, kinks are reported as not differentiable."""

from __future__ import annotations

import numpy as np
import pytest

from oracles import fd_tail
from oracles import finite_diff as fd
from oracles import torch_autograd as ta
from oracles.case import ACTIVATION_NAMES, Case, Spec, SpecSpace
from oracles.compare import compare_tensor
from oracles.strategies import draw_case

# every loss (hinge included), both reductions, regularisation, every hidden activation
SPACE = SpecSpace(
    outputs=(
        ("quadratic", ACTIVATION_NAMES),
        ("binary_cross_entropy", ("sigmoid",)),
        ("softmax_cross_entropy", ("identity",)),
        ("hinge", ("identity",)),
    ),
    reductions=("mean", "sum"),
    allow_reg=True,
)


def _params(rng, sizes, scale=1.0):
    p = {}
    for l in range(1, len(sizes)):
        p[f"W{l}"] = scale * rng.standard_normal((sizes[l], sizes[l - 1]))
        p[f"b{l}"] = rng.standard_normal(sizes[l])
    return p


def _case(sizes, acts, loss="quadratic", m=4, seed=0, **kw):
    rng = np.random.default_rng(seed)
    spec = Spec(tuple(sizes), tuple(acts), loss, **kw)
    y = rng.integers(0, sizes[-1], m) if spec.target == "labels" else rng.random((m, sizes[-1]))
    return Case(spec, _params(rng, sizes), rng.standard_normal((m, sizes[0])), y)


@pytest.mark.parametrize("seed", range(24))
def test_full_fd_equals_autograd_on_random_nets(seed):
    case = draw_case(SPACE, seed, max_layers=3, max_width=6, max_batch=5)
    expected = ta.expected(case, estimate=False)
    res = fd.full(case, names=fd.fd_names(case))
    for name, g in res.grads.items():
        ok = ~res.nondiff[name]
        if not ok.any():
            continue
        v = compare_tensor(name, g[ok], expected.grads[name][ok], oracle="fd",
                           err_est=res.norm_err_est(name), context=case.describe())
        assert v.passed, v.message


def test_fd_loss_equals_torch_loss():
    for seed in range(10):
        case = draw_case(SPACE, seed, max_layers=3)
        v = compare_tensor("loss", fd.loss(case), ta.loss_and_grads(case)[0], oracle="torch")
        assert v.passed, v.message


@pytest.mark.parametrize("sizes,acts", [((5, 7, 6, 3), ("tanh", "relu", "sigmoid")), ((4, 3), ("sigmoid",))])
def test_chunked_equals_unchunked(sizes, acts):
    case = _case(sizes, acts, m=6, reg=0.1)
    names = fd.fd_names(case)
    whole = fd.full(case, names=names)
    one_by_one = fd.full(case, names=names, chunk_bytes=1)  # one element (four copies) per chunk
    for name in names:
        a, b = whole.grads[name], one_by_one.grads[name]
        assert np.array_equal(np.isnan(a), np.isnan(b))
        diff = np.nanmax(np.abs(a - b)) if a.size else 0.0
        assert diff <= 1e-14 * max(1.0, np.nanmax(np.abs(a))), f"{name}: chunking moved a value by {diff:.3g}"


def _planted(case, name, index, factor=1.01):
    grads = ta.loss_and_grads(case)[1]
    wrong = {k: v.copy() for k, v in grads.items()}
    wrong[name][index] *= factor
    return grads, wrong


def test_screen_passes_a_correct_gradient():
    case = _case((6, 5, 3), ("sigmoid", "identity"), "softmax_cross_entropy", target="labels", m=5)
    grads = ta.loss_and_grads(case)[1]
    res = fd.screen(case, grads)
    assert set(res) == {"W1", "b1", "W2", "b2", "x", "A1"}
    assert all(r.status == "pass" for r in res.values()), [r.message for r in res.values()]


@pytest.mark.parametrize("name,index", [("b1", (2,)), ("W2", (1, 3)), ("x", (2, 4)), ("A1", (0, 1))])
def test_screen_fails_one_element_off_by_one_percent_and_localise_names_it(name, index):
    case = _case((6, 5, 3), ("tanh", "sigmoid"), m=4, seed=3)
    _, wrong = _planted(case, name, index)
    res = fd.screen(case, wrong)
    failing = [k for k, r in res.items() if r.status == "fail"]
    assert failing == [name], {k: r.message for k, r in res.items()}
    loc = fd.localise(case, wrong, failing)[name]
    assert loc.status == "fail" and loc.index == index, loc.message
    assert loc.claimed_value == pytest.approx(wrong[name][index], rel=0, abs=0)
    # the FD value is the true gradient, 1% away from the claim
    assert abs(loc.fd_value * 1.01 - loc.claimed_value) < 1e-6 * abs(loc.claimed_value)


def test_single_element_tensors():
    # sizes (1, 1): W1, b1 and x are all single numbers
    case = _case((1, 1), ("sigmoid",), m=1, seed=5)
    grads, wrong = _planted(case, "W1", (0, 0))
    assert all(r.status == "pass" for r in fd.screen(case, grads).values())
    res = fd.screen(case, wrong)
    assert res["W1"].status == "fail" and res["b1"].status == "pass"
    loc = fd.localise(case, wrong, ["W1"])["W1"]
    assert loc.index == (0, 0) and loc.status == "fail"
    _, wrong_b = _planted(case, "b1", (0,))
    assert [k for k, r in fd.screen(case, wrong_b).items() if not r.passed] == ["b1"]


def test_screen_reports_a_wrong_shape_as_an_error():
    case = _case((3, 2), ("identity",))
    grads = ta.loss_and_grads(case)[1]
    grads["W1"] = grads["W1"].T
    r = fd.screen(case, grads)["W1"]
    assert r.status == "error" and "shape (3, 2), expected (2, 3)" in r.detail


def _kinked_case():
    """relu hidden layer with z1[0, 0] = 1e-9, far inside the FD step (~6e-6) of 0."""
    rng = np.random.default_rng(11)
    sizes = (3, 4, 2)
    p = _params(rng, sizes)
    x = rng.standard_normal((3, 3))
    p["b1"] = p["b1"].copy()
    p["b1"][0] = 1e-9 - p["W1"][0] @ x[0]
    case = Case(Spec(sizes, ("relu", "identity")), p, x, rng.random((3, 2)))
    z = fd.forward(case)["z"][0]
    assert 0 < z[0, 0] < 1e-8 and np.abs(z[1:, 0]).min() > 1e-3 and np.abs(z[:, 1:]).min() > 1e-3
    return case


def test_kink_crossing_is_reported_as_nondiff():
    case = _kinked_case()
    res = fd.full(case, names=["W1", "b1", "x", "W2"])
    # every element that moves z1[0, 0] crosses the kink: W1[0, :], b1[0], x[0, :]
    assert res.nondiff["b1"].tolist() == [True, False, False, False]
    assert res.nondiff["W1"][0].all() and not res.nondiff["W1"][1:].any()
    assert res.nondiff["x"][0].all() and not res.nondiff["x"][1:].any()
    assert np.isnan(res.grads["b1"][0]) and np.isfinite(res.grads["b1"][1:]).all()
    assert not res.nondiff["W2"].any()  # the kink lies upstream of W2
    # the screen's b1 directions all move z1[0, 0]: nondiff, not "mismatch"
    grads = ta.loss_and_grads(case)[1]
    scr = fd.screen(case, grads, names=["b1", "W2"])
    assert scr["b1"].status == "nondiff" and scr["b1"].passed
    assert scr["W2"].status == "pass"


def test_hinge_margin_kink_is_nondiff():
    rng = np.random.default_rng(2)
    p = _params(rng, (2, 3))
    x = rng.standard_normal((1, 2))
    # margin of class 1 against the label 0: z1 - z0 + 1 = 1e-10
    z = x @ p["W1"].T + p["b1"]
    p["b1"] = p["b1"].copy()
    p["b1"][1] += (z[0, 0] - 1 + 1e-10) - z[0, 1]
    case = Case(Spec((2, 3), ("identity",), "hinge", target="labels"), p, x, np.array([0]))
    res = fd.full(case, names=["b1"])
    assert res.nondiff["b1"].tolist() == [True, True, False]


def test_error_estimate_covers_the_actual_error():
    case = _case((4, 6, 3), ("sigmoid", "sigmoid"), m=5, seed=9)
    res = fd.full(case, names=["W1", "b2"])
    grads = ta.loss_and_grads(case)[1]
    for name in ("W1", "b2"):
        err = np.abs(res.grads[name] - grads[name])
        assert (err <= 16 * res.err_est[name] + 1e-14).all(), name
        assert (res.err_est[name] < 1e-7).all()


def test_directional_black_box():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 3))
    params = {"w": rng.standard_normal(3), "v": rng.standard_normal((2,))}
    direction = {"w": rng.standard_normal(3)}

    def f(p):
        w = np.asarray(p["w"], dtype=np.float64)
        return float(np.sin(w @ A @ w) + p["v"].sum())

    w, u = params["w"], direction["w"]
    exact = np.cos(w @ A @ w) * (u @ (A + A.T) @ w)
    value, err = fd.directional(f, params, direction)
    assert abs(value - exact) <= 16 * err + 1e-12 and err < 1e-7
    # a float32 loss needs the float32 step rule to be meaningful
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    value32, err32 = fd.directional(f, p32, direction, dtype="float32")
    w32 = p32["w"].astype(np.float64)
    exact32 = np.cos(w32 @ A @ w32) * (u @ (A + A.T) @ w32)
    assert abs(value32 - exact32) <= 16 * err32 and err32 < 1e-2


def test_bad_names_are_refused_with_the_choices():
    case = _case((3, 2), ("identity",))
    with pytest.raises(ValueError, match="unknown tensor name"):
        fd.full(case, names=["W7"])


def test_screen_judges_a_float32_implementation_by_float32_tolerances():
    import torch

    case = _case((6, 5, 3), ("tanh", "sigmoid"), m=4, seed=4).with_spec(dtype="float32")
    # a correct implementation computing in float32 (torch in float32 on the same typed inputs)
    _, _, g32, _, _, _ = ta._run(case, torch.float32)
    res = fd.screen(case, g32)
    assert all(r.status == "pass" for r in res.values()), [r.message for r in res.values()]
    # but a 1% error in one element is still found
    wrong = {k: v.copy() for k, v in g32.items()}
    wrong["W1"][1, 2] *= 1.01
    assert [k for k, r in fd.screen(case, wrong).items() if not r.passed] == ["W1"]


# the interpolated tail (smooth layers after the perturbed one) against the direct per-element path
@pytest.mark.parametrize("sizes, acts, loss, kw", [
    ((5, 7, 3), ("sigmoid", "sigmoid"), "quadratic", {"reg": 0.1}),
    ((4, 6, 5, 3), ("tanh", "softplus", "identity"), "softmax_cross_entropy", {"target": "labels"}),
    ((4, 6, 2), ("relu", "sigmoid"), "binary_cross_entropy", {"reduction": "sum"}),  # layer 1 kinked, tail smooth
    ((3, 4, 3), ("leaky_relu", "identity"), "softmax_cross_entropy", {"target": "labels"}),
])
def test_interpolated_tail_equals_the_direct_path(monkeypatch, sizes, acts, loss, kw):
    case = _case(sizes, acts, loss, m=5, seed=3, **kw)
    names = [n for n in fd.fd_names(case) if n[0] in "Wb"]
    net = fd._prepare(case)
    assert all(fd_tail._tail_model(net, n) is not None for n in names), "the fast path was not taken"
    fast = fd.full(case, names=names)
    monkeypatch.setattr(fd_tail, "_tail_model", lambda net, name: None)
    direct = fd.full(case, names=names)
    exact = ta.loss_and_grads(case)[1]
    for n in names:
        a, b = fast.grads[n], direct.grads[n]
        assert np.array_equal(fast.nondiff[n], direct.nondiff[n]), n
        ok = ~fast.nondiff[n]
        gap = np.abs(a - b)[ok]
        assert (gap <= fast.err_est[n][ok] + direct.err_est[n][ok]).all(), n
        assert (np.abs(a - exact[n])[ok] <= 16 * fast.err_est[n][ok] + 1e-14).all(), n  # the estimate covers it


def test_a_bad_interpolant_is_caught_by_its_check_and_the_direct_path_runs(monkeypatch):
    case = _case((5, 7, 3), ("sigmoid", "sigmoid"), m=5, seed=3)
    monkeypatch.setattr(fd_tail, "_FIT", fd_tail._FIT * (1 + 1e-6))  # coefficients one part in a million off
    net = fd._prepare(case)
    assert fd_tail._tail_model(net, "W1") is None
    res = fd.full(case, names=["W1"])
    exact = ta.loss_and_grads(case)[1]["W1"]
    assert np.abs(res.grads["W1"] - exact).max() <= 1e-8 * np.abs(exact).max()



def test_an_mlp_spelled_as_layers_takes_the_mlp_fast_path(monkeypatch):
    """The layer table stores [affine, act, affine, act] as the MLP it is, so full/screen/localise stay on
    this module's fast path (the generic fd_layers path, made to raise here, is never reached)."""
    from oracles.layers.table import Layer

    spec = Spec(layers=(Layer.of("affine", out=5), Layer("sigmoid"), Layer.of("affine", out=3), Layer("sigmoid")),
                input_shape=(4,), loss="quadratic")
    assert spec.is_mlp and spec == Spec((4, 5, 3), ("sigmoid", "sigmoid"), "quadratic")
    rng = np.random.default_rng(3)
    params = {k: rng.standard_normal(s) for k, s in spec.param_shapes().items()}
    case = Case(spec=spec, params=params, x=rng.standard_normal((6, 4)), y=rng.random((6, 3)), lr=0.1, seed=3)

    def generic():
        raise AssertionError("an MLP Spec went to the generic fd_layers path")

    monkeypatch.setattr(fd, "_layers", generic)
    grads = {k: v for k, v in ta.expected(case).grads.items() if k in params}
    assert all(r.status == "pass" for r in fd.screen(case, grads).values())
    full = fd.full(case, names=list(params))
    assert max(np.linalg.norm(full.grads[k] - grads[k]) / np.linalg.norm(grads[k]) for k in params) < 1e-8
    bad = {**grads, "W1": grads["W1"] * 1.01}
    assert fd.localise(case, bad, ["W1"])["W1"].status == "fail"
