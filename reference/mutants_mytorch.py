"""MyTorch mutants: the CMU 11-785 reference package (reference/mytorch), each broken by ONE realistic bug.

Layer, activation and loss bugs run through the MyTorch style driver's ``layers`` entry (the file's
Linear, activations and losses assembled into nets); BatchNorm1d and Flatten bugs through
``layer:<Class>`` (alone, as the autograder checks them); optimizer bugs through ``optim:<rule>``.
Each is planted with the bug class the diagnosis should name (oracles/diagnose: the batchnorm ones in
norm.py, Flatten's axis order in flatten.py, a model's backward stepping over a layer in recompute.py). The
bug line is marked ``# BUG:``.
"""

from __future__ import annotations

import numpy as np

import reference.mytorch as mt
from reference.mutants import SOURCES as _REGISTRY
from reference.mutants import _add, clone_module
from reference.mytorch.nn import activation as _activation
from reference.mytorch.nn import batchnorm as _batchnorm
from reference.mytorch.nn import linear as _linear
from reference.mytorch.nn import loss as _loss
from reference.mytorch.nn.activation import _erf

__all__: list[str] = []

_MT = "reference/mytorch"
_REGISTRY[_MT] = mt


class _LinearDbNotSummed(mt.Linear):
    def backward(self, dLdZ):
        dLdA = dLdZ @ self.W
        self.dLdW = dLdZ.T @ self.A
        self.dLdb = dLdZ.T  # BUG: one column per sample, not summed over the batch
        return dLdA


class _LinearDwTransposed(mt.Linear):
    def backward(self, dLdZ):
        dLdA = dLdZ @ self.W
        self.dLdW = self.A.T @ dLdZ  # BUG: (C_in, C_out), the transpose of dL/dW
        self.dLdb = dLdZ.T @ self.Ones
        return dLdA


class _LinearDxFromDw(mt.Linear):
    def backward(self, dLdZ):
        self.dLdW = dLdZ.T @ self.A
        self.dLdb = dLdZ.T @ self.Ones
        return dLdZ @ self.dLdW  # BUG: the weight gradient where the weights belong


class _SigmoidBackwardOfA(mt.Sigmoid):
    def backward(self, dLdA):
        s = 1 / (1 + np.exp(-self.A))  # BUG: sigma applied again to A = sigma(Z): this is sigma'(A), not sigma'(Z)
        return dLdA * s * (1 - s)


class _ReLUMaskFromUpstream(mt.ReLU):
    def backward(self, dLdA):
        return np.where(dLdA > 0, dLdA, 0.0)  # BUG: masks by the upstream gradient, not by A > 0


class _MSEBackwardNoTwo(mt.MSELoss):
    def backward(self):
        return (self.A - self.Y) / (self.N * self.C)  # BUG: the 2 of d/dA (A - Y)^2 is missing


class _CrossEntropyNotAveraged(mt.CrossEntropyLoss):
    def backward(self):
        return self.softmax - self.Y  # BUG: the loss is a mean over N; its gradient lacks the 1/N


class _SGDVelocityNotStored(mt.SGD):
    def step(self):
        for i in range(self.L):
            v_W = self.mu * self.v_W[i] + self.l[i].dLdW  # BUG: a local velocity; self.v_W stays zero
            v_b = self.mu * self.v_b[i] + self.l[i].dLdb
            self.l[i].W = self.l[i].W - self.lr * v_W
            self.l[i].b = self.l[i].b - self.lr * v_b


class _AdamWDecayAfter(mt.AdamW):
    def step(self):
        self.t += 1
        for i, layer in enumerate(self.l):
            self.m_W[i] = self.beta1 * self.m_W[i] + (1 - self.beta1) * layer.dLdW
            self.v_W[i] = self.beta2 * self.v_W[i] + (1 - self.beta2) * layer.dLdW**2
            self.m_b[i] = self.beta1 * self.m_b[i] + (1 - self.beta1) * layer.dLdb
            self.v_b[i] = self.beta2 * self.v_b[i] + (1 - self.beta2) * layer.dLdb**2
            m_W_hat, v_W_hat = self.m_W[i] / (1 - self.beta1**self.t), self.v_W[i] / (1 - self.beta2**self.t)
            m_b_hat, v_b_hat = self.m_b[i] / (1 - self.beta1**self.t), self.v_b[i] / (1 - self.beta2**self.t)
            layer.W = layer.W - self.lr * m_W_hat / (np.sqrt(v_W_hat) + self.eps)
            layer.b = layer.b - self.lr * m_b_hat / (np.sqrt(v_b_hat) + self.eps)
            layer.W = layer.W - self.lr * self.weight_decay * layer.W  # BUG: decays the updated W, not W_{t-1}
            layer.b = layer.b - self.lr * self.weight_decay * layer.b


