"""Mutants for the diagnosis hypotheses of issue 9 (patterns seen in real files), one realistic bug each.

Registered into reference.mutants.MUTANTS (imported at the bottom of reference/mutants.py):
a parameter's gradient used in place of the parameter, the activation derivative applied twice,
a scalar added where an array was meant, the L2 term of the loss added once per sample.
"""

from __future__ import annotations

import numpy as np

from reference import cs231n, dlai_two_layer, nielsen
from reference.mutants import _add, clone_module

_D2 = "reference/dlai_two_layer.py"
_N = "reference/nielsen.py"
_C = "reference/cs231n.py"


def _dlai2_backward(bug: str):
    def backward_propagation(parameters, cache, X, Y):
        m = X.shape[1]
        W2 = parameters["W2"]
        A1, A2 = cache["A1"], cache["A2"]
        Y = Y.reshape(A2.shape)
        dZ2 = A2 - Y
        dW2 = dZ2 @ A1.T / m
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        if bug == "grad_for_param":
            dZ1 = (dW2.T @ dZ2) * (1 - A1**2)  # BUG: dW2 where W2 belongs
        else:
            dZ1 = (W2.T @ dZ2) * (1 - A1**2) ** 2  # BUG: tanh'(z) applied twice
        dW1 = dZ1 @ X.T / m
        db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

    backward_propagation.__qualname__ = f"backward_propagation[{bug}]"
    return backward_propagation


class _FCNetVerdictBugs(cs231n.FullyConnectedNet):
    bug = ""

    def loss(self, X, y=None):
        out = super().loss(X, y)
        if y is None:
            return out
        loss, grads = out
        weights = [self.params[f"W{i}"] for i in range(1, self.num_layers + 1)]
        if self.bug == "scalar_reg":
            for i, W in enumerate(weights, 1):
                grads[f"W{i}"] = grads[f"W{i}"] - self.reg * W + self.reg * np.sum(W)  # BUG: a scalar, not reg * W
        elif self.bug == "l2_per_sample":
            n = X.shape[0]
            loss = loss + (n - 1) * 0.5 * self.reg * sum(np.sum(W * W) for W in weights)  # BUG: once per sample
        elif self.bug == "reg_on_bias":
            # the 2017+ handout's reg * sum(W^2) (a convention), extended to the biases (the bug)
            biases = [self.params[f"b{i}"] for i in range(1, self.num_layers + 1)]
            loss = loss + 0.5 * self.reg * sum(np.sum(W * W) for W in weights)
            loss = loss + self.reg * sum(np.sum(b * b) for b in biases)  # BUG: biases regularised
            for i, (W, b) in enumerate(zip(weights, biases), 1):
                grads[f"W{i}"] = grads[f"W{i}"] + self.reg * W
                grads[f"b{i}"] = grads[f"b{i}"] + 2 * self.reg * b
        return loss, grads


class _FCNetRegOnBias(_FCNetVerdictBugs):
    bug = "reg_on_bias"


def _softmax_loss_of_sigmoid(x, y):
    s = 1.0 / (1.0 + np.exp(-x))  # BUG: a sigmoid on the scores before the softmax (the spec's scores are linear)
    loss, ds = cs231n.softmax_loss(s, y)
    return loss, ds * s * (1.0 - s)


class _NielsenSGDFullBatchesOnly(nielsen.Network):
    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, seed=None):
        training_data = list(training_data)
        n = len(training_data)
        for _ in range(epochs):
            for k in range(0, n, mini_batch_size):
                # BUG: indexes a full mini-batch; the last, shorter one runs off the end
                mini_batch = [training_data[k + i] for i in range(mini_batch_size)]
                self.update_mini_batch(mini_batch, eta, lmbda, n)
        return []


class _NielsenDecayOverBatch(nielsen.Network):
    def update_mini_batch(self, mini_batch, eta, lmbda=0.0, n=1):
        super().update_mini_batch(mini_batch, eta, lmbda, len(mini_batch))  # BUG: lmbda / m, not lmbda / n


class _FCNetScalarReg(_FCNetVerdictBugs):
    bug = "scalar_reg"


class _FCNetL2PerSample(_FCNetVerdictBugs):
    bug = "l2_per_sample"


_add("dlai2_grad_for_param", "grad_for_param", "dlai", None, "dZ1 = dW2^T dZ2 * tanh' (W2 needed)",
     clone_module(dlai_two_layer, {"backward_propagation": _dlai2_backward("grad_for_param")}), _D2)
_add("dlai2_tanh_prime_twice", "derivative_twice", "dlai", None, "dZ1 = W2^T dZ2 * tanh'(Z1)^2",
     clone_module(dlai_two_layer, {"backward_propagation": _dlai2_backward("derivative_twice")}), _D2)
_add("cs231n_reg_scalar_sum", "scalar_added", "cs231n", None, "dW gets reg * np.sum(W) (a scalar) for reg * W",
     clone_module(cs231n, {"FullyConnectedNet": _FCNetScalarReg}), _C, ("reg",))
_add("cs231n_l2_per_sample", "l2_per_sample", "cs231n", None, "the loss adds the L2 term once per sample",
     clone_module(cs231n, {"FullyConnectedNet": _FCNetL2PerSample}), _C, ("reg", "batch"))
_add("cs231n_full_reg_on_bias", "reg_on_bias", "cs231n", None,
     "reg * sum(W^2 + b^2): the L2 term of the loss and its gradient cover the biases too",
     clone_module(cs231n, {"FullyConnectedNet": _FCNetRegOnBias}), _C, ("reg",))
_add("nielsen_decay_over_batch", "reg_decay_scale", "nielsen", None,
     "update_mini_batch decays the weights by lmbda / len(mini_batch) instead of lmbda / n",
     clone_module(nielsen, {"Network": _NielsenDecayOverBatch}), _N, ("reg",))
_add("nielsen_sgd_full_batches_only", "raised", "nielsen", None,
     "SGD indexes full mini-batches: IndexError on the last, shorter one",
     clone_module(nielsen, {"Network": _NielsenSGDFullBatchesOnly}), _N)
_add("cs231n_sigmoid_on_scores", "output_activation", "cs231n", None,
     "a sigmoid applied to the class scores before softmax_loss (forward and backward consistent)",
     clone_module(cs231n, {"softmax_loss": _softmax_loss_of_sigmoid}), _C)
