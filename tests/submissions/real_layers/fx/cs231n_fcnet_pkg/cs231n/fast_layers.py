# ruff: noqa
"""Course code (the handed-out fast layers), reduced; written for bpcheck's tests.

Like the course's fast_layers.py it imports the compiled Cython extension inside try/except ImportError:
when the extension was never built, col2im_6d_cython is simply undefined and conv_backward_fast raises
NameError. Not the learner's code, and not the learner's fault.
"""
import numpy as np

try:
    from cs231n.im2col_cython import col2im_6d_cython
except ImportError:
    print("run `python setup.py build_ext --inplace` in the cs231n directory")


def conv_forward_fast(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    assert (H + 2 * pad - HH) % stride == 0, "height does not work"
    assert (W + 2 * pad - WW) % stride == 0, "width does not work"
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param, out)


def conv_backward_fast(dout, cache):
    x, w, b, conv_param, out = cache
    db = dout.sum(axis=(0, 2, 3))
    cols = np.zeros((w.shape[1], w.shape[2], w.shape[3], x.shape[0], out.shape[2], out.shape[3]))
    dx = col2im_6d_cython(cols, *x.shape, w.shape[2], w.shape[3], conv_param["pad"], conv_param["stride"])
    return dx, np.zeros_like(w), db
