# expect: fail missing_1_over_m
# ruff: noqa (a student-like fixture: Python 2)
"""The Python 2 L-layer network with `1 / m` in linear_backward: both operands are ints in Python 2, so it
is 0 and every dW and db is zero. Wrong on the course's own Python 2, and bpcheck must say so (it keeps '/'
as Python 2 meant it) instead of passing it because Python 3 would have divided."""
import numpy as np


def initialize_parameters_deep(layer_dims):
    parameters = {}
    for l in xrange(1, len(layer_dims)):
        parameters['W' + str(l)] = np.random.randn(layer_dims[l], layer_dims[l-1]) / np.sqrt(layer_dims[l-1])
        parameters['b' + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def linear_forward(A, W, b):
    Z = np.dot(W, A) + b
    return Z, (A, W, b)


def linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = linear_forward(A_prev, W, b)
    if activation == "sigmoid":
        A = 1 / (1 + np.exp(-Z))
    else:
        A = np.maximum(0, Z)
    return A, (linear_cache, Z)


def L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) / 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters['W%d' % l], parameters['b%d' % l], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters['W%d' % L], parameters['b%d' % L], "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    cost = (-1. / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    return np.squeeze(cost)


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation):
    linear_cache, Z = cache
    if activation == "relu":
        dZ = np.array(dA, copy=True)
        dZ[Z <= 0] = 0
    else:
        s = 1 / (1 + np.exp(-Z))
        dZ = dA * s * (1 - s)
    return linear_backward(dZ, linear_cache)


def L_model_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = - (np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    grads["dA" + str(L-1)], grads["dW" + str(L)], grads["db" + str(L)] = \
        linear_activation_backward(dAL, caches[L-1], "sigmoid")
    for l in reversed(xrange(L-1)):
        dA_prev, dW, db = linear_activation_backward(grads["dA" + str(l+1)], caches[l], "relu")
        grads["dA" + str(l)] = dA_prev
        grads["dW" + str(l+1)] = dW
        grads["db" + str(l+1)] = db
    return grads


def update_parameters(parameters, grads, learning_rate):
    new = {}
    for key, value in parameters.iteritems():
        new[key] = value - learning_rate * grads["d" + key]
    return new


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    parameters = initialize_parameters_deep(layers_dims)
    for i in xrange(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        cost = compute_cost(AL, Y)
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, learning_rate)
        if print_cost and i % 100 == 0:
            print "Cost after iteration %i: %f" % (i, cost)
    return parameters
