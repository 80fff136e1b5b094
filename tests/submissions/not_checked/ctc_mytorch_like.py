# expect: error not_supported (MyTorch hw3's CTC loss: recognised, not checked yet)
# ruff: noqa
# Written for bpcheck's tests: a CTCLoss class with forward and backward, as hw3p1's CTC.py lays it out (the
# forward-backward algorithm is not something bpcheck checks yet, so nothing here may be judged).
import numpy as np


class CTCLoss(object):
    def __init__(self, BLANK=0):
        self.BLANK = BLANK

    def forward(self, logits, target, input_lengths, target_lengths):
        self.logits = logits
        return np.float64(0.0)

    def backward(self):
        return np.zeros_like(self.logits)
