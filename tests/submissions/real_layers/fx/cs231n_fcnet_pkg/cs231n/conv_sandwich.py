# ruff: noqa
"""A learner's own conv-relu sandwich on the course's fast layers, written for bpcheck's tests.

Correct, but it cannot be run here: conv_backward_fast needs the course's compiled Cython extension,
which nobody built (col2im_6d_cython undefined). bpcheck must say "not checked: needs the course's
compiled extension" (ERROR: it could not judge), never FAIL the learner.
"""
from cs231n.fast_layers import conv_backward_fast, conv_forward_fast
from cs231n.layers import relu_backward, relu_forward


def conv_relu_forward(x, w, b, conv_param):
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    conv_cache, relu_cache = cache
    return conv_backward_fast(relu_backward(dout, relu_cache), conv_cache)
