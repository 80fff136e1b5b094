"""The mutation zoo, convolution and pooling family: the conv/pool references, each broken by ONE
realistic bug (marked ``# BUG:``), in the same form as reference.mutants (a module copy made by
``clone_module`` with one function or class replaced).

Where the bugs come from: the real learners' files read for this family (a deeplearning.ai
conv_backward that starts every window at ``vert_start = h``, ignoring the stride; the course
template's ``da_prev_pad[pad:-pad, pad:-pad]``, empty when pad = 0; CS231n files cropping dx with
the same slice) and the classics of the im2col chapter (a reshape without its transpose).

``needs`` names the inputs that make a bug show: ``kernel`` (a kernel larger than 1x1),
``pad`` (padding > 0), ``pad0`` (padding = 0), ``stride`` (stride > 1), ``overlap`` (stride <
kernel, windows overlap), ``channels`` (C > 1), ``average`` (average pooling), ``reg``.
Pure numpy + reference; the sandbox child may import it.
"""

from __future__ import annotations

import types
from dataclasses import dataclass

import numpy as np

from reference import cs231n, cs231n_cnn, cs231n_conv, dlai_conv, saito_conv
from reference.mutants import Mutant, clone_module

__all__ = ["CONV_MUTANTS", "ConvMutant", "conv_reference_impl"]

_CC = "reference/cs231n_conv.py"
_CN = "reference/cs231n_cnn.py"
_DC = "reference/dlai_conv.py"
_SC = "reference/saito_conv.py"


def conv_reference_impl(source: str):
    """The unmutated implementation behind a conv mutant's ``source``, as a student file would hold
    it: CS231n's layers.py carries affine/relu/softmax beside the conv layers."""
    if source == _CC:
        return _namespace("cs231n_layers", cs231n, cs231n_conv)
    if source == _CN:
        return _namespace("cs231n_cnn", cs231n, cs231n_conv, cs231n_cnn)
    modules = {_DC: dlai_conv, _SC: saito_conv}
    if source not in modules:
        raise ValueError(f"unknown conv mutant source {source!r}; known: {sorted([_CC, _CN, *modules])}")
    return modules[source]


def _namespace(name: str, *modules) -> types.ModuleType:
    ns = types.ModuleType(name)
    names = {k: getattr(m, k) for m in modules for k in m.__all__}
    ns.__dict__.update(names)
    ns.__all__ = list(names)
    return ns


@dataclass(frozen=True)
class ConvMutant(Mutant):
    @property
    def reference(self):
        return conv_reference_impl(self.source)


CONV_MUTANTS: dict[str, ConvMutant] = {}


def _add(name, bug_class, style, entry, description, impl, source, needs=()):
    if name in CONV_MUTANTS:
        raise ValueError(f"duplicate mutant name {name!r}")
    CONV_MUTANTS[name] = ConvMutant(name, bug_class, style, entry, description, impl, source, tuple(needs))


def _cs231n_layers(**overrides) -> types.ModuleType:
    """A CS231n layers.py with the conv layers, one of them replaced."""
    conv = clone_module(cs231n_conv, overrides)
    ns = _namespace("cs231n_layers__mutant", cs231n, conv)
    return ns


# ==== CS231n naive conv / pool (reference/cs231n_conv.py) =====================================


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")


