"""oracles/conv_ops.py (the FD oracle's numpy forwards) against torch's F.conv2d / max_pool2d / avg_pool2d."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from oracles import conv_ops
from oracles.compare import compare_tensor
from tests import conv_twins as tw


@st.composite
def problem(draw):
    def i(lo, hi):
        return draw(st.integers(lo, hi))

    kh, kw, stride, pad, H, W = tw.geometry(i)
    rng = np.random.default_rng(i(0, 2**31 - 1))
    N, C, Fn = i(1, 3), i(1, 3), i(1, 3)
    return (rng.standard_normal((N, C, H, W)), rng.standard_normal((Fn, C, kh, kw)), rng.standard_normal(Fn),
            stride, pad)


@given(problem())
def test_conv2d_is_torch_conv2d(p):
    x, w, b, stride, pad = p
    expected = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride, padding=pad).numpy()
    v = compare_tensor("out", conv_ops.conv2d(x, w, b, stride, pad), expected)
    assert v.passed, v.message


@given(problem())
def test_pools_are_torch_pools_and_winner_is_torch_index(p):
    x, w, _, stride, _ = p
    kh, kw = w.shape[2:]
    if kh > x.shape[2] or kw > x.shape[3]:
        return
    t = torch.tensor(x)
    out, winner = conv_ops.max_pool2d(x, kh, kw, stride)
    expected, idx = F.max_pool2d(t, (kh, kw), stride, return_indices=True)  # idx: flat index in the image
    assert np.array_equal(out, expected.numpy())
    r, s = np.divmod(winner, kw)
    Ho, Wo = out.shape[2:]
    rows = np.arange(Ho)[:, None] * stride + r
    cols = np.arange(Wo)[None, :] * stride + s
    assert np.array_equal(rows * x.shape[3] + cols, idx.numpy())
    v = compare_tensor("avg", conv_ops.avg_pool2d(x, kh, kw, stride), F.avg_pool2d(t, (kh, kw), stride).numpy())
    assert v.passed, v.message


def test_max_pool_winner_of_a_tie_is_the_first():
    x = np.array([[[[2.0, 1.0], [2.0, 2.0]]]])
    out, winner = conv_ops.max_pool2d(x, 2, 2, 2)
    assert out.item() == 2.0 and winner.item() == 0
