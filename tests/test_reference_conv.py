"""The convolution and pooling references (CS231n, deeplearning.ai, Saito) against torch itself.

Every expected value comes from torch autograd in float64 (F.conv2d, F.max_pool2d, F.avg_pool2d) on
the same inputs, or from arithmetic written out in the test; comparisons go through
oracles.compare.compare_tensor with the torch tolerance of the dtype under test. float32 inputs are
judged with the rounding the same computation shows in float32 torch (``err_est``). Geometry is
drawn by hypothesis: kernel 1-4 (rectangular where the course allows it), stride 1-3, padding 0-2,
and sizes with rows the last window does not reach.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracles.compare import compare_tensor
from reference import cs231n_cnn, cs231n_conv, dlai_conv, saito_conv
from tests import conv_twins as tw

DTYPES = ["float64", "float32"]


def _close(name, actual, expected, dtype="float64", est=None, scale=None):
    v = compare_tensor(name, actual, expected, dtype=dtype, oracle="torch", err_est=est, scale=scale)
    assert v.passed, v.message


def _check_all(res, got: dict, dtype: str, out_scale: float | None = None):
    """got maps twin keys (out, dx, dw, db) to the reference's arrays (already in NCHW layout).

    out_scale: the size of the terms an output sums, where they can cancel (an average pool of mixed signs:
    a mean of 1.9e-3 from 16 terms of size 1 rounds like the terms, 3e-17 here, not like the mean)."""
    grads = [k for k in got if k != "out"]
    scale = max(float(np.abs(res[k]).max()) for k in grads) if grads else None
    for k, v in got.items():
        assert np.asarray(v).dtype == np.dtype(dtype), f"{k} has dtype {np.asarray(v).dtype}, input was {dtype}"
        _close(k, v, res[k], dtype, tw.rounding_estimate(res, k), out_scale if k == "out" else scale)


@st.composite
def conv_problem(draw, square=False, max_pad=2):
    def i(lo, hi):
        return draw(st.integers(lo, hi))

    kh, kw, stride, pad, H, W = tw.geometry(i, square=square, max_pad=max_pad)
    N, C, F = i(1, 3), i(1, 3), i(1, 3)
    seed = i(0, 2**31 - 1)
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, kh, kw)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    H_out, W_out = (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1
    dout = rng.standard_normal((N, F, H_out, W_out)).astype(dtype)
    return dict(x=x, w=w, b=b, dout=dout, stride=stride, pad=pad, dtype=dtype)


@st.composite
def pool_problem(draw, square=False):
    def i(lo, hi):
        return draw(st.integers(lo, hi))

    ph, pw, stride, _, H, W = tw.geometry(i, square=square, max_pad=0)
    N, C = i(1, 3), i(1, 3)
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(i(0, 2**31 - 1))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)  # distinct values: no ties
    H_out, W_out = (H - ph) // stride + 1, (W - pw) // stride + 1
    dout = rng.standard_normal((N, C, H_out, W_out)).astype(dtype)
    return dict(x=x, dout=dout, ph=ph, pw=pw, stride=stride, dtype=dtype)


def _nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def _nchw(a):
    return np.ascontiguousarray(np.asarray(a).transpose(0, 3, 1, 2))


# ---- CS231n -----------------------------------------------------------------------------------


@given(conv_problem())
def test_cs231n_conv_naive_matches_torch(p):
    res = tw.conv2d(p["x"], p["w"], p["b"], p["dout"], p["stride"], p["pad"], with_estimate=p["dtype"] == "float32")
    conv_param = {"stride": p["stride"], "pad": p["pad"]}
    out, cache = cs231n_conv.conv_forward_naive(p["x"], p["w"], p["b"], conv_param)
    dx, dw, db = cs231n_conv.conv_backward_naive(p["dout"], cache)
    _check_all(res, {"out": out, "dx": dx, "dw": dw, "db": db}, p["dtype"])
    assert cache[0] is p["x"] and cache[3] is conv_param  # the course's cache: (x, w, b, conv_param)


@given(pool_problem())
def test_cs231n_max_pool_naive_matches_torch(p):
    res = tw.max_pool2d(p["x"], p["dout"], (p["ph"], p["pw"]), p["stride"], with_estimate=p["dtype"] == "float32")
    pool_param = {"pool_height": p["ph"], "pool_width": p["pw"], "stride": p["stride"]}
    out, cache = cs231n_conv.max_pool_forward_naive(p["x"], pool_param)
    dx = cs231n_conv.max_pool_backward_naive(p["dout"], cache)
    _check_all(res, {"out": out, "dx": dx}, p["dtype"])


def test_cs231n_pad_zero_is_cropped_right():
    # x[:, :, pad:-pad] is empty when pad = 0; the reference must still return a full dx
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    dout = rng.standard_normal((2, 2, 3, 3))
    res = tw.conv2d(x, w, b, dout, 1, 0)
    out, cache = cs231n_conv.conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    dx, dw, db = cs231n_conv.conv_backward_naive(dout, cache)
    _check_all(res, {"out": out, "dx": dx, "dw": dw, "db": db}, "float64")


def test_cs231n_max_pool_tie_goes_to_first_max_like_torch():
    # every window of x holds its max twice; torch gives the gradient to the first in row-major order
    x = np.array([[[[1.0, 3.0, 2.0, 2.0],
                    [3.0, 0.0, 0.0, 1.0],
                    [5.0, 5.0, 0.0, 0.0],
                    [5.0, 5.0, 0.0, 0.0]]]])
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    res = tw.max_pool2d(x, dout, (2, 2), 2)
    expected = np.zeros_like(x)
    expected[0, 0, 0, 1], expected[0, 0, 0, 2], expected[0, 0, 2, 0], expected[0, 0, 2, 2] = 1, 2, 3, 4
    assert np.array_equal(res["dx"], expected)  # the convention we claim is torch's
    out, cache = cs231n_conv.max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert np.array_equal(cs231n_conv.max_pool_backward_naive(dout, cache), expected)


def test_cs231n_overlapping_pool_windows_accumulate():
    # stride 1 < pool 2: the global max wins all four windows around it and collects all four gradients
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 9.0
    x[0, 0] += np.arange(9).reshape(3, 3) * 1e-3  # no ties
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    out, cache = cs231n_conv.max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    dx = cs231n_conv.max_pool_backward_naive(dout, cache)
    assert dx[0, 0, 1, 1] == 10.0 and np.count_nonzero(dx) == 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_cs231n_three_layer_convnet_matches_torch(dtype, reg):
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(3)
    N, C, H, W, nf, fs, hidden, classes = 3, 2, 6, 4, 3, 3, 5, 4
    net = cs231n_cnn.ThreeLayerConvNet((C, H, W), nf, fs, hidden, classes, weight_scale=0.5, reg=reg,
                                       dtype=np.dtype(dtype).type, seed=1)
    for k in ("b1", "b2", "b3"):  # nonzero biases, so a wrong bias gradient shows
        net.params[k] = rng.standard_normal(net.params[k].shape).astype(dtype)
    X = rng.standard_normal((N, C, H, W)).astype(dtype)
    y = rng.integers(0, classes, N)
    loss, grads = net.loss(X, y)

    def run(tdtype):
        t = {k: torch.tensor(v.astype(np.float64), dtype=tdtype, requires_grad=True) for k, v in net.params.items()}
        tx = torch.tensor(X.astype(np.float64), dtype=tdtype, requires_grad=True)
        h = F.max_pool2d(F.relu(F.conv2d(tx, t["W1"], t["b1"], stride=1, padding=(fs - 1) // 2)), 2, 2)
        h = F.relu(h.reshape(N, -1) @ t["W2"] + t["b2"])
        scores = h @ t["W3"] + t["b3"]
        ell = F.cross_entropy(scores, torch.tensor(y)) + 0.5 * reg * sum((t[k] ** 2).sum() for k in ("W1", "W2", "W3"))
        ell.backward()
        return float(ell.detach()), {k: v.grad.double().numpy() for k, v in t.items()}, tx.grad.double().numpy()

    e_loss, e_grads, e_dx = run(torch.float64)
    est = None
    if dtype == "float32":
        l32, g32, dx32 = run(torch.float32)
        est = {k: float(np.linalg.norm(g32[k] - e_grads[k])) for k in g32}
        est["loss"], est["dX"] = abs(l32 - e_loss), float(np.linalg.norm(dx32 - e_dx))
    scale = max(float(np.abs(g).max()) for g in e_grads.values())
    _close("loss", loss, e_loss, dtype, est and est["loss"], abs(e_loss))
    for k, g in grads.items():
        assert g.shape == net.params[k].shape, k
        _close(k, g, e_grads[k], dtype, est and est[k], scale)
    _close("dX", net.dX, e_dx, dtype, est and est["dX"], scale)
    assert net.loss(X).shape == (N, classes)  # scores when y is None


# ---- deeplearning.ai -----------------------------------------------------------------------------


def test_dlai_zero_pad_pads_height_and_width_only():
    X = np.arange(2 * 3 * 2 * 4, dtype=float).reshape(2, 3, 2, 4) + 1
    P = dlai_conv.zero_pad(X, 2)
    assert P.shape == (2, 7, 6, 4)
    assert np.array_equal(P[:, 2:5, 2:4, :], X)
    assert P.sum() == X.sum()  # everything else is zero
    assert dlai_conv.zero_pad(X, 0).shape == X.shape


def test_dlai_conv_single_step_is_sum_of_products_plus_bias():
    rng = np.random.default_rng(1)
    a, W, b = rng.standard_normal((4, 4, 3)), rng.standard_normal((4, 4, 3)), rng.standard_normal((1, 1, 1))
    Z = dlai_conv.conv_single_step(a, W, b)
    expected = sum(a[i, j, c] * W[i, j, c] for i in range(4) for j in range(4) for c in range(3)) + b[0, 0, 0]
    _close("Z", Z, expected)
    assert np.ndim(Z) == 0


@given(conv_problem(square=True))
def test_dlai_conv_matches_torch(p):
    res = tw.conv2d(p["x"], p["w"], p["b"], p["dout"], p["stride"], p["pad"], with_estimate=p["dtype"] == "float32")
    W = np.ascontiguousarray(p["w"].transpose(2, 3, 1, 0))  # (f, f, n_C_prev, n_C)
    b = p["b"].reshape(1, 1, 1, -1)
    hparameters = {"stride": p["stride"], "pad": p["pad"]}
    Z, cache = dlai_conv.conv_forward(_nhwc(p["x"]), W, b, hparameters)
    dA_prev, dW, db = dlai_conv.conv_backward(_nhwc(p["dout"]), cache)
    assert dW.shape == W.shape and db.shape == b.shape
    got = {"out": _nchw(Z), "dx": _nchw(dA_prev), "dw": dW.transpose(3, 2, 0, 1), "db": db.reshape(-1)}
    _check_all(res, got, p["dtype"])


@given(pool_problem(square=True), st.sampled_from(["max", "average"]))
def test_dlai_pool_matches_torch(p, mode):
    twin = tw.max_pool2d if mode == "max" else tw.avg_pool2d
    res = twin(p["x"], p["dout"], (p["ph"], p["ph"]), p["stride"], with_estimate=p["dtype"] == "float32")
    hparameters = {"f": p["ph"], "stride": p["stride"]}
    A, cache = dlai_conv.pool_forward(_nhwc(p["x"]), hparameters, mode=mode)
    dA_prev = dlai_conv.pool_backward(_nhwc(p["dout"]), cache, mode=mode)
    _check_all(res, {"out": _nchw(A), "dx": _nchw(dA_prev)}, p["dtype"],
               out_scale=float(np.abs(p["x"]).max()) if mode == "average" else None)


def test_dlai_mask_marks_every_tied_max_the_course_convention():
    x = np.array([[1.0, 4.0, 4.0], [0.0, 4.0, -1.0]])
    assert np.array_equal(dlai_conv.create_mask_from_window(x), x == 4.0)
    assert dlai_conv.create_mask_from_window(np.array([[2.0, -1.0], [0.5, 1.0]])).sum() == 1
    # so a tied window hands its gradient to each tied entry (torch: to the first one only)
    A_prev = np.array([2.0, 2.0, 1.0, 0.0]).reshape(1, 2, 2, 1)
    _, cache = dlai_conv.pool_forward(A_prev, {"f": 2, "stride": 2})
    dA_prev = dlai_conv.pool_backward(np.full((1, 1, 1, 1), 3.0), cache)
    assert np.array_equal(dA_prev.reshape(-1), [3.0, 3.0, 0.0, 0.0])


def test_dlai_distribute_value_spreads_evenly():
    a = dlai_conv.distribute_value(2.0, (2, 4))
    assert a.shape == (2, 4)
    assert np.allclose(a, 0.25) and np.isclose(a.sum(), 2.0)


def test_dlai_pool_rejects_unknown_mode():
    with pytest.raises(ValueError, match="max"):
        dlai_conv.pool_forward(np.zeros((1, 2, 2, 1)), {"f": 2, "stride": 2}, mode="avg")


# ---- Saito ----------------------------------------------------------------------------------------


@given(conv_problem())
def test_saito_im2col_is_torch_unfold_and_col2im_its_adjoint(p):
    import torch
    import torch.nn.functional as F

    x, (kh, kw), s, pad = p["x"].astype(np.float64), p["w"].shape[2:], p["stride"], p["pad"]
    col = saito_conv.im2col(x, kh, kw, s, pad)
    N = x.shape[0]
    unf = F.unfold(torch.tensor(x), (kh, kw), padding=pad, stride=s)  # (N, C kh kw, L)
    expected = unf.transpose(1, 2).reshape(-1, unf.shape[1]).numpy()  # rows (n, out_y, out_x)
    assert col.shape == expected.shape and np.array_equal(col, expected)
    # col2im is im2col's adjoint: <im2col(x), c> == <x, col2im(c)>, and equals torch's fold
    c = np.random.default_rng(7).standard_normal(col.shape)
    back = saito_conv.col2im(c, x.shape, kh, kw, s, pad)
    assert back.shape == x.shape
    _close("<x, col2im(c)>", np.sum(x * back), np.sum(col * c), scale=float(np.abs(x).sum() * np.abs(c).max()))
    folded = F.fold(torch.tensor(c).reshape(N, -1, c.shape[1]).transpose(1, 2), x.shape[2:], (kh, kw),
                    padding=pad, stride=s).numpy()
    _close("col2im", back, folded)


@given(conv_problem())
def test_saito_convolution_matches_torch(p):
    res = tw.conv2d(p["x"], p["w"], p["b"], p["dout"], p["stride"], p["pad"], with_estimate=p["dtype"] == "float32")
    layer = saito_conv.Convolution(p["w"], p["b"], p["stride"], p["pad"])
    out = layer.forward(p["x"])
    dx = layer.backward(p["dout"])
    _check_all(res, {"out": out, "dx": dx, "dw": layer.dW, "db": layer.db}, p["dtype"])


@given(pool_problem())
def test_saito_pooling_matches_torch(p):
    res = tw.max_pool2d(p["x"], p["dout"], (p["ph"], p["pw"]), p["stride"], with_estimate=p["dtype"] == "float32")
    layer = saito_conv.Pooling(p["ph"], p["pw"], p["stride"])
    out = layer.forward(p["x"])
    dx = layer.backward(p["dout"])
    _check_all(res, {"out": out, "dx": dx}, p["dtype"])


def test_saito_pooling_pads_with_zeros_not_minus_inf():
    # all-negative input, pad 1: a window that reaches the zero border reports 0 (torch would say max(x))
    x = -1.0 - np.arange(4.0).reshape(1, 1, 2, 2)
    layer = saito_conv.Pooling(2, 2, stride=2, pad=1)
    out = layer.forward(x)
    assert out.shape == (1, 1, 2, 2) and np.all(out == 0.0)
    # = torch's max-pool on the zero-padded input (the named convention a checker compares against)
    dout = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    res = tw.max_pool2d(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), dout, (2, 2), 2)
    _close("out", out, res["out"])
    _close("dx", layer.backward(dout), res["dx"][:, :, 1:-1, 1:-1])


def test_saito_pooling_tie_goes_to_first_max_like_torch():
    x = np.array([[[[1.0, 3.0], [3.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]]]])  # two channels, both tied
    dout = np.array([[[[5.0]], [[7.0]]]])
    layer = saito_conv.Pooling(2, 2, stride=2)
    layer.forward(x)
    dx = layer.backward(dout)
    res = tw.max_pool2d(x, dout, (2, 2), 2)
    assert np.array_equal(dx, res["dx"])
    assert dx[0, 0, 0, 1] == 5.0 and dx[0, 1, 0, 0] == 7.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_saito_simple_convnet_matches_torch(dtype):
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(5)
    N, C, H, nf, fs, pad, stride, hidden, classes = 3, 2, 7, 3, 3, 1, 1, 6, 4
    net = saito_conv.SimpleConvNet((C, H, H), {"filter_num": nf, "filter_size": fs, "pad": pad, "stride": stride},
                                   hidden, classes, weight_init_std=0.5, seed=2, dtype=np.dtype(dtype).type)
    for k in ("b1", "b2", "b3"):
        net.params[k][...] = rng.standard_normal(net.params[k].shape)  # in place: the layers hold these arrays
    x = rng.standard_normal((N, C, H, H)).astype(dtype)
    t = rng.integers(0, classes, N)
    grads = net.gradient(x, t)
    loss = net.loss(x, t)

    def run(tdtype):
        p = {k: torch.tensor(v.astype(np.float64), dtype=tdtype, requires_grad=True) for k, v in net.params.items()}
        tx = torch.tensor(x.astype(np.float64), dtype=tdtype, requires_grad=True)
        h = F.max_pool2d(F.relu(F.conv2d(tx, p["W1"], p["b1"], stride=stride, padding=pad)), 2, 2)
        h = F.relu(h.reshape(N, -1) @ p["W2"] + p["b2"])
        ell = F.cross_entropy(h @ p["W3"] + p["b3"], torch.tensor(t))
        ell.backward()
        return float(ell.detach()), {k: v.grad.double().numpy() for k, v in p.items()}, tx.grad.double().numpy()

    e_loss, e_grads, e_dx = run(torch.float64)
    est = None
    if dtype == "float32":
        l32, g32, dx32 = run(torch.float32)
        est = {k: float(np.linalg.norm(g32[k] - e_grads[k])) for k in g32}
        est["loss"], est["dx"] = abs(l32 - e_loss), float(np.linalg.norm(dx32 - e_dx))
    scale = max(float(np.abs(g).max()) for g in e_grads.values())
    _close("loss", loss, e_loss, dtype, est and est["loss"], abs(e_loss))
    for k in net.params:
        _close(k, grads[k], e_grads[k], dtype, est and est[k], scale)
    _close("dx", net.dx, e_dx, dtype, est and est["dx"], scale)


# ---- no reference writes into what it was handed ------------------------------------------------


def test_conv_references_leave_their_inputs_alone():
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((2, 3, 3, 3))
    keep = [a.copy() for a in (x, w, b, dout)]
    _, cache = cs231n_conv.conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    cs231n_conv.conv_backward_naive(dout, cache)
    _, cache = cs231n_conv.max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    cs231n_conv.max_pool_backward_naive(dout[:, :2, :2, :2], cache)
    layer = saito_conv.Convolution(w, b, 2, 1)
    layer.forward(x)
    layer.backward(dout)
    Z, cache = dlai_conv.conv_forward(_nhwc(x), w.transpose(2, 3, 1, 0), b.reshape(1, 1, 1, 3), {"stride": 2, "pad": 1})
    dZ = _nhwc(dout)
    dZ_keep = dZ.copy()
    dlai_conv.conv_backward(dZ, cache)
    for before, after in zip(keep, (x, w, b, dout)):
        assert np.array_equal(before, after)
    assert np.array_equal(dZ, dZ_keep)
