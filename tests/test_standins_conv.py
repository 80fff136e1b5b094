"""The stand-ins for the courses' conv helpers (oracles/standins_conv.py) have the helpers' layouts:
im2col as torch's unfold arranged the way each course arranges it, col2im as its adjoint."""

from __future__ import annotations

import types

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from oracles.compare import compare_tensor
from oracles.standins_conv import CS231N_IM2COL_CYTHON, SAITO_COMMON_UTIL
from tests import conv_twins as tw


def _module(text):
    m = types.ModuleType("standin")
    exec(compile(text, "<standin>", "exec"), m.__dict__)
    return m


CY, UTIL = _module(CS231N_IM2COL_CYTHON), _module(SAITO_COMMON_UTIL)


@st.composite
def problem(draw):
    def i(lo, hi):
        return draw(st.integers(lo, hi))

    k, _, stride, pad, H, W = tw.geometry(i, square=True)
    rng = np.random.default_rng(i(0, 2**31 - 1))
    return rng.standard_normal((i(1, 3), i(1, 3), H, W)), k, stride, pad, rng


def _adjoint(name, x, cols, back_of):
    c = np.random.default_rng(1).standard_normal(cols.shape)
    back = back_of(c)
    assert back.shape == x.shape
    v = compare_tensor(name, np.sum(x * back), np.sum(cols * c), scale=float(np.abs(x).sum() * np.abs(c).max()))
    assert v.passed, v.message


@given(problem())
def test_cs231n_im2col_cython_layout_and_adjoints(p):
    x, k, s, pad, _ = p
    N, C, H, W = x.shape
    unf = F.unfold(torch.tensor(x), (k, k), padding=pad, stride=s)  # (N, C k k, L), L = (out_y, out_x)
    cols = CY.im2col_cython(x, k, k, pad, s)
    assert np.array_equal(cols, unf.permute(1, 2, 0).reshape(unf.shape[1], -1).numpy())  # columns (y, x, n)
    _adjoint("col2im_cython", x, cols, lambda c: CY.col2im_cython(c, N, C, H, W, k, k, pad, s))
    strided = unf.permute(1, 0, 2).reshape(unf.shape[1], -1).numpy()  # conv_forward_strides: columns (n, y, x)
    Ho, Wo = (H + 2 * pad - k) // s + 1, (W + 2 * pad - k) // s + 1
    _adjoint("col2im_6d_cython", x, strided,
             lambda c: CY.col2im_6d_cython(c.reshape(C, k, k, N, Ho, Wo), N, C, H, W, k, k, pad, s))


@given(problem())
def test_saito_util_standin_is_the_books_layout(p):
    from reference import saito_conv

    x, k, s, pad, _ = p
    col = UTIL.im2col(x, k, k, s, pad)
    assert np.array_equal(col, saito_conv.im2col(x, k, k, s, pad))
    _adjoint("col2im", x, col, lambda c: UTIL.col2im(c, x.shape, k, k, s, pad))
