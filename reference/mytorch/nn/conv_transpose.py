"""hw2's ConvTranspose1d / ConvTranspose2d (F22 on): upsample by the factor, then the stride-1 convolution.

Backward runs the two backward in reverse: the convolution's (which stores dLdW, dLdb summed over the
batch), then the upsample's (every factor-th entry of the gradient)."""

from reference.mytorch.nn.conv import Conv2d_stride1
from reference.mytorch.nn.conv1d import Conv1d_stride1
from reference.mytorch.nn.resampling import Upsample1d, Upsample2d

__all__ = ["ConvTranspose1d", "ConvTranspose2d"]


class ConvTranspose1d:
    def __init__(self, in_channels, out_channels, kernel_size, upsampling_factor, weight_init_fn=None,
                 bias_init_fn=None):
        self.upsampling_factor = upsampling_factor
        self.upsample1d = Upsample1d(upsampling_factor)
        self.conv1d_stride1 = Conv1d_stride1(in_channels, out_channels, kernel_size, weight_init_fn, bias_init_fn)

    def forward(self, A):
        return self.conv1d_stride1.forward(self.upsample1d.forward(A))

    def backward(self, dLdZ):
        return self.upsample1d.backward(self.conv1d_stride1.backward(dLdZ))


class ConvTranspose2d:
    def __init__(self, in_channels, out_channels, kernel_size, upsampling_factor, weight_init_fn=None,
                 bias_init_fn=None):
        self.upsampling_factor = upsampling_factor
        self.upsample2d = Upsample2d(upsampling_factor)
        self.conv2d_stride1 = Conv2d_stride1(in_channels, out_channels, kernel_size, weight_init_fn, bias_init_fn)

    def forward(self, A):
        return self.conv2d_stride1.forward(self.upsample2d.forward(A))

    def backward(self, dLdZ):
        return self.upsample2d.backward(self.conv2d_stride1.backward(dLdZ))
