"""Stand-ins for the helper modules courses hand out with an assignment.

Students import these (``from dnn_utils import sigmoid``) but never write them. When a submission
arrives without them, the published math written here is used instead of a stub, and the report
says so. Everything else in those modules (data loaders, plotting, test cases) stays a stub.
"""

from __future__ import annotations

import re

from oracles.standins_conv import COURSE_HELPERS_CONV

__all__ = ["COURSE_HELPERS", "LIBRARY_STAND_INS", "is_course_helper"]

# Helper modules the courses hand out with the assignment (students import them, never write them).
# When a submission arrives without them, these stand-ins (the published math, written here) are
# used instead of a stub, and the report says so. Everything else in those modules (data loaders,
# plotting, test cases) stays a stub.
_DLAI_UTILS = """
import numpy as np

def sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z

def relu(Z):
    return np.maximum(0, Z), Z

def sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s * (1 - s)

def relu_backward(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ
"""
_PLANAR_UTILS = """
import numpy as np

def sigmoid(x):
    return 1 / (1 + np.exp(-x))
"""
_SAITO_FUNCTIONS = """
import numpy as np

def identity_function(x):
    return x

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def sigmoid_grad(x):
    return (1.0 - sigmoid(x)) * sigmoid(x)

def relu(x):
    return np.maximum(0, x)

def relu_grad(x):
    return (x > 0).astype(float)

def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)

def mean_squared_error(y, t):
    return 0.5 * np.sum((y - t) ** 2)

def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size

def softmax_loss(X, t):
    return cross_entropy_error(softmax(X), t)
"""
# deeplearning.ai course 2 week 1 ("Regularization"): the three-layer model the graded functions wrap
_REG_UTILS = """
import numpy as np

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def relu(x):
    return np.maximum(0, x)

def forward_propagation(X, parameters):
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    z1 = np.dot(W1, X) + b1
    a1 = relu(z1)
    z2 = np.dot(W2, a1) + b2
    a2 = relu(z2)
    z3 = np.dot(W3, a2) + b3
    a3 = sigmoid(z3)
    return a3, (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3)

def compute_cost(a3, Y):
    m = Y.shape[1]
    logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return 1. / m * np.nansum(logprobs)

def backward_propagation(X, Y, cache):
    m = X.shape[1]
    (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3) = cache
    dz3 = a3 - Y
    dW3 = 1. / m * np.dot(dz3, a2.T)
    db3 = 1. / m * np.sum(dz3, axis=1, keepdims=True)
    da2 = np.dot(W3.T, dz3)
    dz2 = np.multiply(da2, np.int64(a2 > 0))
    dW2 = 1. / m * np.dot(dz2, a1.T)
    db2 = 1. / m * np.sum(dz2, axis=1, keepdims=True)
    da1 = np.dot(W2.T, dz2)
    dz1 = np.multiply(da1, np.int64(a1 > 0))
    dW1 = 1. / m * np.dot(dz1, X.T)
    db1 = 1. / m * np.sum(dz1, axis=1, keepdims=True)
    return {"dz3": dz3, "dW3": dW3, "db3": db3, "da2": da2, "dz2": dz2, "dW2": dW2, "db2": db2, "da1": da1,
            "dz1": dz1, "dW1": dW1, "db1": db1}
"""
# scipy is not installed here; course code reaches for scipy.special in activations (MyTorch's GELU uses
# erf). The functions below are exact enough for float64 judging (math.erf per element).
_SCIPY_SPECIAL = """
import math
import numpy as np

_erf = np.vectorize(math.erf, otypes=[float])

def erf(x):
    r = _erf(x)
    return r if np.ndim(x) else float(r)

def erfc(x):
    return 1.0 - erf(x)

def expit(x):
    x = np.asarray(x, dtype=float)
    return np.exp(-np.logaddexp(0.0, -x))

def logsumexp(a, axis=None, keepdims=False):
    a = np.asarray(a, dtype=float)
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())[()]

def softmax(x, axis=None):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)

def log_softmax(x, axis=None):
    x = np.asarray(x, dtype=float)
    return x - logsumexp(x, axis=axis, keepdims=True)
"""
# `from past.builtins import xrange` (the `future` package, not installed here): CS231n's 2017 code.
_PAST_BUILTINS = """
import functools

xrange = range
basestring = str
unicode = str
long = int
raw_input = input
reduce = functools.reduce

def cmp(a, b):
    return (a > b) - (a < b)
"""
# Course 2 (regularization, optimization): reg_utils/opt_utils; their sigmoid/relu return the activation
# only (dnn_utils' return (A, cache)); compute_cost is the mean cross-entropy of the three-layer model.
_DLAI_C2_UTILS = """
import numpy as np

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def relu(x):
    return np.maximum(0, x)

def compute_cost(a3, Y):
    m = Y.shape[1]
    logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return 1.0 / m * np.nansum(logprobs)
"""
# Course 5 week 1 ("Building your Recurrent Neural Network - Step by Step"): rnn_utils' softmax over the columns
# (one example per column) and sigmoid, which the cells' forwards call (the file's Adam helpers are not needed)
_RNN_UTILS = """
import numpy as np

def softmax(x):
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis=0)

def sigmoid(x):
    return 1 / (1 + np.exp(-x))
"""
LIBRARY_STAND_INS = ("scipy.special", "past.builtins")
COURSE_HELPERS = {
    "scipy.special": _SCIPY_SPECIAL,
    "past.builtins": _PAST_BUILTINS,
    **{m: _DLAI_UTILS for m in ("dnn_utils", "dnn_utils_v2", "dnn_app_utils", "dnn_app_utils_v2",
                                "dnn_app_utils_v3")},
    "planar_utils": _PLANAR_UTILS,
    "rnn_utils": _RNN_UTILS,
    "reg_utils": _REG_UTILS,  # with the three-layer model the graded regularization functions wrap
    **{m: _DLAI_C2_UTILS for m in ("opt_utils", "opt_utils_v1a", "opt_utils_v1b")},
    "common.functions": _SAITO_FUNCTIONS,
    # the convolution assignments' helpers (CS231n's never-built Cython im2col, Saito's common.util)
    **COURSE_HELPERS_CONV,
}

# Course helper modules with nothing a gradient needs (test cases, data loaders, plotting, graders):
# stubbed, and named in the note as the course's helpers (not as "modules not available here").
_COURSE_STUB = re.compile(
    r"^(testCases\w*|test_cases\w*|public_tests|test_utils|outputs|\w+_utils(_v\d+)?"
    r"|cs231n\.(data_utils|fast_layers|gradient_check|vis_utils|solver|im2col\w*|layer_utils|classifiers)"
    r"|dataset\.mnist|common\.(util|gradient|optimizer|trainer|multi_layer_net\w*))$")


def is_course_helper(name: str) -> bool:
    """A module the courses hand out with an assignment (supplied here or stubbed), by its full name."""
    return name in COURSE_HELPERS or bool(_COURSE_STUB.match(name))