class _AdamNoBiasCorrection(mt.Adam):
    def step(self):
        self.t += 1
        for i, layer in enumerate(self.l):
            self.m_W[i] = self.beta1 * self.m_W[i] + (1 - self.beta1) * layer.dLdW
            self.v_W[i] = self.beta2 * self.v_W[i] + (1 - self.beta2) * layer.dLdW**2
            self.m_b[i] = self.beta1 * self.m_b[i] + (1 - self.beta1) * layer.dLdb
            self.v_b[i] = self.beta2 * self.v_b[i] + (1 - self.beta2) * layer.dLdb**2
            layer.W = layer.W - self.lr * self.m_W[i] / (np.sqrt(self.v_W[i]) + self.eps)  # BUG: no bias correction
            layer.b = layer.b - self.lr * self.m_b[i] / (np.sqrt(self.v_b[i]) + self.eps)



class _BNNoMeanPath(mt.BatchNorm1d):
    def backward(self, dLdBZ):
        self.dLdBW = np.sum(dLdBZ * self.NZ, axis=0, keepdims=True)
        self.dLdBb = np.sum(dLdBZ, axis=0, keepdims=True)
        dLdNZ = dLdBZ * self.BW
        inv_std = 1 / np.sqrt(self.V + self.eps)
        dLdV = -0.5 * np.sum(dLdNZ * (self.Z - self.M) * inv_std**3, axis=0, keepdims=True)
        return dLdNZ * inv_std + dLdV * (2 / self.N) * (self.Z - self.M)  # BUG: the dLdM / N term is missing


class _BNRunningOldDropped(mt.BatchNorm1d):
    def forward(self, Z, eval=False):
        if eval:
            return super().forward(Z, eval=True)
        self.Z, self.N = Z, Z.shape[0]
        self.M = np.mean(Z, axis=0, keepdims=True)
        self.V = np.var(Z, axis=0, keepdims=True)
        self.NZ = (Z - self.M) / np.sqrt(self.V + self.eps)
        self.BZ = self.BW * self.NZ + self.Bb
        self.running_M = self.alpha * self.M + (1 - self.alpha) * self.M  # BUG: the old running mean never enters
        self.running_V = self.alpha * self.V + (1 - self.alpha) * self.V
        return self.BZ


class _BNEvalNotNormalised(mt.BatchNorm1d):
    def forward(self, Z, eval=False):
        if eval:
            return self.BW * Z + self.Bb  # BUG: eval mode skips the normalisation by the running statistics
        return super().forward(Z)


class _BNdBWNotSummed(mt.BatchNorm1d):
    def backward(self, dLdBZ):
        dLdZ = super().backward(dLdBZ)
        self.dLdBW = dLdBZ * self.NZ  # BUG: one row per sample, not summed over the batch
        return dLdZ


class _FlattenChannelsLast(mt.Flatten):
    def forward(self, A):
        self.shape = A.shape
        return A.transpose(0, 2, 1).reshape(A.shape[0], -1)  # BUG: flattens (N, W, C): channels last

    def backward(self, dLdZ):
        N, C, W = self.shape
        return dLdZ.reshape(N, W, C).transpose(0, 2, 1)



class _MLP4BackwardSkipsLast(mt.MLP4):
    def backward(self, dLdA):
        for layer in reversed(self.layers[:-1]):  # BUG: starts below the output ReLU: its derivative is skipped
            dLdA = layer.backward(dLdA)
        return dLdA



class _ConvDwAveraged(mt.Conv2d_stride1):
    def backward(self, dLdZ):
        dLdA = super().backward(dLdZ)
        self.dLdW = self.dLdW / dLdZ.shape[0]  # BUG: hw2 sums dLdW over the batch (the 1/N is the loss's)
        return dLdA


class _MaxPoolRoutesToAll(mt.MaxPool2d_stride1):
    def backward(self, dLdZ):
        K = self.kernel
        dLdA = np.zeros(self.A.shape)
        for i in range(dLdZ.shape[2]):
            for j in range(dLdZ.shape[3]):
                dLdA[:, :, i:i + K, j:j + K] += dLdZ[:, :, i:i + 1, j:j + 1]  # BUG: every cell, not the maximum
        return dLdA


