# expect: warn numpy_1x_api
# ruff: noqa (a student-like fixture: code written for the numpy 1.x its course shipped)
"""An L-layer network (deeplearning.ai style) that leans on numpy 1.x APIs that numpy 2 removed or changed:
np.math (line 20), np.int (line 26), float() of a (1, 1) cost (line 39), np.float (line 49) and
np.reshape(..., newshape=) (line 56). Correct on the course's numpy: bpcheck judges it through a
compatibility layer and WARNs naming each use; with --strict-numpy it is judged against the installed numpy."""
import numpy as np


def initialize_parameters_deep(layer_dims):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W%d" % l] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        parameters["b%d" % l] = np.zeros((layer_dims[l], 1))
    return parameters


def activation(Z, kind):
    if kind == "sigmoid":
        return 1.0 / (1.0 + np.math.e ** (-Z))
    return np.maximum(0, Z)


def L_model_forward(X, parameters):
    caches = []
    L = np.int(len(parameters) / 2)
    A = X
    for l in range(1, L + 1):
        kind = "sigmoid" if l == L else "relu"
        A_prev = A
        Z = parameters["W%d" % l].dot(A_prev) + parameters["b%d" % l]
        A = activation(Z, kind)
        caches.append((A_prev, parameters["W%d" % l], Z, kind))
    return A, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    return float(-(np.dot(Y, np.log(AL).T) + np.dot(1 - Y, np.log(1 - AL).T)) / m)


def linear_activation_backward(dA, cache):
    A_prev, W, Z, kind = cache
    if kind == "sigmoid":
        s = activation(Z, "sigmoid")
        dZ = dA * s * (1 - s)
    else:
        dZ = dA * (Z > 0)
    m = np.float(A_prev.shape[1])
    return W.T.dot(dZ), dZ.dot(A_prev.T) / m, dZ.sum(axis=1, keepdims=True) / m


def L_model_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    Y = np.reshape(Y, newshape=AL.shape)
    dA = -(Y / AL - (1 - Y) / (1 - AL))
    for l in reversed(range(1, L + 1)):
        dA_prev, grads["dW%d" % l], grads["db%d" % l] = linear_activation_backward(dA, caches[l - 1])
        grads["dA%d" % (l - 1)] = dA_prev
        dA = dA_prev
    return grads


def update_parameters(parameters, grads, learning_rate):
    return {k: v - learning_rate * grads["d" + k] for k, v in parameters.items()}
