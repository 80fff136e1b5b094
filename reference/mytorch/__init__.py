"""CMU 11-785 MyTorch (homework 1, part 1), as the current handout lays it out: a numpy framework.

nn.Linear, nn.BatchNorm1d, nn.Identity / Sigmoid / Tanh / ReLU / GELU / Softmax, nn.MSELoss /
CrossEntropyLoss; hw2: nn.Flatten, Conv2d_stride1 / Conv2d, MaxPool2d / MeanPool2d (and _stride1),
Conv1d_stride1 / Conv1d, Downsample1d / Upsample1d / Downsample2d / Upsample2d, ConvTranspose1d / ConvTranspose2d;
optim.SGD / Adam / AdamW, models.MLP0 / MLP1 / MLP4. Shapes: A (N, C_in), W (C_out, C_in),
b (C_out, 1). The losses carry the 1/N (and MSE's 1/C), so Linear.backward sums over the batch.
Every class exposes its names at the package top level too (``from reference.mytorch import Linear``).
"""

from reference.mytorch.models import MLP0, MLP1, MLP4
from reference.mytorch.nn import (
    GELU,
    BatchNorm1d,
    Conv1d,
    Conv1d_stride1,
    Conv2d,
    Conv2d_stride1,
    ConvTranspose1d,
    ConvTranspose2d,
    CrossEntropyLoss,
    Downsample1d,
    Downsample2d,
    Flatten,
    Identity,
    Linear,
    MaxPool2d,
    MaxPool2d_stride1,
    MeanPool2d,
    MeanPool2d_stride1,
    MSELoss,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    Upsample1d,
    Upsample2d,
)
from reference.mytorch.optim import SGD, Adam, AdamW

__all__ = ["Linear", "BatchNorm1d", "Flatten", "Conv2d_stride1", "Conv2d", "MaxPool2d_stride1", "MeanPool2d_stride1",
           "MaxPool2d", "MeanPool2d", "Conv1d_stride1", "Conv1d", "Downsample1d", "Upsample1d", "Downsample2d",
           "Upsample2d", "ConvTranspose1d", "ConvTranspose2d",
           "Identity", "Sigmoid", "Tanh", "ReLU", "GELU", "Softmax", "MSELoss", "CrossEntropyLoss",
           "SGD", "Adam", "AdamW", "MLP0", "MLP1", "MLP4"]