class _ConvForwardNoBias(mt.Conv2d_stride1):
    def forward(self, A):
        return super().forward(A) - self.b.reshape(1, -1, 1, 1)  # BUG: the window sums only, b never added


class _MeanPoolWindowRangeShort(mt.MeanPool2d_stride1):
    def forward(self, A):
        self.shape = A.shape
        K = self.kernel
        N, C, H, W = A.shape
        Z = np.zeros((N, C, H - K + 1, W - K + 1))
        for i in range(H - K):  # BUG: one window short (range(H - K + 1)); the last row and column stay 0
            for j in range(W - K):
                Z[:, :, i, j] = A[:, :, i:i + K, j:j + K].mean(axis=(2, 3))
        return Z


class _ConvNoUnpad(mt.Conv2d):
    def backward(self, dLdZ):
        return self.conv2d_stride1.backward(self.downsample2d.backward(dLdZ))  # BUG: the padding is not cut off


class _LinearDbAveraged(mt.Linear):
    def backward(self, dLdZ):
        dLdA = super().backward(dLdZ)
        self.dLdb = self.dLdb / dLdZ.shape[0]  # BUG: dLdW summed (S24) but dLdb averaged (S22): years mixed
        return dLdA


class _TanhDerivativeNotSquared(mt.Tanh):
    def backward(self, dLdA):
        return dLdA * (1 - self.A)  # BUG: 1 - tanh, not 1 - tanh^2


class _GELUBackwardCdfOnly(mt.GELU):

    def backward(self, dLdA):
        dAdZ = 0.5 * (1 + _erf(self.Z / np.sqrt(2)))  # BUG: Phi(Z) only, the Z phi(Z) term of the product rule lost
        return dLdA * dAdZ


class _SoftmaxBackwardDiagonal(mt.Softmax):
    def backward(self, dLdA):
        return dLdA * self.A * (1 - self.A)  # BUG: the Jacobian's diagonal only (as if softmax were elementwise)


class _Conv1dFlippedKernel(mt.Conv1d_stride1):
    def backward(self, dLdZ):
        K = self.kernel_size
        self.dLdb = dLdZ.sum(axis=(0, 2))
        self.dLdW = np.zeros(self.W.shape)
        dLdA = np.zeros(self.A.shape)
        for i in range(dLdZ.shape[2]):
            g = dLdZ[:, :, i]
            self.dLdW += np.tensordot(g, self.A[:, :, i:i + K], axes=([0], [0]))
            dLdA[:, :, i:i + K] += np.tensordot(g, self.W[:, :, ::-1], axes=([1], [0]))  # BUG: a flipped kernel
        return dLdA


class _Conv1dDwAveraged(mt.Conv1d):
    def backward(self, dLdZ):
        dLdA = super().backward(dLdZ)
        self.conv1d_stride1.dLdW /= dLdZ.shape[0]  # BUG: hw2 sums dLdW over the batch (hw1 S22's Linear habit)
        return dLdA


class _ConvTranspose1dNoUpsampleBackward(mt.ConvTranspose1d):
    def backward(self, dLdZ):
        return self.conv1d_stride1.backward(dLdZ)  # BUG: the gradient of the upsampled input, not of A


class _Downsample1dWidthFromOutput(mt.Downsample1d):
    def backward(self, dLdZ):
        N, C, W_out = dLdZ.shape
        dLdA = np.zeros((N, C, W_out * self.k))  # BUG: W_in is not k W_out unless k divides it
        dLdA[:, :, ::self.k] = dLdZ
        return dLdA


class _Upsample1dTrailingZeros(mt.Upsample1d):
    def forward(self, A):
        N, C, W = A.shape
        Z = np.zeros((N, C, self.k * W))  # BUG: k W entries, k - 1 zeros after the last one too
        Z[:, :, ::self.k] = A
        return Z

    def backward(self, dLdZ):
        return dLdZ[:, :, ::self.k]


class _Downsample2dRowsOnly(mt.Downsample2d):
    def forward(self, A):
        self.shape = A.shape
        return A[:, :, ::self.k]  # BUG: the 1-d slice copied: rows downsampled, columns kept

    def backward(self, dLdZ):
        dLdA = np.zeros(self.shape)
        dLdA[:, :, ::self.k] = dLdZ
        return dLdA


