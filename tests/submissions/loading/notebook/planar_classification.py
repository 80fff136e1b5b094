# expect: pass
# ruff: noqa (a student-like fixture: an nbconvert export, script code kept on purpose)
#!/usr/bin/env python
# coding: utf-8

# # Planar data classification with one hidden layer

# In[1]:


import numpy as np
import matplotlib.pyplot as plt
from testCases_v2 import *
import sklearn
import sklearn.datasets
from planar_utils import plot_decision_boundary, sigmoid, load_planar_dataset

get_ipython().run_line_magic('matplotlib', 'inline')
np.random.seed(1)


# In[2]:


X, Y = load_planar_dataset()
X = np.array(X)                  # kept by a naive filter (np.array is pure), but X was never loaded
Y = np.array(Y, dtype=float)
shape_X = X.shape
m = shape_X[1]
n_examples = m
print('I have m = %d training examples!' % (m))


# In[3]:


plt.scatter(X[0, :], X[1, :], c=Y, s=40, cmap=plt.cm.Spectral)
LEARNING_RATE = 1.2
hidden_sizes = [1, 2, 3, 4, 5, 20, 50]


# In[4]:


def layer_sizes(X, Y):
    n_x = X.shape[0]
    n_h = 4
    n_y = Y.shape[0]
    return (n_x, n_h, n_y)


def initialize_parameters(n_x, n_h, n_y):
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward_propagation(X, parameters):
    Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y, parameters):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
    return float(np.squeeze(-np.sum(logprobs) / m))


def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dW2 = (1 / m) * np.dot(dZ2, A1.T)
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.dot(parameters["W2"].T, dZ2) * (1 - np.power(A1, 2))
    dW1 = (1 / m) * np.dot(dZ1, X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters, grads, learning_rate=LEARNING_RATE):
    return {k: parameters[k] - learning_rate * grads["d" + k] for k in ("W1", "b1", "W2", "b2")}


# In[5]:


parameters = initialize_parameters(*layer_sizes(X, Y))
A2, cache = forward_propagation(X, parameters)
grads = backward_propagation(parameters, cache, X, Y)
print("dW1 = " + str(grads["dW1"]))


# In[6]:


accuracies = {}
for i, n_h in enumerate(hidden_sizes):
    accuracies[n_h] = n_h
