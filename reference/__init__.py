"""Model numpy backpropagation in the styles courses teach. Pure numpy; no harness imports.

functions       activations and losses with their derivatives (shared)
nielsen         Nielsen's per-sample Network (one sample per column)
matrix          the same Network, whole mini-batch as one matrix (seed 004)
layers          Saito's layers (MulLayer, AddLayer, Affine, Relu, ..., SoftmaxWithLoss)
layer_net       Saito's TwoLayerNet / MultiLayerNet assembled from layers
dlai            deeplearning.ai's L-layer functions
dlai_two_layer  deeplearning.ai's one-hidden-layer planar classifier
cs231n          CS231n's layer functions, losses, TwoLayerNet, FullyConnectedNet
cs231n_optim    CS231n's optim.py: sgd, sgd_momentum, rmsprop, adam (w, dw, config)
dlai_optim      deeplearning.ai course 2: random_mini_batches, momentum, Adam
saito_optim     Saito ch. 6 optimizer classes: SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam
"""

from reference import (
    cs231n,
    cs231n_optim,
    dlai,
    dlai_optim,
    dlai_two_layer,
    functions,
    layer_net,
    layers,
    matrix,
    nielsen,
    saito_optim,
)

__all__ = [
    "functions",
    "nielsen",
    "matrix",
    "layers",
    "layer_net",
    "dlai",
    "dlai_two_layer",
    "cs231n",
    "cs231n_optim",
    "dlai_optim",
    "saito_optim",
]