class _Upsample2dBackwardRowsOnly(mt.Upsample2d):
    def backward(self, dLdZ):
        return dLdZ[:, :, ::self.k]  # BUG: the 1-d slice copied: the columns are not taken back


def _m(name: str, bug: str, entry: str, what: str, overrides: dict, needs=()) -> None:
    _add(name, bug, "mytorch", entry, what, clone_module(mt, overrides), _MT, needs)


def _alone(name: str, bug: str, entry: str, what: str, module, overrides: dict, needs=()) -> None:
    """A mutant of one handout file validated on its own (linear.py, activation.py, loss.py): no net to assemble."""
    source = f"{_MT}/nn/{module.__name__.rsplit('.', 1)[-1]}.py"
    _REGISTRY[source] = module
    _add(name, bug, "mytorch", entry, what, clone_module(module, overrides), source, needs)


_m("mytorch_linear_db_not_summed", "extra_batch_axis", "layers", "Linear.backward keeps dLdb per sample",
   {"Linear": _LinearDbNotSummed}, ("batch",))
_m("mytorch_linear_dw_transposed", "transpose", "layers", "Linear.backward stores A^T dLdZ as dLdW",
   {"Linear": _LinearDwTransposed}, ("square",))
# the chain breaks below the first Linear it passes (the layer's own dLdW, dLdb are right): "layer_break"
_m("mytorch_linear_dx_from_dw", "layer_break", "layers", "Linear.backward returns dLdZ dLdW instead of dLdZ W",
   {"Linear": _LinearDxFromDw})
_m("mytorch_sigmoid_derivative_of_a", "derivative_at_activation", "layers",
   "Sigmoid.backward evaluates sigma' at A = sigma(Z)", {"Sigmoid": _SigmoidBackwardOfA})
_m("mytorch_relu_mask_from_upstream", "wrong_derivative", "layers", "ReLU.backward masks by dLdA > 0",
   {"ReLU": _ReLUMaskFromUpstream})
_m("mytorch_mse_backward_no_two", "factor_half", "layers", "MSELoss.backward without the 2",
   {"MSELoss": _MSEBackwardNoTwo})
_m("mytorch_cross_entropy_not_averaged", "missing_mean", "layers", "CrossEntropyLoss.backward without the 1/N",
   {"CrossEntropyLoss": _CrossEntropyNotAveraged}, ("batch",))
_m("mytorch_sgd_velocity_not_stored", "state_not_stored", "optim:momentum", "SGD.step never stores the velocity",
   {"SGD": _SGDVelocityNotStored})
_m("mytorch_adamw_decay_after", "weight_decay_after", "optim:adamw",
   "AdamW decays the updated weights (the writeup: W_{t-1})", {"AdamW": _AdamWDecayAfter})
_m("mytorch_adam_no_bias_correction", "no_bias_correction", "optim:adam", "Adam without the bias correction",
   {"Adam": _AdamNoBiasCorrection})
_m("mytorch_bn_no_mean_path", "bn_no_mean_path", "layer:BatchNorm1d",
   "BatchNorm1d.backward without the dLdM / N term", {"BatchNorm1d": _BNNoMeanPath}, ("batch",))
# batchnorm.py validated on its own, as the real files were: a zoo run over the whole package would pool these
# Cases with the passing ones of every other entry point, and call the bug "batch only"
_alone("mytorch_bn_running_old_dropped", "running_stats_no_memory", "layer:BatchNorm1d",
       "batchnorm.py alone: BatchNorm1d's running statistics alpha M + (1 - alpha) M (seen in a real F24 file)",
       _batchnorm, {"BatchNorm1d": _BNRunningOldDropped})
_alone("mytorch_bn_eval_not_normalised", "test_not_normalised", "layer:BatchNorm1d",
       "batchnorm.py alone: BatchNorm1d.forward(eval=True) returns BW Z + Bb (seen in a real file)", _batchnorm,
       {"BatchNorm1d": _BNEvalNotNormalised})
_m("mytorch_bn_dbw_not_summed", "extra_batch_axis", "layer:BatchNorm1d",
   "BatchNorm1d.backward keeps dLdBW per sample (seen in a real file)", {"BatchNorm1d": _BNdBWNotSummed})
_m("mytorch_flatten_channels_last", "flatten_axis_order", "layer:Flatten",
   "Flatten orders the features (W, C) instead of (C, W)", {"Flatten": _FlattenChannelsLast})
