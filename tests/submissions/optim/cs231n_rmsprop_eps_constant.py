# expect: fail hyper_ignored
# ruff: noqa
# Written for bpcheck's tests: RMSProp with eps written into the code (1e-7) where config['epsilon'] belongs
# (a real CS231n optim.py did); everything else is the course's rule.
import numpy as np


def rmsprop(w, dw, config=None):
    if config is None: config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('decay_rate', 0.99)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('cache', np.zeros_like(w))
    config['cache'] = config['decay_rate'] * config['cache'] + (1 - config['decay_rate']) * dw * dw
    next_w = w - config['learning_rate'] * dw / (np.sqrt(config['cache']) + 1e-7)
    return next_w, config
