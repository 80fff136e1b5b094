"""Stand-ins for the helper modules courses hand out with an assignment.

Students import these (``from dnn_utils import sigmoid``) but never write them. When a submission
arrives without them, the published math written here is used instead of a stub, and the report
says so. Everything else in those modules (data loaders, plotting, test cases) stays a stub.
"""

from __future__ import annotations

import re

from oracles.standins_conv import COURSE_HELPERS_CONV

__all__ = ["COURSE_HELPERS", "is_course_helper"]

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
COURSE_HELPERS = {
    "scipy.special": _SCIPY_SPECIAL,
    **{m: _DLAI_UTILS for m in ("dnn_utils", "dnn_utils_v2", "dnn_app_utils", "dnn_app_utils_v2",
                                "dnn_app_utils_v3")},
    "planar_utils": _PLANAR_UTILS,
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
