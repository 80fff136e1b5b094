"""The bug models of oracles/conv_bug_models.py reproduce the mutants they are meant to name, exactly,
and the correct model reproduces torch: so a diagnosis that matches a model names that bug."""

from __future__ import annotations

import numpy as np
import pytest

from oracles import conv_bug_models as bm
from oracles.compare import compare_tensor
from reference.mutants_conv import CONV_MUTANTS
from tests import conv_twins as tw

RNG = np.random.default_rng(42)
X = RNG.standard_normal((2, 2, 7, 6))
W = RNG.standard_normal((3, 2, 3, 2))
B = RNG.standard_normal(3)
STRIDE, PAD = 2, 1
HO, WO = (7 + 2 * PAD - 3) // STRIDE + 1, (6 + 2 * PAD - 2) // STRIDE + 1
DOUT = RNG.standard_normal((2, 3, HO, WO))


def _same(name, a, e):
    v = compare_tensor(name, a, e, oracle="impl")
    return v.passed


def test_correct_conv_model_is_torch():
    res = tw.conv2d(X, W, B, DOUT, STRIDE, PAD)
    got = bm.conv_backward_model(X, W, DOUT, STRIDE, PAD)
    for k in ("dx", "dw", "db"):
        assert _same(k, got[k], res[k])


@pytest.mark.parametrize("mutant,bug", [
    ("cs231n_conv_dx_flipped_kernel", "conv_flipped_kernel"),
    ("cs231n_conv_backward_ignores_stride", "stride_backward"),
    ("cs231n_conv_dx_overwrites_overlaps", "overlap_overwrite"),
    ("cs231n_conv_dx_padding_not_cropped", "pad_not_cropped"),
])
def test_conv_model_reproduces_its_mutant_and_differs_from_the_truth(mutant, bug):
    impl = CONV_MUTANTS[mutant].impl
    _, cache = impl.conv_forward_naive(X, W, B, {"stride": STRIDE, "pad": PAD})
    dx, dw, db = impl.conv_backward_naive(DOUT, cache)
    model = bm.conv_backward_model(X, W, DOUT, STRIDE, PAD, bug)
    truth = bm.conv_backward_model(X, W, DOUT, STRIDE, PAD)
    assert bug in bm.CONV_MODELS
    for k, v in (("dx", dx), ("dw", dw), ("db", db)):
        assert _same(k, v, model[k]), k
    assert any(model[k].shape != truth[k].shape or not _same(k, model[k], truth[k]) for k in model)


@pytest.mark.parametrize("mutant,rule", [
    ("cs231n_max_pool_grad_to_whole_window", "pool_route_all"),
    ("cs231n_max_pool_grad_without_window_offset", "pool_route_wrong"),
    ("cs231n_max_pool_grad_assigned_not_accumulated", "overlap_overwrite"),
    (None, "pool_ties_first"),
])
def test_pool_model_reproduces_its_mutant(mutant, rule):
    k, s = 3, 2  # overlapping windows
    x = np.round(RNG.standard_normal((2, 3, 7, 7)) * 2) / 2  # coarse values: ties happen
    dout = RNG.standard_normal((2, 3, 3, 3))
    impl = CONV_MUTANTS[mutant].impl if mutant else CONV_MUTANTS["cs231n_conv_dx_flipped_kernel"].reference
    _, cache = impl.max_pool_forward_naive(x, {"pool_height": k, "pool_width": k, "stride": s})
    dx = impl.max_pool_backward_naive(dout, cache)
    assert _same("dx", dx, bm.max_pool_backward_model(x, dout, k, k, s, rule))
    if mutant:
        assert not _same("dx", bm.max_pool_backward_model(x, dout, k, k, s, rule),
                         bm.max_pool_backward_model(x, dout, k, k, s))


def test_tie_conventions_agree_without_ties_and_differ_with_them():
    x = RNG.standard_normal((1, 2, 4, 4))
    dout = RNG.standard_normal((1, 2, 2, 2))
    first = tw.max_pool2d(x, dout, (2, 2), 2)["dx"]
    for rule in bm.TIE_CONVENTIONS:
        assert _same(rule, bm.max_pool_backward_model(x, dout, 2, 2, 2, rule), first)
    tied = np.zeros((1, 1, 2, 2))
    g = np.ones((1, 1, 1, 1))
    assert bm.max_pool_backward_model(tied, g, 2, 2, 2, "pool_ties_first").sum() == 1.0
    assert bm.max_pool_backward_model(tied, g, 2, 2, 2, "pool_ties_all").sum() == 4.0
    assert np.all(bm.max_pool_backward_model(tied, g, 2, 2, 2, "pool_ties_split") == 0.25)


def test_avg_pool_model_is_torch_and_undivided_is_the_dlai_mutant():
    from reference import dlai_conv

    x = RNG.standard_normal((2, 5, 5, 3))  # NHWC for dlai
    dA = RNG.standard_normal((2, 2, 2, 3))
    x_nchw, d_nchw = x.transpose(0, 3, 1, 2), dA.transpose(0, 3, 1, 2)
    res = tw.avg_pool2d(x_nchw, d_nchw, (3, 3), 2)
    assert _same("dx", bm.avg_pool_backward_model(x_nchw.shape, d_nchw, 3, 3, 2), res["dx"])
    impl = CONV_MUTANTS["dlai_average_pool_not_divided"].impl
    _, cache = impl.pool_forward(x, {"f": 3, "stride": 2}, mode="average")
    got = impl.pool_backward(dA, cache, mode="average").transpose(0, 3, 1, 2)
    assert _same("dx", got, bm.avg_pool_backward_model(x_nchw.shape, d_nchw, 3, 3, 2, scale=9.0))
    assert dlai_conv is not impl
