"""mytorch.nn: layers, activations and losses."""

from reference.mytorch.nn.activation import GELU, Identity, ReLU, Sigmoid, Softmax, Tanh
from reference.mytorch.nn.linear import Linear
from reference.mytorch.nn.loss import CrossEntropyLoss, MSELoss

__all__ = ["Linear", "Identity", "Sigmoid", "Tanh", "ReLU", "GELU", "Softmax", "MSELoss", "CrossEntropyLoss"]