def _conv_backward(dout, cache, *, bug):
    """conv_backward_naive with one of several planted bugs (``bug`` names it)."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = _pad(x, pad)
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(dout, w))
    dw = np.zeros_like(w, dtype=np.result_type(dout, x))
    db = np.sum(dout, axis=(0, 2, 3))
    if bug == "db_positions":
        db = np.sum(dout, axis=0)  # BUG: summed over the batch only, not over the H' x W' positions
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            if bug == "stride":
                rows, cols = slice(i, i + HH), slice(j, j + WW)  # BUG: the backward forgets the stride
            g = dout[:, :, i, j]
            if bug == "unpadded":
                dw += np.tensordot(g, x[:, :, rows, cols], axes=([0], [0]))  # BUG: windows of the unpadded x
            else:
                dw += np.tensordot(g, x_pad[:, :, rows, cols], axes=([0], [0]))
            if bug == "flip":
                dx_pad[:, :, rows, cols] += np.tensordot(g, w[:, :, ::-1, ::-1], axes=([1], [0]))  # BUG: flipped w
            elif bug == "overwrite":
                dx_pad[:, :, rows, cols] = np.tensordot(g, w, axes=([1], [0]))  # BUG: = where windows overlap
            else:
                dx_pad[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
    if bug == "no_crop":
        return dx_pad, dw, db  # BUG: dx still carries the zero padding
    if bug == "minus_pad":
        return dx_pad[:, :, pad:-pad, pad:-pad], dw, db  # BUG: an empty slice when pad = 0
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, db


def _cs_conv_backward_flipped(dout, cache):
    return _conv_backward(dout, cache, bug="flip")


def _cs_conv_backward_no_crop(dout, cache):
    return _conv_backward(dout, cache, bug="no_crop")


def _cs_conv_backward_db_positions(dout, cache):
    return _conv_backward(dout, cache, bug="db_positions")


def _cs_conv_backward_stride(dout, cache):
    return _conv_backward(dout, cache, bug="stride")


def _cs_conv_backward_unpadded(dout, cache):
    return _conv_backward(dout, cache, bug="unpadded")


def _cs_conv_backward_overwrite(dout, cache):
    return _conv_backward(dout, cache, bug="overwrite")


def _cs_conv_backward_minus_pad(dout, cache):
    return _conv_backward(dout, cache, bug="minus_pad")


def _cs_max_pool_backward_whole_window(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            # BUG: every element of the window gets the gradient, not only the max
            dx[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] += dout[:, :, i, j][:, :, None, None]
    return dx


def _cs_max_pool_backward_assigned(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            r, s = np.unravel_index(window.reshape(N, C, -1).argmax(axis=2), (ph, pw))
            dx[n, c, i * stride + r, j * stride + s] = dout[:, :, i, j]  # BUG: = ; a max shared by windows keeps one
    return dx


def _cs_max_pool_backward_no_offset(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            r, s = np.unravel_index(window.reshape(N, C, -1).argmax(axis=2), (ph, pw))
            dx[n, c, r, s] += dout[:, :, i, j]  # BUG: the window's offset (i * stride, j * stride) is missing
    return dx


_add("cs231n_conv_dx_flipped_kernel", "conv_flipped_kernel", "cs231n", "fn:conv",
     "conv_backward_naive scatters dout through the 180-degree-rotated kernel",
     _cs231n_layers(conv_backward_naive=_cs_conv_backward_flipped), _CC, ("kernel",))
_add("cs231n_conv_dx_padding_not_cropped", "pad_not_cropped", "cs231n", "fn:conv",
     "conv_backward_naive returns dx with the zero padding still on",
     _cs231n_layers(conv_backward_naive=_cs_conv_backward_no_crop), _CC, ("pad",))
_add("cs231n_conv_db_not_summed_over_positions", "db_positions", "cs231n", "fn:conv",
     "db summed over the batch but not over the output positions",
     _cs231n_layers(conv_backward_naive=_cs_conv_backward_db_positions), _CC)
_add("cs231n_conv_backward_ignores_stride", "stride_backward", "cs231n", "fn:conv",
     "conv_backward_naive places window (i, j) at (i, j) instead of (i * stride, j * stride)",
     _cs231n_layers(conv_backward_naive=_cs_conv_backward_stride), _CC, ("stride",))
_add("cs231n_conv_dw_from_unpadded_input", "padding_only", "cs231n", "fn:conv",
     "dw takes its windows from the unpadded x (right only when pad = 0)",
     _cs231n_layers(conv_backward_naive=_cs_conv_backward_unpadded), _CC, ("pad",))
_add("cs231n_conv_dx_overwrites_overlaps", "overlap_overwrite", "cs231n", "fn:conv",
     "dx assigned (=) per window instead of accumulated (+=): overlapping windows lose gradient",
     _cs231n_layers(conv_backward_naive=_cs_conv_backward_overwrite), _CC, ("overlap",))
_add("cs231n_conv_dx_crop_minus_pad", "pad_zero_crop", "cs231n", "fn:conv",
     "conv_backward_naive crops dx with [pad:-pad], empty when pad = 0 (5 of 10 real files read)",
     _cs231n_layers(conv_backward_naive=_cs_conv_backward_minus_pad), _CC, ("pad0",))
_add("cs231n_max_pool_grad_assigned_not_accumulated", "overlap_overwrite", "cs231n", "fn:max_pool",
     "max_pool_backward_naive assigns (=) the gradient: a max shared by overlapping windows keeps only one",
     _cs231n_layers(max_pool_backward_naive=_cs_max_pool_backward_assigned), _CC, ("overlap",))
_add("cs231n_max_pool_grad_to_whole_window", "pool_route_all", "cs231n", "fn:max_pool",
     "max_pool_backward_naive gives every element of the window the gradient",
     _cs231n_layers(max_pool_backward_naive=_cs_max_pool_backward_whole_window), _CC)
_add("cs231n_max_pool_grad_without_window_offset", "pool_route_wrong", "cs231n", "fn:max_pool",
     "max_pool_backward_naive routes to the max's position inside the window, not in the image",
     _cs231n_layers(max_pool_backward_naive=_cs_max_pool_backward_no_offset), _CC)


# ==== CS231n ThreeLayerConvNet (reference/cs231n_cnn.py) =======================================


class _CNNW2SizedBeforePool(cs231n_cnn.ThreeLayerConvNet):
    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float32, seed=None):
        super().__init__(input_dim, num_filters, filter_size, hidden_dim, num_classes, weight_scale, reg, dtype, seed)
        C, H, W = input_dim
        rng = np.random.default_rng(None if seed is None else seed + 1)
        # BUG: sized for the conv output; the 2x2 pool has already halved H and W
        self.params["W2"] = (weight_scale * rng.standard_normal((num_filters * H * W, hidden_dim))).astype(dtype)


class _CNNConvWeightsNotRegularised(cs231n_cnn.ThreeLayerConvNet):
    def loss(self, X, y=None):
        out = super().loss(X, y)
        if y is None:
            return out
        loss, grads = out
        grads["W1"] = grads["W1"] - self.reg * self.params["W1"]  # BUG: the conv weights get no reg * W1
        return loss, grads


def _cnn_with(cls) -> types.ModuleType:
    m = clone_module(cs231n_cnn, {"ThreeLayerConvNet": cls})
    return _namespace("cs231n_cnn__mutant", cs231n, cs231n_conv, m)


_add("cs231n_cnn_w2_sized_before_pool", "param_shape", "cs231n", "ThreeLayerConvNet",
     "ThreeLayerConvNet sizes W2 for num_filters * H * W inputs (the unpooled conv output)",
     _cnn_with(_CNNW2SizedBeforePool), _CN)
_add("cs231n_cnn_conv_weights_not_regularised", "reg_scale", "cs231n", "ThreeLayerConvNet",
     "ThreeLayerConvNet adds 0.5 reg ||W1||^2 to the loss but not reg * W1 to its gradient",
     _cnn_with(_CNNConvWeightsNotRegularised), _CN, ("reg",))


# ==== deeplearning.ai (reference/dlai_conv.py) ================================================


def _dlai_conv_backward(dZ, cache, *, bug):
    A_prev, W, b, hparameters = cache
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f, n_C_prev, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H, n_W, n_C = dZ.shape
    dA_prev = np.zeros(A_prev.shape, dtype=np.result_type(dZ, W))
    dW = np.zeros(W.shape, dtype=np.result_type(dZ, A_prev))
    db = np.zeros(b.shape, dtype=dZ.dtype)
    A_prev_pad = dlai_conv.zero_pad(A_prev, pad)
    dA_prev_pad = dlai_conv.zero_pad(dA_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                vert_start, horiz_start = h * stride, w * stride
                if bug == "stride":
                    vert_start, horiz_start = h, w  # BUG: the stride is forgotten in the backward pass
                vert_end, horiz_end = vert_start + f, horiz_start + f
                a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                if bug == "unpadded":
                    a_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, :]  # BUG: unpadded A_prev
                for c in range(n_C):
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
        if bug == "minus_pad":
            dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]  # BUG: empty slice when pad = 0
        else:
            dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]
    return dA_prev, dW, db


def _dlai_conv_backward_stride(dZ, cache):
    return _dlai_conv_backward(dZ, cache, bug="stride")


def _dlai_conv_backward_minus_pad(dZ, cache):
    return _dlai_conv_backward(dZ, cache, bug="minus_pad")


def _dlai_conv_backward_unpadded(dZ, cache):
    return _dlai_conv_backward(dZ, cache, bug="unpadded")


def _dlai_distribute_value_undivided(dz, shape):
    return np.ones(shape) * dz  # BUG: each entry gets all of dz, not dz / (n_H n_W)


_add("dlai_conv_backward_ignores_stride", "stride_backward", "dlai", "fn:conv",
     "conv_backward starts window (h, w) at vert_start = h, horiz_start = w (seen in a learner's file)",
     clone_module(dlai_conv, {"conv_backward": _dlai_conv_backward_stride}), _DC, ("stride",))
_add("dlai_conv_backward_pad_minus_pad_crop", "pad_zero_crop", "dlai", "fn:conv",
     "conv_backward crops with da_prev_pad[pad:-pad, pad:-pad], empty when pad = 0 (the template's slice)",
     clone_module(dlai_conv, {"conv_backward": _dlai_conv_backward_minus_pad}), _DC, ("pad0",))
_add("dlai_conv_dW_from_unpadded_input", "padding_only", "dlai", "fn:conv",
     "conv_backward takes a_slice from the unpadded A_prev (right only when pad = 0)",
     clone_module(dlai_conv, {"conv_backward": _dlai_conv_backward_unpadded}), _DC, ("pad",))
_add("dlai_average_pool_not_divided", "avgpool_scale", "dlai", "fn:pool",
     "distribute_value hands every entry the whole dz instead of dz / (f * f)",
     clone_module(dlai_conv, {"distribute_value": _dlai_distribute_value_undivided}), _DC, ("average", "kernel"))


def _dlai_conv_single_step_bias_each(a_slice_prev, W, b):
    s = a_slice_prev * W + b  # BUG: b broadcast onto every element, so the sum counts it f * f * n_C times
    return np.sum(s)


def _dlai_pool_backward_no_stride(dA, cache, mode="max"):
    A_prev, hparameters = cache
    f = hparameters["f"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                vert_start, horiz_start = h, w  # BUG: h * stride, w * stride (a real notebook's pool_backward)
                for c in range(n_C):
                    if mode == "max":
                        a_prev_slice = A_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, c]
                        mask = dlai_conv.create_mask_from_window(a_prev_slice)
                        dA_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, c] += mask * dA[i, h, w, c]
                    else:
                        dA_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, c] += \
                            dlai_conv.distribute_value(dA[i, h, w, c], (f, f))
    return dA_prev


_add("dlai_conv_single_step_bias_per_element", "bias_per_element", "dlai", "fn:conv",
     "conv_single_step adds b before the sum (np.sum(a_slice_prev * W + b)): the bias counts f * f * n_C times "
     "(a real v1 notebook)",
     clone_module(dlai_conv, {"conv_single_step": _dlai_conv_single_step_bias_each}), _DC, ("kernel",))
_add("dlai_pool_backward_ignores_stride", "stride_backward", "dlai", "fn:pool",
     "pool_backward starts every window at (h, w) instead of (h * stride, w * stride) (a real v1 notebook)",
     clone_module(dlai_conv, {"pool_backward": _dlai_pool_backward_no_stride}), _DC, ("stride",))


# ==== Saito (reference/saito_conv.py) =========================================================


class _SaitoConvolutionDWNoTranspose(saito_conv.Convolution):
    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = (self.col.T @ dout).reshape(FN, C, FH, FW)  # BUG: (C*FH*FW, FN) reshaped without .T first
        dcol = dout @ self.col_W.T
        return saito_conv.col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


def _saito_col2im_no_transpose(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = saito_conv.conv_output_size(H, filter_h, stride, pad)
    out_w = saito_conv.conv_output_size(W, filter_w, stride, pad)
    col = col.reshape(N, C, filter_h, filter_w, out_h, out_w)  # BUG: rows are (n, y, x), columns (c, fy, fx)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=col.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


class _SaitoPoolingDoutNotTransposed(saito_conv.Pooling):
    def backward(self, dout):
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max] = dout.flatten()  # BUG: order (N, C, h, w); rows: (N, h, w, C)
        N, C, out_h, out_w = dout.shape
        dcol = dmax.reshape(N * out_h * out_w, -1)
        return saito_conv.col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


_add("saito_conv_dW_reshaped_without_transpose", "reshape_order", "saito", "Convolution",
     "Convolution.backward reshapes col.T @ dout to (FN, C, FH, FW) without transposing it first",
     clone_module(saito_conv, {"Convolution": _SaitoConvolutionDWNoTranspose}), _SC)
_add("saito_col2im_without_transpose", "im2col_layout", "saito", "Convolution",
     "col2im reshapes the columns as (N, C, FH, FW, out_h, out_w), skipping im2col's transpose",
     clone_module(saito_conv, {"col2im": _saito_col2im_no_transpose}), _SC)
_add("saito_pooling_dout_not_transposed", "pool_route_wrong", "saito", "Pooling",
     "Pooling.backward flattens dout in (N, C, h, w) order; the windows are in (N, h, w, C) order",
     clone_module(saito_conv, {"Pooling": _SaitoPoolingDoutNotTransposed}), _SC, ("channels",))


def _register_in_zoo() -> None:
    """Into reference.mutants.MUTANTS (the zoo ``bpcheck mutants`` runs), after the MLP and optimizer mutants."""
    from reference.mutants import MUTANTS

    for name, m in CONV_MUTANTS.items():
        if name in MUTANTS and MUTANTS[name] is not m:
            raise ValueError(f"conv mutant {name!r} clashes with a mutant already in the zoo")
        MUTANTS[name] = m


_register_in_zoo()
