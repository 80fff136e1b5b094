"""The learner swapped the course's Cython fast layers for torch ones (for speed while training): a helper,
not the hand-written backprop being checked."""
import numpy as np
import torch
import torch.nn.functional as F


class TorchConv(torch.nn.Module):
    def forward(self, x, w, b, pad):
        return F.conv2d(x, w, b, padding=pad)


def conv_forward_fast(x, w, b, conv_param):
    out = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=conv_param["stride"],
                   padding=conv_param["pad"])
    return out.numpy(), (x, w, b, conv_param)


def relu_fast(x):
    return torch.relu(torch.tensor(x)).numpy()
