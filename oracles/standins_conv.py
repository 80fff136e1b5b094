"""Stand-ins for the course helpers of the convolution assignments (numpy, written here).

The courses hand these out; students import them and never write them. When a submission arrives
without them (or, for CS231n, without the compiled Cython extension, which a grader never builds),
the loader uses these texts instead of a stub, and the report says so (oracles.loader.COURSE_HELPERS).

* ``im2col_cython`` (CS231n ``cs231n/im2col_cython.pyx``): ``im2col_cython``, ``col2im_cython``,
  ``col2im_6d_cython`` with the extension's signatures and layouts: columns of ``im2col_cython``
  are ordered (out_y, out_x, n), rows (c, ky, kx); ``col2im_6d_cython`` takes (C, HH, WW, N, out_h,
  out_w). Without them the course's ``conv_forward_fast``/``conv_backward_fast`` (and so
  ``conv_relu_pool_*`` in layer_utils, which ThreeLayerConvNet calls) raise NameError.
* ``common.util`` (Saito): ``im2col``, ``col2im``, ``conv_output_size`` with the book's layout
  (rows (n, out_y, out_x), columns (c, ky, kx)).
"""

from __future__ import annotations

__all__ = ["CS231N_IM2COL_CYTHON", "SAITO_COMMON_UTIL", "COURSE_HELPERS_CONV"]

CS231N_IM2COL_CYTHON = '''
import numpy as np


def _out(H, W, field_height, field_width, padding, stride):
    return (H + 2 * padding - field_height) // stride + 1, (W + 2 * padding - field_width) // stride + 1


def _padded(x, p):
    N, C, H, W = x.shape
    out = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=x.dtype)
    out[:, :, p:p + H, p:p + W] = x
    return out


def im2col_cython(x, field_height, field_width, padding, stride):
    N, C, H, W = x.shape
    HH, WW = _out(H, W, field_height, field_width, padding, stride)
    xp = _padded(x, padding)
    cols = np.zeros((C, field_height, field_width, HH, WW, N), dtype=x.dtype)
    for ky in range(field_height):
        for kx in range(field_width):
            patch = xp[:, :, ky:ky + stride * HH:stride, kx:kx + stride * WW:stride]  # (N, C, HH, WW)
            cols[:, ky, kx] = patch.transpose(1, 2, 3, 0)
    return cols.reshape(C * field_height * field_width, HH * WW * N)


def col2im_cython(cols, N, C, H, W, field_height, field_width, padding, stride):
    HH, WW = _out(H, W, field_height, field_width, padding, stride)
    c = cols.reshape(C, field_height, field_width, HH, WW, N)
    xp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for ky in range(field_height):
        for kx in range(field_width):
            xp[:, :, ky:ky + stride * HH:stride, kx:kx + stride * WW:stride] += c[:, ky, kx].transpose(3, 0, 1, 2)
    return xp[:, :, padding:padding + H, padding:padding + W]


def col2im_6d_cython(cols, N, C, H, W, HH, WW, pad, stride):
    out_h, out_w = _out(H, W, HH, WW, pad, stride)
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for ky in range(HH):
        for kx in range(WW):
            patch = cols[:, ky, kx].transpose(1, 0, 2, 3)  # (N, C, out_h, out_w)
            xp[:, :, ky:ky + stride * out_h:stride, kx:kx + stride * out_w:stride] += patch
    return xp[:, :, pad:pad + H, pad:pad + W]
'''

SAITO_COMMON_UTIL = '''
import numpy as np


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    return (input_size + 2 * pad - filter_size) / stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=input_data.dtype)
    img[:, :, pad:pad + H, pad:pad + W] = input_data
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w), dtype=input_data.dtype)
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=col.dtype)
    for y in range(filter_h):
        for x in range(filter_w):
            img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride] += col[:, :, y, x]
    return img[:, :, pad:H + pad, pad:W + pad]
'''

# module name (as the submission imports it) -> stand-in text
COURSE_HELPERS_CONV = {
    "cs231n.im2col_cython": CS231N_IM2COL_CYTHON,
    "im2col_cython": CS231N_IM2COL_CYTHON,
    "common.util": SAITO_COMMON_UTIL,
}
