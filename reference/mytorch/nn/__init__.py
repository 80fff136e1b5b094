"""mytorch.nn: layers, activations and losses (hw1), BatchNorm1d (hw1); hw2: Flatten, Conv2d,
pooling, resampling (1-d and 2-d), Conv1d; hw3p1: RNNCell, GRUCell."""

from reference.mytorch.nn.activation import GELU, Identity, ReLU, Sigmoid, Softmax, Tanh
from reference.mytorch.nn.batchnorm import BatchNorm1d
from reference.mytorch.nn.conv import Conv2d, Conv2d_stride1
from reference.mytorch.nn.conv1d import Conv1d, Conv1d_stride1
from reference.mytorch.nn.conv_transpose import ConvTranspose1d, ConvTranspose2d
from reference.mytorch.nn.flatten import Flatten
from reference.mytorch.nn.gru_cell import GRUCell
from reference.mytorch.nn.linear import Linear
from reference.mytorch.nn.loss import CrossEntropyLoss, MSELoss
from reference.mytorch.nn.pool import MaxPool2d, MaxPool2d_stride1, MeanPool2d, MeanPool2d_stride1
from reference.mytorch.nn.resampling import Downsample1d, Downsample2d, Upsample1d, Upsample2d
from reference.mytorch.nn.rnn_cell import RNNCell

__all__ = ["Linear", "BatchNorm1d", "Flatten", "Conv2d_stride1", "Conv2d", "MaxPool2d_stride1", "MeanPool2d_stride1",
           "MaxPool2d", "MeanPool2d", "Conv1d_stride1", "Conv1d", "Downsample1d", "Upsample1d", "Downsample2d",
           "Upsample2d", "ConvTranspose1d", "ConvTranspose2d",
           "RNNCell", "GRUCell",
           "Identity", "Sigmoid", "Tanh", "ReLU", "GELU", "Softmax", "MSELoss", "CrossEntropyLoss"]
