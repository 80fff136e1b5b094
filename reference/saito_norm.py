"""Saito's BatchNormalization and Dropout layers and MultiLayerNetExtend ("Deep Learning from
Scratch", ch. 6), one sample per row.

    BatchNormalization (train):  mu, var over the batch; xn = (x - mu) / sqrt(var + 1e-6)
                                 out = gamma xn + beta
                                 running = momentum running + (1 - momentum) batch   (biased var)
    BatchNormalization (test):   xn = (x - running_mean) / sqrt(running_var + 1e-6)
    Dropout (train):             out = x * mask, mask = rand > dropout_ratio   (not inverted:
    Dropout (test):              out = x * (1 - dropout_ratio)                  test time scales)

The book's conventions: eps is 10e-7 (= 1e-6), inside the square root; dropout_ratio is the
probability of DROPPING a unit; an image batch (N, C, H, W) is normalised per feature of the
flattened (N, C*H*W) rows (not per channel); gamma and beta are held by reference, so they must
be updated in place, like the Affine layers' W and b. No layer writes into x or dout.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from reference.layer_net import _init_scale
from reference.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss

__all__ = ["BatchNormalization", "Dropout", "MultiLayerNetExtend"]

EPS = 10e-7  # the book's spelling of 1e-6


class Dropout:
    def __init__(self, dropout_ratio: float = 0.5) -> None:
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio  # True: kept
            return x * self.mask
        # every unit now takes part: scale by the keep probability the training saw
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.mask  # the units dropped in forward get no gradient


class BatchNormalization:
    def __init__(self, gamma, beta, momentum: float = 0.9, running_mean=None, running_var=None) -> None:
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.input_shape = None  # (N, D) after an affine layer, (N, C, H, W) after a convolution
        self.running_mean = running_mean  # test-time statistics
        self.running_var = running_var
        # kept by forward for backward
        self.batch_size = None
        self.xc = None
        self.xn = None
        self.std = None
        self.dgamma = None
        self.dbeta = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        self.input_shape = x.shape
        x = x.reshape(x.shape[0], -1)  # an image is one row of C*H*W features
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1], dtype=x.dtype)
            self.running_var = np.zeros(x.shape[1], dtype=x.dtype)

        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc**2, axis=0)
            std = np.sqrt(var + EPS)
            xn = xc / std
            self.batch_size = x.shape[0]
            self.xc, self.xn, self.std = xc, xn, std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            xn = (x - self.running_mean) / np.sqrt(self.running_var + EPS)

        out = self.gamma * xn + self.beta
        return out.reshape(self.input_shape)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout = dout.reshape(dout.shape[0], -1)
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = -np.sum(dxn * self.xc / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc = dxc + (2.0 / self.batch_size) * self.xc * dvar  # the variance path
        dmu = np.sum(dxc, axis=0)
        dx = dxc - dmu / self.batch_size  # the mean path
        return dx.reshape(self.input_shape)


class MultiLayerNetExtend:
    """{Affine - [BatchNorm] - activation - [Dropout]} x hidden - Affine - SoftmaxWithLoss,
    with weight decay 0.5 * lambda * sum W^2 (weights only)."""

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = "relu",
        weight_decay_lambda: float = 0,
        use_dropout: bool = False,
        dropout_ration: float = 0.5,  # sic: the book's keyword
        use_batchnorm: bool = False,
        seed: int | None = None,
        dtype=np.float64,
    ) -> None:
        activation_layer = {"sigmoid": Sigmoid, "relu": Relu}
        if activation not in activation_layer:
            raise ValueError(f"activation={activation!r}; use 'relu' or 'sigmoid'")
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.use_dropout = use_dropout
        self.weight_decay_lambda = weight_decay_lambda
        self.use_batchnorm = use_batchnorm

        rng = np.random.default_rng(seed)
        sizes = [input_size, *self.hidden_size_list, output_size]
        self.params = {}
        for i in range(1, len(sizes)):
            scale = _init_scale(weight_init_std, sizes[i - 1])
            self.params[f"W{i}"] = (scale * rng.standard_normal((sizes[i - 1], sizes[i]))).astype(dtype)
            self.params[f"b{i}"] = np.zeros(sizes[i], dtype=dtype)

        self.layers = OrderedDict()
        for i in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
            if use_batchnorm:
                self.params[f"gamma{i}"] = np.ones(sizes[i], dtype=dtype)
                self.params[f"beta{i}"] = np.zeros(sizes[i], dtype=dtype)
                self.layers[f"BatchNorm{i}"] = BatchNormalization(self.params[f"gamma{i}"], self.params[f"beta{i}"])
            self.layers[f"Activation_function{i}"] = activation_layer[activation]()
            if use_dropout:
                self.layers[f"Dropout{i}"] = Dropout(dropout_ration)
        i = self.hidden_layer_num + 1
        self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
        self.last_layer = SoftmaxWithLoss()
        self.dx = None  # dLoss/dx after gradient(), for checkers

    def predict(self, x: np.ndarray, train_flg: bool = False) -> np.ndarray:
        for key, layer in self.layers.items():
            if "Dropout" in key or "BatchNorm" in key:  # the layers that behave differently in training
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray, train_flg: bool = False):
        y = self.predict(x, train_flg)
        weight_decay = 0.0
        for i in range(1, self.hidden_layer_num + 2):
            W = self.params[f"W{i}"]
            weight_decay += 0.5 * self.weight_decay_lambda * np.sum(W**2)
        return self.last_layer.forward(y, t) + weight_decay

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        y = np.argmax(self.predict(x, train_flg=False), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return float(np.sum(y == t)) / x.shape[0]

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        self.loss(x, t, train_flg=True)  # forward in training mode: batch statistics, fresh masks
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        self.dx = dout
        grads = {}
        for i in range(1, self.hidden_layer_num + 2):
            affine = self.layers[f"Affine{i}"]
            grads[f"W{i}"] = affine.dW + self.weight_decay_lambda * self.params[f"W{i}"]
            grads[f"b{i}"] = affine.db
            if self.use_batchnorm and i != self.hidden_layer_num + 1:
                grads[f"gamma{i}"] = self.layers[f"BatchNorm{i}"].dgamma
                grads[f"beta{i}"] = self.layers[f"BatchNorm{i}"].dbeta
        return grads
