from __future__ import print_function
from builtins import range
import numpy as np
from random import randrange


def rel_error(x, y):
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))