_m("mytorch_mlp4_backward_skips_output_relu", "activation_backward_skipped", "MLP4",
   "MLP4.backward starts below the last ReLU (the model's own backward, as the autograder calls it)",
   {"MLP4": _MLP4BackwardSkipsLast})
_m("mytorch_conv_dw_averaged", "double_mean", "layer:Conv2d_stride1",
   "Conv2d_stride1.backward divides dLdW by the batch size", {"Conv2d_stride1": _ConvDwAveraged}, ("batch",))
_m("mytorch_maxpool_routes_to_all", "pool_route_all", "layer:MaxPool2d_stride1",
   "MaxPool2d_stride1.backward sends the gradient to every cell of the window",
   {"MaxPool2d_stride1": _MaxPoolRoutesToAll})
_m("mytorch_conv_forward_no_bias", "bias_missing", "layer:Conv2d_stride1",
   "Conv2d_stride1.forward never adds b (seen in a real S21 Conv2D)", {"Conv2d_stride1": _ConvForwardNoBias})
_m("mytorch_meanpool_window_range_short", "window_range_short", "layer:MeanPool2d_stride1",
   "MeanPool2d_stride1.forward loops range(H - K): the last row and column of windows stay 0 (seen in a real "
   "S21 pool.py)", {"MeanPool2d_stride1": _MeanPoolWindowRangeShort})
_m("mytorch_conv_backward_keeps_padding", "pad_not_cropped", "layer:Conv2d",
   "Conv2d.backward returns dLdA of the padded input", {"Conv2d": _ConvNoUnpad})
_m("mytorch_gelu_backward_cdf_only", "wrong_derivative", "layer:GELU",
   "GELU.backward returns Phi(Z): the Z phi(Z) term lost", {"GELU": _GELUBackwardCdfOnly})
_m("mytorch_softmax_backward_diagonal", "wrong_derivative", "layer:Softmax",
   "Softmax.backward multiplies by A (1 - A): the Jacobian's diagonal only", {"Softmax": _SoftmaxBackwardDiagonal})
_m("mytorch_conv1d_flipped_kernel", "conv_flipped_kernel", "layer:Conv1d_stride1",
   "Conv1d_stride1.backward convolves dLdZ with the flipped kernel", {"Conv1d_stride1": _Conv1dFlippedKernel})
_m("mytorch_conv1d_dw_averaged", "double_mean", "layer:Conv1d",
   "Conv1d.backward divides dLdW by the batch size", {"Conv1d": _Conv1dDwAveraged}, ("batch",))
_m("mytorch_convtranspose1d_no_upsample_backward", "shape", "layer:ConvTranspose1d",
   "ConvTranspose1d.backward skips the upsample's backward", {"ConvTranspose1d": _ConvTranspose1dNoUpsampleBackward})
_m("mytorch_downsample1d_width_from_output", "shape", "layer:Downsample1d",
   "Downsample1d.backward sizes dLdA k W_out instead of W_in", {"Downsample1d": _Downsample1dWidthFromOutput})
_m("mytorch_upsample1d_trailing_zeros", "shape", "layer:Upsample1d",
   "Upsample1d.forward gives k W entries, not k (W - 1) + 1", {"Upsample1d": _Upsample1dTrailingZeros})
_m("mytorch_downsample2d_rows_only", "shape", "layer:Downsample2d",
   "Downsample2d.forward downsamples the rows only", {"Downsample2d": _Downsample2dRowsOnly})
_m("mytorch_upsample2d_backward_rows_only", "shape", "layer:Upsample2d",
   "Upsample2d.backward takes back the rows only", {"Upsample2d": _Upsample2dBackwardRowsOnly})


_alone("mytorch_alone_linear_db_averaged", "double_mean", "layer:Linear",
       "linear.py alone: Linear.backward sums dLdW but averages dLdb", _linear, {"Linear": _LinearDbAveraged},
       ("batch",))
_alone("mytorch_alone_tanh_not_squared", "wrong_derivative", "layer:Tanh",
       "activation.py alone: Tanh.backward multiplies by 1 - A", _activation, {"Tanh": _TanhDerivativeNotSquared})
_alone("mytorch_alone_mse_backward_no_two", "factor_half", "loss:MSELoss",
       "loss.py alone: MSELoss.backward without the 2 (the scale read off the losses)", _loss,
       {"MSELoss": _MSEBackwardNoTwo})
