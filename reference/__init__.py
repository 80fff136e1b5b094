"""Model numpy backpropagation in the styles courses teach. Pure numpy; no harness imports.

functions       activations and losses with their derivatives (shared)
nielsen         Nielsen's per-sample Network (one sample per column)
matrix          the same Network, whole mini-batch as one matrix (seed 004)
layers          Saito's layers (MulLayer, AddLayer, Affine, Relu, ..., SoftmaxWithLoss)
layer_net       Saito's TwoLayerNet / MultiLayerNet assembled from layers
dlai            deeplearning.ai's L-layer functions
dlai_two_layer  deeplearning.ai's one-hidden-layer planar classifier
cs231n          CS231n's layer functions, losses, TwoLayerNet, FullyConnectedNet
cs231n_conv     CS231n's naive conv / max-pool layers and conv sandwiches
cs231n_cnn      CS231n's ThreeLayerConvNet
dlai_conv       deeplearning.ai's "Convolution model - Step by Step" (channels last)
saito_conv      Saito's im2col / col2im, Convolution, Pooling, SimpleConvNet
cs231n_norm     CS231n's batchnorm, layernorm, spatial batch/group norm, dropout layers
cs231n_fc_net   CS231n's FullyConnectedNet with batch/layer normalisation and dropout
saito_norm      Saito's BatchNormalization, Dropout, MultiLayerNetExtend
dlai_regularization  deeplearning.ai course 2's L2-regularised and dropout three-layer network
cs231n_optim    CS231n's optim.py: sgd, sgd_momentum, rmsprop, adam (w, dw, config)
dlai_optim      deeplearning.ai course 2: random_mini_batches, momentum, Adam
saito_optim     Saito ch. 6 optimizer classes: SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam
cs231n_linear   CS231n assignment 1's softmax and SVM linear classifiers (loss, dW)
cs231n_rnn      CS231n assignment 3's RNN / LSTM step and sequence layers, temporal affine
"""

from reference import (
    cs231n,
    cs231n_cnn,
    cs231n_conv,
    cs231n_fc_net,
    cs231n_norm,
    cs231n_optim,
    dlai,
    dlai_conv,
    dlai_optim,
    dlai_regularization,
    dlai_two_layer,
    functions,
    layer_net,
    layers,
    matrix,
    nielsen,
    saito_conv,
    saito_norm,
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
    "cs231n_conv",
    "cs231n_cnn",
    "dlai_conv",
    "saito_conv",
    "cs231n_norm",
    "cs231n_fc_net",
    "saito_norm",
    "dlai_regularization",
    "cs231n_optim",
    "dlai_optim",
    "saito_optim",
]
