"""Networks assembled from Saito's layers: forward is the layers in order, backward the
same layers in reverse, each handing dout to the one before.

params holds W1 (in, out), b1 (out,), W2, ...; every Affine layer holds references to
those very arrays, so parameters must be updated in place (params["W1"] -= lr * grad), as
in the book. Replacing params["W1"] with a new array leaves the layers on the old one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from reference.layers import ACTIVATION_LAYERS, Affine, SoftmaxWithLoss, SquaredLoss

__all__ = ["MultiLayerNet", "TwoLayerNet"]

LAST_LAYERS = {"softmax": SoftmaxWithLoss, "squared": SquaredLoss}


def _init_scale(weight_init_std, fan_in: int) -> float:
    # The book accepts a number, or "he" / "xavier" for a scale that depends on the fan-in.
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key in ("he", "relu"):
            return float(np.sqrt(2.0 / fan_in))
        if key in ("xavier", "sigmoid"):
            return float(np.sqrt(1.0 / fan_in))
        raise ValueError(f"weight_init_std={weight_init_std!r}: use a number, 'he' or 'xavier'")
    return float(weight_init_std)


class MultiLayerNet:
    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str | Sequence[str] = "relu",
        weight_init_std: float | str = 0.01,
        weight_decay_lambda: float = 0.0,
        output_activation: str | None = None,
        last_layer: str = "softmax",
        seed: int | None = None,
        dtype=np.float64,
    ) -> None:
        self.input_size = input_size
        self.hidden_size_list = list(hidden_size_list)
        self.output_size = output_size
        self.hidden_layer_num = len(self.hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        # one name for every hidden layer, or one name per hidden layer
        if isinstance(activation, str):
            activation = [activation] * self.hidden_layer_num
        self.activation = list(activation)
        if len(self.activation) != self.hidden_layer_num:
            raise ValueError(
                f"activation has {len(self.activation)} names for {self.hidden_layer_num} hidden layers; "
                f"give one name, or one per hidden layer"
            )
        for name in [*self.activation, output_activation or "identity"]:
            if name not in ACTIVATION_LAYERS:
                raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATION_LAYERS)}")
        if last_layer not in LAST_LAYERS:
            raise ValueError(f"last_layer={last_layer!r}; choose one of {', '.join(LAST_LAYERS)}")
        if last_layer == "softmax" and output_activation not in (None, "identity"):
            raise ValueError(
                f"output_activation={output_activation!r} with last_layer='softmax': SoftmaxWithLoss "
                f"takes the raw scores; drop output_activation or use last_layer='squared'"
            )

        rng = np.random.default_rng(seed)
        sizes = [input_size, *self.hidden_size_list, output_size]
        self.params = {}
        for i in range(1, len(sizes)):
            scale = _init_scale(weight_init_std, sizes[i - 1])
            # dtype is fixed here: in-place updates keep it (float32 values set into a float64 array upcast)
            self.params[f"W{i}"] = (scale * rng.standard_normal((sizes[i - 1], sizes[i]))).astype(dtype)
            self.params[f"b{i}"] = np.zeros(sizes[i], dtype=dtype)

        self.layers = OrderedDict()
        for i in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
            self.layers[f"Activation_function{i}"] = ACTIVATION_LAYERS[self.activation[i - 1]]()
        i = self.hidden_layer_num + 1
        self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
        if output_activation not in (None, "identity"):
            self.layers["OutputActivation"] = ACTIVATION_LAYERS[output_activation]()
        self.last_layer = LAST_LAYERS[last_layer]()
        self.dx = None  # dLoss/dx after gradient()

    @property
    def n_affine(self) -> int:
        return self.hidden_layer_num + 1

    def predict(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray):
        y = self.predict(x)
        weight_decay = 0.0
        if self.weight_decay_lambda > 0:
            for i in range(1, self.n_affine + 1):
                W = self.params[f"W{i}"]
                weight_decay = weight_decay + 0.5 * self.weight_decay_lambda * np.sum(W**2)
        return self.last_layer.forward(y, t) + weight_decay

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return float(np.sum(y == t)) / x.shape[0]

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        # forward (fills every layer's cache)
        self.loss(x, t)
        # backward: the loss layer first, then the layers in reverse
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        self.dx = dout  # gradient with respect to the input, for checkers
        grads = {}
        for i in range(1, self.n_affine + 1):
            affine = self.layers[f"Affine{i}"]
            # d(0.5 lambda sum W^2)/dW = lambda W; biases are not decayed
            grads[f"W{i}"] = affine.dW + self.weight_decay_lambda * affine.W
            grads[f"b{i}"] = affine.db
        return grads


class TwoLayerNet(MultiLayerNet):
    """The book's Affine -> Relu -> Affine -> SoftmaxWithLoss network."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        seed: int | None = None,
        dtype=np.float64,
    ) -> None:
        super().__init__(input_size, [hidden_size], output_size, "relu", weight_init_std, seed=seed, dtype=dtype)
